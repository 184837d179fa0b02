// `hadns serve`: load the zones, start the health checks (warm from the state file if there is a
// recent one), compile the answers, listen on UDP and TCP, log one start-up line, start the
// operations parts (reload on SIGHUP or file change, state file, …), and stop cleanly on SIGTERM or
// SIGINT: stop accepting, answer what TCP clients already sent, flush the log, exit 0. A second
// signal while stopping exits at once.
//
// With --workers N (or `workers:`) above 1, this process is the primary: everything above but the
// answering, which N worker processes do (src/server/cluster-primary.ts); each worker runs this same
// command and ends up in serveAsWorker (src/server/cluster-worker.ts). With 1, nothing changes.

import cluster from "node:cluster";
import { createSocket } from "node:dgram";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import type { ListenAddress, ServerOptions } from "../server/server.js";
import { startInstance, type Instance } from "../server/instance.js";
import { Runtime, type Inputs, type RuntimeOptions } from "../server/runtime.js";
import { clusterServe } from "../server/cluster-primary.js";
import { runWorker } from "../server/cluster-worker.js";
import { WORKER_INDEX_ENV } from "../server/cluster-messages.js";
import { formatListenAddress, TRANSFERS_NEED_ONE_PROCESS } from "../config/load.js";
import type { Workers } from "../config/ops.js";
import { nameToText } from "../wire/name.js";
import { formatSourceError } from "../zone/rr.js";
import { createLogger, type Logger } from "../log.js";
import { startOps, type Ops } from "../ops/start.js";
import { holdSighupDuringStartup, ignoreSighupWhileStopping } from "../ops/reload-triggers.js";
import { loadWarmState } from "../ops/state-file.js";
import { resolveInputs, type InputFlags, type Settings } from "./inputs.js";
import { loadServedZones } from "./zones.js";
import { plural, printSourceErrors } from "./report.js";

/** How long a clean stop may take before we give up on it and exit 1. */
const STOP_TIMEOUT_MS = 10_000;

export interface ServeFlags extends InputFlags {
  /** --workers: processes answering queries, over the config's `workers:`. */
  workers?: Workers;
}

export async function serve(flags: ServeFlags): Promise<number> {
  if (cluster.isWorker) return serveAsWorker(flags);
  const { settings, errors } = resolveInputs(flags);
  if (errors.length > 0) return notStarting(errors);
  const workers = workerCount(flags.workers ?? settings.ops.workers);
  if (settings.transfers && flags.workers !== undefined && workers !== 1) {
    return notStarting([{ file: settings.configFile ?? "", line: 0, message: `transfers: ${TRANSFERS_NEED_ONE_PROCESS(`--workers ${flags.workers}`)}` }]);
  }
  const logger = createLogger(settings.log);
  // Listen for the stop signals before anything is logged: a supervisor that reads the start-up
  // line and stops us at once must find the handler in place.
  const stopSignal = nextSignal(["SIGTERM", "SIGINT"]);
  // A reload asked for while we start is done once we serve, instead of SIGHUP's default: death.
  holdSighupDuringStartup();

  const loaded = loadServedZones(settings);
  if (loaded.errors.length > 0) return notStarting(loaded.errors);
  for (const w of loaded.warnings) logger.warn({ file: w.file, line: w.line }, formatSourceError(w));

  // The state file is read before anything starts: pools answer from it at once.
  const warm = await loadWarmState(settings.ops.state, logger);
  let instance: Instance;
  try {
    // Health checks first (their first round bounded by the timeouts), then answers, then sockets.
    if (workers > 1) instance = await startPrimary(workers, flags, settings, loaded.zones, await usableListen(settings, logger), logger, warm);
    else
      instance = await startInstance({
        zones: loaded.zones,
        listen: await usableListen(settings, logger),
        logger,
        checks: settings.checks,
        pools: settings.pools,
        tcp: tcpOptions(settings),
        ...(settings.chaos ? { chaos: settings.chaos } : {}),
        // A reload reads the same inputs again and checks them exactly as `hadns check` does.
        reload: () => reloadInputs(flags),
        ...(warm ? { warm } : {}),
      });
  } catch (e) {
    logger.fatal({ err: e }, `cannot start: ${(e as Error).message}`);
    return 1;
  }
  const server = instance.server;

  const zones = loaded.zones.map((z) => ({ origin: nameToText(z.origin), file: z.file, records: z.recordCount, serial: z.serial }));
  const records = zones.reduce((n, z) => n + z.records, 0);
  const addresses = [...new Set(server.listening.map((l) => formatListenAddress(l)))];
  const pools = settings.pools.length > 0 ? `, ${plural(settings.pools.length, "pool")}` : "";
  logger.info(
    {
      zones,
      ...(pools ? { pools: settings.pools.map((p) => `${p.name} ${p.type}`) } : {}),
      listening: server.listening.map((l) => `${l.transport} ${formatListenAddress(l)}`),
      ...(workers > 1 ? { workers } : {}),
    },
    `serving ${plural(zones.length, "zone")} (${plural(records, "record")})${pools} on ${addresses.join(", ")}${workers > 1 ? ` with ${workers} worker processes` : ""}`,
  );

  let ops: Ops;
  try {
    ops = await startOps(instance, settings.ops, logger, { configFiles: () => inputFiles(flags), transfers: settings.transfers });
  } catch (e) {
    logger.fatal({ err: e }, `cannot start: ${(e as Error).message}`);
    await instance.close();
    return 1;
  }

  const signal = await stopSignal;
  logger.info({ signal }, `stopping on ${signal}`);
  exitOnSecondSignal(logger);
  ignoreSighupWhileStopping(logger);
  const guard = setTimeout(() => {
    logger.error(`could not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting anyway`);
    process.exit(1);
  }, STOP_TIMEOUT_MS);
  guard.unref();
  // Listeners first (no new queries; TCP clients get the answers to what they sent), then the
  // operations parts (the state file is written one last time).
  await instance.close();
  await ops.close();
  clearTimeout(guard);
  logger.info("stopped");
  logger.flush();
  return 0;
}

