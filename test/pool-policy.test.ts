// Pool policies: failover (ordered and priority groups), multivalue rotations, weighted variants,
// CNAME pools, unknown endpoints, when_all_down and degraded_ttl.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EndpointStatus } from "../src/health/types.js";
import { poolAnswer } from "../src/pool/policy.js";
import { poolStatusOf, poolTargets, poolsByTarget } from "../src/pool/targets.js";
import type { PoolSpec } from "../src/pool/types.js";

function pool(over: Partial<PoolSpec> & Pick<PoolSpec, "endpoints">): PoolSpec {
  return { name: "app.example.test.", type: "A", ttl: 30, policy: "failover", check: "web", whenAllDown: "serve-all", ...over };
}
const eps = (...a: string[]) => a.map((address) => ({ address }));
const st = (...s: EndpointStatus[]) => (i: number) => s[i]!;
const A = "192.0.2.1", B = "192.0.2.2", C = "192.0.2.3", D = "192.0.2.4";

describe("failover", () => {
  const p = pool({ endpoints: eps(A, B, C) });

  it("answers the first healthy endpoint in listed order", () => {
    expect(poolAnswer(p, st("up", "up", "up"))).toMatchObject({ rcode: "noerror", ttl: 30, selection: "fixed", variants: [[A]], failOpen: false });
    expect(poolAnswer(p, st("up", "up", "up")).reason).toMatch(/^primary 192\.0\.2\.1 healthy/);
    const f = poolAnswer(p, st("down", "up", "up"));
    expect(f).toMatchObject({ selection: "fixed", variants: [[B]] });
    expect(f.reason).toMatch(/^failover to 192\.0\.2\.2/);
    expect(poolAnswer(p, st("down", "down", "up")).variants).toEqual([[C]]);
  });

  it("answers ALL healthy endpoints of the first priority group with any, rotating", () => {
    const g = pool({
      endpoints: [
        { address: A, priority: 10 },
        { address: B, priority: 10 },
        { address: C, priority: 20 },
        { address: D, priority: 20 },
      ],
    });
    expect(poolAnswer(g, st("up", "up", "up", "up"))).toMatchObject({ selection: "rotate", variants: [[A, B], [B, A]] });
    expect(poolAnswer(g, st("down", "up", "up", "up"))).toMatchObject({ selection: "fixed", variants: [[B]] });
    const second = poolAnswer(g, st("down", "down", "up", "up"));
    expect(second).toMatchObject({ selection: "rotate", variants: [[C, D], [D, C]] });
    expect(second.reason).toMatch(/^failover to group 2 \(priority 20\)/);
  });

  it("caps a group at max_answers", () => {
    const g = pool({ maxAnswers: 1, endpoints: [{ address: A, priority: 1 }, { address: B, priority: 1 }] });
    expect(poolAnswer(g, st("up", "up")).variants).toEqual([[A], [B]]);
  });
});

describe("multivalue", () => {
  const p = pool({ policy: "multivalue", endpoints: eps(A, B, C, D) });

  it("answers every healthy endpoint, rotating", () => {
    const a = poolAnswer(p, st("up", "down", "up", "up"));
    expect(a).toMatchObject({ selection: "rotate", variants: [[A, C, D], [C, D, A], [D, A, C]] });
  });

  it("answers at most max_answers, each healthy endpoint first in one variant", () => {
    const a = poolAnswer({ ...p, maxAnswers: 2 }, st("up", "up", "up", "down"));
    expect(a.variants).toEqual([[A, B], [B, C], [C, A]]);
  });

  it("one healthy endpoint is a fixed answer", () => {
    expect(poolAnswer(p, st("down", "down", "up", "down"))).toMatchObject({ selection: "fixed", variants: [[C]] });
  });
});

