// Keeps the answer engine's pools in step with health: computes each pool's answer from the monitor's
// states, and on every transition recompiles only the pools that probe that endpoint. This is where
// health state turns into records; the query path never sees it.

import type { Logger } from "pino";
import type { QueryEngine } from "../answer/engine.js";
import { renderPool, type PoolRender } from "../answer/pools.js";
import { RRType } from "../wire/constants.js";
import { nameFromText, type Name } from "../wire/name.js";
import type { Transition, EndpointStatus } from "../health/types.js";
import { poolAnswer } from "./policy.js";
import { poolsByTarget, poolStatusOf } from "./targets.js";
import type { PoolAnswer, PoolSpec } from "./types.js";

export interface StatusSource {
  status(check: string, address: string): EndpointStatus;
  on(event: "transition", fn: (t: Transition) => void): unknown;
  off(event: "transition", fn: (t: Transition) => void): unknown;
}

interface LivePool {
  spec: PoolSpec;
  name: Name;
  type: number;
  label: string;
  answer: PoolAnswer;
}

export class LivePools {
  private readonly pools: LivePool[];
  private readonly byTarget: Map<string, PoolSpec[]>;
  private engine: QueryEngine | undefined;
  private readonly onTransition = (t: Transition) => this.transition(t);

  constructor(
    specs: PoolSpec[],
    private readonly health: StatusSource,
    private readonly log: Logger,
  ) {
    this.byTarget = poolsByTarget(specs);
    this.pools = specs.map((spec) => {
      const name = nameFromText(spec.name.endsWith(".") ? spec.name : spec.name + ".");
      const label = `${spec.name} ${spec.type}`;
      return { spec, name, type: RRType[spec.type], label, answer: this.compute(spec) };
    });
    health.on("transition", this.onTransition);
  }

  private compute(spec: PoolSpec): PoolAnswer {
    return poolAnswer(spec, poolStatusOf(spec, (c, a) => this.health.status(c, a)));
  }

  /** The pools' current answers, for building an engine. */
  renders(): Array<{ name: Name; type: number; render: PoolRender }> {
    return this.pools.map((p) => ({ name: p.name, type: p.type, render: renderPool(p.name, p.type, p.answer, p.label) }));
  }

  /** Current answer of every pool (status page, explain). */
  answers(): Array<{ spec: PoolSpec; answer: PoolAnswer }> {
    return this.pools.map((p) => ({ spec: p.spec, answer: p.answer }));
  }

  /** The engine whose pools follow health from now on (a reload attaches the new one). */
  attach(engine: QueryEngine): void {
    this.engine = engine;
  }

  close(): void {
    this.health.off("transition", this.onTransition);
  }

  private transition(t: Transition): void {
    const touched = this.byTarget.get(t.key) ?? [];
    for (const p of this.pools) {
      if (!touched.includes(p.spec)) continue;
      const next = this.compute(p.spec);
      if (sameAnswer(next, p.answer)) continue;
      const before = p.answer;
      p.answer = next;
      const rebuilt = this.engine?.updatePool(p.name, p.type, renderPool(p.name, p.type, next, p.label)) ?? 0;
      const level = next.failOpen || next.rcode === "servfail" ? "warn" : "info";
      this.log[level](
        { pool: p.label, policy: p.spec.policy, answer: next.variants[0] ?? [], ttl: next.ttl, failOpen: next.failOpen, before: before.variants[0] ?? [], cause: `${t.address} ${t.to}: ${t.reason}`, lanes: rebuilt },
        `pool ${p.label} now answers: ${next.reason}`,
      );
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
