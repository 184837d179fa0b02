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
  // Most owners hold one record: the map holds it directly and grows an array only when needed.
  const byOwner = new Map<string, SourcedRR | SourcedRR[]>();
  const multis = new Map<string, Multi>(); // RRsets with two or more records, by key + type
  const kept: SourcedRR[] = [];
  for (const rr of records) {
    const k = rr.owner.key;
    const at = byOwner.get(k);
    if (at === undefined) {
      byOwner.set(k, rr);
      kept.push(rr);
      continue;
    }
    let list: SourcedRR[];
    if (Array.isArray(at)) list = at;
    else {
      list = [at];
      byOwner.set(k, list);
    }
    let sameType = false;
    let dup = false;
    let id: string | null = null;
    for (const m of list) {
      if (m.type !== rr.type) continue;
      sameType = true;
      if (m.rdata.equals(rr.rdata) || rdataIdentity(m.type, m.rdata) === (id ??= rdataIdentity(rr.type, rr.rdata))) {
        dup = true;
        break;
      }
    }
    if (sameType) {
      const mk = k + String.fromCharCode(rr.type);
      let set = multis.get(mk);
      if (!set) {
        const members = list.filter((m) => m.type === rr.type);
        set = { members, ttl: members[members.length - 1]!.ttl, mismatch: null };
        multis.set(mk, set);
      }
      if (rr.ttl !== set.ttl && set.mismatch === null) set.mismatch = rr;
      set.ttl = rr.ttl;
      if (!dup) set.members.push(rr);
    }
    if (!dup) {
      list.push(rr);
      kept.push(rr);
    }
  }
  const notices: SourceError[] = [];
  for (const s of multis.values()) {
    if (s.mismatch === null) continue;
    const first = s.members[0]!;
    const m = s.mismatch;
    notices.push({
      file: m.file,
      line: m.line,
      message:
        `TTL ${m.ttl} differs from TTL ${first.ttl} of the ${typeToText(first.type)} record at ${nameToText(first.owner)} ` +
        `on line ${first.line}; an RRset has one TTL (RFC 2181 §5.2), so all get ${s.ttl}, the last one given (as Knot does)`,
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
  const byOwner = new Map<string, SourcedRR | SourcedRR[]>();
  const groups: SourcedRR[][] = [];
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
    const at = byOwner.get(key);
    if (at === undefined) byOwner.set(key, rr);
    else if (Array.isArray(at)) at.push(rr);
    else {
      const g = [at, rr];
      byOwner.set(key, g);
      groups.push(g);
    }
  }
  for (const g of groups) checkOwner(g, errors);
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
