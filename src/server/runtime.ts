// One running hadns: health monitor, operator overrides, pools, compiled answers and listeners, and
// the operations on them: reload (parse and check everything, then swap in at once), overrides,
// status and explain. The first round of probes completes (each bounded by its timeout) before any
// listener opens, so no pool is ever answered from a guess.

import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { buildEngine, type QueryEngine } from "../answer/engine.js";
import type { ChaosOptions } from "../answer/chaos.js";
import { QueryStats } from "../answer/stats.js";
import { HealthMonitor } from "../health/monitor.js";
import type { CheckSpec, EndpointSnapshot, Transition } from "../health/types.js";
import { LivePools, type PoolChange } from "../pool/live.js";
import { endpointKeyOf, poolTargets } from "../pool/targets.js";
import type { PoolSpec } from "../pool/types.js";
import { OverrideStore, type Override } from "../ops/overrides.js";
import { formatSourceError, type SourceError } from "../zone/rr.js";
import type { Zone } from "../zone/zone.js";
import { nameToText } from "../wire/name.js";
import { startServer, type ListenAddress, type RunningServer, type ServerOptions } from "./server.js";
import { localCounters, type AnswerCounters } from "./counters.js";

/** Everything a (re)load produces: what to serve, or why not. */
export interface Inputs {
  zones: Zone[];
  checks: Map<string, CheckSpec>;
  pools: PoolSpec[];
  chaos?: ChaosOptions;
  errors: SourceError[];
}

export interface RuntimeOptions {
  listen: ListenAddress[];
  logger: Logger;
  tcp?: Pick<ServerOptions, "tcpIdleTimeoutMs" | "tcpMaxConnections" | "tcpMaxPendingBytes">;
  /** Reads config and zones again for a reload; without it, reload is refused. */
  reload?: () => Inputs | Promise<Inputs>;
  /** Endpoint states and overrides from a warm-start state file: answer from them at once. */
  warm?: { endpoints: Array<{ check: string; address: string; status: "up" | "down"; since: number; reason: string }>; overrides: Override[] };
  /**
   * What answers queries: by default this process's own UDP and TCP listeners (startServer). With
   * workers, the cluster (cluster-primary.ts), which reads the runtime's health state and events.
   */
  serve?: (opts: ServerOptions, rt: Runtime) => Promise<RunningServer>;
  /**
   * This process answers no queries (the workers do): compile an answer only when explain asks for
   * it, instead of every answer at start-up and after each reload.
   */
  lazyAnswers?: boolean;
}

/** The engine for `inputs` with the pools' current answers, following them from now on. */
export function buildAnswers(inputs: Pick<Inputs, "zones" | "chaos">, pools: LivePools, stats: QueryStats, deferCompile: boolean): QueryEngine {
  const engine = buildEngine(inputs.zones, { ...(inputs.chaos ? { chaos: inputs.chaos } : {}), pools: pools.renders(), stats, ...(deferCompile ? { deferCompile: true } : {}) });
  pools.attach(engine);
  return engine;
}

export interface ReloadResult {
  ok: boolean;
  errors: string[];
  ms: number;
  trigger: string;
}

export interface RuntimeEvents {
  transition: [Transition];
  pool: [PoolChange];
  reload: [ReloadResult];
  override: [{ kind: "set" | "removed" | "expired"; override: Override }];
}

/** A recent transition, kept for the status page. */
export interface RecentTransition extends Transition {
  pools: string[];
}

export class Runtime extends EventEmitter<RuntimeEvents> {
  readonly overrides = new OverrideStore();
  readonly stats = new QueryStats();
  readonly recent: RecentTransition[] = [];
  readonly startedAt = Date.now();
  monitor!: HealthMonitor;
  pools!: LivePools;
  engine!: QueryEngine;
  server!: RunningServer;
  inputs!: Inputs;
  lastReload: ReloadResult | undefined;
  private reloading: Promise<ReloadResult> | undefined;

  private constructor(private readonly opts: RuntimeOptions) {
    super();
  }