describe("weighted", () => {
  const p = pool({ policy: "weighted", endpoints: [{ address: A, weight: 3 }, { address: B, weight: 1 }, { address: C }] });

  it("one answer, chosen with probability weight/sum among healthy endpoints", () => {
    expect(poolAnswer(p, st("up", "up", "up"))).toMatchObject({ selection: "weighted", variants: [[A], [B], [C]], weights: [3, 1, 1] });
    expect(poolAnswer(p, st("up", "down", "up"))).toMatchObject({ variants: [[A], [C]], weights: [3, 1] });
  });

  it("with max_answers, the first record follows the weights and the rest follow in order", () => {
    const a = poolAnswer({ ...p, maxAnswers: 2 }, st("up", "up", "up"));
    expect(a).toMatchObject({ selection: "weighted", variants: [[A, B], [B, C], [C, A]], weights: [3, 1, 1] });
  });
});

describe("CNAME pools", () => {
  it("answer one target name, chosen the same ways", () => {
    const names = eps("lb1.cdn.example.", "lb2.cdn.example.", "lb3.cdn.example.");
    const f = pool({ type: "CNAME", endpoints: names });
    expect(poolAnswer(f, st("down", "up", "up")).variants).toEqual([["lb2.cdn.example."]]);
    const m = pool({ type: "CNAME", policy: "multivalue", endpoints: names });
    expect(poolAnswer(m, st("up", "up", "up"))).toMatchObject({ selection: "rotate", variants: [["lb1.cdn.example."], ["lb2.cdn.example."], ["lb3.cdn.example."]] });
    const w = pool({ type: "CNAME", policy: "weighted", maxAnswers: 3, endpoints: names });
    expect(poolAnswer(w, st("up", "up", "down")).variants).toEqual([["lb1.cdn.example."], ["lb2.cdn.example."]]);
  });
});

describe("unknown endpoints", () => {
  it("are served only when no endpoint is known up", () => {
    const p = pool({ policy: "multivalue", endpoints: eps(A, B, C) });
    expect(poolAnswer(p, st("unknown", "up", "down")).variants).toEqual([[B]]);
    const u = poolAnswer(p, st("unknown", "unknown", "down"));
    expect(u).toMatchObject({ variants: [[A, B], [B, A]], failOpen: false });
    expect(u.reason).toMatch(/^no probe result yet/);
    const f = pool({ endpoints: eps(A, B) });
    expect(poolAnswer(f, st("unknown", "up")).variants).toEqual([[B]]);
    expect(poolAnswer(f, st("unknown", "down")).variants).toEqual([[A]]);
  });
});

describe("when_all_down", () => {
  const base = pool({ policy: "failover", endpoints: eps(A, B, C) });
  const down = st("down", "down", "down");

  it("serve-all (default) answers every endpoint, fail-open", () => {
    const a = poolAnswer(base, down);
    expect(a).toMatchObject({ rcode: "noerror", selection: "rotate", variants: [[A, B, C], [B, C, A], [C, A, B]], failOpen: true });
    expect(a.reason).toBe("all down: serving all (fail-open)");
    const w = pool({ policy: "weighted", endpoints: [{ address: A, weight: 5 }, { address: B, weight: 1 }] });
    expect(poolAnswer(w, st("down", "down"))).toMatchObject({ selection: "weighted", weights: [5, 1], failOpen: true });
  });

  it("serve-first answers the first endpoint (failover: of the lowest priority group)", () => {
    expect(poolAnswer({ ...base, whenAllDown: "serve-first" }, down)).toMatchObject({ selection: "fixed", variants: [[A]], failOpen: true });
    const g = pool({ whenAllDown: "serve-first", endpoints: [{ address: A, priority: 20 }, { address: B, priority: 10 }] });
    expect(poolAnswer(g, st("down", "down")).variants).toEqual([[B]]);
  });

  it("nodata answers an empty NOERROR, servfail a SERVFAIL", () => {
    expect(poolAnswer({ ...base, whenAllDown: "nodata" }, down)).toMatchObject({ rcode: "noerror", variants: [[]], failOpen: false });
    expect(poolAnswer({ ...base, whenAllDown: "servfail" }, down)).toMatchObject({ rcode: "servfail", failOpen: false });
  });
});

