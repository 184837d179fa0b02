// `hadns serve --workers N`, a worker's side: answers queries, nothing else. It never probes: its
// pools read a copy of the primary's endpoint statuses and overrides (cluster-messages.ts), through
// the same LivePools, engine and listeners as a single process, so for the same state it sends the
// same bytes. It asks for that state before loading anything, builds every answer, and only then
// binds its sockets (shared through the primary, see cluster-primary.ts).
//
// Signals: the primary coordinates. SIGTERM, SIGINT and SIGHUP reach the workers too when sent to the
// process group (Ctrl-C, systemd's control-group stop), so a worker ignores them and stops, or
// reloads, when the primary tells it to. If the primary dies, the IPC channel closes and the worker
// exits (node:cluster does that).

import type { Logger } from "pino";
import type { QueryEngine } from "../answer/engine.js";
import { QueryStats } from "../answer/stats.js";
import type { EndpointStatus } from "../health/types.js";
import { OverrideStore, type Override } from "../ops/overrides.js";
import { LivePools } from "../pool/live.js";
import type { PoolSpec } from "../pool/types.js";
import { nameToText } from "../wire/name.js";
import { formatSourceError } from "../zone/rr.js";
import { isMessage, type FromWorker, type HealthState, type ToWorker, type ZoneFingerprint } from "./cluster-messages.js";
import { localCounters } from "./counters.js";
import { buildAnswers, type Inputs } from "./runtime.js";
import { startServer, type RunningServer, type ServerOptions } from "./server.js";

/** How often a worker reports its counters to the primary (when they changed). */
const COUNTERS_EVERY_MS = 1000;

export interface WorkerOptions {
  /** 1 … N. */
  index: number;
  logger: Logger;
  /** Reads the config and zones, as the primary does at start-up and on reload. */
  load: () => Inputs;
  tcp: Pick<ServerOptions, "tcpIdleTimeoutMs" | "tcpMaxConnections" | "tcpMaxPendingBytes">;
}

/** Runs a worker until the primary stops it; resolves with the exit code. */
export function runWorker(opts: WorkerOptions): Promise<number> {
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(sig, () => opts.logger.debug({ signal: sig }, `${sig} ignored: the primary stops and reloads the workers`));
  }
  return new Replica(opts).run();
}

class Replica {
  private readonly log: Logger;
  /** LivePools logs every change of answer; the primary already logs each one, once. */
  private readonly quiet: Logger;
  private readonly stats = new QueryStats();
  private statuses = new Map<string, EndpointStatus>();
  private overrides = new OverrideStore(() => 0);
  private pools: LivePools | undefined;
  private engine: QueryEngine | undefined;
  private server: RunningServer | undefined;
  private stopping = false;
  private exit: (code: number) => void = () => undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private lastReport = "";

  constructor(private readonly opts: WorkerOptions) {
    this.log = opts.logger;
    this.quiet = opts.logger.child({}, { level: "silent" });
  }

