// The hadns config file (YAML or JSON): listeners, zones, logging, TCP limits, CHAOS answers, and the
// health `checks`/`pools` (validated by health.ts). Every mistake is a SourceError naming file, line and key.
//
// Each top-level key is one entry of SECTIONS below; a later feature (admin listener, webhooks, …)
// adds its key there with a reader that fills its part of HadnsConfig.

import { readdirSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { isIP } from "node:net";
import { nameFromText, ROOT } from "../wire/name.js";
import { parseDurationMs } from "../zone/ttl.js";
import type { SourceError } from "../zone/rr.js";
import type { ZoneSpec } from "../zone/load.js";
import type { ListenAddress } from "../server/server.js";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "../log.js";
import { validateHealthConfig } from "./health.js";
import { readConfigSource, SourceReader, toPlain } from "./source.js";
import { defaultOps, readAdmin, readState, readWatch, readWebhooks, readWorkers, type OpsSettings } from "./ops.js";
import { readTransfers, type XfrSettings } from "./xfr.js";

type HealthConfig = ReturnType<typeof validateHealthConfig>;

export interface TcpSettings {
  idleTimeoutMs?: number;
  maxConnections?: number;
  /** Unsent answer bytes per TCP client before hadns stops reading from it. */
  maxPendingBytes?: number;
}

export interface ChaosSettings {
  version?: string;
  id?: string;
}

/** What a config file says; absent keys stay undefined so command-line flags and defaults can fill them. */
export interface HadnsConfig {
  file: string;
  listen?: ListenAddress[];
  /** `zones` then the files of `zones_dir`, paths made relative to the working directory. */
  zones?: ZoneSpec[];
  log: { level?: LogLevel; format?: LogFormat };
  tcp: TcpSettings;
  chaos?: ChaosSettings;
  checks: HealthConfig["checks"];
  pools: HealthConfig["pools"];
  /** admin listener, webhooks, state file, watch (issue 4). */
  ops: OpsSettings;
  /** hadns as a hidden primary: AXFR/IXFR, TSIG, NOTIFY (issue 6); undefined when the section is absent. */
  transfers?: XfrSettings;
}

export interface LoadedConfig {
  config: HadnsConfig;
  errors: SourceError[];
}

interface Section {
  key: string;
  read(r: SourceReader, cfg: HadnsConfig, base: string, env: NodeJS.ProcessEnv): void;
}

/** The top-level keys, in the order the README documents them. `checks` and `pools` go to health.ts. */
const SECTIONS: Section[] = [
  { key: "listen", read: readListen },
  { key: "zones", read: readZones },
  { key: "zones_dir", read: readZonesDir },
  { key: "log", read: readLog },
  { key: "tcp", read: readTcp },
  { key: "chaos", read: readChaos },
  { key: "admin", read: (r, cfg, _base, env) => readAdmin(r, cfg.ops, env, parseListenAddress) },
  { key: "webhooks", read: (r, cfg, _base, env) => readWebhooks(r, cfg.ops, env) },
  { key: "state", read: (r, cfg, base) => readState(r, cfg.ops, base) },
  { key: "watch", read: (r, cfg) => readWatch(r, cfg.ops) },
  { key: "workers", read: (r, cfg) => readWorkers(r, cfg.ops) },
  { key: "transfers", read: (r, cfg, _base, env) => void (cfg.transfers = readTransfers(r, env)) },
];
const HEALTH_KEYS = ["checks", "pools"] as const;
export const TOP_LEVEL_KEYS: readonly string[] = [...SECTIONS.map((s) => s.key), ...HEALTH_KEYS];

/**
 * Zone transfers are served by one process: its serials, journal and NOTIFY state cannot be split
 * over workers. `why` names what asked for several (`workers: 4`, `--workers 4`).
 */
export const TRANSFERS_NEED_ONE_PROCESS = (why: string): string =>
  `zone transfers (AXFR/IXFR/NOTIFY) are served by a single process and cannot be combined with ${why}; remove transfers, or run one process (workers: 1)`;

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const parsed = readConfigSource(file);
  const cfg: HadnsConfig = { file, log: {}, tcp: {}, checks: new Map(), pools: [], ops: defaultOps() };
  if (parsed.errors.length > 0) return { config: cfg, errors: parsed.errors };
  const r = new SourceReader(parsed.source);
  if (!parsed.source.root) {
    r.error([], `the file is empty; expected a map with keys such as ${TOP_LEVEL_KEYS.join(", ")}`);
    return { config: cfg, errors: r.errors };
  }
  if (!r.map([], TOP_LEVEL_KEYS)) return { config: cfg, errors: r.errors };
  const base = dirname(file);
  for (const s of SECTIONS) s.read(r, cfg, base, env);
  if (cfg.transfers && cfg.ops.workers !== undefined && cfg.ops.workers !== 1) r.error(["transfers"], TRANSFERS_NEED_ONE_PROCESS(`workers: ${cfg.ops.workers}`));

  const health = validateHealthConfig({ checks: toPlain(r.at(["checks"])), pools: toPlain(r.at(["pools"])) }, r.where, env);
  cfg.checks = health.checks;
  cfg.pools = health.pools;
  return { config: cfg, errors: [...r.errors, ...health.errors] };
}

// ---- sections --------------------------------------------------------------------------------

