// Keeps the answer engine's pools in step with health: computes each pool's answer from endpoint
// states (probed, or overridden by an operator), and on every change recompiles only the pools that
// depend on it. This is where health state turns into records; the query path never sees it.
// Cost (bench/FLIPS.md): a pool change is one status read per endpoint of that pool, the policy,
// and QueryEngine.updatePool for its lanes; pools whose statuses did not change cost a read each.

import type { Logger } from "pino";
import type { QueryEngine } from "../answer/engine.js";
import { renderPool, type PoolRender } from "../answer/pools.js";
import { RRType } from "../wire/constants.js";
import { nameFromText, type Name } from "../wire/name.js";
import type { EndpointStatus } from "../health/types.js";
import { failoverGroups, poolAnswer } from "./policy.js";
import { endpointKeyOf } from "./targets.js";
import type { PoolAnswer, PoolSpec } from "./types.js";

/**
 * The status the policies see for endpoint i of a pool (probe result, or an operator's override).
 * `targetKey` is the endpoint's monitor target (`check|address`, endpointKeyOf), undefined when it
 * is not probed.
 */
export type StatusOf = (pool: PoolSpec, endpointIndex: number, targetKey: string | undefined) => EndpointStatus;

/** A pool's answer changed. `primaryUp`: some endpoint of its first failover group is in service. */
export interface PoolChange {
  pool: string;
  spec: PoolSpec;
  before: PoolAnswer;
  after: PoolAnswer;
  cause: string;
  primaryUp: boolean;
  primaryWasUp: boolean;
}

export interface LivePool {
  spec: PoolSpec;
  name: Name;
  type: number;
  label: string;
  answer: PoolAnswer;
  primaryUp: boolean;
}

/** Which pools an override touches: one pool's endpoint (by the pool's name), or an address in every pool. */
export interface OverrideTarget {
  pool?: string;
  address: string;
}

/** A pool's answer for one combination of endpoint statuses, and its render once needed. */
interface PoolState {
  answer: PoolAnswer;
  primaryUp: boolean;
  render?: PoolRender;
}

/** States kept per pool; past this many (a pool of many endpoints in many combinations), start over. */
const STATES_KEPT = 16;

/**
 * Recomputing a pool reads each endpoint's status once and compares with the statuses its answer was
 * computed from: the policies are pure, so equal statuses mean an equal answer and nothing to do.
 * That keeps refresh() (which an override change calls for every pool) at one status read per
 * endpoint for the pools it does not touch, and endpointChanged() finds its pools through an index.
 * For the same reason each combination of statuses a pool has been in keeps its answer and its
 * render: a pool flipping back finds both made, and the engine, given the same render object, finds
 * its lanes already compiled for it (QueryEngine.refillLane).
 */
export class LivePools {
  readonly pools: LivePool[];
  private engine: QueryEngine | undefined;
  /** Per pool (same index), the endpoint statuses its current answer was computed from (statusKey). */
  private readonly seen: string[];
  /** Per pool, its states by statusKey. */
  private readonly states: Array<Map<string, PoolState>>;
  /** Per pool, each endpoint's monitor target key (endpointKeyOf). */
  private readonly targetKeys: Array<Array<string | undefined>>;
  /** Per pool, the endpoints of its first failover group (primaryUp). */
  private readonly firstGroup: number[][];
  /** Monitor target key (`check|address`) → indices of the pools that probe it. */
  private readonly byTarget = new Map<string, number[]>();
  /** Endpoint address → indices of the pools that list it (overrides name endpoints by address). */
  private readonly byAddress = new Map<string, number[]>();

  constructor(
    specs: PoolSpec[],
    private readonly statusOf: StatusOf,
    private readonly log: Logger,
    private readonly onChange: (c: PoolChange) => void = () => {},
  ) {
    this.seen = [];
    this.states = [];
    this.targetKeys = [];
    this.firstGroup = [];
    this.pools = specs.map((spec, index) => {
      const name = nameFromText(spec.name.endsWith(".") ? spec.name : spec.name + ".");
      const first = failoverGroups(spec)[0] ?? [];
      const keys: Array<string | undefined> = [];
      for (let i = 0; i < spec.endpoints.length; i++) {
        const key = endpointKeyOf(spec, i);
        keys.push(key);
        if (key !== undefined) addIndex(this.byTarget, key, index);
        addIndex(this.byAddress, spec.endpoints[i]!.address, index);
      }
      this.targetKeys.push(keys);
      this.firstGroup.push(first);
      this.states.push(new Map());
      const statuses = this.read(spec, keys);
      const key = statusKey(statuses);
      this.seen.push(key);
      const state = this.stateOf(index, spec, key, statuses);
      return { spec, name, type: RRType[spec.type], label: `${spec.name} ${spec.type}`, answer: state.answer, primaryUp: state.primaryUp };
    });
  }

  private read(spec: PoolSpec, keys: Array<string | undefined>): EndpointStatus[] {
    const out: EndpointStatus[] = new Array(spec.endpoints.length);
    for (let i = 0; i < out.length; i++) out[i] = this.statusOf(spec, i, keys[i]);
    return out;
  }

