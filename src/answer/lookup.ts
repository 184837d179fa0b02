// The authoritative lookup of RFC 1034 §4.3.2 for one zone, with the refinements of RFC 2308
// (negative answers), RFC 4592 (wildcards), RFC 6672 (DNAME), RFC 6604 (rcode after a CNAME chain)
// and RFC 8482 (ANY). Its result is an Outcome; turning it into bytes is another module's job.
//
//   1. Find where the name lands (locate): an existing node, a delegation above or at it, a DNAME
//      above it, the wildcard child of its closest encloser, or nothing (NXDOMAIN). An existing name
//      or empty non-terminal is a closest encloser and blocks the wildcard (RFC 4592 §2.2.1).
//   2. At a delegation, answer a referral: NS in authority, addresses of the name servers found in
//      the zone (glue) in additional, AA clear. DS at the cut itself is the parent's data and is
//      answered authoritatively (RFC 4035 §3.1.4.1); NS at the cut is a referral.
//   3. At a node with the RRset asked for, answer it (the owner written as the query name when it
//      came from a wildcard). ANY gets one RRset: the node's lowest type, as Knot DNS does (RFC 8482 §4.1).
//   4. At a node with a CNAME (and the question is not for CNAME), answer the CNAME and go on with its
//      target inside the same zone; a target in another zone is left to the resolver (as Knot does), and a
//      loop is cut when a name comes round again. The final rcode is that of the last name (RFC 6604).
//   5. Below a DNAME, answer the DNAME and a CNAME synthesized from it (TTL of the DNAME) and go on
//      with the new name (RFC 6672 §3.2); a result over 255 octets is YXDOMAIN.
//   6. Otherwise NODATA (name exists) or NXDOMAIN: the SOA in authority with TTL min(SOA TTL, MINIMUM).
//   7. Additional section: A and AAAA of in-zone targets of NS, MX and SRV records in the answer, and of
//      the name servers of a referral.

import { Rcode, RRType } from "../wire/constants.js";
import { isAtOrBelow, parentKey, replaceSuffix, NameError, type Name } from "../wire/name.js";
import { additionalTarget, rdataNames } from "../wire/rdata.js";
import { QNAME, type Owner } from "../wire/body-writer.js";
import type { Zone, ZoneNode } from "../zone/zone.js";
import type { RRset } from "../zone/rr.js";
import { emptyOutcome, fromRRset, type Outcome } from "./outcome.js";

export type Landing =
  | { kind: "exact"; node: ZoneNode }
  | { kind: "wildcard"; node: ZoneNode }
  | { kind: "referral"; cut: ZoneNode }
  | { kind: "dname"; node: ZoneNode }
  | { kind: "nxdomain"; encloser: ZoneNode };

/** Most CNAMEs put in one answer, as Knot DNS does (loops are cut earlier). */
const MAX_CNAMES = 5;
/** Steps of a chain (CNAME or DNAME) before we stop. */
const MAX_CHAIN = 16;

/** Where a name inside `zone` lands (step 1). */
export function locate(zone: Zone, key: string, qtype: number): Landing {
  const node = zone.nodes.get(key);
  if (node) return landOnNode(node, qtype);
  let up = parentKey(key);
  while (up !== undefined) {
    const encloser = zone.nodes.get(up);
    if (encloser) return landBelow(encloser);
    up = parentKey(up);
  }
  throw new Error("locate() called for a name outside the zone");
}

export function landOnNode(node: ZoneNode, qtype: number): Landing {
  const dname = node.dnameAbove;
  if (dname && dnameWins(dname, node.delegation)) return { kind: "dname", node: dname };
  if (node.delegation && !(node.delegation === node && qtype === RRType.DS)) return { kind: "referral", cut: node.delegation };
  return { kind: "exact", node };
}