function readListen(r: SourceReader, cfg: HadnsConfig): void {
  const items = r.list(["listen"], { single: true });
  if (!items) return;
  const out: ListenAddress[] = [];
  for (const { path } of items) {
    const a = r.parsed(path, parseListenAddress);
    if (a) out.push(a);
  }
  if (items.length === 0) r.error(["listen"], "empty list; give at least one host:port");
  cfg.listen = out;
}

function readZones(r: SourceReader, cfg: HadnsConfig, base: string): void {
  const items = r.list(["zones"]);
  if (!items) return;
  const zones = (cfg.zones ??= []);
  for (const { node, path } of items) {
    // A plain string is shorthand for `{ file: … }`.
    if (node.kind === "scalar") {
      const file = r.string(path, { nonEmpty: true });
      if (file !== undefined) zones.push({ file: resolveFrom(base, file) });
      continue;
    }
    if (!r.map(path, ["file", "origin"])) continue;
    const file = r.string([...path, "file"], { nonEmpty: true, required: true });
    const origin = r.parsed([...path, "origin"], checkOrigin);
    if (file === undefined) continue;
    zones.push(origin === undefined ? { file: resolveFrom(base, file) } : { file: resolveFrom(base, file), origin });
  }
}

function readZonesDir(r: SourceReader, cfg: HadnsConfig, base: string): void {
  const items = r.list(["zones_dir"], { single: true });
  if (!items) return;
  const zones = (cfg.zones ??= []);
  for (const { path } of items) {
    const text = r.string(path, { nonEmpty: true });
    if (text === undefined) continue;
    const dir = resolveFrom(base, text);
    try {
      for (const file of zoneFilesIn(dir)) zones.push({ file });
    } catch (e) {
      r.error(path, `${dir}: ${(e as Error).message}`);
    }
  }
}

function readLog(r: SourceReader, cfg: HadnsConfig): void {
  if (!r.map(["log"], ["level", "format"])) return;
  cfg.log.level = r.oneOf(["log", "level"], LOG_LEVELS);
  cfg.log.format = r.oneOf(["log", "format"], LOG_FORMATS);
}

function readTcp(r: SourceReader, cfg: HadnsConfig): void {
  if (!r.map(["tcp"], ["idle_timeout", "max_connections", "max_pending_bytes"])) return;
  cfg.tcp.idleTimeoutMs = r.parsed(["tcp", "idle_timeout"], (t) => positiveDurationMs(t, "idle_timeout"));
  cfg.tcp.maxConnections = r.int(["tcp", "max_connections"], { min: 1, max: 1_000_000 });
  cfg.tcp.maxPendingBytes = r.int(["tcp", "max_pending_bytes"], { min: 65_536, max: 1 << 30 });
}

function readChaos(r: SourceReader, cfg: HadnsConfig): void {
  if (!r.map(["chaos"], ["version", "id"])) return;
  const chaos: ChaosSettings = {};
  const version = r.string(["chaos", "version"], { nonEmpty: true });
  const id = r.string(["chaos", "id"], { nonEmpty: true });
  if (version !== undefined) chaos.version = version;
  if (id !== undefined) chaos.id = id;
  cfg.chaos = chaos;
}

// ---- value parsers shared with the command line ----------------------------------------------

/**
 * `host:port` with an IP address literal: `127.0.0.1:5300`, `[::1]:5300`, `0.0.0.0:53`, `[::]:53`.
 * Port 0 lets the system pick one. Throws an Error saying what is wrong.
 */
export function parseListenAddress(text: string): ListenAddress {
  const t = text.trim();
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  const plain = /^([^:[\]]+):(\d+)$/.exec(t);
  const m = bracketed ?? plain;
  if (!m) {
    if (isIP(t) === 6 || /^[0-9a-f:]+:\d+$/i.test(t)) {
      throw new Error(`"${text}" is not host:port; write an IPv6 address in brackets, e.g. "[::1]:5300"`);
    }
    if (isIP(t) === 4) throw new Error(`"${text}" has no port; write host:port, e.g. "${t}:5300"`);
    throw new Error(`"${text}" is not host:port, e.g. "127.0.0.1:5300" or "[::1]:5300"`);
  }
  const host = m[1]!;
  const port = Number(m[2]);
  const family = isIP(host);
  if (family === 0) throw new Error(`"${host}" in "${text}" is not an IP address (hadns listens on addresses, not host names)`);
  if (bracketed && family !== 6) throw new Error(`"${text}": only IPv6 addresses go in brackets`);
  if (port > 65535) throw new Error(`port ${port} in "${text}" is over 65535`);
  return { host, port };
}

export function formatListenAddress(a: { host: string; port: number }): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** The `*.zone` files directly in `dir`, sorted by name. Throws an Error with the reason (not naming `dir`). */
export function zoneFilesIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => (d.isFile() || d.isSymbolicLink()) && d.name.endsWith(".zone"))
      .map((d) => d.name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read this directory${code ? ` (${code})` : ""}`);
  }
  if (names.length === 0) throw new Error("no *.zone files in this directory");
  return names.sort().map((n) => join(dir, n));
}

function checkOrigin(text: string): string {
  try {
    nameFromText(text, ROOT);
  } catch (e) {
    throw new Error(`bad origin "${text}": ${(e as Error).message}`);
  }
  return text;
}

function positiveDurationMs(text: string, what: string): number {
  const ms = parseDurationMs(text, { what });
  if (ms <= 0) throw new Error(`${what} must be more than 0`);
  return ms;
}

function resolveFrom(base: string, file: string): string {
  return isAbsolute(file) ? file : join(base, file);
}

