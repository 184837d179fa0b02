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

/**
 * The records of one rendering: the zone file's records (shared by every rendering of the same Zone
 * object, computed once), less those a pool replaces, plus the pools' records. A pool flip in a large
 * zone costs the size of its pools, not of the zone.
 */
export class RecordSet {
  constructor(
    /** Every static record but the apex SOA, by rrKey, in zone order (shared, never changed). */
    readonly base: StaticRecords,
    /** rrKeys of static records a pool replaces (same owner and type). */
    readonly hidden: ReadonlySet<string>,
    /** The pools' records, by rrKey, in pool order. */
    readonly overlay: ReadonlyMap<string, RR>,
  ) {}

  has(key: string): boolean {
    return this.overlay.has(key) || (this.base.records.has(key) && !this.hidden.has(key));
  }

  get(key: string): RR | undefined {
    return this.overlay.get(key) ?? (this.hidden.has(key) ? undefined : this.base.records.get(key));
  }

  get size(): number {
    let n = this.base.records.size - this.hidden.size;
    for (const k of this.overlay.keys()) if (this.base.records.has(k) && !this.hidden.has(k)) n--;
    return n + this.overlay.size;
  }

  /** Static records in zone order, then the pools' (any order is valid, RFC 5936 §2.2; this one is stable). */
  *values(): IterableIterator<RR> {
    for (const [k, rr] of this.base.records) if (!this.hidden.has(k) && !this.overlay.has(k)) yield rr;
    yield* this.overlay.values();
  }
}

export interface StaticRecords {
  records: Map<string, RR>;
  /** Digest of the sorted keys. */
  fingerprint: string;
}

export interface RenderedZone {
  origin: Name;
  /** The apex SOA as the file has it (its serial is replaced per version). */
  soa: RR;
  records: RecordSet;
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

const statics = new WeakMap<Zone, StaticRecords>();

/** The zone file's records (all but the apex SOA), once per Zone object. */
function staticRecords(zone: Zone): StaticRecords {
  let st = statics.get(zone);
  if (st) return st;
  const records = new Map<string, RR>();
  for (const node of zone.nodes.values()) {
    for (const set of node.rrsets.values()) {
      if (set.type === RRType.SOA && node === zone.apex) continue;
      for (const rdata of set.rdatas) {
        const rr = { owner: node.name, type: set.type, class: set.class, ttl: set.ttl, rdata };
        records.set(rrKey(rr), rr);
      }
    }
  }
  st = { records, fingerprint: digest([...records.keys()].sort()) };
  statics.set(zone, st);
  return st;
}

/**
 * Render `zone` with the pools of `pools` that belong to it (those whose name `allZones` places in
 * it). Static RRsets a pool replaces (same owner and type) are left out.
 */
export function renderZone(zone: Zone, pools: readonly LivePool[], allZones: readonly Zone[] = [zone]): RenderedZone {
  const base = staticRecords(zone);
  const mine = pools.filter((p) => zoneOf(allZones, p.name.key) === zone);
  const hidden = new Set<string>();
  const overlay = new Map<string, RR>();
  const soaSet = zone.soa;
  const soa: RR = { owner: zone.origin, type: RRType.SOA, class: soaSet.class, ttl: soaSet.ttl, rdata: soaSet.rdatas[0]! };
  for (const p of mine) {
    const set = zone.nodes.get(p.name.key)?.rrsets.get(p.type);
    for (const rdata of set?.rdatas ?? []) hidden.add(rrKey({ owner: p.name, type: p.type, class: set!.class, ttl: set!.ttl, rdata }));
    for (const v of poolValues(p)) {
      const rr = { owner: p.name, type: p.type, class: soa.class, ttl: p.answer.ttl, rdata: rdataOf(p.type, v) };
      overlay.set(rrKey(rr), rr);
    }
  }
  const fingerprint = digest([rrKey(withSerial(soa, 0)), base.fingerprint, "-", ...[...hidden].sort(), "+", ...[...overlay.keys()].sort()]);
  return { origin: zone.origin, soa, records: new RecordSet(base, hidden, overlay), fingerprint };
}

function digest(lines: string[]): string {
  const h = createHash("sha256");
  for (const l of lines) h.update(l + "\n");
  return h.digest("base64url").slice(0, 22);
}
