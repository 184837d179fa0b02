// The compiled answer table and the query path. Everything a query can be answered with is built
// when the zones or a pool's health change: per name, per type, the response sections as wire
// bytes. A query decodes its question, finds its lane with one map lookup (or a walk up to the
// closest encloser for names that do not exist), and copies bytes; an answer that cannot change
// while this engine lives is then held in the flat table (flat-answers.ts), found by a hash of the
// question's octets the next time. Only names below a DNAME need
// per-query work (the synthesized CNAME holds the query name); those answers are cached.
//
// A pool change recompiles only the lanes whose answers read the pool's node (the pool's own name,
// CNAMEs and wildcards that lead to it, MX/SRV/NS targets that name it), and a lane whose pools are
// back in answers it was compiled for before takes that fill again instead (refillLane).

import { LRUCache } from "lru-cache";
import { Opcode, Rcode, RRClass, RRType } from "../wire/constants.js";
import { isAtOrBelow, nameFromWire, nameToText, parentKey, type Name } from "../wire/name.js";
import { decodeQuery, Query, Verdict } from "../wire/query.js";
import { edeOption, udpLimit, writeAnswer, writeEmpty, writeFlatAnswer, writeRRsetAnswer } from "../wire/response.js";
import { QNAME, type Owner } from "../wire/body-writer.js";
import type { Zone, ZoneNode } from "../zone/zone.js";
import type { RRset } from "../zone/rr.js";
import { landBelow, landOnNode, resolve, type Dynamic, type DynamicSet, type Landing } from "./lookup.js";
import { compileTemplate, simpleAnswerTemplate, type OutcomeSource, type Template } from "./template.js";
import type { Outcome } from "./outcome.js";
import { fromRRset } from "./outcome.js";
import { rdataLayout, rdataNames } from "../wire/rdata.js";
import { chaosTemplates, type ChaosOptions } from "./chaos.js";
import { Choice, resolveSlot, type Slot } from "./choice.js";
import type { PoolRender } from "./pools.js";
import { QueryStats, TRANSPORT_TCP, TRANSPORT_UDP } from "./stats.js";
import { FlatAnswers } from "./flat-answers.js";

export interface EngineOptions {
  chaos?: ChaosOptions;
  /** Counters shared across engines (reloads); a fresh set when absent. */
  stats?: QueryStats;
  /** Build the name table only; compile with compileRemaining() (or on a name's first query). */
  deferCompile?: boolean;
  /** Pools present from the start, with their first answers (after the first round of probes). */
  pools?: Array<{ name: Name; type: number; render: PoolRender }>;
}

/** How a lane was made, so it can be made again when a pool it read changes. */
interface LaneSource {
  tables: ZoneTables;
  landing: Landing;
  owner: Owner;
  suffix: Name;
  /** Only these types get their own template (DS at a cut); otherwise every type the answer read. */
  only?: number[];
  /** Node keys of the pools the last fill read (none: the lane is fixed). */
  poolKeys?: string[];
  /** The fills made so far, by the pool answers they read (see QueryEngine.refillLane). */
  fills?: LaneFill[];
}

/** What fillLane puts in a lane, kept with the pool answers it was made from. */
interface LaneFill {
  renders: PoolRender[];
  types: number[];
  slots: Array<Slot | RRset>;
  direct: number;
  other: Slot;
}

/**
 * Fills kept per lane: a pool flipping between its primary and its secondary (or any few states)
 * finds its lanes already compiled for the state it returns to. Past this many, the oldest goes.
 */
const FILLS_KEPT = 8;

/** Answers for one way of landing: a slot per type that matters, one for every other type. */
interface Lane {
  types: number[];
  /** Where bit i of `direct` is set, slots[i] is the node's own RRset (see fillLane), else a Slot. */
  slots: Array<Slot | RRset>;
  /**
   * Bit i set: a query for types[i] is answered by writing the RRset slots[i] straight after the
   * question (writeRRsetAnswer), as a plain name's are; no template is compiled for it.
   */
  direct: number;
  other: Slot;
  /**
   * A plain name (see plainLane): types and slots are empty; a type the node holds is answered by
   * writing its RRset straight after the question (writeRRsetAnswer), every other type from `other`.
   */
  plain: boolean;
  /** Its answers read no pool: they stay as they are while the engine lives (see FlatAnswers). */
  fixed: boolean;
  source?: LaneSource;
}