describe("degraded_ttl", () => {
  it("applies while any endpoint is down, not while one is unknown", () => {
    const p = pool({ policy: "multivalue", degradedTtl: 5, endpoints: eps(A, B) });
    expect(poolAnswer(p, st("up", "up")).ttl).toBe(30);
    expect(poolAnswer(p, st("up", "unknown")).ttl).toBe(30);
    const d = poolAnswer(p, st("up", "down"));
    expect(d.ttl).toBe(5);
    expect(d.reason).toMatch(/degraded ttl 5$/);
    expect(poolAnswer(p, st("down", "down")).ttl).toBe(5);
  });
});

describe("properties", () => {
  const statusArb = fc.constantFrom<EndpointStatus>("up", "down", "unknown");
  const poolArb = fc
    .record({
      n: fc.integer({ min: 1, max: 6 }),
      policy: fc.constantFrom<PoolSpec["policy"]>("failover", "multivalue", "weighted"),
      max: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
      whenAllDown: fc.constantFrom<PoolSpec["whenAllDown"]>("serve-all", "serve-first", "nodata", "servfail"),
    })
    .chain((r) => fc.tuple(fc.constant(r), fc.array(statusArb, { minLength: r.n, maxLength: r.n })));

  it("never answers a down endpoint while any is up; variants are distinct, non-empty and weighted consistently", () => {
    fc.assert(
      fc.property(poolArb, ([r, statuses]) => {
        const addrs = Array.from({ length: r.n }, (_, i) => `192.0.2.${i + 1}`);
        const p = pool({ policy: r.policy, maxAnswers: r.max, whenAllDown: r.whenAllDown, endpoints: addrs.map((address, i) => ({ address, weight: i + 1 })) });
        const a = poolAnswer(p, (i) => statuses[i]!);
        const up = addrs.filter((_, i) => statuses[i] === "up");
        if (up.length > 0) {
          for (const v of a.variants) {
            if (v.length === 0) return false;
            if (!v.every((x) => up.includes(x))) return false;
            if (new Set(v).size !== v.length) return false;
            if (r.max !== undefined && v.length > r.max) return false;
          }
        }
        if (a.selection === "weighted" && a.weights?.length !== a.variants.length) return false;
        if (a.selection === "fixed" && a.variants.length !== 1) return false;
        return a.variants.length > 0;
      }),
    );
  });
});

describe("targets", () => {
  it("one probe per (check, address) across pools; endpoints without checks are always up", () => {
    const p1 = pool({ endpoints: [{ address: A }, { address: B, checkAddress: "10.0.0.7" }] });
    const p2 = pool({ name: "b.example.test.", policy: "multivalue", endpoints: [{ address: A }, { address: C, check: "tcp" }] });
    const p3 = pool({ name: "c.example.test.", check: undefined, endpoints: [{ address: D }] } as Partial<PoolSpec> & Pick<PoolSpec, "endpoints">);
    delete (p3 as { check?: string }).check;
    const cn = pool({ name: "d.example.test.", type: "CNAME", endpoints: [{ address: "lb1.cdn.example." }] });
    expect(poolTargets([p1, p2, p3, cn])).toEqual([
      { check: "web", address: A },
      { check: "web", address: "10.0.0.7" },
      { check: "tcp", address: C },
      { check: "web", address: "lb1.cdn.example" },
    ]);
    const by = poolsByTarget([p1, p2, p3]);
    expect(by.get("web|192.0.2.1")).toEqual([p1, p2]);
    const seen: string[] = [];
    const of = poolStatusOf(p1, (c, a) => (seen.push(`${c}|${a}`), "down"));
    expect([of(0), of(1)]).toEqual(["down", "down"]);
    expect(seen).toEqual(["web|192.0.2.1", "web|10.0.0.7"]);
    expect(poolStatusOf(p3, () => "down")(0)).toBe("up");
  });
});
