// Keeps the answer engine's pools in step with health: computes each pool's answer from endpoint
// states (probed, or overridden by an operator), and on every change recompiles only the pools that
// depend on it. This is where health state turns into records; the query path never sees it.

import type { Logger } from "pino";
import type { QueryEngine } from "../answer/engine.js";
import { renderPool, type PoolRender } from "../answer/pools.js";
import { RRType } from "../wire/constants.js";
import { nameFromText, type Name } from "../wire/name.js";
import type { EndpointStatus } from "../health/types.js";
import { failoverGroups, poolAnswer } from "./policy.js";
import { endpointKeyOf } from "./targets.js";
import type { PoolAnswer, PoolSpec } from "./types.js";

/** The status the policies see for endpoint i of a pool (probe result, or an operator's override). */
export type StatusOf = (pool: PoolSpec, endpointIndex: number) => EndpointStatus;

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

export class LivePools {
  readonly pools: LivePool[];
  private engine: QueryEngine | undefined;

  constructor(
    specs: PoolSpec[],
    private readonly statusOf: StatusOf,
    private readonly log: Logger,
    private readonly onChange: (c: PoolChange) => void = () => {},
  ) {
    this.pools = specs.map((spec) => {
      const name = nameFromText(spec.name.endsWith(".") ? spec.name : spec.name + ".");
      const p: LivePool = { spec, name, type: RRType[spec.type], label: `${spec.name} ${spec.type}`, answer: this.compute(spec), primaryUp: false };
      p.primaryUp = this.primaryUp(spec);
      return p;
    });
  }

  private compute(spec: PoolSpec): PoolAnswer {
    return poolAnswer(spec, (i) => this.statusOf(spec, i));
  }

  private primaryUp(spec: PoolSpec): boolean {
    const first = failoverGroups(spec)[0] ?? [];
    return first.some((i) => this.statusOf(spec, i) === "up");
  }

  /** The pools' current answers, for building an engine. */
  renders(): Array<{ name: Name; type: number; render: PoolRender }> {
    return this.pools.map((p) => ({ name: p.name, type: p.type, render: renderPool(p.name, p.type, p.answer, p.label) }));
  }

  find(name: string, type: string): LivePool | undefined {
    const n = name.endsWith(".") ? name : name + ".";
    return this.pools.find((p) => p.spec.type === type.toUpperCase() && p.name.key === nameFromText(n).key);
  }

  /** The engine whose pools follow health from now on (a reload attaches the new one). */
  attach(engine: QueryEngine): void {
    this.engine = engine;
  }

  /** An endpoint's probed state changed: recompute the pools that probe it (`check|address`). */
  endpointChanged(targetKey: string, cause: string): void {
    this.refresh(cause, (p) => p.spec.endpoints.some((_, i) => endpointKeyOf(p.spec, i) === targetKey));
  }

  /** Recompute pools (all, or those `which` selects) and recompile those whose answer changed. */
  refresh(cause: string, which: (p: LivePool) => boolean = () => true): void {
    for (const p of this.pools) {
      if (!which(p)) continue;
      const next = this.compute(p.spec);
      const primaryUp = this.primaryUp(p.spec);
      if (sameAnswer(next, p.answer) && primaryUp === p.primaryUp) continue;
      const before = p.answer;
      const primaryWasUp = p.primaryUp;
      p.answer = next;
      p.primaryUp = primaryUp;
      if (sameAnswer(next, before)) continue;
      const rebuilt = this.engine?.updatePool(p.name, p.type, renderPool(p.name, p.type, next, p.label)) ?? 0;
      const level = next.failOpen || next.rcode === "servfail" ? "warn" : "info";
      this.log[level](
        { pool: p.label, policy: p.spec.policy, answer: next.variants[0] ?? [], ttl: next.ttl, failOpen: next.failOpen, before: before.variants[0] ?? [], cause, lanes: rebuilt },
        `pool ${p.label} now answers: ${next.reason}`,
      );
      this.onChange({ pool: p.label, spec: p.spec, before, after: next, cause, primaryUp, primaryWasUp });
    }
  }
}

function sameAnswer(a: PoolAnswer, b: PoolAnswer): boolean {
  return (
    a.rcode === b.rcode &&
    a.ttl === b.ttl &&
    a.selection === b.selection &&
    a.failOpen === b.failOpen &&
    JSON.stringify(a.variants) === JSON.stringify(b.variants) &&
    JSON.stringify(a.weights) === JSON.stringify(b.weights)
  );
}