interface NameEntry {
  tables: ZoneTables;
  node: ZoneNode;
  /** A query for this very name; null when it is occluded by a DNAME (answered per query). */
  exact: Lane | null;
  /** A query for a name below this one that does not exist, this being its closest encloser. */
  below: Lane | null;
  /** DS at the apex of a zone whose parent we also serve: the parent answers (RFC 4035 §3.1.4.1). */
  parentDs: Lane | null;
  /** exact and below are built (see QueryEngine.compileRemaining). */
  compiled: boolean;
}

interface ZoneTables {
  zone: Zone;
  /**
   * The SOA's MNAME and RNAME, where inside the zone below the apex: their ancestors just below the
   * apex. The shared NODATA/NXDOMAIN templates compress those names against the apex; for a query
   * name at or below one of these keys the general encoder finds a longer suffix in the query name,
   * so such names get answers of their own (byte-identical to the general path).
   */
  soaNames: string[];
  /** Index of the zone in the query counters. */
  statIndex: number;
  nodata: Template;
  nxdomain: Template;
  /** The lane of every name below which nothing exists: NXDOMAIN for every type (one per zone). */
  nxLane: Lane;
  /** The lane of the zone's plain names (see QueryEngine.plainLane). */
  plainLane: Lane;
  referrals: Map<ZoneNode, Lane>;
  wildcards: Map<ZoneNode, Lane>;
}

/** A type no node holds: the lookup for it gives the answer of every type not in a lane. */
const OTHER = 0;

/** Extended DNS Error 20 "Not Authoritative" (RFC 8914 §4.21) on REFUSED outside our zones, as Knot DNS sends. */
const NOT_AUTHORITATIVE = edeOption(20);

export type Transport = "udp" | "tcp";

export class QueryEngine implements Dynamic {
  private readonly names = new Map<string, NameEntry>();
  private readonly chaos: Map<string, Template>;
  private readonly perQuery = new LRUCache<string, Template>({ max: 10_000 });
  private readonly q = new Query();
  /** DS answers of parent zones at the apexes of child zones we also serve, until the child is built. */
  private readonly pendingParentDs = new Map<string, Lane>();
  /** Pools by node key and type, and the variant the lookup sees while a lane is compiled. */
  private readonly pools = new Map<string, Map<number, PoolRender>>();
  private variant = 0;
  /** Lanes to recompile when the pool at a node key changes. */
  private readonly dependents = new Map<string, Set<Lane>>();
  readonly zones: readonly Zone[];
  readonly stats: QueryStats;
  /** Counter index of the zone the last query landed in (0: none). */
  private lastZone = 0;
  /** Names whose answers are not compiled yet (deferCompile); a query for one compiles it first. */
  private uncompiled: NameEntry[] = [];
  private nextUncompiled = 0;
  private backgroundStopped = false;
  /** Off only for bench/metrics-overhead.mjs (HADNS_NO_QUERY_STATS=1), to measure what counting costs. */
  private readonly countQueries: boolean;
  /** The RRset find() chose when it returned RRSET_HIT. */
  private hit: RRset | null = null;
  /** Answers of names that exist (their own RRset, or a template) as answered once, for the next query of that name and type. */
  readonly flat = new FlatAnswers();
  /** Lanes refilled after pool changes: compiled anew, or a fill kept from an earlier state (refillLane). */
  readonly refills = { compiled: 0, reused: 0 };

