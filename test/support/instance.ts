// Start hadns in-process with health checks and pools, as `hadns serve` does: a config (YAML text or
// an object) and zone files are written to a temp dir, read back through loadConfig + loadZones +
// checkPoolsAgainstZones (so line numbers and errors are the real ones), and handed to startInstance on
// an ephemeral loopback port. Also: a query helper that keeps record order, and a poller.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import dnsPacket from "dns-packet";
import { pino, type Logger } from "pino";
import { loadConfig, type HadnsConfig } from "../../src/config/load.js";
import { checkPoolsAgainstZones } from "../../src/config/pool-zones.js";
import { loadZones } from "../../src/zone/load.js";
import { formatSourceError, type SourceError } from "../../src/zone/rr.js";
import type { Zone } from "../../src/zone/zone.js";
import { startInstance, type Instance } from "../../src/server/instance.js";
import { buildQuery, send, type EdnsOptions, type Transport } from "./client.js";

export interface ConfigInput {
  /** hadns config: YAML text (kept as written, so lines are yours) or an object (written as JSON). */
  config: string | Record<string, unknown>;
  /** Name of the config file in the temp dir (default hadns.yaml, or hadns.json for an object). */
  configName?: string;
  /** Other files written beside the config, e.g. { "example.test.zone": "$ORIGIN example.test.\n…" }. */
  files?: Record<string, string>;
  /** Environment for ${VAR} in headers (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface CheckedConfig {
  dir: string;
  config: HadnsConfig;
  zones: Zone[];
  /** Every error of config, zones and pools-against-zones, file names relative to `dir`. */
  errors: SourceError[];
  /** The same, as `hadns check` prints them (`hadns.yaml:12: pools[0]…`), the temp dir cut from every path. */
  messages: string[];
  cleanup(): void;
}

/**
 * What `hadns check` would see: the config through loadConfig, its zones (or, when it names none, every
 * `*.zone` among `files`) through loadZones, then checkPoolsAgainstZones.
 */
export function checkConfig(input: ConfigInput): CheckedConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-pools-"));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  const isText = typeof input.config === "string";
  const configName = input.configName ?? (isText ? "hadns.yaml" : "hadns.json");
  for (const [name, text] of Object.entries(input.files ?? {})) fs.writeFileSync(path.join(dir, name), text);
  const configFile = path.join(dir, configName);
  fs.writeFileSync(configFile, isText ? (input.config as string) : JSON.stringify(input.config, null, 2) + "\n");

  const loaded = loadConfig(configFile, input.env ?? process.env);
  const errors = [...loaded.errors];
  let zones: Zone[] = [];
  const specs =
    loaded.config.zones ??
    Object.keys(input.files ?? {})
      .filter((f) => f.endsWith(".zone"))
      .map((f) => ({ file: path.join(dir, f) }));
  if (loaded.errors.length === 0 || specs.length > 0) {
    const z = loadZones(specs, { zonesRoot: dir });
    errors.push(...z.errors);
    zones = z.zones;
    if (z.errors.length === 0) errors.push(...checkPoolsAgainstZones(loaded.config.pools, zones, configFile));
  }
  const cut = (t: string) => t.split(dir + path.sep).join("");
  const rel = errors.map((e) => ({ ...e, file: cut(e.file), message: cut(e.message) }));
  return { dir, config: loaded.config, zones, errors: rel, messages: rel.map(formatSourceError), cleanup };
}

