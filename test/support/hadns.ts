// Start hadns in-process on an ephemeral loopback port (UDP and TCP on the same number), from zone
// text or zone files, through the core APIs: loadZones → buildEngine → startServer.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino, type Logger } from "pino";
import { loadZones, type ZoneSpec } from "../../src/zone/load.js";
import { buildEngine } from "../../src/answer/engine.js";
import { startServer } from "../../src/server/server.js";
import { formatSourceError } from "../../src/zone/rr.js";

export interface TestZone {
  /** Master-file text; written to a temp file named `<origin>zone` (or `zone<N>.zone`). */
  text?: string;
  /** Or an existing master file. */
  file?: string;
  origin?: string;
}

export interface StartHadnsOptions {
  /** Listen address; default 127.0.0.1. Use "::1" for IPv6. */
  host?: string;
  chaos?: { version?: string; id?: string };
  tcpIdleTimeoutMs?: number;
  tcpMaxConnections?: number;
  /** Default: a silent pino logger. Set HADNS_TEST_LOG=debug to see the server's logs. */
  logger?: Logger;
  zonesRoot?: string;
}

export interface HadnsHandle {
  host: string;
  port: number;
  /** The object startServer returned (setEngine, listening, close). */
  server: Awaited<ReturnType<typeof startServer>>;
  zones: ReturnType<typeof loadZones>["zones"];
  close(): Promise<void>;
}

export async function startHadns(zones: TestZone[], opts: StartHadnsOptions = {}): Promise<HadnsHandle> {
  const host = opts.host ?? "127.0.0.1";
  let tmp: string | null = null;
  const specs: ZoneSpec[] = zones.map((z, i) => {
    if (z.file !== undefined) return z.origin !== undefined ? { file: z.file, origin: z.origin } : { file: z.file };
    if (z.text === undefined) throw new Error("a test zone needs text or file");
    tmp ??= fs.mkdtempSync(path.join(os.tmpdir(), "hadns-test-"));
    const name = z.origin ? `${z.origin.replace(/\.$/, "")}.zone` : `zone${i}.zone`;
    const file = path.join(tmp, name);
    fs.writeFileSync(file, z.text);
    return z.origin !== undefined ? { file, origin: z.origin } : { file };
  });
  const zonesRoot = opts.zonesRoot ?? tmp ?? undefined;
  const loaded = loadZones(specs, zonesRoot !== undefined ? { zonesRoot } : undefined);
  if (loaded.errors.length) {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`zones did not load:\n${loaded.errors.map(formatSourceError).join("\n")}`);
  }
  const engine = buildEngine(loaded.zones, opts.chaos ? { chaos: opts.chaos } : undefined);
  const logger = opts.logger ?? pino({ level: process.env.HADNS_TEST_LOG ?? "silent" });
  const server = await startServer({
    listen: [{ host, port: 0 }],
    engine,
    logger,
    ...(opts.tcpIdleTimeoutMs !== undefined ? { tcpIdleTimeoutMs: opts.tcpIdleTimeoutMs } : {}),
    ...(opts.tcpMaxConnections !== undefined ? { tcpMaxConnections: opts.tcpMaxConnections } : {}),
  });
  const port = server.listening[0]!.port;
  return {
    host,
    port,
    server,
    zones: loaded.zones,
    close: async () => {
      await server.close();
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