  constructor(zones: Zone[], opts: EngineOptions = {}) {
    this.zones = zones;
    this.stats = opts.stats ?? new QueryStats();
    this.countQueries = process.env.HADNS_NO_QUERY_STATS !== "1";
    this.chaos = chaosTemplates(opts.chaos ?? {});
    const apexes = new Map<string, Zone>();
    for (const z of zones) apexes.set(z.origin.key, z);
    for (const p of opts.pools ?? []) {
      const zone = deepestZone(apexes, p.name.key);
      if (!zone) throw new Error(`pool ${p.name.key} is outside every zone`);
      zone.ensureNode(p.name);
      this.setPoolRender(p.name.key, p.type, p.render);
    }
    // Shallow zones first: a deeper zone's names replace its parent's (glue, the cut itself).
    const ordered = [...zones].sort((a, b) => a.origin.key.length - b.origin.key.length);
    for (const zone of ordered) {
      const tables = this.tablesFor(zone);
      for (const node of zone.nodes.values()) {
        if (deepestZone(apexes, node.name.key) !== zone) {
          this.noteParentDs(tables, node, apexes);
          continue;
        }
        const entry: NameEntry = { tables, node, exact: null, below: null, parentDs: this.pendingParentDs.get(node.name.key) ?? null, compiled: false };
        this.names.set(node.name.key, entry);
        this.uncompiled.push(entry);
      }
    }
    // Normally every answer is compiled now. A reload instead swaps the engine in at once and
    // compiles in slices between queries (compileRemaining), so a big zone never stalls answering.
    if (!opts.deferCompile) this.compileRemaining(Infinity);
  }

  /** Compile the answers of names not compiled yet, for at most `budgetMs`; true when all are done. */
  compileRemaining(budgetMs: number): boolean {
    const until = budgetMs === Infinity ? Infinity : performance.now() + budgetMs;
    const list = this.uncompiled;
    while (this.nextUncompiled < list.length) {
      this.compileEntry(list[this.nextUncompiled++]!);
      if ((this.nextUncompiled & 63) === 0 && performance.now() >= until) return this.nextUncompiled >= list.length;
    }
    this.uncompiled = [];
    this.nextUncompiled = 0;
    return true;
  }

  /**
   * compileRemaining in slices of `sliceMs`, yielding to the event loop between them. True once every
   * answer is compiled; false if stopCompiling() came first (the rest compile on their first query).
   */
  async compileInBackground(sliceMs = 5): Promise<boolean> {
    while (!this.compileRemaining(sliceMs)) {
      await new Promise((r) => setImmediate(r));
      if (this.backgroundStopped) return false;
    }
    return true;
  }

  /** End compileInBackground: this engine was replaced, or the process is stopping. */
  stopCompiling(): void {
    this.backgroundStopped = true;
  }

  private compileEntry(entry: NameEntry): void {
    if (entry.compiled) return;
    entry.compiled = true;
    entry.exact = this.exactLane(entry.tables, entry.node);
    entry.below = this.belowLane(entry.tables, entry.node);
  }

  // ---- pools -------------------------------------------------------------------------------------

  get(key: string, type: number): DynamicSet | undefined {
    const r = this.pools.get(key)?.get(type);
    if (!r) return undefined;
    return r.variants[this.variant % r.variants.length];
  }

  typesAt(key: string): readonly number[] | undefined {
    const m = this.pools.get(key);
    return m ? [...m.keys()] : undefined;
  }

  private setPoolRender(key: string, type: number, render: PoolRender): void {
    let m = this.pools.get(key);
    if (!m) this.pools.set(key, (m = new Map()));
    m.set(type, render);
  }

  /** A pool's answer changed: refill the lanes that read it (refillLane). Returns how many. */
  updatePool(name: Name, type: number, render: PoolRender): number {
    if (!this.pools.get(name.key)?.has(type)) throw new Error(`no pool at ${name.key} type ${type}`);
    this.setPoolRender(name.key, type, render);
    const lanes = [...(this.dependents.get(name.key) ?? [])];
    for (const lane of lanes) this.refillLane(lane, lane.source!);
    // lru-cache clears its whole backing store even when empty: ~25 us of a ~29 us pool change (bench/FLIPS.md).
    if (this.perQuery.size > 0) this.perQuery.clear();
    return lanes.length;
  }

  // ---- building ----------------------------------------------------------------------------------