/** 1 unless asked for more; auto: one per CPU this process may use. */
function workerCount(w: Workers | undefined): number {
  return w === "auto" ? availableParallelism() : (w ?? 1);
}

/**
 * The primary of `--workers N`: the Runtime with its health monitor, overrides and reloads, whose
 * queries are answered by N workers (started once the first round of probes is done) instead of its
 * own listeners. It compiles an answer only when explain asks: it answers no queries itself.
 */
function startPrimary(
  workers: number,
  flags: ServeFlags,
  settings: Settings,
  zones: Inputs["zones"],
  listen: ListenAddress[],
  logger: Logger,
  warm: RuntimeOptions["warm"],
): Promise<Runtime> {
  const inputs: Inputs = { zones, checks: settings.checks, pools: settings.pools, errors: [] };
  if (settings.chaos) inputs.chaos = settings.chaos;
  return Runtime.start(inputs, {
    listen,
    logger,
    tcp: tcpOptions(settings),
    reload: () => reloadInputs(flags),
    ...(warm ? { warm } : {}),
    serve: clusterServe({ workers, logger }),
    lazyAnswers: true,
  });
}

/**
 * A worker of `--workers N`: the primary checked everything and logs for the whole; this process
 * loads the same inputs, answers queries and does what the primary tells it.
 */
function serveAsWorker(flags: ServeFlags): Promise<number> {
  const { settings } = resolveInputs(flags);
  const index = Number(process.env[WORKER_INDEX_ENV] ?? 0);
  const logger = createLogger(settings.log).child({ worker: index });
  return runWorker({ index, logger, load: () => reloadInputs(flags), tcp: tcpOptions(settings) });
}

/** Config and zones read again for a reload; every error is returned, nothing is thrown. */
export function reloadInputs(flags: InputFlags): Inputs {
  const { settings, errors } = resolveInputs(flags);
  if (errors.length > 0) return { zones: [], checks: new Map(), pools: [], errors };
  const loaded = loadServedZones(settings);
  const inputs: Inputs = { zones: loaded.zones, checks: settings.checks, pools: settings.pools, errors: loaded.errors };
  if (settings.chaos) inputs.chaos = settings.chaos;
  return inputs;
}

/** The files `watch: true` follows: the config and the zone files it names now (zones_dir read again). */
function inputFiles(flags: InputFlags): string[] {
  const { settings } = resolveInputs(flags);
  return [...(settings.configFile !== undefined ? [settings.configFile] : []), ...settings.zones.map((z) => z.file)];
}

function notStarting(errors: Parameters<typeof printSourceErrors>[0]): number {
  printSourceErrors(errors);
  process.stderr.write(`hadns: not starting: ${plural(errors.length, "error")} (hadns check lists the same)\n`);
  return 1;
}

function tcpOptions(s: Settings): Pick<ServerOptions, "tcpIdleTimeoutMs" | "tcpMaxConnections" | "tcpMaxPendingBytes"> {
  const out: Pick<ServerOptions, "tcpIdleTimeoutMs" | "tcpMaxConnections" | "tcpMaxPendingBytes"> = {};
  if (s.tcp.idleTimeoutMs !== undefined) out.tcpIdleTimeoutMs = s.tcp.idleTimeoutMs;
  if (s.tcp.maxConnections !== undefined) out.tcpMaxConnections = s.tcp.maxConnections;
  if (s.tcp.maxPendingBytes !== undefined) out.tcpMaxPendingBytes = s.tcp.maxPendingBytes;
  return out;
}

/**
 * The addresses to listen on. With the default listeners, a machine without IPv6 loopback (some
 * containers) still serves on 127.0.0.1: ::1 is dropped with a warning. Explicit ones are used as given.
 */
async function usableListen(s: Settings, logger: Logger): Promise<ListenAddress[]> {
  if (!s.listenIsDefault) return s.listen;
  const out: ListenAddress[] = [];
  for (const a of s.listen) {
    if (isIP(a.host) === 6 && !(await canBindUdp6(a.host))) {
      logger.warn(`IPv6 address ${a.host} is not available here; listening on IPv4 only`);
      continue;
    }
    out.push(a);
  }
  return out;
}

function canBindUdp6(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket({ type: "udp6", ipv6Only: true });
    sock.once("error", () => {
      sock.close();
      resolve(false);
    });
    sock.bind(0, host, () => {
      sock.close();
      resolve(true);
    });
  });
}

/** While stopping, another SIGTERM or SIGINT means "now": exit at once, as the shell would report it. */
function exitOnSecondSignal(logger: Logger): void {
  const now = (signal: NodeJS.Signals): void => {
    logger.warn({ signal }, `second ${signal} while stopping: exiting now`);
    logger.flush();
    process.exit(128 + (signal === "SIGINT" ? 2 : 15));
  };
  process.on("SIGTERM", now);
  process.on("SIGINT", now);
}

function nextSignal(signals: NodeJS.Signals[]): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      // exitOnSecondSignal handles the next one.
      for (const s of signals) process.off(s, on);
      resolve(signal);
    };
    for (const s of signals) process.on(s, on);
  });
}
