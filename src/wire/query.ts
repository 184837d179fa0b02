// Decodes what an authoritative server needs from a query, by hand and without allocating: the
// header (RFC 1035 §4.1.1), the single question (§4.1.2) with a hash of its name, and the OPT record
// (RFC 6891 §6.1). Answer/authority records of a query are skipped, never decoded. The name's lookup
// key (a string) is made only when the flat answer table cannot answer (Query.key).

import { RRType } from "./constants.js";

export const enum Verdict {
  /** Answerable (the question may still be for something we refuse). */
  OK,
  /** Not worth an answer: too short for a header, or a response (QR=1). */
  DROP,
  /** A header could be read but the message is malformed. */
  FORMERR,
}

/** One reusable decoded query: the server is single-threaded and answers synchronously. */
export class Query {
  id = 0;
  flags = 0;
  opcode = 0;
  qdcount = 0;
  /** The question could be read: qname, qtype, qclass. */
  hasQuestion = false;
  /** Octets of the question name as sent. */
  qnameLen = 0;
  qtype = 0;
  qclass = 0;
  /** FNV-1a (32-bit) of the lower-cased question name's wire octets (see answer/flat-answers.ts). */
  hash = 0;
  /** The question name as sent has an upper-case ASCII letter. */
  upper = false;
  /** The message the question was read from (for `key`, made only when asked for). */
  msg: Buffer = EMPTY;
  private keyText: string | null = "";
  edns = false;
  ednsSize = 0;
  ednsVersion = 0;
  ednsDo = false;
  /** Offset of the OPT record's RDATA (options) in the message, for later use (cookies, NSID). */
  ednsOptionsAt = 0;
  ednsOptionsLen = 0;
  /** Message offset of the first byte after the question. */
  questionEnd = 0;

  /**
   * Lower-cased wire form of the question name as a latin1 string (see wire/name.ts): the lookup key.
   * Made on first use, so a query answered from the flat table (answer/flat-answers.ts) makes none.
   */
  get key(): string {
    if (this.keyText === null) this.keyText = makeKey(this.msg, this.qnameLen, this.upper);
    return this.keyText;
  }

  set key(k: string) {
    this.keyText = k;
  }

  /** Forget the key of the previous question (decodeQuery). */
  clearKey(): void {
    this.keyText = null;
  }
}

const EMPTY = Buffer.alloc(0);

const scratch = Buffer.allocUnsafe(255);