  /** The pool's state for these statuses: kept, or computed (the policies are pure) and kept. */
  private stateOf(index: number, spec: PoolSpec, key: string, statuses: EndpointStatus[]): PoolState {
    const m = this.states[index]!;
    let state = m.get(key);
    if (!state) {
      if (m.size >= STATES_KEPT) m.clear();
      state = { answer: answerOf(spec, statuses), primaryUp: isPrimaryUp(this.firstGroup[index]!, statuses) };
      m.set(key, state);
    }
    return state;
  }

  /** The render of pool i's current answer, made once per state. */
  private renderOf(index: number): PoolRender {
    const p = this.pools[index]!;
    const state = this.states[index]!.get(this.seen[index]!);
    if (state && state.answer === p.answer) return (state.render ??= renderPool(p.name, p.type, p.answer, p.label));
    return renderPool(p.name, p.type, p.answer, p.label);
  }

  /** The pools' current answers, for building an engine. */
  renders(): Array<{ name: Name; type: number; render: PoolRender }> {
    return this.pools.map((p, i) => ({ name: p.name, type: p.type, render: this.renderOf(i) }));
  }

  find(name: string, type: string): LivePool | undefined {
    const n = name.endsWith(".") ? name : name + ".";
    return this.pools.find((p) => p.spec.type === type.toUpperCase() && p.name.key === nameFromText(n).key);
  }

  /** The engine whose pools follow health from now on (a reload attaches the new one). */
  attach(engine: QueryEngine): void {
    this.engine = engine;
  }

  /** The labels of the pools that probe this endpoint (`check|address`), from the index. */
  labelsOf(targetKey: string): string[] {
    return (this.byTarget.get(targetKey) ?? []).map((i) => this.pools[i]!.label);
  }

  /** An endpoint's probed state changed: recompute the pools that probe it (`check|address`). */
  endpointChanged(targetKey: string, cause: string): void {
    for (const i of this.byTarget.get(targetKey) ?? []) this.update(i, cause);
  }

  /**
   * An override was set, removed or expired: recompute only the pools it can touch (the named pool's
   * endpoints at that address, or every pool's endpoint at that address). The same result as
   * refresh(), without reading every other pool's statuses.
   */
  overrideChanged(o: OverrideTarget, cause: string): void {
    for (const i of this.byAddress.get(o.address) ?? []) {
      if (o.pool === undefined || this.pools[i]!.spec.name === o.pool) this.update(i, cause);
    }
  }

  /** Recompute pools (all, or those `which` selects) and recompile those whose answer changed. */
  refresh(cause: string, which: (p: LivePool) => boolean = () => true): void {
    for (let i = 0; i < this.pools.length; i++) if (which(this.pools[i]!)) this.update(i, cause);
  }

  private update(index: number, cause: string): void {
    const p = this.pools[index]!;
    const statuses = this.read(p.spec, this.targetKeys[index]!);
    const key = statusKey(statuses);
    if (key === this.seen[index]) return;
    this.seen[index] = key;
    const state = this.stateOf(index, p.spec, key, statuses);
    const next = state.answer;
    const primaryUp = state.primaryUp;
    if (sameAnswer(next, p.answer) && primaryUp === p.primaryUp) return;
    const before = p.answer;
    const primaryWasUp = p.primaryUp;
    p.answer = next;
    p.primaryUp = primaryUp;
    if (sameAnswer(next, before)) return;
    const rebuilt = this.engine?.updatePool(p.name, p.type, (state.render ??= renderPool(p.name, p.type, next, p.label))) ?? 0;
    const level = next.failOpen || next.rcode === "servfail" ? "warn" : "info";
    if (this.log.isLevelEnabled(level)) {
      this.log[level](
        { pool: p.label, policy: p.spec.policy, answer: next.variants[0] ?? [], ttl: next.ttl, failOpen: next.failOpen, before: before.variants[0] ?? [], cause, lanes: rebuilt },
        `pool ${p.label} now answers: ${next.reason}`,
      );
    }
    this.onChange({ pool: p.label, spec: p.spec, before, after: next, cause, primaryUp, primaryWasUp });
  }
}

function addIndex(m: Map<string, number[]>, key: string, index: number): void {
  const list = m.get(key);
  if (!list) m.set(key, [index]);
  else if (list[list.length - 1] !== index) list.push(index);
}

function answerOf(spec: PoolSpec, statuses: EndpointStatus[]): PoolAnswer {
  return poolAnswer(spec, (i) => statuses[i]!);
}

/** Some endpoint of the first failover group is in service. */
function isPrimaryUp(first: number[], statuses: EndpointStatus[]): boolean {
  return first.some((i) => statuses[i] === "up");
}

const STATUS_CHAR: Record<EndpointStatus, string> = { up: "u", down: "d", unknown: "?" };

/** One string per combination of statuses: the key of a pool's kept states. */
function statusKey(statuses: EndpointStatus[]): string {
  let k = "";
  for (let i = 0; i < statuses.length; i++) k += STATUS_CHAR[statuses[i]!];
  return k;
}

function sameList<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameAnswer(a: PoolAnswer, b: PoolAnswer): boolean {
  if (a.rcode !== b.rcode || a.ttl !== b.ttl || a.selection !== b.selection || a.failOpen !== b.failOpen) return false;
  if (a.variants.length !== b.variants.length || !sameList(a.weights, b.weights)) return false;
  for (let i = 0; i < a.variants.length; i++) if (!sameList(a.variants[i], b.variants[i])) return false;
  return true;
}
