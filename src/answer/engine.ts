// The compiled answer table and the query path. Everything a query can be answered with is built
// when the zones (or, later, health state) change: per name, per type, the response sections as
// wire bytes. A query decodes its question, finds its lane with one map lookup (or a walk up to the
// closest encloser for names that do not exist), and copies bytes. Only names below a DNAME need
// per-query work (the synthesized CNAME holds the query name); those answers are cached.

import { LRUCache } from "lru-cache";
import { Opcode, Rcode, RRClass, RRType } from "../wire/constants.js";
import { nameFromWire, parentKey, type Name } from "../wire/name.js";
import { decodeQuery, Query, Verdict } from "../wire/query.js";
import { edeOption, udpLimit, writeAnswer, writeEmpty } from "../wire/response.js";
import type { Zone, ZoneNode } from "../zone/zone.js";
import { landBelow, landOnNode, resolve, type Landing } from "./lookup.js";
import { compileTemplate, type Template } from "./template.js";
import { chaosTemplates, type ChaosOptions } from "./chaos.js";

export interface EngineOptions {
  chaos?: ChaosOptions;
}

/** Answers for one way of landing: a template per type that matters, one for every other type. */
interface Lane {
  types: number[];
  templates: Template[];
  other: Template;
}

interface NameEntry {
  zone: ZoneTables;
  node: ZoneNode;
  /** A query for this very name; null when it is occluded by a DNAME (answered per query). */
  exact: Lane | null;
  /** A query for a name below this one that does not exist, this being its closest encloser. */
  below: Lane | null;
  /** DS at the apex of a zone whose parent we also serve: the parent answers (RFC 4035 §3.1.4.1). */
  parentDs: Lane | null;
}

interface ZoneTables {
  zone: Zone;
  nodata: Template;
  nxdomain: Template;
  referrals: Map<ZoneNode, Lane>;
  wildcards: Map<ZoneNode, Lane>;
}

/** Extended DNS Error 20 "Not Authoritative" (RFC 8914 §4.21) on REFUSED for names outside our zones, as Knot DNS sends. */
const NOT_AUTHORITATIVE = edeOption(20);

/** A type no node holds: the lookup for it gives the answer of every type not in a lane. */
const OTHER = 0;

export type Transport = "udp" | "tcp";

export class QueryEngine {
  private readonly names = new Map<string, NameEntry>();
  private readonly chaos: Map<string, Template>;
  private readonly perQuery = new LRUCache<string, Template>({ max: 10_000 });
  private readonly q = new Query();
  /** DS answers of parent zones at the apexes of child zones we also serve, until the child is built. */
  private readonly pendingParentDs = new Map<string, Lane>();
  readonly zones: readonly Zone[];

  constructor(zones: Zone[], opts: EngineOptions = {}) {
    this.zones = zones;
    this.chaos = chaosTemplates(opts.chaos ?? {});
    const apexes = new Map<string, Zone>();
    for (const z of zones) apexes.set(z.origin.key, z);
    // Shallow zones first: a deeper zone's names replace its parent's (glue, the cut itself).
    const ordered = [...zones].sort((a, b) => a.origin.key.length - b.origin.key.length);
    for (const zone of ordered) {
      const tables = this.tablesFor(zone);
      for (const node of zone.nodes.values()) {
        if (deepestZone(apexes, node.name.key) !== zone) {
          this.noteParentDs(tables, node, apexes);
          continue;
        }
        this.names.set(node.name.key, {
          zone: tables,
          node,
          exact: this.exactLane(tables, node),
          below: this.belowLane(tables, node),
          parentDs: this.pendingParentDs.get(node.name.key) ?? null,
        });
      }
    }
  }

  // ---- building --------------------------------------------------------------------------------

