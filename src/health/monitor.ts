// The health monitor: one probe loop per distinct (check, probed address), each with its own jittered
// timer, feeding a per-endpoint state machine (state.ts) and emitting 'probe' and 'transition' events.
// It never knows about pools or answers; the core listens for transitions and recompiles.

import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { loadCa, runProbe, type ProbeOptions } from "./probe.js";
import { nextDelayMs, realTimers, spreadOffsetMs, type Timers } from "./scheduler.js";
import { EndpointState } from "./state.js";
import {
  endpointKey,
  type CheckSpec,
  type EndpointSnapshot,
  type EndpointStatus,
  type ProbeEvent,
  type ProbeResult,
  type Transition,
} from "./types.js";

export interface MonitorTarget {
  check: string;
  /** The address probed: an IP, or a host name resolved at each probe. */
  address: string;
}

export type ProbeFn = (spec: CheckSpec, address: string, opts: ProbeOptions) => Promise<ProbeResult>;

export interface HealthMonitorOptions {
  checks: Map<string, CheckSpec>;
  targets: MonitorTarget[];
  logger: Logger;
  /** Clock for timestamps and scheduling (default Date.now). */
  now?: () => number;
  /** Timer functions (default: real, unref'd timers). Tests pass a fake clock's. */
  timers?: Timers;
  /** Source of jitter (default Math.random). */
  random?: () => number;
  /** The probe itself (default runProbe); tests replace it. */
  probe?: ProbeFn;
}

export interface HealthMonitorEvents {
  transition: [Transition];
  probe: [ProbeEvent];
}

interface Target {
  key: string;
  check: string;
  address: string;
  spec: CheckSpec;
  ca?: Buffer;
  state: EndpointState;
  timer?: unknown;
  inflight?: Promise<void>;
  abort: AbortController;
  lastStart: number;
  removed: boolean;
  lastProbe?: { ok: boolean; reason: string; latencyMs: number; at: number };
}

export class HealthMonitor extends EventEmitter<HealthMonitorEvents> {
  private checks: Map<string, CheckSpec>;
  private readonly targets = new Map<string, Target>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly probe: ProbeFn;
  private started?: Promise<void>;
  private stopped = false;

  constructor(opts: HealthMonitorOptions) {
    super();
    this.checks = opts.checks;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? realTimers;
    this.random = opts.random ?? Math.random;
    this.probe = opts.probe ?? runProbe;
    for (const t of opts.targets) this.addTarget(t);
  }

  /** Starts probing. Resolves when every target's first probe has finished (each bounded by its timeout). */
  start(): Promise<void> {
    this.started ??= Promise.all([...this.targets.values()].map((t) => this.firstRound(t))).then(() => undefined);
    return this.started;
  }

  /** Warm start: take saved states for known targets before the first round (see EndpointState.restore). */
  seed(saved: Array<{ check: string; address: string; status: "up" | "down"; since: number; reason: string }>): number {
    let n = 0;
    for (const s of saved) {
      const t = this.targets.get(endpointKey(s.check, s.address));
      if (!t || t.state.status !== "unknown") continue;
      t.state.restore(s.status, s.since, s.reason);
      n++;
    }
    return n;
  }

  /** Status of one probed endpoint; "unknown" before its first probe or when no such target exists. */
  status(check: string, address: string): EndpointStatus {
    return this.statusOf(endpointKey(check, address));
  }

  /** As status(), by the target's key (`check|address`, endpointKey). */
  statusOf(key: string): EndpointStatus {
    return this.targets.get(key)?.state.status ?? "unknown";
  }

  /** One entry per probed endpoint, for /v1/status and `explain`. */
  snapshot(): EndpointSnapshot[] {
    const at = this.now();
    return [...this.targets.values()].map((t) => {
      const s: EndpointSnapshot = {
        key: t.key,
        check: t.check,
        address: t.address,
        status: t.state.status,
        since: t.state.since,
        reason: t.state.reason,
        penalty: t.state.penalty,
        successRun: t.state.successRun,
        riseNeeded: t.state.riseNeeded(at),
        probes: t.state.probes,
        failures: t.state.failures,
      };
      if (t.lastProbe) s.lastProbe = { ...t.lastProbe };
      return s;
    });
  }

