// Zone content checks after parsing: CNAME/DNAME exclusivity (RFC 1034 §3.6.2, RFC 2181 §10.1,
// RFC 6672 §2.4), SOA and NS at the apex (RFC 1035 §5.2), data outside the zone; RRset merging.

import { RRType, typeToText } from "../wire/constants.js";
import { isAtOrBelow, nameToText, type Name } from "../wire/name.js";
import { rdataLayout, uncompressedNameLength } from "../wire/rdata.js";
import type { SourceError, SourcedRR } from "./rr.js";

/**
 * Identity of an RDATA for duplicate detection: the bytes with the domain names in it folded to
 * lower case (RFC 4034 §6.2 canonical form, RFC 4343), so `CNAME Foo.` and `CNAME foo.` are one record.
 */
export function rdataIdentity(type: number, rdata: Buffer): string {
  const layout = rdataLayout(type);
  if (layout.length === 1 && "rest" in layout[0]! && type !== RRType.NAPTR) return rdata.toString("latin1");
  const folded = Buffer.from(rdata);
  try {
    if (type === RRType.NAPTR) {
      let off = 4;
      for (let k = 0; k < 3; k++) off += 1 + folded[off]!;
      foldRange(folded, off, off + uncompressedNameLength(folded, off));
    } else {
      let off = 0;
      for (const p of layout) {
        if ("name" in p) {
          const len = uncompressedNameLength(folded, off);
          foldRange(folded, off, off + len);
          off += len;
        } else if ("fixed" in p) off += p.fixed;
        else break;
      }
    }
  } catch {
    // Malformed stored RDATA: compare bytes as they are.
  }
  return folded.toString("latin1");
}

function foldRange(b: Buffer, from: number, to: number): void {
  for (let i = from; i < to && i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x41 && c <= 0x5a) b[i] = c | 0x20;
  }
}

/**
 * Owner key → dense id through an open-addressing table over FNV-1a hashes, sized once for `n`
 * keys. For a million owners this is several times faster than a Map (no rehashing, no per-entry
 * objects), and both passes over a large zone use it.
 */
export class OwnerIds {
  private readonly slots: Int32Array;
  private readonly hashes: Int32Array;
  private readonly mask: number;
  readonly keys: string[] = [];

  constructor(n: number) {
    let cap = 16;
    while (cap < n * 2) cap *= 2;
    this.slots = new Int32Array(cap).fill(-1);
    this.hashes = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.keys.length;
  }

  /** The id of `key`; a new key gets the next id (== size before the call). At most `n` keys. */
  idOf(key: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    let p = h & this.mask;
    for (;;) {
      const id = this.slots[p]!;
      if (id === -1) {
        const nid = this.keys.length;
        this.slots[p] = nid;
        this.hashes[p] = h;
        this.keys.push(key);
        return nid;
      }
      if (this.hashes[p] === h && this.keys[id] === key) return id;
      p = (p + 1) & this.mask;
    }
  }
}

/**
 * Merge what Knot DNS 3.2 merges when it loads a zone: identical records (same owner, type and
 * RDATA, names compared case-insensitively) are kept once, silently; an RRset whose records give
 * different TTLs gets the TTL of its last record, with a notice (Knot: "TTL mismatch … TTL set to").
 * Returns the kept records in file order (the first copy of a duplicate keeps its place and case).
 */
export function mergeRRsets(records: SourcedRR[]): { records: SourcedRR[]; notices: SourceError[] } {
  interface Multi {
    members: SourcedRR[];
    ttl: number;
    mismatch: SourcedRR | null;
  }
  const n = records.length;
  const ids = new OwnerIds(n);
  // Kept records per owner as a chain of indexes into `records`: first[owner] → next[i] → … → -1.
  const first = new Int32Array(n);
  const last = new Int32Array(n);
  const next = new Int32Array(n);
  const multis = new Map<string, Multi>(); // RRsets with two or more records, by key + type
  const kept: SourcedRR[] = [];
  for (let i = 0; i < n; i++) {
    const rr = records[i]!;
    const before = ids.size;
    const o = ids.idOf(rr.owner.key);
    next[i] = -1;
    if (o === before) {
      first[o] = i;
      last[o] = i;
      kept.push(rr);
      continue;
    }
    let sameType = false;
    let dup = false;
    let id: string | null = null;
    for (let j = first[o]!; j !== -1; j = next[j]!) {
      const m = records[j]!;
      if (m.type !== rr.type) continue;
      sameType = true;
      if (m.rdata.equals(rr.rdata) || rdataIdentity(m.type, m.rdata) === (id ??= rdataIdentity(rr.type, rr.rdata))) {
        dup = true;
        break;
      }
    }
    if (sameType) {
      const mk = rr.owner.key + String.fromCharCode(rr.type);
      let set = multis.get(mk);
      if (!set) {
        const members: SourcedRR[] = [];
        for (let j = first[o]!; j !== -1; j = next[j]!) if (records[j]!.type === rr.type) members.push(records[j]!);
        set = { members, ttl: members[members.length - 1]!.ttl, mismatch: null };
        multis.set(mk, set);
      }
      if (rr.ttl !== set.ttl && set.mismatch === null) set.mismatch = rr;
      set.ttl = rr.ttl;
      if (!dup) set.members.push(rr);
    }
    if (!dup) {
      next[last[o]!] = i;
      last[o] = i;
      kept.push(rr);
    }
  }
  const notices: SourceError[] = [];
  for (const s of multis.values()) {
    if (s.mismatch === null) continue;
    const f = s.members[0]!;
    const m = s.mismatch;
    notices.push({
      file: m.file,
      line: m.line,
      message:
        `TTL ${m.ttl} differs from TTL ${f.ttl} of the ${typeToText(f.type)} record at ${nameToText(f.owner)} ` +
        `on line ${f.line}; an RRset has one TTL (RFC 2181 §5.2), so all get ${s.ttl}, the last one given (as Knot does)`,
    });
    for (const r of s.members) r.ttl = s.ttl;
  }
  sortByPlace(notices);
  return { records: kept, notices };
}