  private tablesFor(zone: Zone): ZoneTables {
    const apex = zone.apex;
    const nodata = compileTemplate(resolve({ zone, landing: { kind: "exact", node: apex }, qtype: OTHER, owner: apex.name }), zone.origin);
    const nxdomain = compileTemplate(resolve({ zone, landing: { kind: "nxdomain", encloser: apex }, qtype: OTHER, owner: apex.name }), zone.origin);
    return { zone, nodata, nxdomain, referrals: new Map(), wildcards: new Map() };
  }

  private exactLane(t: ZoneTables, node: ZoneNode): Lane | null {
    const other = landOnNode(node, OTHER);
    if (other.kind === "dname") return null;
    if (other.kind === "referral") {
      const referral = this.referralLane(t, other.cut);
      if (node !== other.cut) return referral;
      // At the cut, DS is the parent's authoritative data; every other type is a referral.
      const ds = this.compileLane(t, landOnNode(node, RRType.DS), node.name, node.name, [RRType.DS]);
      return { types: [RRType.DS], templates: [ds.templates[0]!], other: referral.other };
    }
    return this.compileLane(t, other, node.name, node.name);
  }

  private belowLane(t: ZoneTables, node: ZoneNode): Lane | null {
    const landing = landBelow(node);
    switch (landing.kind) {
      case "dname":
        return null;
      case "referral":
        return this.referralLane(t, landing.cut);
      case "nxdomain":
        return { types: [], templates: [], other: t.nxdomain };
      case "wildcard": {
        let lane = t.wildcards.get(landing.node);
        if (!lane) {
          lane = this.compileLane(t, landing, "qname", node.name);
          t.wildcards.set(landing.node, lane);
        }
        return lane;
      }
      case "exact":
        throw new Error("unreachable: landBelow never lands exactly");
    }
  }

  private referralLane(t: ZoneTables, cut: ZoneNode): Lane {
    let lane = t.referrals.get(cut);
    if (!lane) {
      const other = compileTemplate(resolve({ zone: t.zone, landing: { kind: "referral", cut }, qtype: OTHER, owner: cut.name }), cut.name);
      lane = { types: [], templates: [], other };
      t.referrals.set(cut, lane);
    }
    return lane;
  }

  /**
   * Compile the answers for a landing: first for a type nothing holds (`other`), noting every node the
   * answer depended on; then for each type held by those nodes (and ANY), whose answers differ.
   */
  private compileLane(t: ZoneTables, landing: Landing, owner: Name | "qname", suffix: Name, only?: number[]): Lane {
    const zone = t.zone;
    const ownerArg = owner === "qname" ? ("<qname>" as const) : owner;
    const compile = (qtype: number, visited?: Set<ZoneNode>) => {
      const outcome = resolve({ zone, landing, qtype, owner: ownerArg }, visited);
      if (isPlainNodata(outcome, zone)) return t.nodata;
      return compileTemplate(outcome, suffix);
    };
    const visited = new Set<ZoneNode>();
    const other = compile(OTHER, visited);
    const types = new Set<number>(only ?? [RRType.ANY]);
    if (!only) for (const n of visited) for (const type of n.rrsets.keys()) types.add(type);
    const lane: Lane = { types: [], templates: [], other };
    for (const type of types) {
      lane.types.push(type);
      lane.templates.push(compile(type));
    }
    return lane;
  }

  /** Remember the parent's DS answer at a child apex we also serve. */
  private noteParentDs(t: ZoneTables, node: ZoneNode, apexes: Map<string, Zone>): void {
    const child = apexes.get(node.name.key);
    if (!child || child === t.zone || node.delegation !== node) return;
    const lane = this.compileLane(t, landOnNode(node, RRType.DS), node.name, node.name, [RRType.DS]);
    const entry = this.names.get(node.name.key);
    if (entry) entry.parentDs = lane;
    else this.pendingParentDs.set(node.name.key, lane);
  }
  // ---- answering -------------------------------------------------------------------------------

