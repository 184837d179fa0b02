// Writes a response from a compiled template and the query as sent: ID, flags (RD copied, RFC 1035
// §4.1.1; like Knot DNS, nothing else of the query's flags), the question byte for byte (so 0x20 case comes back as sent),
// the precompiled sections, and an OPT when the query had one (RFC 6891 §6.1.1). Over UDP an answer
// that does not fit is cut at a whole RRset: dropping answer or authority data sets TC, dropping only
// additional data does not (RFC 2181 §9), except the glue of a referral (RFC 9471), as Knot DNS does.

import type { Query } from "./query.js";
import type { Template } from "../answer/template.js";

/** The UDP payload size we advertise and the most we send over UDP with EDNS (DNS flag day 2020). */
export const OUR_UDP_PAYLOAD = 1232;
const OPT_LEN = 11;
const COPIED_FLAGS = 0x0100; // RD

/** Largest UDP response for this query. */
export function udpLimit(q: Query): number {
  if (!q.edns) return 512;
  const size = q.ednsSize < 512 ? 512 : q.ednsSize;
  return size > OUR_UDP_PAYLOAD ? OUR_UDP_PAYLOAD : size;
}

function writeOpt(out: Buffer, at: number, q: Query, extRcode: number, option: Buffer | null): number {
  out[at] = 0;
  out.writeUInt16BE(41, at + 1);
  out.writeUInt16BE(OUR_UDP_PAYLOAD, at + 3);
  out[at + 5] = extRcode;
  out[at + 6] = 0; // version
  out[at + 7] = q.ednsDo ? 0x80 : 0;
  out[at + 8] = 0;
  if (option) {
    out.writeUInt16BE(option.length, at + 9);
    option.copy(out, at + 11);
    return at + 11 + option.length;
  }
  out.writeUInt16BE(0, at + 9);
  return at + 11;
}

export function writeAnswer(q: Query, msg: Buffer, t: Template, limit: number): Buffer {
  const qEnd = q.questionEnd;
  const option = q.edns ? t.ednsOption : null;
  const optLen = q.edns ? OPT_LEN + (option ? option.length : 0) : 0;
  if (qEnd + t.body.length + optLen > limit) return writeTruncated(q, msg, t, limit, optLen, option);
  const bodyLen = t.body.length;
  const size = qEnd + bodyLen + optLen;
  const out = Buffer.allocUnsafe(size);
  writeHeader(out, q, t.flags, t.counts[0], t.counts[1], t.counts[2]);
  // The question by hand: for a few dozen bytes this beats Buffer#copy's native call.
  for (let i = 12; i < qEnd; i++) out[i] = msg[i]!;
  out.set(t.body, qEnd);
  const delta = q.qnameLen - t.suffixLen;
  if (delta !== 0) {
    const relocs = t.relocs;
    for (let i = 0; i < relocs.length; i++) movePointer(out, qEnd + relocs[i]!, delta);
  }
  if (q.edns) writeOpt(out, qEnd + bodyLen, q, t.extRcode, option);
  return out;
}

/** An RRset as writeRRsetRecords reads it. */
export interface OwnRRset {
  type: number;
  class: number;
  ttl: number;
  rdatas: readonly Buffer[];
}

/** Octets of the RRset's records as writeRRsetRecords writes them. */
export function rrsetRecordsLength(set: OwnRRset): number {
  let n = 0;
  for (let i = 0; i < set.rdatas.length; i++) n += 12 + set.rdatas[i]!.length;
  return n;
}

/**
 * The records of a node's own RRset answering the question: each a pointer to the question name,
 * type, class, TTL and the RDATA as stored. Written at `o`; returns the offset after them. The one
 * encoding of these octets: per query (writeRRsetAnswer), held (answer/flat-answers.ts) and in a
 * compiled template (answer/template.ts simpleAnswerTemplate).
 */