  private tablesFor(zone: Zone): ZoneTables {
    const apex = zone.apex;
    const nodata = compileTemplate(resolve({ zone, landing: { kind: "exact", node: apex }, qtype: OTHER, owner: apex.name }), zone.origin);
    const nxdomain = compileTemplate(resolve({ zone, landing: { kind: "nxdomain", encloser: apex }, qtype: OTHER, owner: apex.name }), zone.origin);
    // For each SOA name inside the zone and below the apex, its ancestor just below the apex.
    const soaNames: string[] = [];
    for (const n of rdataNames(RRType.SOA, zone.soa.rdatas[0]!)) {
      let k = n.key;
      if (k === zone.origin.key || !isAtOrBelow(k, zone.origin.key)) continue;
      while (parentKey(k) !== zone.origin.key) k = parentKey(k)!;
      soaNames.push(k);
    }
    return { zone, statIndex: this.stats.zone(nameToText(zone.origin)), nodata, nxdomain, nxLane: { types: [], slots: [], direct: 0, other: nxdomain, plain: false, fixed: true }, plainLane: { types: [], slots: [], direct: 0, other: nodata, plain: true, fixed: true }, soaNames, referrals: new Map(), wildcards: new Map() };
  }

  private exactLane(t: ZoneTables, node: ZoneNode): Lane | null {
    const other = landOnNode(node, OTHER);
    if (other.kind === "dname") return null;
    if (other.kind === "referral") {
      const referral = this.referralLane(t, other.cut);
      if (node !== other.cut) return referral;
      // At the cut, DS is the parent's authoritative data; every other type is a referral.
      const ds = this.lane({ tables: t, landing: landOnNode(node, RRType.DS), owner: node.name, suffix: node.name, only: [RRType.DS] });
      return { types: [RRType.DS], slots: [ds.slots[0]!], direct: ds.direct & 1, other: referral.other, plain: false, fixed: false };
    }
    return this.plainLane(t, node) ?? this.lane({ tables: t, landing: other, owner: node.name, suffix: node.name });
  }

  /** NODATA for a name that needs its own (see ZoneTables.soaNames). */
  private compileOther(t: ZoneTables, node: ZoneNode): Template {
    return compileTemplate(resolve({ zone: t.zone, landing: { kind: "exact", node }, qtype: OTHER, owner: node.name }), node.name);
  }

  /**
   * Most names hold only records whose answers read nothing else: no CNAME to follow, no NS/MX/SRV
   * targets to add, no compressible names in RDATA, no pool. Nothing is compiled for them: a query
   * for a type the node holds gets the RRset written straight after the question (the bytes
   * simpleAnswerTemplate would hold: a pointer to the question, type, class, TTL, RDATA), ANY the
   * lowest type's, every other type the zone's shared NODATA. A zone of a million such names then
   * holds no answer objects for them at all; writing an RRset costs a query no more than copying
   * a compiled body (bench/README.md, "Zone size").
   */
  private plainLane(t: ZoneTables, node: ZoneNode): Lane | null {
    if (this.pools.has(node.name.key)) return null;
    for (const set of node.rrsets.values()) if (!isPlainType(set.type) || set.rdatas.length === 0) return null;
    if (!nearSoaName(t, node.name.key)) return t.plainLane;
    return { types: [], slots: [], direct: 0, other: this.compileOther(t, node), plain: true, fixed: true };
  }