  /**
   * Replaces checks and targets (config reload). Targets whose check spec and address are unchanged keep
   * their state and timers; new ones are probed at once. Resolves when the new targets' first probes finish.
   */
  async reconfigure(checks: Map<string, CheckSpec>, targets: MonitorTarget[]): Promise<void> {
    const old = this.checks;
    this.checks = checks;
    const wanted = new Map(targets.map((t) => [endpointKey(t.check, t.address), t]));
    for (const [key, t] of this.targets) {
      const w = wanted.get(key);
      if (!w || !sameSpec(old.get(t.check), checks.get(t.check))) this.removeTarget(t);
    }
    const fresh: Target[] = [];
    for (const [key, w] of wanted) {
      if (this.targets.has(key)) continue;
      const t = this.addTarget(w);
      if (t) fresh.push(t);
    }
    if (this.started && !this.stopped) await Promise.all(fresh.map((t) => this.firstRound(t)));
  }

  /** Stops all timers, cancels probes in flight and waits for them to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    const pending: Array<Promise<void>> = [];
    for (const t of this.targets.values()) {
      this.cancel(t);
      if (t.inflight) pending.push(t.inflight);
    }
    await Promise.allSettled(pending);
  }

  private addTarget(mt: MonitorTarget): Target | undefined {
    const key = endpointKey(mt.check, mt.address);
    const existing = this.targets.get(key);
    if (existing) return existing;
    const spec = this.checks.get(mt.check);
    if (!spec) throw new Error(`health target ${mt.address} names unknown check ${JSON.stringify(mt.check)}`);
    const t: Target = {
      key,
      check: mt.check,
      address: mt.address,
      spec,
      state: new EndpointState(spec, this.now()),
      abort: new AbortController(),
      lastStart: 0,
      removed: false,
    };
    if (spec.caFile) t.ca = loadCa(spec.caFile);
    this.targets.set(key, t);
    return t;
  }

  private removeTarget(t: Target): void {
    this.cancel(t);
    t.removed = true;
    this.targets.delete(t.key);
  }

  private cancel(t: Target): void {
    if (t.timer !== undefined) this.timers.clearTimeout(t.timer);
    t.timer = undefined;
    t.abort.abort();
  }

  private async firstRound(t: Target): Promise<void> {
    await this.runOne(t);
    if (this.stopped || t.removed) return;
    // After the first round, spread the targets uniformly over one interval: never in lockstep. The
    // offset is the whole wait (no jitter on top), so a second probe never follows the first at once.
    this.scheduleNext(t, spreadOffsetMs(t.spec.intervalMs, this.random));
  }

  private scheduleNext(t: Target, firstWait?: number): void {
    if (this.stopped || t.removed) return;
    const delay = nextDelayMs(t.spec, t.state.inDoubt(), this.random);
    const wait = firstWait ?? Math.max(0, t.lastStart + delay - this.now());
    t.timer = this.timers.setTimeout(() => {
      t.timer = undefined;
      void this.runOne(t).then(() => this.scheduleNext(t));
    }, wait);
  }

  private runOne(t: Target): Promise<void> {
    if (t.inflight) return t.inflight;
    t.lastStart = this.now();
    const p = this.probe(t.spec, t.address, { ...(t.ca ? { ca: t.ca } : {}), signal: t.abort.signal })
      .catch((e: unknown): ProbeResult => ({ ok: false, reason: `probe error: ${(e as Error).message}`, latencyMs: 0 }))
      .then((r) => {
        t.inflight = undefined;
        if (this.stopped || t.removed) return;
        this.record(t, r);
      });
    t.inflight = p;
    return p;
  }

  private record(t: Target, r: ProbeResult): void {
    const at = this.now();
    t.lastProbe = { ok: r.ok, reason: r.reason, latencyMs: r.latencyMs, at };
    const ev: ProbeEvent = { ...r, key: t.key, check: t.check, address: t.address, at };
    this.emit("probe", ev);
    const ch = t.state.observe(r.ok, r.reason, at);
    if (!ch) return;
    const tr: Transition = { key: t.key, check: t.check, address: t.address, ...ch };
    const line = { check: t.check, address: t.address, from: ch.from, to: ch.to, reason: ch.reason };
    if (ch.to === "down") this.logger.warn(line, "endpoint down");
    else this.logger.info(line, `endpoint ${ch.to}`);
    this.emit("transition", tr);
  }
}

function sameSpec(a: CheckSpec | undefined, b: CheckSpec | undefined): boolean {
  if (!a || !b) return false;
  return JSON.stringify(a, specReplacer) === JSON.stringify(b, specReplacer);
}

function specReplacer(_k: string, v: unknown): unknown {
  return v instanceof RegExp ? `/${v.source}/${v.flags}` : v;
}