  /** Answer one query message; null means send nothing (not a query we answer at all). */
  answer(msg: Buffer, transport: Transport): Buffer | null {
    const q = this.q;
    const verdict = decodeQuery(msg, q);
    if (verdict === Verdict.DROP) return null;
    if (verdict === Verdict.FORMERR) return writeEmpty(q, msg, Rcode.FORMERR);
    if (q.opcode !== Opcode.QUERY) return writeEmpty(q, msg, Rcode.NOTIMP);
    if (q.edns && q.ednsVersion > 0) return writeEmpty(q, msg, Rcode.BADVERS);
    if (!q.hasQuestion) return writeEmpty(q, msg, Rcode.FORMERR);
    const limit = transport === "udp" ? udpLimit(q) : 65535;
    if (q.qtype === 0) return writeEmpty(q, msg, Rcode.NOTIMP); // as Knot DNS
    // Class ANY is answered as IN, as Knot DNS does; other classes (NONE, HS, …) are refused.
    if (q.qclass !== RRClass.IN && q.qclass !== RRClass.ANY) {
      const t = q.qclass === RRClass.CH ? this.chaos.get(q.key) : undefined;
      if (t && (q.qtype === RRType.TXT || q.qtype === RRType.ANY)) return writeAnswer(q, msg, t, limit);
      return writeEmpty(q, msg, Rcode.REFUSED);
    }
    if (q.qtype === RRType.AXFR || q.qtype === RRType.IXFR) return writeEmpty(q, msg, Rcode.REFUSED);
    const t = this.find(q, msg);
    if (!t) return writeEmpty(q, msg, Rcode.REFUSED, NOT_AUTHORITATIVE);
    return writeAnswer(q, msg, t, limit);
  }

  private find(q: Query, msg: Buffer): Template | undefined {
    const key = q.key;
    const qtype = q.qtype;
    const entry = this.names.get(key);
    if (entry) {
      const lane = qtype === RRType.DS && entry.parentDs ? entry.parentDs : entry.exact;
      return lane ? pick(lane, qtype) : this.perQueryAnswer(entry, q, msg);
    }
    let off = key.charCodeAt(0) + 1;
    while (off < key.length) {
      const encloser = this.names.get(key.substring(off));
      if (encloser) return encloser.below ? pick(encloser.below, qtype) : this.perQueryAnswer(encloser, q, msg);
      off += key.charCodeAt(off) + 1;
    }
    return undefined;
  }

  /** The general path, for names whose answer holds the query name itself (DNAME substitution). */
  private perQueryAnswer(entry: NameEntry, q: Query, msg: Buffer): Template {
    const cacheKey = msg.toString("latin1", 12, q.questionEnd);
    const hit = this.perQuery.get(cacheKey);
    if (hit) return hit;
    const name = nameFromWire(msg.subarray(12, 12 + q.qnameLen));
    const zone = entry.zone.zone;
    const landing = entry.node.name.key === name.key ? landOnNode(entry.node, q.qtype) : landBelow(entry.node);
    const t = compileTemplate(resolve({ zone, landing, qtype: q.qtype, owner: name, name }), name);
    this.perQuery.set(cacheKey, t);
    return t;
  }
}

function pick(lane: Lane, qtype: number): Template {
  const types = lane.types;
  for (let i = 0; i < types.length; i++) if (types[i] === qtype) return lane.templates[i]!;
  return lane.other;
}

function deepestZone(apexes: Map<string, Zone>, key: string): Zone | undefined {
  let k: string | undefined = key;
  while (k !== undefined) {
    const z = apexes.get(k);
    if (z) return z;
    k = parentKey(k);
  }
  return undefined;
}

/** NODATA with the zone's SOA and nothing else: the same bytes for every name of the zone. */
function isPlainNodata(o: ReturnType<typeof resolve>, zone: Zone): boolean {
  return (
    o.rcode === 0 &&
    o.aa &&
    o.answer.length === 0 &&
    o.additional.length === 0 &&
    o.authority.length === 1 &&
    o.authority[0]!.type === RRType.SOA &&
    o.authority[0]!.owner === zone.origin
  );
}

export function buildEngine(zones: Zone[], opts?: EngineOptions): QueryEngine {
  return new QueryEngine(zones, opts);
}