export interface PoolServer {
  host: string;
  port: number;
  instance: Instance;
  config: HadnsConfig;
  /** Lines the server logged (pino objects), when no logger was passed in. */
  logs: Array<Record<string, unknown>>;
  /** Ask one question; the reply in wire order (see View). */
  ask(name: string, type: string, opts?: AskOptions): Promise<View>;
  /**
   * Resolves once every probed endpoint is up (throws after `deadlineMs`): a known starting point for
   * tests about what happens next, on a machine loaded enough to fail the odd probe.
   */
  allUp(deadlineMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions extends ConfigInput {
  host?: string;
  /** Default: pino at HADNS_TEST_LOG (silent when unset), with every line also kept in `logs`. */
  logger?: Logger;
}

/** Start hadns from a config and zone files; throws with every error when they do not check. */
export async function startPoolServer(opts: StartOptions): Promise<PoolServer> {
  const checked = checkConfig(opts);
  if (checked.errors.length > 0) {
    checked.cleanup();
    throw new Error(`config does not check:\n${checked.messages.join("\n")}`);
  }
  const host = opts.host ?? "127.0.0.1";
  const logs: Array<Record<string, unknown>> = [];
  const logger = opts.logger ?? capturingLogger(logs);
  let instance: Instance;
  try {
    instance = await startInstance({
      zones: checked.zones,
      listen: [{ host, port: 0 }],
      logger,
      checks: checked.config.checks,
      pools: checked.config.pools,
    });
  } catch (e) {
    checked.cleanup();
    throw e;
  }
  const port = instance.server.listening[0]!.port;
  return {
    host,
    port,
    instance,
    config: checked.config,
    logs,
    ask: (name, type, o) => ask(host, port, name, type, o),
    async allUp(deadlineMs = 8000) {
      const end = Date.now() + deadlineMs;
      for (;;) {
        const snap = instance.monitor.snapshot();
        if (snap.every((e) => e.status === "up")) return;
        if (Date.now() > end) throw new Error(`not every endpoint came up: ${snap.map((e) => `${e.key} ${e.status} (${e.reason})`).join(", ")}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await instance.close();
      checked.cleanup();
    },
  };
}

/** A pino logger that keeps every line (info and up) in `into`, and prints those at HADNS_TEST_LOG's level and up. */
function capturingLogger(into: Array<Record<string, unknown>>): Logger {
  const env = process.env.HADNS_TEST_LOG;
  const printAt = env && env !== "silent" ? (pino.levels.values[env] ?? Infinity) : Infinity;
  const stream = {
    write(line: string) {
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      into.push(obj);
      if (typeof obj.level === "number" && obj.level >= printAt) process.stderr.write(line);
    },
  };
  return pino({ level: Number.isFinite(printAt) && printAt < pino.levels.values.info! ? env! : "info" }, stream);
}

// ---- asking --------------------------------------------------------------------------------------

export interface AskOptions {
  transport?: Transport;
  /** Send an OPT (default: true). */
  edns?: boolean | EdnsOptions;
  timeoutMs?: number;
}

/** A reply as comparable text, records in the order they came. */
export interface View {
  rcode: string;
  aa: boolean;
  tc: boolean;
  /** `name. ttl TYPE data`, in wire order (rotation shows here). */
  answer: string[];
  authority: string[];
  /** Without the OPT. */
  additional: string[];
  /** Whether the reply had an OPT. */
  edns: boolean;
  /** Extended DNS Errors (RFC 8914) in the OPT. */
  ede: Array<{ code: number; text: string }>;
}

export async function ask(host: string, port: number, name: string, type: string, opts: AskOptions = {}): Promise<View> {
  const transport = opts.transport ?? "udp";
  const query = buildQuery({ name, type, edns: opts.edns ?? true });
  const reply = await send(transport, host, port, query, { timeoutMs: opts.timeoutMs ?? 2000 });
  if (!reply) throw new Error(`no reply over ${transport} to ${name} ${type}`);
  if (reply.readUInt16BE(0) !== query.readUInt16BE(0)) throw new Error("reply ID differs from the query's");
  return view(reply);
}

export function view(buf: Buffer): View {
  const p = dnsPacket.decode(buf) as any;
  const line = (r: any): string => `${String(r.name).toLowerCase()}. ${r.ttl} ${r.type} ${dataText(r.type, r.data)}`;
  const opt = (p.additionals ?? []).find((r: any) => r.type === "OPT");
  const ede = (opt?.options ?? [])
    .filter((o: any) => o.code === 15)
    .map((o: any) => {
      const d = Buffer.from(o.data);
      return { code: d.readUInt16BE(0), text: d.subarray(2).toString("utf8") };
    });
  return {
    rcode: String(p.rcode),
    aa: !!p.flag_aa,
    tc: !!p.flag_tc,
    answer: (p.answers ?? []).map(line),
    authority: (p.authorities ?? []).map(line),
    additional: (p.additionals ?? []).filter((r: any) => r.type !== "OPT").map(line),
    edns: !!opt,
    ede,
  };
}

function dataText(type: string, data: any): string {
  switch (type) {
    case "A":
    case "AAAA":
      return String(data);
    case "CNAME":
    case "NS":
    case "PTR":
      return `${String(data).toLowerCase()}.`;
    case "MX":
      return `${data.preference} ${String(data.exchange).toLowerCase()}.`;
    case "SOA":
      return `${data.mname}. ${data.rname}. ${data.serial} ${data.refresh} ${data.retry} ${data.expire} ${data.minimum}`;
    default:
      return JSON.stringify(data);
  }
}

/** The addresses (or target names) of the answer section, in order. */
export function values(v: View): string[] {
  return v.answer.map((l) => l.split(" ").slice(3).join(" "));
}

/**
 * Ask until `done(view)` holds; returns that view. Throws with the last view after `deadlineMs`
 * (generous: the point is what the answer becomes, never how fast).
 */
export async function waitForAnswer(
  srv: Pick<PoolServer, "ask">,
  name: string,
  type: string,
  done: (v: View) => boolean,
  opts: AskOptions & { deadlineMs?: number; everyMs?: number } = {},
): Promise<View> {
  const deadline = Date.now() + (opts.deadlineMs ?? 8000);
  let last: View | undefined;
  for (;;) {
    last = await srv.ask(name, type, opts);
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`answer for ${name} ${type} did not change as expected; last:\n${JSON.stringify(last, null, 2)}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 20));
  }
}

/** Both transports, for tests that assert the same answer over each. */
export const TRANSPORTS: Transport[] = ["udp", "tcp"];

/**
 * The `checks:` section the pool tests share: one HTTP check `web` of /health on `port`, fast enough
 * for tests of a few seconds (fall and rise 2, fast_interval 50 ms), with a 500 ms timeout so that a
 * loaded 2-core CI machine does not fail healthy endpoints.
 */
export function webCheck(port: number, expect?: { body: string }): string {
  return [
    "checks:",
    "  web:",
    "    type: http",
    `    port: ${port}`,
    "    path: /health",
    ...(expect ? [`    expect: { body: ${JSON.stringify(expect.body)} }`] : []),
    "    interval: 600ms",
    "    timeout: 500ms",
    "    fast_interval: 50ms",
    "    fall: 2",
    "    rise: 2",
    "    flap_window: 0",
    "",
  ].join("\n");
}