  static async start(inputs: Inputs, opts: RuntimeOptions): Promise<Runtime> {
    const rt = new Runtime(opts);
    await rt.boot(inputs);
    return rt;
  }

  private get log(): Logger {
    return this.opts.logger;
  }

  private async boot(inputs: Inputs): Promise<void> {
    this.inputs = inputs;
    const warm = this.opts.warm;
    if (warm) this.overrides.restore(warm.overrides);
    this.monitor = new HealthMonitor({ checks: inputs.checks, targets: poolTargets(inputs.pools), logger: this.log });
    if (warm) this.monitor.seed(warm.endpoints);
    this.monitor.on("transition", (t) => this.onTransition(t));
    this.overrides.onChange((c) => {
      this.log.info({ override: c.override }, `override ${c.kind}: ${c.override.action} ${c.override.pool ?? "every pool"} ${c.override.address} (${c.override.reason})`);
      this.pools?.overrideChanged(c.override, `override ${c.kind}: ${c.override.action} ${c.override.address}`);
      this.emit("override", c);
    });
    if (inputs.pools.length > 0) {
      const t0 = Date.now();
      const first = this.monitor.start();
      if (!warm) {
        await first;
        this.log.info({ pools: inputs.pools.length, ms: Date.now() - t0 }, "first round of health checks done; pools answer from known state");
      } else {
        this.log.info({ pools: inputs.pools.length }, "warm start: answering from the saved health state while the first round confirms it");
      }
    }
    this.pools = this.makePools(inputs.pools);
    try {
      // The name table now; the answers in slices once the sockets answer (as after a reload): a
      // query for a name not compiled yet compiles that name first, so every answer is right from
      // the first query, and a big zone answers seconds sooner (bench/README.md, "Zone size").
      this.engine = buildAnswers(inputs, this.pools, this.stats, true);
      this.server = await (this.opts.serve ?? startServer)({ listen: this.opts.listen, engine: this.engine, logger: this.log, ...(this.opts.tcp ?? {}) }, this);
    } catch (e) {
      await this.monitor.stop();
      this.overrides.close();
      throw e;
    }
    if (!this.opts.lazyAnswers) void this.compileAll(this.engine, Date.now());
  }

  /** The answers not compiled yet, in slices between queries; `t0` (start-up): log when all are. */
  private async compileAll(engine: QueryEngine, t0?: number): Promise<void> {
    try {
      if ((await engine.compileInBackground()) && t0 !== undefined) this.log.info({ ms: Date.now() - t0 }, "all answers compiled");
    } catch (e) {
      // A bug, not bad input (the zones were checked): the names left compile on their first query.
      this.log.error({ err: e }, "compiling the answers failed; names not compiled yet are compiled when first asked for");
    }
  }

  private makePools(specs: PoolSpec[]): LivePools {
    return new LivePools(
      specs,
      (spec, i, key) => OverrideStore.apply(this.overrides.find(spec.name, spec.endpoints[i]!.address), key === undefined ? "up" : this.monitor.statusOf(key)),
      this.log,
      (c) => this.emit("pool", c),
    );
  }

  private onTransition(t: Transition): void {
    // During the first round there are no pools yet: they are built from the states it produced.
    const touched = this.pools?.labelsOf(t.key) ?? [];
    this.recent.unshift({ ...t, pools: touched });
    if (this.recent.length > 100) this.recent.length = 100;
    this.emit("transition", t);
    this.pools?.endpointChanged(t.key, `${t.address} ${t.to}: ${t.reason}`);
  }