/** The landing for a name that does not exist, given its closest encloser. */
export function landBelow(encloser: ZoneNode): Landing {
  const dname = encloser.dnameAbove ?? (encloser.rrsets.has(RRType.DNAME) ? encloser : undefined);
  if (dname && dnameWins(dname, encloser.delegation)) return { kind: "dname", node: dname };
  if (encloser.delegation) return { kind: "referral", cut: encloser.delegation };
  if (encloser.wildcard) return { kind: "wildcard", node: encloser.wildcard };
  return { kind: "nxdomain", encloser };
}

/** The higher of a DNAME owner and a delegation point occludes the other; at one owner the cut wins. */
function dnameWins(dname: ZoneNode, cut: ZoneNode | undefined): boolean {
  return !cut || (cut !== dname && isAtOrBelow(cut.name.key, dname.name.key));
}

/** An RRset whose records follow health (a pool), overriding the zone file's data for its type. */
export interface DynamicSet {
  /** null: the pool answers nothing right now (NODATA). */
  set: RRset | null;
  servfail: boolean;
  /** Extended DNS Error to attach (RFC 8914), e.g. when failing open. */
  ede?: { code: number; text: string };
}

/** What pools answer right now, by node key and type. */
export interface Dynamic {
  get(key: string, type: number): DynamicSet | undefined;
  /** Types with a pool at this node. */
  typesAt(key: string): readonly number[] | undefined;
}

export interface ResolveInput {
  zone: Zone;
  dynamic?: Dynamic;
  landing: Landing;
  qtype: number;
  /** How to write the query name as an owner: QNAME when it is only known per query. */
  owner: Owner;
  /** The concrete query name; required for a DNAME landing (the substitution needs it). */
  name?: Name;
}

/** Steps 2-7 for a landing. `visited` collects every node whose RRsets the answer depended on. */
export function resolve(input: ResolveInput, visited?: Set<ZoneNode>): Outcome {
  const out = emptyOutcome();
  const { zone, qtype } = input;
  let landing = input.landing;
  let owner = input.owner;
  let name = input.name;
  const seen = new Set<string>();
  if (landing.kind === "exact") seen.add(landing.node.name.key);
  if (name) seen.add(name.key);
  const ctx: Ctx = { zone, dynamic: input.dynamic, visited };
  for (let step = 0; step < MAX_CHAIN; step++) {
    const next = answerAt(ctx, landing, qtype, owner, name, out);
    if (!next) break;
    if (seen.has(next.key) || !isAtOrBelow(next.key, zone.origin.key)) break;
    seen.add(next.key);
    landing = locate(zone, next.key, qtype);
    owner = next;
    name = next;
  }
  addAdditional(ctx, out);
  return out;
}

interface Ctx {
  zone: Zone;
  dynamic: Dynamic | undefined;
  visited: Set<ZoneNode> | undefined;
}

/** The RRset of a type at a node: a pool's current answer where one owns it, else the zone's data. */
function rrsetAt(ctx: Ctx, node: ZoneNode, type: number): DynamicSet | undefined {
  const dyn = ctx.dynamic?.get(node.name.key, type);
  if (dyn) return dyn;
  const set = node.rrsets.get(type);
  return set ? { set, servfail: false } : undefined;
}