  run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.exit = resolve));
    process.on("message", (m: unknown) => {
      if (isMessage<ToWorker>(m)) this.onMessage(m);
    });
    send({ t: "hello" });
    return done;
  }

  private onMessage(m: ToWorker): void {
    try {
      switch (m.t) {
        case "state":
          void this.start(m);
          return;
        case "endpoint":
          this.statuses.set(m.key, m.status);
          this.pools?.endpointChanged(m.key, m.cause);
          return;
        case "overrides":
          this.setOverrides(m.overrides);
          this.pools?.refresh(m.cause);
          return;
        case "sync":
          this.setHealth(m);
          this.pools?.refresh("state from the primary");
          return;
        case "reload":
          this.setHealth(m);
          this.reload(m.trigger, m.zones);
          return;
        case "stop":
          void this.stop();
          return;
      }
    } catch (e) {
      this.log.error({ err: e, message: m.t }, `worker ${this.opts.index}: could not apply a message from the primary`);
    }
  }

  // ---- the state the pools read --------------------------------------------------------------------

  private setHealth(h: HealthState): void {
    this.statuses = new Map(h.endpoints);
    this.setOverrides(h.overrides);
  }

  /** The primary expires overrides and says so; here they hold until it does (a clock that never moves). */
  private setOverrides(list: Override[]): void {
    const store = new OverrideStore(() => 0);
    store.restore(list);
    store.close();
    this.overrides = store;
  }

  /** As Runtime.makePools: an override over the probed status (here, the primary's). */
  private makePools(specs: PoolSpec[]): LivePools {
    return new LivePools(
      specs,
      (spec, i, key) => OverrideStore.apply(this.overrides.find(spec.name, spec.endpoints[i]!.address), key === undefined ? "up" : (this.statuses.get(key) ?? "unknown")),
      this.quiet,
      (c) => this.log.debug({ pool: c.pool, answer: c.after.variants[0] ?? [], cause: c.cause }, `worker ${this.opts.index}: pool ${c.pool} now answers: ${c.after.reason}`),
    );
  }

  // ---- start, reload, stop -----------------------------------------------------------------------

  private async start(m: Extract<ToWorker, { t: "state" }>): Promise<void> {
    const t0 = Date.now();
    this.setHealth(m);
    let inputs: Inputs;
    try {
      inputs = this.opts.load();
    } catch (e) {
      return this.fatal(`cannot load the config and zones: ${(e as Error).message}`);
    }
    if (inputs.errors.length > 0) return this.fatal(`not starting: ${inputs.errors.map(formatSourceError).join("; ")}`);
    this.checkSame(inputs, m.zones);
    try {
      this.pools = this.makePools(inputs.pools);
      // Compiled in slices once answering, as in a single process (runtime.ts boot).
      this.engine = buildAnswers(inputs, this.pools, this.stats, true);
    } catch (e) {
      // A bug, not bad input (that is caught above): say so before the primary sees the exit.
      return this.fatal(`cannot build the answers: ${(e as Error).stack ?? String(e)}`);
    }
    let server: RunningServer;
    try {
      server = await startServer({ listen: m.listen, engine: this.engine, logger: this.log, ...this.opts.tcp });
    } catch (e) {
      return this.fatal((e as Error).message);
    }
    this.server = server;
    // A reload may have swapped the engine while the sockets were being bound.
    if (server.engine !== this.engine) server.setEngine(this.engine);
    if (this.stopping) {
      await server.close();
      return;
    }
    send({ t: "listening", listening: server.listening });
    this.log.debug({ ms: Date.now() - t0 }, `worker ${this.opts.index} answering`);
    this.compileAll(this.engine);
    this.reportTimer = setInterval(() => this.report(), COUNTERS_EVERY_MS);
    this.reportTimer.unref();
  }

  /** The primary reloaded: read the same inputs and swap them in as Runtime.reload does. */
  private reload(trigger: string, zones: ZoneFingerprint[]): void {
    const t0 = Date.now();
    const failed = (errors: string[]): void => {
      this.log.error({ trigger, errors }, `worker ${this.opts.index} could not reload; it keeps answering from its previous zones`);
      send({ t: "reloaded", ok: false, ms: Date.now() - t0, errors });
    };
    let next: Inputs;
    try {
      next = this.opts.load();
    } catch (e) {
      return failed([(e as Error).message]);
    }
    if (next.errors.length > 0) return failed(next.errors.map(formatSourceError));
    this.checkSame(next, zones);
    let engine: QueryEngine;
    try {
      const pools = this.makePools(next.pools);
      engine = buildAnswers(next, pools, this.stats, true);
      this.pools = pools;
      this.engine?.stopCompiling();
      this.engine = engine;
      this.server?.setEngine(engine);
    } catch (e) {
      return failed([(e as Error).message]);
    }
    this.log.debug({ trigger, ms: Date.now() - t0 }, `worker ${this.opts.index} reloaded config and zones`);
    send({ t: "reloaded", ok: true, ms: Date.now() - t0, errors: [] });
    this.compileAll(engine);
  }

  /** The answers not compiled yet, in slices between queries; a failure (a bug) is logged, never thrown. */
  private compileAll(engine: QueryEngine): void {
    engine.compileInBackground().catch((e: unknown) => this.log.error({ err: e }, `worker ${this.opts.index}: compiling the answers failed; names not compiled yet are compiled when first asked for`));
  }

  /** Files can change between the primary's read and ours: say so rather than answer differently in silence. */
  private checkSame(inputs: Inputs, primary: ZoneFingerprint[]): void {
    const mine: ZoneFingerprint[] = inputs.zones.map((z) => ({ origin: nameToText(z.origin), serial: z.serial, records: z.recordCount }));
    if (JSON.stringify(mine) === JSON.stringify(primary)) return;
    this.log.warn({ primary, worker: mine }, `worker ${this.opts.index} read other zones than the primary (a file changed in between?); reload again to line them up`);
  }

  private async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.reportTimer) clearInterval(this.reportTimer);
    await this.server?.close();
    this.lastReport = "";
    this.report(() => this.exit(0));
  }

  /** The primary logs it (and fails its start-up, or restarts this worker). */
  private fatal(message: string): void {
    this.log.debug(`worker ${this.opts.index}: ${message}`);
    send({ t: "fatal", message }, () => this.exit(1));
  }

  /** Counters to the primary, when they changed since the last report. */
  private report(then?: () => void): void {
    const c = localCounters(this.stats);
    const sig = `${this.stats.total()}:${c.truncated}:${c.tcp.open}:${c.tcp.accepted}:${c.tcp.refused}`;
    if (sig === this.lastReport && !then) return;
    this.lastReport = sig;
    send({ t: "counters", counters: c }, then);
  }
}

function send(m: FromWorker, then?: () => void): void {
  if (!process.send || !process.connected) {
    then?.();
    return;
  }
  process.send(m, undefined, undefined, () => then?.());
}