export function writeRRsetRecords(out: Uint8Array, o: number, set: OwnRRset): number {
  const rdatas = set.rdatas;
  const type = set.type;
  const cls = set.class;
  const ttl = set.ttl >>> 0;
  for (let i = 0; i < rdatas.length; i++) {
    const rd = rdatas[i]!;
    const len = rd.length;
    out[o] = 0xc0;
    out[o + 1] = 0x0c;
    out[o + 2] = type >> 8;
    out[o + 3] = type;
    out[o + 4] = cls >> 8;
    out[o + 5] = cls;
    out[o + 6] = ttl >>> 24;
    out[o + 7] = ttl >>> 16;
    out[o + 8] = ttl >>> 8;
    out[o + 9] = ttl;
    out[o + 10] = len >> 8;
    out[o + 11] = len;
    o += 12;
    if (len <= 32) for (let k = 0; k < len; k++) out[o + k] = rd[k]!;
    else out.set(rd, o);
    o += len;
  }
  return o;
}

/**
 * The answer of a plain name (answer/engine.ts plainLane), written straight from its RRset: NOERROR,
 * AA, one RRset owned by the query name. Byte for byte what writeAnswer gives for
 * simpleAnswerTemplate of the same RRset, truncation included: a set that does not fit sets TC and
 * goes out empty.
 */
export function writeRRsetAnswer(q: Query, msg: Buffer, set: OwnRRset, limit: number): Buffer {
  const qEnd = q.questionEnd;
  const optLen = q.edns ? OPT_LEN : 0;
  const bodyLen = rrsetRecordsLength(set);
  const fits = qEnd + bodyLen + optLen <= limit;
  const out = Buffer.allocUnsafe(fits ? qEnd + bodyLen + optLen : qEnd + optLen);
  writeHeader(out, q, fits ? 0x8400 : 0x8600, fits ? set.rdatas.length : 0, 0, 0); // QR AA (and TC)
  for (let i = 12; i < qEnd; i++) out[i] = msg[i]!;
  const o = fits ? writeRRsetRecords(out, qEnd, set) : qEnd;
  if (q.edns) writeOpt(out, o, q, 0, null);
  return out;
}

/**
 * The answer held in a flat table (answer/flat-answers.ts): `count` records, `bodyLen` octets at
 * `src[body…]`, as writeRRsetRecords wrote them, and cut as writeRRsetAnswer cuts (TC, no records).
 * The same steps as writeRRsetAnswer around a copy, kept apart: sharing them through one helper
 * measured ~5 % slower per query in-process.
 */
export function writeFlatAnswer(q: Query, msg: Buffer, src: Uint8Array, body: number, bodyLen: number, count: number, limit: number): Buffer {
  const qEnd = q.questionEnd;
  const optLen = q.edns ? OPT_LEN : 0;
  const fits = qEnd + bodyLen + optLen <= limit;
  const out = Buffer.allocUnsafe(fits ? qEnd + bodyLen + optLen : qEnd + optLen);
  writeHeader(out, q, fits ? 0x8400 : 0x8600, fits ? count : 0, 0, 0); // QR AA (and TC)
  for (let i = 12; i < qEnd; i++) out[i] = msg[i]!;
  let o = qEnd;
  if (fits) {
    if (bodyLen <= 128) for (let k = 0; k < bodyLen; k++) out[o + k] = src[body + k]!;
    else out.set(src.subarray(body, body + bodyLen), o);
    o += bodyLen;
  }
  if (q.edns) writeOpt(out, o, q, 0, null);
  return out;
}

function writeHeader(out: Buffer, q: Query, flags: number, an: number, ns: number, ar: number): void {
  const f = flags | (q.flags & COPIED_FLAGS);
  const arOut = q.edns ? ar + 1 : ar;
  out[0] = q.id >> 8;
  out[1] = q.id;
  out[2] = f >> 8;
  out[3] = f;
  out[4] = 0;
  out[5] = 1;
  out[6] = an >> 8;
  out[7] = an;
  out[8] = ns >> 8;
  out[9] = ns;
  out[10] = arOut >> 8;
  out[11] = arOut;
}