  /**
   * Reload config and zones: parse and check everything first; on any error keep serving what we
   * have. Endpoints whose check and address did not change keep their state and probe schedule.
   */
  reload(trigger: string): Promise<ReloadResult> {
    // Reloads asked for while one runs share its result.
    this.reloading ??= this.doReload(trigger).finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async doReload(trigger: string): Promise<ReloadResult> {
    const t0 = Date.now();
    const done = (ok: boolean, errors: string[]): ReloadResult => {
      const r = { ok, errors, ms: Date.now() - t0, trigger };
      this.lastReload = r;
      if (ok) this.log.info({ trigger, ms: r.ms }, "reloaded config and zones");
      else this.log.error({ trigger, errors }, `reload rejected (${errors.length} error${errors.length === 1 ? "" : "s"}); still serving the previous config`);
      this.emit("reload", r);
      return r;
    };
    if (!this.opts.reload) return done(false, ["this server was started without a config to reload"]);
    let next: Inputs;
    try {
      next = await this.opts.reload();
    } catch (e) {
      return done(false, [(e as Error).message]);
    }
    if (next.errors.length > 0) return done(false, next.errors.map(formatSourceError));
    try {
      await this.monitor.reconfigure(next.checks, poolTargets(next.pools));
      const pools = this.makePools(next.pools);
      // The name table now; the answers in slices after the swap, so answering never stalls for long.
      const engine = buildAnswers(next, pools, this.stats, true);
      // The swap: from the next query on, the new answers.
      this.pools = pools;
      this.inputs = next;
      this.swapEngine(engine);
    } catch (e) {
      return done(false, [(e as Error).message]);
    }
    if (!this.opts.lazyAnswers) await this.engine.compileInBackground();
    return done(true, []);
  }

  /**
   * The answers again from the inputs and pools being served (a zone's data changed in place, as a
   * transfer's new serial does): the name table now, the answers in slices between queries.
   */
  rebuildAnswers(): void {
    const engine = buildAnswers(this.inputs, this.pools, this.stats, true);
    this.swapEngine(engine);
    if (!this.opts.lazyAnswers) void this.compileAll(engine);
  }

  /** From the next query on, `engine` answers; the one it replaces stops compiling. */
  private swapEngine(engine: QueryEngine): void {
    this.engine.stopCompiling();
    this.engine = engine;
    this.server.setEngine(engine);
  }

  /** Everything /v1/status shows. */
  status() {
    const endpoints = new Map<string, EndpointSnapshot>(this.monitor.snapshot().map((s) => [s.key, s]));
    return {
      startedAt: this.startedAt,
      lastReload: this.lastReload ?? null,
      zones: this.inputs.zones.map((z) => ({ origin: nameToText(z.origin), serial: z.serial, records: z.recordCount, file: z.file })),
      pools: this.pools.pools.map((p) => ({
        name: p.spec.name,
        type: p.spec.type,
        policy: p.spec.policy,
        ttl: p.spec.ttl,
        whenAllDown: p.spec.whenAllDown,
        answer: p.answer,
        primaryUp: p.primaryUp,
        endpoints: p.spec.endpoints.map((ep, i) => {
          const key = endpointKeyOf(p.spec, i);
          const snap = key ? endpoints.get(key) : undefined;
          const override = this.overrides.find(p.spec.name, ep.address);
          return {
            address: ep.address,
            ...(ep.priority !== undefined ? { priority: ep.priority } : {}),
            ...(ep.weight !== undefined ? { weight: ep.weight } : {}),
            check: key ? key.split("|")[0] : null,
            probed: snap?.address ?? null,
            probedState: snap?.status ?? (key ? "unknown" : "up"),
            state: OverrideStore.apply(override, snap?.status ?? (key ? "unknown" : "up")),
            since: snap?.since ?? null,
            reason: snap?.reason ?? (key ? null : "no check: always in service"),
            lastProbe: snap?.lastProbe ?? null,
            override: override ?? null,
          };
        }),
      })),
      overrides: this.overrides.list(),
      recentTransitions: this.recent.slice(0, 50),
      ...(this.server.workers ? { workers: this.server.workers() } : {}),
    };
  }

  /** Query and TCP counters for /metrics: this process's, or with workers the sum over them. */
  counters(): AnswerCounters {
    return this.server.counters?.() ?? localCounters(this.stats);
  }

  async close(): Promise<void> {
    this.overrides.close();
    this.engine.stopCompiling();
    await Promise.all([this.server.close(), this.monitor.stop()]);
  }
}
