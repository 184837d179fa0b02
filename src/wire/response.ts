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
  let bodyLen = t.body.length;
  let an = t.counts[0];
  let ns = t.counts[1];
  let ar = t.counts[2];
  let tc = 0;
  if (qEnd + bodyLen + optLen > limit) {
    // Keep whole RRsets in order while they fit.
    const room = limit - qEnd - optLen;
    an = ns = ar = 0;
    bodyLen = 0;
    const n = t.setEnds.length;
    for (let i = 0; i < n; i++) {
      if (t.setEnds[i]! > room) {
        // Answer or authority data (or a referral's glue) that does not fit sets TC.
        if (t.setSections[i]! < 2 || t.glueRequired) tc = 0x0200;
        break;
      }
      bodyLen = t.setEnds[i]!;
      const c = t.setCounts[i]!;
      const s = t.setSections[i]!;
      if (s === 0) an += c;
      else if (s === 1) ns += c;
      else ar += c;
    }
  }
  const size = qEnd + bodyLen + optLen;
  const out = Buffer.allocUnsafe(size);
  // Header and question by hand: for a few dozen bytes this beats Buffer#copy's native call.
  const flags = t.flags | tc | (q.flags & COPIED_FLAGS);
  const arOut = q.edns ? ar + 1 : ar;
  out[0] = q.id >> 8;
  out[1] = q.id;
  out[2] = flags >> 8;
  out[3] = flags;
  out[4] = 0;
  out[5] = 1;
  out[6] = an >> 8;
  out[7] = an;
  out[8] = ns >> 8;
  out[9] = ns;
  out[10] = arOut >> 8;
  out[11] = arOut;
  for (let i = 12; i < qEnd; i++) out[i] = msg[i]!;
  const body = t.body;
  if (bodyLen === body.length) out.set(body, qEnd);
  else out.set(body.subarray(0, bodyLen), qEnd);
  const delta = q.qnameLen - t.suffixLen;
  if (delta !== 0) {
    const relocs = t.relocs;
    for (let i = 0; i < relocs.length; i++) {
      const at = relocs[i]!;
      if (at >= bodyLen) break;
      const p = qEnd + at;
      const v = ((out[p]! << 8) | out[p + 1]!) + delta;
      out[p] = v >> 8;
      out[p + 1] = v;
    }
  }
  if (q.edns) writeOpt(out, qEnd + bodyLen, q, t.extRcode, option);
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
