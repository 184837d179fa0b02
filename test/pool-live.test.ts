// LivePools: which pools a health transition or an override recompiles, and that a refresh of every
// pool (what an override change asks for) leaves the unchanged ones alone.

import pino from "pino";
import { describe, expect, it } from "vitest";
import type { QueryEngine } from "../src/answer/engine.js";
import type { EndpointStatus } from "../src/health/types.js";
import { LivePools, type PoolChange } from "../src/pool/live.js";
import { endpointKeyOf } from "../src/pool/targets.js";
import type { PoolSpec } from "../src/pool/types.js";
import { failoverSpec } from "./support/pools.js";

function failoverPool(i: number, extra: Partial<PoolSpec> = {}): PoolSpec {
  return failoverSpec(`p${i}.example.test.`, [`192.0.2.${i + 1}`, `127.0.1.${i + 1}`], [`198.51.100.${i + 1}`, `127.0.2.${i + 1}`], extra);
}

/** LivePools over a status map keyed `pool|address`, with an engine that records updatePool calls. */
function setup(specs: PoolSpec[]) {
  const status = new Map<string, EndpointStatus>();
  let reads = 0;
  const statusOf = (spec: PoolSpec, i: number): EndpointStatus => {
    reads++;
    return status.get(`${spec.name}|${spec.endpoints[i]!.address}`) ?? "up";
  };
  const changes: PoolChange[] = [];
  const live = new LivePools(specs, statusOf, pino({ level: "silent" }), (c) => changes.push(c));
  const updated: unknown[] = [];
  const engine = { updatePool: (name: unknown) => (updated.push(name), 1) } as unknown as QueryEngine;
  live.attach(engine);
  return {
    live,
    status,
    changes,
    updated,
    reads: () => reads,
    resetReads: () => (reads = 0),
    set: (pool: number, endpoint: number, s: EndpointStatus) => status.set(`${specs[pool]!.name}|${specs[pool]!.endpoints[endpoint]!.address}`, s),
  };
}

describe("LivePools", () => {
  it("a health transition recompiles exactly the pools that probe that target", () => {
    const specs = [0, 1, 2].map((i) => failoverPool(i));
    // Pool 2 probes pool 0's primary too.
    specs[2]!.endpoints[0]!.checkAddress = "127.0.1.1";
    const t = setup(specs);
    t.set(0, 0, "down");
    t.set(2, 0, "down");
    t.live.endpointChanged(endpointKeyOf(specs[0]!, 0)!, "127.0.1.1 down");
    expect(t.changes.map((c) => c.pool)).toEqual(["p0.example.test. A", "p2.example.test. A"]);
    expect(t.changes[0]).toMatchObject({ primaryWasUp: true, primaryUp: false, cause: "127.0.1.1 down" });
    expect(t.changes[0]!.after.variants).toEqual([["198.51.100.1"]]);
    expect(t.changes[0]!.after.ttl).toBe(10);
    expect(t.live.pools[1]!.answer.variants).toEqual([["192.0.2.2"]]);
    expect(t.updated).toHaveLength(2);
    // A target no pool probes, and a transition that changes nothing: no work.
    t.live.endpointChanged("web|127.9.9.9", "nobody");
    t.live.endpointChanged(endpointKeyOf(specs[0]!, 0)!, "again");
    expect(t.changes).toHaveLength(2);
  });

  it("refresh() of every pool recompiles only those whose statuses changed, reading each endpoint once", () => {
    const specs = Array.from({ length: 50 }, (_, i) => failoverPool(i));
    const t = setup(specs);
    t.resetReads();
    t.live.refresh("nothing changed");
    expect(t.reads()).toBe(100);
    expect(t.changes).toHaveLength(0);
    t.set(7, 0, "down");
    t.live.refresh("override set: down 192.0.2.8");
    expect(t.changes.map((c) => c.pool)).toEqual(["p7.example.test. A"]);
    expect(t.updated).toEqual([t.live.pools[7]!.name]);
    t.set(7, 0, "up");
    t.live.refresh("override removed");
    expect(t.live.pools[7]!.answer.variants).toEqual([["192.0.2.8"]]);
    expect(t.live.pools[7]!.primaryUp).toBe(true);
    expect(t.changes).toHaveLength(2);
  });

  it("overrideChanged touches the named pool's endpoint, or that address in every pool", () => {
    const specs = [0, 1, 2].map((i) => failoverPool(i));
    // Pools 1 and 2 share a secondary address.
    specs[2]!.endpoints[1]!.address = "198.51.100.2";
    const t = setup(specs);
    t.set(0, 0, "down");
    t.resetReads();
    t.live.overrideChanged({ pool: "p0.example.test.", address: "192.0.2.1" }, "override set");
    expect(t.reads()).toBe(2);
    expect(t.changes.map((c) => c.pool)).toEqual(["p0.example.test. A"]);
    // Address-wide: both pools listing 198.51.100.2 are looked at.
    t.set(1, 0, "down");
    t.set(2, 0, "down");
    t.set(1, 1, "down");
    t.set(2, 1, "down");
    t.resetReads();
    t.live.overrideChanged({ address: "198.51.100.2" }, "override set");
    expect(t.reads()).toBe(4);
    // Pool 1 was not re-read after its primary went down, so both its endpoints are down now: fail-open.
    expect(t.changes.slice(1).map((c) => [c.pool, c.after.failOpen])).toEqual([
      ["p1.example.test. A", true],
      ["p2.example.test. A", true],
    ]);
    // An address no pool lists, or a pool name that does not match: nothing read.
    t.resetReads();
    t.live.overrideChanged({ address: "203.0.113.1" }, "x");
    t.live.overrideChanged({ pool: "other.example.test.", address: "192.0.2.1" }, "x");
    expect(t.reads()).toBe(0);
  });

  it("primaryUp follows the first group even when the answer does not change", () => {
    const spec = failoverPool(0);
    const t = setup([spec]);
    t.set(0, 0, "unknown");
    t.set(0, 1, "down");
    t.live.refresh("x");
    // The unknown primary is served (nothing is up), but it is not "up".
    expect(t.live.pools[0]!.answer.variants).toEqual([["192.0.2.1"]]);
    expect(t.live.pools[0]!.primaryUp).toBe(false);
    const before = t.changes.length;
    t.set(0, 0, "up");
    t.live.refresh("y");
    expect(t.live.pools[0]!.primaryUp).toBe(true);
    // TTL 10 → 10 (the secondary is still down), same record: no recompile, no change event.
    expect(t.changes.length).toBe(before);
  });
});
