// Command-line flags and the config file merged into the settings `serve` and `check` run with.
// Precedence: a flag wins over the config file, which wins over the defaults below.

import { resolve } from "node:path";
import type { SourceError } from "../zone/rr.js";
import type { ZoneSpec } from "../zone/load.js";
import type { ListenAddress } from "../server/server.js";
import type { LogFormat, LogLevel } from "../log.js";
import { defaultOps, type OpsSettings } from "../config/ops.js";
import { adminBindingProblem } from "../ops/admin-server.js";
import { loadConfig, zoneFilesIn, type ChaosSettings, type HadnsConfig, type TcpSettings } from "../config/load.js";

/** Where `npm start` listens without root: loopback only, an unprivileged port, both families. */
export const DEFAULT_LISTEN: readonly ListenAddress[] = [
  { host: "127.0.0.1", port: 5300 },
  { host: "::1", port: 5300 },
];

/** Options shared by `serve` and `check`, as commander hands them over. */
export interface InputFlags {
  zone?: string[];
  zonesDir?: string[];
  config?: string;
  listen?: ListenAddress[];
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  /** serve: the admin listener (null: off), over the config's admin.listen. */
  adminListen?: ListenAddress | null;
}

export interface Settings {
  configFile?: string;
  zones: ZoneSpec[];
  listen: ListenAddress[];
  /** No --listen and no `listen` in the config: an unusable ::1 is then only a warning. */
  listenIsDefault: boolean;
  log: { level: LogLevel; format?: LogFormat };
  tcp: TcpSettings;
  chaos?: ChaosSettings;
  checks: HadnsConfig["checks"];
  pools: HadnsConfig["pools"];
  ops: OpsSettings;
  transfers?: HadnsConfig["transfers"];
}

export class UsageError extends Error {}

/**
 * Merge flags over the config file. Problems in files come back as SourceErrors (all of them);
 * a command line that names nothing to serve throws UsageError.
 */
export function resolveInputs(flags: InputFlags, env: NodeJS.ProcessEnv = process.env): { settings: Settings; errors: SourceError[] } {
  const zonesOnCommandLine = (flags.zone?.length ?? 0) + (flags.zonesDir?.length ?? 0) > 0;
  if (!zonesOnCommandLine && flags.config === undefined) {
    throw new UsageError("nothing to serve: give --zone FILE, --zones-dir DIR or --config FILE");
  }
  const errors: SourceError[] = [];
  const cfg = flags.config !== undefined ? loadConfig(flags.config, env) : undefined;
  if (cfg) errors.push(...cfg.errors);
  const config = cfg?.config;

  let zones: ZoneSpec[];
  if (zonesOnCommandLine) {
    zones = (flags.zone ?? []).map((file) => ({ file }));
    for (const dir of flags.zonesDir ?? []) {
      try {
        for (const file of zoneFilesIn(dir)) zones.push({ file });
      } catch (e) {
        errors.push({ file: dir, line: 0, message: (e as Error).message });
      }
    }
  } else {
    zones = config?.zones ?? [];
    if (config && zones.length === 0 && errors.length === 0) {
      errors.push({ file: config.file, line: 0, message: "no zones: add `zones` or `zones_dir`, or give --zone / --zones-dir" });
    }
  }

  const listen = flags.listen ?? config?.listen;
  const settings: Settings = {
    zones: uniqueByPath(zones),
    listen: listen ?? [...DEFAULT_LISTEN],
    listenIsDefault: listen === undefined,
    log: { level: flags.logLevel ?? config?.log.level ?? "info" },
    tcp: config?.tcp ?? {},
    checks: config?.checks ?? new Map(),
    ops: config?.ops ?? defaultOps(),
    pools: config?.pools ?? [],
  };
  const format = flags.logFormat ?? config?.log.format;
  if (format) settings.log.format = format;
  if (config?.chaos) settings.chaos = config.chaos;
  if (config?.transfers) settings.transfers = config.transfers;
  if (flags.config !== undefined) settings.configFile = flags.config;
  if (flags.adminListen !== undefined) {
    settings.ops = { ...settings.ops, admin: { ...settings.ops.admin, listen: flags.adminListen } };
    const problem = flags.adminListen ? adminBindingProblem(flags.adminListen, settings.ops.admin.token) : undefined;
    if (problem) throw new UsageError(`--admin-listen: ${problem}`);
  }
  return { settings, errors };
}

/** The same file named twice (by --zone and a --zones-dir, say) is loaded once. */
function uniqueByPath(zones: ZoneSpec[]): ZoneSpec[] {
  const seen = new Set<string>();
  return zones.filter((z) => {
    const key = resolve(z.file);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