/** Answer one name of the chain into `out`; returns the name to continue with, if any. */
function answerAt(ctx: Ctx, landing: Landing, qtype: number, owner: Owner, name: Name | undefined, out: Outcome): Name | undefined {
  const { zone, visited } = ctx;
  const first = out.answer.length === 0;
  switch (landing.kind) {
    case "referral": {
      visited?.add(landing.cut);
      if (first) out.aa = false;
      const ns = landing.cut.rrsets.get(RRType.NS)!;
      out.authority.push(fromRRset(ns));
      return undefined;
    }
    case "nxdomain":
      visited?.add(landing.encloser);
      out.rcode = Rcode.NXDOMAIN;
      addSoa(zone, out);
      return undefined;
    case "dname": {
      visited?.add(landing.node);
      if (!name) throw new Error("DNAME landing needs the concrete name");
      const dname = landing.node.rrsets.get(RRType.DNAME)!;
      out.answer.push(fromRRset(dname));
      let target: Name;
      try {
        target = replaceSuffix(name, landing.node.name, rdataNames(RRType.DNAME, dname.rdatas[0]!)[0]!);
      } catch (e) {
        if (!(e instanceof NameError)) throw e;
        out.rcode = 6; // YXDOMAIN (RFC 6672 §2.2), with the SOA as Knot DNS sends it
        addSoa(zone, out);
        return undefined;
      }
      out.answer.push({ owner, type: RRType.CNAME, class: dname.class, ttl: dname.ttl, rdatas: [target.wire] });
      return qtype === RRType.CNAME ? undefined : target;
    }
    case "exact":
    case "wildcard": {
      const node = landing.node;
      visited?.add(node);
      const found = rrsetAt(ctx, node, qtype === RRType.ANY ? lowestType(ctx, node) : qtype);
      // ANY stops at the CNAME itself; RRSIG and NSEC live beside a CNAME (RFC 4035 §2.5), so they
      // do not follow it either.
      const follows = qtype !== RRType.ANY && qtype !== RRType.RRSIG && qtype !== RRType.NSEC;
      const cname = found || !follows ? undefined : rrsetAt(ctx, node, RRType.CNAME);
      if (cname && countCnames(out) >= MAX_CNAMES) return undefined;
      const hit = found ?? cname;
      if (hit?.ede) out.ede = hit.ede;
      if (hit?.servfail) {
        // A pool failing closed: SERVFAIL says "no answer from this server", so not authoritative.
        out.rcode = Rcode.SERVFAIL;
        out.aa = false;
        return undefined;
      }
      if (!hit?.set) {
        addSoa(zone, out);
        return undefined;
      }
      out.answer.push(fromRRset(hit.set, owner));
      return hit === cname ? rdataNames(RRType.CNAME, hit.set.rdatas[0]!)[0] : undefined;
    }
  }
}

function countCnames(out: Outcome): number {
  let n = 0;
  for (const s of out.answer) if (s.type === RRType.CNAME) n++;
  return n;
}

/** ANY gets the node's lowest type (Knot DNS's choice); -1 when the node holds nothing. */
function lowestType(ctx: Ctx, node: ZoneNode): number {
  let best = node.rrsets.lowest()?.type ?? -1;
  for (const t of ctx.dynamic?.typesAt(node.name.key) ?? []) {
    if (ctx.dynamic!.get(node.name.key, t)?.set && (best < 0 || t < best)) best = t;
  }
  return best;
}

function addSoa(zone: Zone, out: Outcome): void {
  out.authority.push(fromRRset(zone.soa, zone.origin, zone.negativeTtl));
}

/** Step 7: A and AAAA for NS, MX and SRV targets found in this zone (glue included). */
function addAdditional(ctx: Ctx, out: Outcome): void {
  const zone = ctx.zone;
  const have = new Set<string>();
  for (const s of out.answer) if (s.owner !== QNAME) have.add(`${s.owner.key}/${s.type}`);
  const sources = [...out.answer, ...out.authority];
  for (const s of sources) {
    if (s.type !== RRType.NS && s.type !== RRType.MX && s.type !== RRType.SRV) continue;
    for (const rd of s.rdatas) {
      const target = additionalTarget(s.type, rd);
      if (!target || !isAtOrBelow(target.key, zone.origin.key)) continue;
      // The target's own node, or the wildcard that would answer for it (as Knot DNS does).
      let node = zone.nodes.get(target.key);
      let owner: Name | undefined;
      if (!node) {
        const landing = locate(zone, target.key, RRType.A);
        if (landing.kind !== "wildcard") continue;
        node = landing.node;
        owner = target;
      }
      ctx.visited?.add(node);
      for (const t of [RRType.A, RRType.AAAA]) {
        const set = rrsetAt(ctx, node, t)?.set;
        const id = `${target.key}/${t}`;
        if (!set || have.has(id)) continue;
        have.add(id);
        out.additional.push(fromRRset(set, owner ?? set.owner));
      }
    }
  }
}
