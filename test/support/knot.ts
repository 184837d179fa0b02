// Start a real Knot DNS (Debian's knotd) in the foreground on a free loopback port, serving the given
// zone files, for differential tests. Config as in /work/shared/notes/peers.md.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildQuery, sendUdp } from "./client.js";
import { freePort } from "./ports.js";
import { spawnDaemon } from "./secondaries.mjs";

export interface KnotZone {
  /** Zone apex, e.g. "diff.test" (trailing dot optional). */
  domain: string;
  /** Path of the master file; its folder is copied into the temp dir, so Knot never touches the original. */
  file: string;
}

export interface KnotServer {
  host: string;
  port: number;
  dir: string;
  /** knotd's stdout+stderr so far (warnings about the zone show up here). */
  log(): string;
  close(): Promise<void>;
}

export const KNOTD = process.env.KNOTD ?? "/usr/sbin/knotd";

export function knotAvailable(): boolean {
  try {
    fs.accessSync(KNOTD, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function startKnot(zones: KnotZone[], opts: { host?: string; extraServerConf?: string; timeoutMs?: number } = {}): Promise<KnotServer> {
  const host = opts.host ?? "127.0.0.1";
  const port = await freePort(host);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-knot-"));
  const zoneLines: string[] = [];
  zones.forEach((z, i) => {
    const domain = z.domain.replace(/\.$/, "");
    // Copy the zone file's whole folder, so that a relative $INCLUDE finds its file.
    const src = path.dirname(path.resolve(z.file));
    const copy = path.join(dir, `src${i}`);
    fs.mkdirSync(copy);
    for (const f of fs.readdirSync(src)) {
      const from = path.join(src, f);
      if (fs.statSync(from).isFile()) fs.copyFileSync(from, path.join(copy, f));
    }
    const dest = path.join(copy, path.basename(z.file));
    zoneLines.push(`  - domain: ${domain}`, `    file: "${dest}"`);
  });
  const listen = `${host}@${port}`;
  const conf = [
    "server:",
    `    rundir: "${dir}"`,
    `    listen: ${listen}`,
    "    udp-workers: 1",
    "    tcp-workers: 1",
    "    background-workers: 1",
    ...(opts.extraServerConf ? opts.extraServerConf.split("\n").map((l) => `    ${l}`) : []),
    "log:",
    "  - target: stderr",
    "    any: info",
    "database:",
    `    storage: "${dir}/db"`,
    "template:",
    "  - id: default",
    `    storage: "${dir}"`,
    "    zonefile-sync: -1",
    "    journal-content: none",
    "zone:",
    ...zoneLines,
    "",
  ].join("\n");
  const confPath = path.join(dir, "knot.conf");
  fs.writeFileSync(confPath, conf);

  const daemon = spawnDaemon(KNOTD, ["-c", confPath], dir);
  const close = async () => {
    await daemon.close();
    fs.rmSync(dir, { recursive: true, force: true });
  };

  // Ready when every zone answers its SOA authoritatively.
  const deadline = Date.now() + (opts.timeoutMs ?? 10000);
  for (const z of zones) {
    for (;;) {
      if (daemon.exited()) {
        await close();
        throw new Error(`knotd exited during start-up:\n${daemon.log()}`);
      }
      const r = await sendUdp(host, port, buildQuery({ name: z.domain, type: "SOA" }), { timeoutMs: 200 }).catch(() => null);
      if (r && r.length >= 12 && (r[3]! & 0x0f) === 0 && (r[2]! & 0x04) !== 0) break;
      if (Date.now() > deadline) {
        await close();
        throw new Error(`knotd did not serve ${z.domain} within the timeout:\n${daemon.log()}`);
      }
      await new Promise((res) => setTimeout(res, 50));
    }
  }
  return { host, port, dir, log: () => daemon.log(), close };
}
