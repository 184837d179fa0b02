// Pool policies: turn the endpoint states of one pool into the answer it gives (failover, multivalue,
// weighted, when_all_down, degraded_ttl). Pure functions: the core compiles the result into wire bytes.

import type { EndpointStatus, PoolAnswer, PoolSpec } from "./types.js";

/**
 * What `pool` answers when endpoint i has status `statusOf(i)`.
 *
 * 1. Usable endpoints: those `up`. If none is up, those `unknown` (no probe result yet) are used as if
 *    up: an unproven endpoint is never preferred over a proven one, but is served before giving up.
 *    (The core answers a pool only after the first probe round, so `unknown` is rare: a target added by
 *    a reload, or a probe still in its first timeout.) An endpoint without any check is always `up`.
 * 2. If some are usable, the policy picks among them:
 *    - failover: groups by `priority` (lower first; without priorities every endpoint is its own group
 *      in listed order). The usable endpoints of the first group that has any, all of them
 *      (up to max_answers), rotating.
 *    - multivalue: every usable endpoint, up to max_answers, rotating across queries: variant i starts
 *      at the i-th usable endpoint and continues in listed order, wrapping.
 *    - weighted: variant i starts with usable endpoint i and is chosen with probability
 *      weight_i / Σ weight, so the FIRST record is exactly weight-distributed; with max_answers > 1 the
 *      next max_answers − 1 usable endpoints follow in listed order, wrapping (distinct, deterministic).
 *    CNAME pools always answer one target (max_answers is 1), chosen the same ways.
 * 3. If every endpoint is down, when_all_down decides:
 *    - serve-all (default, fail-open): the policy over ALL endpoints as if all were up, failover
 *      treating them as one group (every address, up to max_answers, rotating; weighted keeps weights).
 *    - serve-first: the first endpoint (failover: first of the lowest-priority group), fail-open.
 *    - nodata: an empty NOERROR answer.   - servfail: SERVFAIL.
 * 4. TTL: degraded_ttl (if set) while any endpoint is down, else ttl.
 */
export function poolAnswer(pool: PoolSpec, statusOf: (endpointIndex: number) => EndpointStatus): PoolAnswer {
  const n = pool.endpoints.length;
  const statuses: EndpointStatus[] = [];
  for (let i = 0; i < n; i++) statuses.push(statusOf(i));
  const up = indicesWith(statuses, "up");
  const unknown = indicesWith(statuses, "unknown");
  const downCount = n - up.length - unknown.length;
  const degraded = downCount > 0 && pool.degradedTtl !== undefined;
  const ttl = degraded ? pool.degradedTtl! : pool.ttl;
  const ttlNote = degraded ? `; degraded ttl ${ttl}` : "";
  const k = maxAnswers(pool);

  if (up.length > 0 || unknown.length > 0) {
    const usable = up.length > 0 ? up : unknown;
    const prefix = up.length > 0 ? "" : "no probe result yet, serving unproven endpoints: ";
    const pick = applyPolicy(pool, usable, k, false);
    return {
      rcode: "noerror",
      ttl,
      ...pick.answer,
      failOpen: false,
      reason: `${prefix}${pick.reason} (${up.length}/${n} up)${ttlNote}`,
    };
  }

  switch (pool.whenAllDown) {
    case "serve-all": {
      const all = range(n);
      const pick = applyPolicy(pool, all, k, true);
      return { rcode: "noerror", ttl, ...pick.answer, failOpen: n > 0, reason: `all down: serving all (fail-open)${ttlNote}` };
    }
    case "serve-first": {
      const first = firstEndpoint(pool);
      if (first === undefined) return nodata(ttl, "no endpoints: NODATA");
      return {
        rcode: "noerror",
        ttl,
        selection: "fixed",
        variants: [[pool.endpoints[first]!.address]],
        failOpen: true,
        reason: `all down: serving first ${pool.endpoints[first]!.address} (fail-open)${ttlNote}`,
      };
    }
    case "nodata":
      return nodata(ttl, `all down: NODATA${ttlNote}`);
    case "servfail":
      return { rcode: "servfail", ttl, selection: "fixed", variants: [[]], failOpen: false, reason: "all down: SERVFAIL" };
  }
}

