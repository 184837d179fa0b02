// The zone as a stock secondary should serve it (what AXFR sends, RFC 5936 §2.2): the zone file's
// records, with every pool in the zone replaced by the records it answers right now.
//
// One rule for every policy: the union of the pool's current answer variants, in first-seen order,
// with the pool's current TTL (degraded_ttl while an endpoint is down).
//   failover   → the healthy endpoints of the first group that has any, up to max_answers
//   multivalue → the healthy endpoints, up to max_answers (the first ones in listed order; the
//                secondary rotates them, or not, as it likes)
//   weighted   → every healthy endpoint, whatever max_answers: a static secondary cannot pick one at
//                random per query, so the weights are lost
//   CNAME pool → its first current target (a name holds one CNAME)
//   when_all_down: serve-all / serve-first → what the pool answers while failing open
//   when_all_down: nodata / servfail → no records at the name: a static secondary cannot fail
//     closed with SERVFAIL, so it answers NODATA (the name keeps its other records).

import { createHash } from "node:crypto";
import { rdataOf } from "../answer/pools.js";
import { RRType } from "../wire/constants.js";
import { isAtOrBelow, type Name } from "../wire/name.js";
import type { LivePool } from "../pool/live.js";
import { maxAnswers } from "../pool/policy.js";
import type { RR } from "../zone/rr.js";
import type { Zone } from "../zone/zone.js";

export interface RenderedZone {
  origin: Name;
  /** The apex SOA as the file has it (its serial is replaced per version). */
  soa: RR;
  /** Every other record, keyed by rrKey. */
  records: Map<string, RR>;
  /** Digest of the content (the SOA without its serial, and every record): equal content, equal fingerprint. */
  fingerprint: string;
}

/** Identity of a record for differences: owner (case-folded), type, class, TTL and RDATA. */
export function rrKey(rr: RR): string {
  return `${rr.owner.key}|${rr.type}|${rr.class}|${rr.ttl}|${rr.rdata.toString("hex")}`;
}

/** The same SOA with another serial. */
export function withSerial(soa: RR, serial: number): RR {
  const rdata = Buffer.from(soa.rdata);
  rdata.writeUInt32BE(serial >>> 0, rdata.length - 20);
  return { ...soa, rdata };
}

export function soaSerial(soa: RR): number {
  return soa.rdata.readUInt32BE(soa.rdata.length - 20);
}

/**
 * The records a pool's current answer renders to (see the rule above): the union of its variants in
 * first-seen order, at most max_answers of them except for weighted pools; none for SERVFAIL or NODATA.
 */
export function poolValues(pool: Pick<LivePool, "spec" | "answer">): string[] {
  const a = pool.answer;
  if (a.rcode !== "noerror") return [];
  const cap = pool.spec.policy === "weighted" && pool.spec.type !== "CNAME" ? Infinity : maxAnswers(pool.spec);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const variant of a.variants) {
    for (const v of variant) {
      if (out.length >= cap) return out;
      if (seen.has(v)) continue;
      seen.add(v);
      out.push(v);
    }
  }
  return out;
}

/** The zone of `zones` that holds `key`: the deepest whose apex is at or above it. */
export function zoneOf(zones: readonly Zone[], key: string): Zone | undefined {
  let best: Zone | undefined;
  for (const z of zones) {
    if (isAtOrBelow(key, z.origin.key) && (!best || z.origin.key.length > best.origin.key.length)) best = z;
  }
  return best;
}

/**
 * Render `zone` with the pools of `pools` that belong to it (those whose name `allZones` places in
 * it). Static RRsets a pool replaces (same owner and type) are left out.
 */
export function renderZone(zone: Zone, pools: readonly LivePool[], allZones: readonly Zone[] = [zone]): RenderedZone {
  const mine = pools.filter((p) => zoneOf(allZones, p.name.key) === zone);
  const replaced = new Set(mine.map((p) => `${p.name.key}|${p.type}`));
  const records = new Map<string, RR>();
  const add = (rr: RR) => records.set(rrKey(rr), rr);
  const soaSet = zone.soa;
  const soa: RR = { owner: zone.origin, type: RRType.SOA, class: soaSet.class, ttl: soaSet.ttl, rdata: soaSet.rdatas[0]! };
  for (const node of zone.nodes.values()) {
    for (const set of node.rrsets.values()) {
      if (set.type === RRType.SOA && node === zone.apex) continue;
      if (replaced.has(`${node.name.key}|${set.type}`)) continue;
      for (const rdata of set.rdatas) add({ owner: node.name, type: set.type, class: set.class, ttl: set.ttl, rdata });
    }
  }
  for (const p of mine) {
    for (const v of poolValues(p)) add({ owner: p.name, type: p.type, class: soa.class, ttl: p.answer.ttl, rdata: rdataOf(p.type, v) });
  }
  return { origin: zone.origin, soa, records, fingerprint: fingerprintOf(soa, records) };
}

function fingerprintOf(soa: RR, records: Map<string, RR>): string {
  const h = createHash("sha256");
  h.update(rrKey(withSerial(soa, 0)));
  for (const k of [...records.keys()].sort()) h.update("\n" + k);
  return h.digest("base64url").slice(0, 22);
}

/**
 * The records in transfer order: apex first (SOA left out; the caller brackets with it), then names in
 * canonical-ish order (shorter keys first, then bytewise), types ascending. Any order is valid
 * (RFC 5936 §2.2); a stable one makes transfers and tests reproducible.
 */
export function transferOrder(records: Iterable<RR>): RR[] {
  return [...records].sort((a, b) => {
    if (a.owner.key !== b.owner.key) {
      if (a.owner.key.length !== b.owner.key.length) return a.owner.key.length - b.owner.key.length;
      return a.owner.key < b.owner.key ? -1 : 1;
    }
    if (a.type !== b.type) return a.type - b.type;
    return Buffer.compare(a.rdata, b.rdata);
  });
}
