// The answers most queries get, in one flat table: (question name, type) → the answer records' wire
// octets, in one byte arena found through an open-addressing hash table of int32 pairs. A query the
// table holds costs a hash of its name (made while decodeQuery reads it), one or two probes and a
// comparison of the name's octets, then a copy: no lookup-key string, no Map, and no walk through
// name entry, node, RRset and RDATA objects spread over a heap of a million names, where each hop is
// a cache miss (bench/README.md, "Zone size").
//
// It holds only answers that never change while the engine lives, for names that exist: a name's
// own RRset written straight after the question, or else the compiled template find chose (NODATA,
// an MX with its additional section, a CNAME chain…), each from a lane that reads no pool. A reload
// builds a new engine and with it a new table. Filled on first query, so it costs nothing at load;
// it stops taking entries at `maxBytes` of arena (the rest are answered by find).

import { foldAscii } from "../wire/name.js";
import type { Query } from "../wire/query.js";
import { rrsetRecordsLength, writeRRsetRecords } from "../wire/response.js";
import type { RRset } from "../zone/rr.js";
import type { Template } from "./template.js";

/**
 * Record layout in the arena: type, zone counter index, RR count, body length, name length, name,
 * body. An RR count of TEMPLATE marks a template entry: its 4-byte body is an index in `templates`.
 */
const TYPE = 0;
const ZONE = 2;
const COUNT = 4;
const BODY_LEN = 6;
const NAME_LEN = 8;
const NAME = 9;
const TEMPLATE = 0xffff;

/** Spreads the query type over the hash (the golden-ratio multiplier). */
const TYPE_MIX = 0x9e3779b1 | 0;

export class FlatAnswers {
  /** Pairs: [hash, arena offset + 1]; offset 0 marks an empty slot. */
  private table = new Int32Array(2 * 1024);
  private count = 0;
  private arena = new Uint8Array(64 * 1024);
  private used = 0;
  private readonly templates: Template[] = [];

  /**
   * 16 MiB of arena hold ~300k answers of names like the bench's; the hash table grows with them
   * (8 bytes a slot, at most half full). The cap keeps a zone near the 1 GiB line there
   * when every name of a million-record zone is asked for (bench/README.md, "Zone size").
   */
  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** Arena octets in use. */
  get bytes(): number {
    return this.used;
  }

  /** The arena offset of the answer to q's question (decoded from msg), or -1. */
  find(q: Query, msg: Buffer): number {
    const h = q.hash ^ Math.imul(q.qtype, TYPE_MIX);
    const table = this.table;
    const mask = table.length - 1;
    const arena = this.arena;
    const nameLen = q.qnameLen;
    for (let i = (h << 1) & mask; ; i = (i + 2) & mask) {
      const at = table[i + 1]!;
      if (at === 0) return -1;
      if (table[i] !== h) continue;
      const r = at - 1;
      if (((arena[r + TYPE]! << 8) | arena[r + TYPE + 1]!) !== q.qtype || arena[r + NAME_LEN] !== nameLen) continue;
      if (sameName(arena, r + NAME, msg, nameLen)) return r;
    }
  }

  /** Hold the answer `set` (the node's own RRset, written as writeRRsetAnswer does) for q's question. */
  add(q: Query, msg: Buffer, zoneIndex: number, set: RRset): void {
    const bodyLen = rrsetRecordsLength(set);
    if (bodyLen > 0xffff || set.rdatas.length >= TEMPLATE) return;
    const r = this.start(q, msg, zoneIndex, bodyLen, set.rdatas.length);
    if (r < 0) return;
    this.finish(q, r, writeRRsetRecords(this.arena, r + NAME + q.qnameLen, set));
  }

  /** Hold the template `t` as the answer to q's question (written by writeAnswer). */
  addTemplate(q: Query, msg: Buffer, zoneIndex: number, t: Template): void {
    const r = this.start(q, msg, zoneIndex, 4, TEMPLATE);
    if (r < 0) return;
    const at = r + NAME + q.qnameLen;
    const index = this.templates.push(t) - 1;
    put16(this.arena, at, index >>> 16);
    put16(this.arena, at + 2, index & 0xffff);
    this.finish(q, r, at + 4);
  }

  /** The template of a template entry, or null for an RRset entry. */
  templateOf(r: number): Template | null {
    if (this.countOf(r) !== TEMPLATE) return null;
    const a = this.arena;
    const at = r + NAME + a[r + NAME_LEN]!;
    return this.templates[((a[at]! << 24) | (a[at + 1]! << 16) | (a[at + 2]! << 8) | a[at + 3]!) >>> 0]!;
  }

  /** Room and the head of a new entry for q's question; -1 when it is held already or does not fit. */
  private start(q: Query, msg: Buffer, zoneIndex: number, bodyLen: number, count: number): number {
    const nameLen = q.qnameLen;
    const size = NAME + nameLen + bodyLen;
    if (zoneIndex > 0xffff || this.find(q, msg) >= 0) return -1;
    if (this.used + size > this.arena.length && !this.growArena(this.used + size)) return -1;
    if (2 * (this.count + 1) > this.table.length / 2) this.growTable();
    const a = this.arena;
    const r = this.used;
    put16(a, r + TYPE, q.qtype);
    put16(a, r + ZONE, zoneIndex);
    put16(a, r + COUNT, count);
    put16(a, r + BODY_LEN, bodyLen);
    a[r + NAME_LEN] = nameLen;
    msg.copy(a, r + NAME, 12, 12 + nameLen);
    foldAscii(a, r + NAME, r + NAME + nameLen);
    return r;
  }

  private finish(q: Query, r: number, end: number): void {
    this.used = end;
    this.insert(q.hash ^ Math.imul(q.qtype, TYPE_MIX), r);
    this.count++;
  }

  /** The arena and where a found record's parts are, for writeFlatAnswer. */
  get octets(): Uint8Array {
    return this.arena;
  }

  zoneOf(r: number): number {
    return (this.arena[r + ZONE]! << 8) | this.arena[r + ZONE + 1]!;
  }

  countOf(r: number): number {
    return (this.arena[r + COUNT]! << 8) | this.arena[r + COUNT + 1]!;
  }

  bodyLenOf(r: number): number {
    return (this.arena[r + BODY_LEN]! << 8) | this.arena[r + BODY_LEN + 1]!;
  }

  bodyOf(r: number): number {
    return r + NAME + this.arena[r + NAME_LEN]!;
  }

  private insert(h: number, r: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let i = (h << 1) & mask;
    while (table[i + 1] !== 0) i = (i + 2) & mask;
    table[i] = h;
    table[i + 1] = r + 1;
  }

  private growTable(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.insert(old[i]!, old[i + 1]! - 1);
  }

  private growArena(need: number): boolean {
    if (need > this.maxBytes) return false;
    let n = this.arena.length;
    while (n < need) n *= 2;
    const next = new Uint8Array(Math.min(n, this.maxBytes));
    next.set(this.arena.subarray(0, this.used));
    this.arena = next;
    return true;
  }
}

function put16(a: Uint8Array, at: number, v: number): void {
  a[at] = v >>> 8;
  a[at + 1] = v;
}

/** The stored (lower-case) name equals the question name at msg[12…], ASCII case folded. */
function sameName(a: Uint8Array, at: number, msg: Buffer, len: number): boolean {
  for (let i = 0; i < len; i++) {
    let c = msg[12 + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== a[at + i]) return false;
  }
  return true;
}