function makeKey(msg: Buffer, len: number, upper: boolean): string {
  if (!upper) return msg.toString("latin1", 12, 12 + len);
  for (let i = 0; i < len; i++) {
    const c = msg[12 + i]!;
    scratch[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  return scratch.toString("latin1", 0, len);
}

/** FNV-1a's offset basis and prime (32-bit). */
const FNV_BASIS = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** Skip a possibly compressed name starting at `off`; returns the offset after it, or -1 if malformed. */
function skipName(msg: Buffer, off: number, end: number): number {
  for (let labels = 0; labels < 128; labels++) {
    if (off >= end) return -1;
    const len = msg[off]!;
    if (len === 0) return off + 1;
    const kind = len & 0xc0;
    if (kind === 0xc0) return off + 2 <= end ? off + 2 : -1;
    if (kind !== 0) return -1;
    off += len + 1;
  }
  return -1;
}

export function decodeQuery(msg: Buffer, q: Query): Verdict {
  const end = msg.length;
  q.hasQuestion = false;
  q.edns = false;
  q.ednsDo = false;
  q.ednsVersion = 0;
  if (end < 12) return Verdict.DROP;
  const flags = (msg[2]! << 8) | msg[3]!;
  if (flags & 0x8000) return Verdict.DROP;
  q.id = (msg[0]! << 8) | msg[1]!;
  q.flags = flags;
  q.opcode = (flags >> 11) & 0xf;
  const qd = (msg[4]! << 8) | msg[5]!;
  const an = (msg[6]! << 8) | msg[7]!;
  const ns = (msg[8]! << 8) | msg[9]!;
  const ar = (msg[10]! << 8) | msg[11]!;
  q.qdcount = qd;
  let off = 12;
  if (qd > 1) {
    // Not answerable, but find the OPT so the FORMERR carries one (RFC 6891 §7).
    for (let i = 0; i < qd; i++) {
      off = skipName(msg, off, end);
      if (off < 0 || off + 4 > end) return Verdict.FORMERR;
      off += 4;
    }
    q.questionEnd = off;
    findOpt(msg, off, end, an, ns, ar, q);
    return Verdict.FORMERR;
  }
  if (qd === 1) {
    // The question name: plain labels only (a pointer here could only point into the header).
    // Its hash is of the lower-cased octets; the key string is made only if asked for (Query.key).
    let upper = false;
    let h = FNV_BASIS;
    for (;;) {
      if (off >= end) return Verdict.FORMERR;
      const len = msg[off]!;
      if (len > 63 || off + len + 1 > end) return Verdict.FORMERR;
      h = Math.imul(h ^ len, FNV_PRIME);
      for (let i = off + 1, stop = off + 1 + len; i < stop; i++) {
        let c = msg[i]!;
        if (c >= 0x41 && c <= 0x5a) {
          upper = true;
          c |= 0x20;
        }
        h = Math.imul(h ^ c, FNV_PRIME);
      }
      off += len + 1;
      if (off - 12 > 255) return Verdict.FORMERR;
      if (len === 0) break;
    }
    if (off + 4 > end) return Verdict.FORMERR;
    q.qnameLen = off - 12;
    q.hash = h;
    q.upper = upper;
    q.msg = msg;
    q.clearKey();
    q.qtype = (msg[off]! << 8) | msg[off + 1]!;
    q.qclass = (msg[off + 2]! << 8) | msg[off + 3]!;
    off += 4;
    q.hasQuestion = true;
  }
  q.questionEnd = off;
  // A query carries no answer or authority records (Knot DNS answers FORMERR, and so do we).
  if (an !== 0 || ns !== 0) return Verdict.FORMERR;
  return findOpt(msg, off, end, 0, 0, ar, q);
}

/** Walk the records after the question, noting the OPT (RFC 6891 §6.1.1); OK only if they end the message. */
function findOpt(msg: Buffer, off: number, end: number, an: number, ns: number, ar: number, q: Query): Verdict {
  const records = an + ns + ar;
  for (let i = 0; i < records; i++) {
    off = skipName(msg, off, end);
    if (off < 0 || off + 10 > end) return Verdict.FORMERR;
    const type = msg.readUInt16BE(off);
    const rdlen = msg.readUInt16BE(off + 8);
    const rdata = off + 10;
    if (rdata + rdlen > end) return q.edns ? formerrWithoutOpt(q) : Verdict.FORMERR;
    if (type === RRType.OPT) {
      // RFC 6891 §6.1.1: one OPT, in the additional section. Its owner should be the root; like Knot
      // DNS we do not insist.
      if (q.edns || i < an + ns) return formerrWithoutOpt(q);
      q.edns = true;
      q.ednsSize = msg.readUInt16BE(off + 2);
      q.ednsVersion = msg[off + 5]!;
      q.ednsDo = (msg[off + 6]! & 0x80) !== 0;
      q.ednsOptionsAt = rdata;
      q.ednsOptionsLen = rdlen;
      // Options must be well formed (code, length, data) and fill the RDATA exactly.
      let o = rdata;
      while (o < rdata + rdlen) {
        if (o + 4 > rdata + rdlen) return formerrWithoutOpt(q);
        o += 4 + msg.readUInt16BE(o + 2);
      }
      if (o !== rdata + rdlen) return formerrWithoutOpt(q);
    }
    off = rdata + rdlen;
  }
  // Bytes after the last record: malformed (Knot DNS: FORMERR).
  if (off !== end) return Verdict.FORMERR;
  return Verdict.OK;
}

/** A broken OPT is not echoed (as Knot DNS does): the FORMERR carries no OPT. */
function formerrWithoutOpt(q: Query): Verdict {
  q.edns = false;
  return Verdict.FORMERR;
}

/**
 * True for a message a transfer handler may want: opcode NOTIFY, or a QUERY whose first question is
 * AXFR or IXFR. Reads a few bytes; never throws.
 */
export function peekSpecial(msg: Buffer): boolean {
  if (msg.length < 12) return false;
  const opcode = (msg[2]! >> 3) & 0xf;
  if (opcode === 4) return true;
  if (opcode !== 0 || msg[5] === 0) return false;
  let off = 12;
  for (let i = 0; i < 128 && off < msg.length; i++) {
    const len = msg[off]!;
    if (len === 0) {
      if (off + 3 > msg.length) return false;
      const qtype = (msg[off + 1]! << 8) | msg[off + 2]!;
      return qtype === RRType.AXFR || qtype === RRType.IXFR;
    }
    if (len > 63) return false;
    off += len + 1;
  }
  return false;
}