/** Answers at most this many records: 1 for CNAME pools and (by default) weighted ones, else max_answers or all. */
export function maxAnswers(pool: PoolSpec): number {
  if (pool.type === "CNAME") return 1;
  if (pool.maxAnswers !== undefined) return Math.max(1, pool.maxAnswers);
  return pool.policy === "weighted" ? 1 : Number.POSITIVE_INFINITY;
}

/** Failover groups: endpoint indices by ascending priority, ties (and no priorities) in listed order. */
export function failoverGroups(pool: PoolSpec): number[][] {
  const byPrio = new Map<number, number[]>();
  pool.endpoints.forEach((ep, i) => {
    const p = ep.priority ?? i;
    const g = byPrio.get(p);
    if (g) g.push(i);
    else byPrio.set(p, [i]);
  });
  return [...byPrio.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}

type PolicyPick = { answer: Pick1; reason: string };
type Pick1 = Pick<PoolAnswer, "selection" | "variants" | "weights">;

function applyPolicy(pool: PoolSpec, usable: number[], k: number, allDown: boolean): PolicyPick {
  const addr = (i: number): string => pool.endpoints[i]!.address;
  switch (pool.policy) {
    case "failover": {
      if (allDown) return { answer: rotations(usable.map(addr), k), reason: "" };
      const groups = failoverGroups(pool);
      const ok = new Set(usable);
      for (let g = 0; g < groups.length; g++) {
        const members = groups[g]!.filter((i) => ok.has(i));
        if (members.length === 0) continue;
        const grouped = pool.endpoints.some((e) => e.priority !== undefined);
        const what = grouped
          ? `group ${g + 1} (priority ${pool.endpoints[groups[g]![0]!]!.priority})`
          : addr(members[0]!);
        const reason = g === 0 ? `primary ${what} healthy` : `failover to ${what}`;
        return { answer: rotations(members.map(addr), k), reason };
      }
      return { answer: { selection: "fixed", variants: [[]] }, reason: "no usable endpoint" };
    }
    case "multivalue": {
      const shown = Math.min(k, usable.length);
      return { answer: rotations(usable.map(addr), k), reason: `multivalue: ${shown} of ${usable.length} usable, rotating` };
    }
    case "weighted": {
      const weights = usable.map((i) => pool.endpoints[i]!.weight ?? 1);
      return { answer: weightedVariants(usable.map(addr), weights, k), reason: `weighted over ${usable.length} usable` };
    }
  }
}

/** Round-robin over `values`: variant i is up to k values starting at i, wrapping. One value: fixed. */
export function rotations(values: string[], k: number): Pick1 {
  const n = values.length;
  const take = Math.min(k, n);
  if (n <= 1) return { selection: "fixed", variants: [values.slice()] };
  const variants: string[][] = [];
  for (let i = 0; i < n; i++) {
    const v: string[] = [];
    for (let j = 0; j < take; j++) v.push(values[(i + j) % n]!);
    variants.push(v);
  }
  return { selection: "rotate", variants };
}

/** Weighted choice: variant i starts with values[i] (probability weights[i]/Σ), then k−1 more in order, wrapping. */
export function weightedVariants(values: string[], weights: number[], k: number): Pick1 {
  const n = values.length;
  if (n <= 1) return { selection: "fixed", variants: [values.slice()] };
  const { variants } = rotations(values, k);
  return { selection: "weighted", variants, weights: weights.slice() };
}

function firstEndpoint(pool: PoolSpec): number | undefined {
  if (pool.endpoints.length === 0) return undefined;
  if (pool.policy === "failover") return failoverGroups(pool)[0]![0];
  return 0;
}

function nodata(ttl: number, reason: string): PoolAnswer {
  return { rcode: "noerror", ttl, selection: "fixed", variants: [[]], failOpen: false, reason };
}

function indicesWith(statuses: EndpointStatus[], s: EndpointStatus): number[] {
  const out: number[] = [];
  statuses.forEach((x, i) => {
    if (x === s) out.push(i);
  });
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