function movePointer(out: Buffer, p: number, delta: number): void {
  const v = ((out[p]! << 8) | out[p + 1]!) + delta;
  out[p] = v >> 8;
  out[p + 1] = v;
}

/**
 * An answer that does not fit over UDP, as Knot DNS cuts it: answer and authority RRsets in order
 * while they fit (TC at the first that does not); then each additional RRset that fits, skipping
 * those that do not (no TC) — except a referral's glue, which stops at the first that does not fit
 * and sets TC (RFC 9471). Nothing points into the additional section (BodyWriter.freeze), so
 * leaving RRsets out there moves no pointer.
 */
function writeTruncated(q: Query, msg: Buffer, t: Template, limit: number, optLen: number, option: Buffer | null): Buffer {
  const qEnd = q.questionEnd;
  const room = limit - qEnd - optLen;
  const kept: number[] = []; // start, end pairs of body ranges
  const counts = [0, 0, 0];
  let used = 0;
  let tc = 0;
  let start = 0;
  for (let i = 0; i < t.setEnds.length; i++) {
    const end = t.setEnds[i]!;
    const section = t.setSections[i]!;
    const len = end - start;
    if (used + len <= room) {
      kept.push(start, end);
      used += len;
      counts[section]! += t.setCounts[i]!;
    } else if (section < 2 || t.glueRequired) {
      tc = 0x0200;
      break;
    }
    start = end;
  }
  const out = Buffer.allocUnsafe(qEnd + used + optLen);
  writeHeader(out, q, t.flags | tc, counts[0]!, counts[1]!, counts[2]!);
  for (let i = 12; i < qEnd; i++) out[i] = msg[i]!;
  const delta = q.qnameLen - t.suffixLen;
  let at = qEnd;
  let r = 0;
  const relocs = t.relocs;
  for (let k = 0; k < kept.length; k += 2) {
    const from = kept[k]!;
    const to = kept[k + 1]!;
    out.set(t.body.subarray(from, to), at);
    // Pointers inside a kept range move by delta; ranges before it were kept whole (only additional
    // RRsets are ever skipped, and nothing points into them).
    while (r < relocs.length && relocs[r]! < to) {
      if (relocs[r]! >= from && delta !== 0) movePointer(out, at + relocs[r]! - from, delta);
      r++;
    }
    at += to - from;
  }
  if (q.edns) writeOpt(out, at, q, t.extRcode, option);
  return out;
}

/**
 * An answer with no records: errors (FORMERR, NOTIMP, REFUSED, BADVERS…). The question is echoed
 * when it could be read; an OPT is added when the query had one.
 */
export function writeEmpty(q: Query, msg: Buffer, rcode: number, option: Buffer | null = null): Buffer {
  const qEnd = q.hasQuestion ? q.questionEnd : 12;
  const size = qEnd + (q.edns ? OPT_LEN + (option ? option.length : 0) : 0);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt16BE(q.id, 0);
  const flags = 0x8000 | (q.opcode << 11) | (q.flags & COPIED_FLAGS) | (rcode & 0xf);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(q.hasQuestion ? 1 : 0, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(q.edns ? 1 : 0, 10);
  if (q.hasQuestion) msg.copy(out, 12, 12, qEnd);
  if (q.edns) writeOpt(out, qEnd, q, rcode >> 4, option);
  return out;
}

/** Extended DNS Error option (RFC 8914 §2): code 15, info code, optional UTF-8 text. */
export function edeOption(infoCode: number, text = ""): Buffer {
  const t = Buffer.from(text, "utf8");
  const opt = Buffer.allocUnsafe(6 + t.length);
  opt.writeUInt16BE(15, 0);
  opt.writeUInt16BE(2 + t.length, 2);
  opt.writeUInt16BE(infoCode, 4);
  t.copy(opt, 6);
  return opt;
}