/** Errors in file order: files as they first appear, lines ascending, whole-file errors (line 0) last. */
function sortByPlace(errors: SourceError[]): SourceError[] {
  const rank = new Map<string, number>();
  for (const e of errors) if (!rank.has(e.file)) rank.set(e.file, rank.size);
  const at = (e: SourceError) => (e.line === 0 ? Number.MAX_SAFE_INTEGER : e.line);
  return errors.sort((a, b) => rank.get(a.file)! - rank.get(b.file)! || at(a) - at(b));
}

/** RRSIG and NSEC may sit beside a CNAME (RFC 4035 §2.5, RFC 2181 §10.1). */
function allowedBesideCname(type: number): boolean {
  return type === RRType.CNAME || type === RRType.RRSIG || type === RRType.NSEC;
}

/**
 * Problems that make the zone unusable, each with the file and line of the record at fault
 * (`file` and line 0 for a missing apex record). Duplicate records are ignored here.
 */
export function checkZoneContent(records: SourcedRR[], origin: Name, file: string): SourceError[] {
  const errors: SourceError[] = [];
  const originText = nameToText(origin);
  const apexKey = origin.key;
  // Owners with one record (most of a large zone) are checked on the way; others are grouped.
  const ids = new OwnerIds(records.length);
  const firstAt: SourcedRR[] = [];
  const groups = new Map<number, SourcedRR[]>();
  let apexSoa: SourcedRR | undefined;
  let apexNs = false;
  for (const rr of records) {
    const key = rr.owner.key;
    if (!isAtOrBelow(key, apexKey)) {
      errors.push({
        file: rr.file,
        line: rr.line,
        message:
          `${nameToText(rr.owner)} is outside the zone ${originText}; records must be at or below the origin ` +
          `(check $ORIGIN, or a name written with a trailing dot by mistake)`,
      });
      continue;
    }
    if (key === apexKey) {
      if (rr.type === RRType.NS) apexNs = true;
      else if (rr.type === RRType.SOA) {
        if (!apexSoa) apexSoa = rr;
        else if (!apexSoa.rdata.equals(rr.rdata)) {
          errors.push({
            file: rr.file,
            line: rr.line,
            message: `second SOA record at ${originText} (the first is on line ${apexSoa.line}); a zone has exactly one SOA (RFC 1035 §5.2)`,
          });
        }
      }
    } else if (rr.type === RRType.SOA) {
      errors.push({
        file: rr.file,
        line: rr.line,
        message: `SOA record at ${nameToText(rr.owner)}, which is not the zone apex ${originText}; an SOA belongs only at the apex (RFC 1035 §5.2)`,
      });
    }
    const before = ids.size;
    const o = ids.idOf(key);
    if (o === before) firstAt.push(rr);
    else {
      const g = groups.get(o);
      if (g) g.push(rr);
      else groups.set(o, [firstAt[o]!, rr]);
    }
  }
  for (const g of groups.values()) checkOwner(g, errors);
  if (!apexSoa) {
    errors.push({ file, line: 0, message: `no SOA record at the zone apex ${originText}; add one, e.g. "@ SOA ns1 hostmaster 1 1h 15m 1w 1h" (RFC 1035 §5.2)` });
  }
  if (!apexNs) {
    errors.push({ file, line: 0, message: `no NS record at the zone apex ${originText}; add at least one, e.g. "@ NS ns1" (RFC 1035 §5.2)` });
  }
  return sortByPlace(errors);
}

/** CNAME and DNAME rules for the records of one owner name (duplicates ignored). */
function checkOwner(list: SourcedRR[], errors: SourceError[]): void {
  let cname: SourcedRR | undefined;
  let dname: SourcedRR | undefined;
  let other: SourcedRR | undefined;
  const seen = new Set<string>();
  for (const rr of list) {
    const id = rr.type + ":" + rdataIdentity(rr.type, rr.rdata);
    if (seen.has(id)) continue;
    seen.add(id);
    if (rr.type === RRType.CNAME) {
      if (cname) {
        errors.push({
          file: rr.file,
          line: rr.line,
          message: `second CNAME at ${nameToText(rr.owner)} (the first is on line ${cname.line}); a name can have only one CNAME (RFC 2181 §10.1)`,
        });
      } else cname = rr;
    } else if (rr.type === RRType.DNAME) {
      if (dname) {
        errors.push({
          file: rr.file,
          line: rr.line,
          message: `second DNAME at ${nameToText(rr.owner)} (the first is on line ${dname.line}); a name can have only one DNAME (RFC 6672 §2.4)`,
        });
      } else dname = rr;
    }
    if (!allowedBesideCname(rr.type) && !other) other = rr;
  }
  if (cname && other) {
    const later = cname.file === other.file && cname.line < other.line ? other : cname;
    errors.push({
      file: later.file,
      line: later.line,
      message:
        `CNAME at ${nameToText(cname.owner)} beside other data (${typeToText(other.type)} on line ${other.line}, ` +
        `CNAME on line ${cname.line}); a name with a CNAME can have no other records (RFC 1034 §3.6.2, RFC 2181 §10.1)`,
    });
  }
}