  private belowLane(t: ZoneTables, node: ZoneNode): Lane | null {
    const landing = landBelow(node);
    switch (landing.kind) {
      case "dname":
        return null;
      case "referral":
        return this.referralLane(t, landing.cut);
      case "nxdomain":
        return t.nxLane;
      case "wildcard": {
        let lane = t.wildcards.get(landing.node);
        if (!lane) {
          lane = this.lane({ tables: t, landing, owner: QNAME, suffix: node.name });
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
      lane = this.lane({ tables: t, landing: { kind: "referral", cut }, owner: cut.name, suffix: cut.name, only: [] });
      t.referrals.set(cut, lane);
    }
    return lane;
  }

  /** The pool answers a lane's last fill read, as the engine holds them now. */
  private rendersRead(keys: readonly string[]): PoolRender[] {
    const out: PoolRender[] = [];
    for (const k of keys) for (const r of this.pools.get(k)?.values() ?? []) out.push(r);
    return out;
  }

  /**
   * A pool the lane reads changed: reuse the fill made when those pools last answered the same (the
   * same PoolRender objects: LivePools keeps one per pool state), else compile it. Answers depend on
   * the zone (fixed for the engine's life) and the pool answers only, so an equal key is an equal fill.
   */
  private refillLane(lane: Lane, src: LaneSource): void {
    const keys = src.poolKeys;
    const fills = src.fills;
    if (keys && fills) {
      const now = this.rendersRead(keys);
      for (const f of fills) {
        if (sameItems(f.renders, now)) {
          lane.types = f.types;
          lane.slots = f.slots;
          lane.direct = f.direct;
          lane.other = f.other;
          this.refills.reused++;
          return;
        }
      }
    }
    this.refills.compiled++;
    this.fillLane(lane, src);
  }

  private lane(source: LaneSource): Lane {
    const lane: Lane = { types: [], slots: [], direct: 0, other: source.tables.nodata, plain: false, fixed: false, source };
    this.fillLane(lane, source);
    return lane;
  }

  /**
   * Compile the answers for a landing: first for a type nothing holds (`other`), noting every node the
   * answer read; then for each type those nodes hold (and ANY), whose answers differ. Where a node read
   * is a pool's with several variants, each answer becomes a Choice over the variants.
   */
  private fillLane(lane: Lane, src: LaneSource): void {
    const { tables, landing, owner, suffix } = src;
    const zone = tables.zone;
    const visited = new Set<ZoneNode>();
    // Templates of the first variant recompute their Outcome when read (explain) instead of keeping it.
    const again = new LaneOutcomes(this, src);
    // A node's own plain RRset as the whole answer (A, AAAA, TXT… beside an MX) is written per
    // query like a plain name's: no template, the same bytes (see directSet).
    const directNode = landing.kind === "exact" && owner === landing.node.name && !this.pools.has(landing.node.name.key) ? landing.node : null;
    const compileOne = (qtype: number, variant: number, allowDirect: boolean): Template | RRset => {
      this.variant = variant;
      const outcome = resolve({ zone, dynamic: this, landing, qtype, owner }, visited);
      this.variant = 0;
      if (isPlainNodata(outcome, zone) && !(owner !== QNAME && nearSoaName(tables, owner.key))) return tables.nodata;
      if (allowDirect && directNode !== null) {
        const set = directSet(outcome, directNode);
        if (set !== undefined) return set;
      }
      return compileTemplate(outcome, suffix, variant === 0 ? { source: again, qtype } : undefined);
    };
    const first = compileOne(OTHER, 0, false) as Template;
    const types = new Set<number>(src.only ?? [RRType.ANY]);
    if (!src.only) {
      for (const n of visited) {
        for (const type of n.rrsets.keys()) types.add(type);
        // Types whose answer differs from "other" without the node holding them.
        if (n.rrsets.has(RRType.CNAME)) types.add(RRType.RRSIG).add(RRType.NSEC);
        if (n.delegation === n) types.add(RRType.DS);
        for (const type of this.typesAt(n.name.key) ?? []) types.add(type);
      }
    }
    const firsts = new Map<number, Template | RRset>();
    for (const type of types) firsts.set(type, compileOne(type, 0, true));
    // The pools this lane read decide how many variants each answer has.
    let variants = 1;
    let lead: PoolRender | undefined;
    lane.fixed = true;
    for (const n of visited) {
      const m = this.pools.get(n.name.key);
      if (!m) continue;
      lane.fixed = false;
      let deps = this.dependents.get(n.name.key);
      if (!deps) this.dependents.set(n.name.key, (deps = new Set()));
      deps.add(lane);
      for (const r of m.values()) {
        if (r.variants.length > variants) {
          variants = r.variants.length;
          lead = r;
        }
      }
    }
    const slotFor = (qtype: number, firstTemplate: Template | RRset, allowDirect: boolean): Slot | RRset => {
      if (variants === 1 && (allowDirect || isTemplate(firstTemplate))) return firstTemplate;
      const all: Array<Template | RRset> = [];
      for (let v = 0; v < variants; v++) all.push(v === 0 && (allowDirect || isTemplate(firstTemplate)) ? firstTemplate : compileOne(qtype, v, allowDirect));
      if (all.every((x) => x === all[0])) return all[0]!;
      // Variants that differ are a Choice of templates: compile the direct ones too.
      if (allowDirect && !all.every(isTemplate)) return slotFor(qtype, compileOne(qtype, 0, false), false);
      return new Choice(all as Template[], lead!.selection, lead!.weights);
    };
    lane.other = slotFor(OTHER, first, false) as Slot;
    const nextTypes: number[] = [];
    const nextSlots: Array<Slot | RRset> = [];
    let direct = 0;
    for (const type of types) {
      // Direct slots are marked by bit: beyond bit 30 they are compiled.
      const allowDirect = nextSlots.length < 31;
      const slot = slotFor(type, firsts.get(type)!, allowDirect);
      if (!isSlot(slot)) direct |= 1 << nextSlots.length;
      nextTypes.push(type);
      nextSlots.push(slot);
    }
    lane.types = nextTypes.slice();
    lane.slots = nextSlots.slice();
    lane.direct = direct;
    if (lane.fixed) return;
    const keys: string[] = [];
    for (const n of visited) if (this.pools.has(n.name.key)) keys.push(n.name.key);
    const fill: LaneFill = { renders: this.rendersRead(keys), types: lane.types, slots: lane.slots, direct, other: lane.other };
    // Another set of pools read (a pool's CNAME target moved): the fills made before do not compare.
    if (!src.poolKeys || !sameItems(src.poolKeys, keys)) src.fills = [];
    src.poolKeys = keys;
    const fills = src.fills!;
    if (fills.length >= FILLS_KEPT) fills.shift();
    fills.push(fill);
  }

  /** Remember the parent's DS answer at a child apex we also serve. */
  private noteParentDs(t: ZoneTables, node: ZoneNode, apexes: Map<string, Zone>): void {
    const child = apexes.get(node.name.key);
    if (!child || child === t.zone || node.delegation !== node) return;
    const lane = this.lane({ tables: t, landing: landOnNode(node, RRType.DS), owner: node.name, suffix: node.name, only: [RRType.DS] });
    const entry = this.names.get(node.name.key);
    if (entry) entry.parentDs = lane;
    else this.pendingParentDs.set(node.name.key, lane);
  }

  // ---- answering ---------------------------------------------------------------------------------

  /** Answer one query message; null means send nothing (not a query we answer at all). */
  answer(msg: Buffer, transport: Transport): Buffer | null {
    this.lastZone = 0;
    const res = this.respond(msg, transport);
    if (res !== null && this.countQueries) {
      const q = this.q;
      const rcode = (res[3]! & 0xf) | (q.edns && q.ednsVersion > 0 ? 16 : 0);
      this.stats.count(this.lastZone, q.qtype, rcode, transport === "udp" ? TRANSPORT_UDP : TRANSPORT_TCP);
      if (res[2]! & 0x02) this.stats.truncated++;
    }
    return res;
  }

  private respond(msg: Buffer, transport: Transport): Buffer | null {
    const q = this.q;
    const verdict = decodeQuery(msg, q);
    if (verdict === Verdict.DROP) return null;
    if (verdict === Verdict.FORMERR) return writeEmpty(q, msg, Rcode.FORMERR);
    // RFC 6891 §6.1.3: an unknown EDNS version is BADVERS before anything else is looked at.
    if (q.edns && q.ednsVersion > 0) return writeEmpty(q, msg, Rcode.BADVERS);
    if (q.opcode !== Opcode.QUERY) return writeEmpty(q, msg, Rcode.NOTIMP);
    if (!q.hasQuestion) return writeEmpty(q, msg, Rcode.FORMERR);
    const limit = transport === "udp" ? udpLimit(q) : 65535;
    if (q.qtype === 0) return writeEmpty(q, msg, Rcode.NOTIMP); // as Knot DNS
    // Class ANY is answered as IN, as Knot DNS does; other classes (NONE, HS, …) are refused.
    if (q.qclass !== RRClass.IN && q.qclass !== RRClass.ANY) {
      const t = q.qclass === RRClass.CH ? this.chaos.get(q.key) : undefined;
      if (t && q.qtype === RRType.TXT) return writeAnswer(q, msg, t, limit);
      return writeEmpty(q, msg, Rcode.REFUSED);
    }
    if (q.qtype === RRType.AXFR || q.qtype === RRType.IXFR) return writeEmpty(q, msg, Rcode.REFUSED);
    const flat = this.flat;
    const r = flat.find(q, msg);
    if (r >= 0) {
      this.lastZone = flat.zoneOf(r);
      const held = flat.templateOf(r);
      if (held !== null) return writeAnswer(q, msg, held, limit);
      return writeFlatAnswer(q, msg, flat.octets, flat.bodyOf(r), flat.bodyLenOf(r), flat.countOf(r), limit);
    }
    const t = this.find(q, msg);
    if (!t) return writeEmpty(q, msg, Rcode.REFUSED, NOT_AUTHORITATIVE);
    if (t === RRSET_HIT) return writeRRsetAnswer(q, msg, this.hit!, limit);
    return writeAnswer(q, msg, t, limit);
  }

  private find(q: Query, msg: Buffer): Template | undefined {
    const key = q.key;
    const qtype = q.qtype;
    const entry = this.names.get(key);
    if (entry) {
      this.lastZone = entry.tables.statIndex;
      if (!entry.compiled) this.compileEntry(entry);
      const lane = qtype === RRType.DS && entry.parentDs ? entry.parentDs : entry.exact;
      if (lane === null) return this.perQueryAnswer(entry, q, msg);
      // An answer of a lane that reads no pool stays as it is: the next query for this name and
      // type is answered from the flat table (the node's own RRset, or the template).
      const hold = lane === entry.exact && lane.fixed;
      if (lane.plain) {
        const set = plainSet(entry.node, qtype);
        if (set === undefined) {
          const t = resolveSlot(lane.other);
          if (hold) this.flat.addTemplate(q, msg, entry.tables.statIndex, t);
          return t;
        }
        this.hit = set;
      } else {
        const t = this.pick(lane, qtype);
        if (!hold) return t;
        if (t !== RRSET_HIT) {
          this.flat.addTemplate(q, msg, entry.tables.statIndex, t);
          return t;
        }
      }
      if (hold) this.flat.add(q, msg, entry.tables.statIndex, this.hit!);
      return RRSET_HIT;
    }
    let off = key.charCodeAt(0) + 1;
    while (off < key.length) {
      const encloser = this.names.get(key.substring(off));
      if (encloser) {
        this.lastZone = encloser.tables.statIndex;
        if (!encloser.compiled) this.compileEntry(encloser);
      }
      if (encloser && encloser.tables.soaNames.length > 0 && nearSoaName(encloser.tables, key)) return this.perQueryAnswer(encloser, q, msg);
      if (encloser) return encloser.below ? this.pick(encloser.below, qtype) : this.perQueryAnswer(encloser, q, msg);
      off += key.charCodeAt(off) + 1;
    }
    return undefined;
  }

  /** The answer of a lane for a type: a template, or RRSET_HIT with the RRset to write in `hit`. */
  private pick(lane: Lane, qtype: number): Template {
    const types = lane.types;
    for (let i = 0; i < types.length; i++) {
      if (types[i] === qtype) {
        const slot = lane.slots[i]!;
        if (i < 31 && (lane.direct >>> i) & 1) {
          this.hit = slot as RRset;
          return RRSET_HIT;
        }
        return resolveSlot(slot as Slot);
      }
    }
    return resolveSlot(lane.other);
  }

  /** The general path, for names whose answer holds the query name itself (DNAME substitution). */
  private perQueryAnswer(entry: NameEntry, q: Query, msg: Buffer): Template {
    const cacheKey = msg.toString("latin1", 12, q.questionEnd);
    const hit = this.perQuery.get(cacheKey);
    if (hit) return hit;
    const name = nameFromWire(msg.subarray(12, 12 + q.qnameLen));
    const zone = entry.tables.zone;
    const landing = entry.node.name.key === name.key ? landOnNode(entry.node, q.qtype) : landBelow(entry.node);
    const t = compileTemplate(resolve({ zone, dynamic: this, landing, qtype: q.qtype, owner: name, name }), name);
    this.perQuery.set(cacheKey, t);
    return t;
  }

  // ---- introspection (tests, explain) --------------------------------------------------------------

  /** The template a query for (name, type) would be answered from right now (variants: the next one). */
  templateFor(name: Name, qtype: number): Template | undefined {
    const q = new Query();
    const msg = Buffer.alloc(12 + name.wire.length + 4);
    msg[5] = 1; // one question
    name.wire.copy(msg, 12);
    msg.writeUInt16BE(qtype, 12 + name.wire.length);
    msg.writeUInt16BE(RRClass.IN, 14 + name.wire.length);
    decodeQuery(msg, q);
    const t = this.find(q, msg);
    if (t !== RRSET_HIT) return t;
    const set = this.hit!;
    const out = fromRRset(set, name);
    return simpleAnswerTemplate({ rcode: 0, aa: true, answer: [out], authority: [], additional: [] }, out, name);
  }
}

/** The Outcome of a lane's answer for a type, as fillLane computed it for the first variant. */
class LaneOutcomes implements OutcomeSource {
  constructor(
    private readonly dynamic: Dynamic,
    private readonly src: LaneSource,
  ) {}

  outcomeFor(qtype: number): Outcome {
    const { tables, landing, owner } = this.src;
    return resolve({ zone: tables.zone, dynamic: this.dynamic, landing, qtype, owner });
  }
}

function nearSoaName(t: ZoneTables, key: string): boolean {
  for (const k of t.soaNames) if (isAtOrBelow(key, k)) return true;
  return false;
}

/** Types whose answer is the RRset alone: no additional processing, no name inside to compress. */
function isPlainType(type: number): boolean {
  if (type === RRType.NS || type === RRType.MX || type === RRType.SRV || type === RRType.CNAME || type === RRType.DNAME) return false;
  const layout = rdataLayout(type);
  return layout.length === 1 && "rest" in layout[0]!;
}

/** What find() returns for a plain name's own RRset (in `hit`): written by writeRRsetAnswer. */
const RRSET_HIT = simpleAnswerTemplate(
  { rcode: 0, aa: true, answer: [], authority: [], additional: [] },
  { owner: QNAME, type: 0, class: 1, ttl: 0, rdatas: [] },
  { wire: Buffer.from([0]), key: "\0" },
);

/** A plain name's RRset for a query type; ANY: the lowest type's (RFC 8482 §4.1, as Knot DNS). */
function plainSet(node: ZoneNode, qtype: number): RRset | undefined {
  return qtype !== RRType.ANY ? node.rrsets.get(qtype) : node.rrsets.lowest();
}

/**
 * The node's own RRset when `o` is exactly that RRset as the whole answer (NOERROR, AA, nothing
 * else) and its type holds no name to compress: what compileTemplate would write for it is the
 * bytes writeRRsetAnswer writes (a pointer to the question, type, class, TTL, RDATA).
 */
function directSet(o: Outcome, node: ZoneNode): RRset | undefined {
  if (o.rcode !== 0 || !o.aa || o.ede || o.answer.length !== 1 || o.authority.length !== 0 || o.additional.length !== 0) return undefined;
  const a = o.answer[0]!;
  if (a.owner !== node.name) return undefined;
  const set = node.rrsets.get(a.type);
  if (set === undefined || set.rdatas !== a.rdatas || set.ttl !== a.ttl || set.class !== a.class || set.rdatas.length === 0) return undefined;
  return isPlainType(set.type) ? set : undefined;
}

function isTemplate(x: Template | RRset): x is Template {
  return "body" in x;
}

function isSlot(x: Slot | RRset): x is Slot {
  return x instanceof Choice || "body" in x;
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
    !o.ede &&
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

/** The same items (===) in the same order. */
function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
