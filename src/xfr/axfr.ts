// AXFR answers (RFC 5936): over TCP only (§4.2); the zone's SOA first and last with every other record
// between (§2.2); as many messages as it takes, each under 64 KiB, names compressed within each
// (RFC 1035 §4.1.4), the question repeated in every message (§2.2.1 allows one in each). Also the
// packing IXFR shares: any sequence of records into messages.

import { BodyWriter } from "../wire/body-writer.js";
import { Flag, RRType } from "../wire/constants.js";
import type { Name } from "../wire/name.js";
import type { RR } from "../zone/rr.js";
import type { Version } from "./journal.js";
import type { Message } from "./message.js";

/** What every message of one answer repeats: the ID, RD, the question as sent, and an OPT if the query had one. */
export interface Frame {
  id: number;
  rd: boolean;
  /** The question's bytes as sent (its name is the zone's apex, in the client's case). */
  question: Buffer;
  origin: Name;
  edns: boolean;
}

/**
 * A message is closed once it holds this much: big enough that headers and TSIGs cost little, small
 * enough that names stay compressible (pointers reach 16 KiB) and a slow client gets data early.
 */
export const MESSAGE_TARGET = 16 * 1024;
/** No message grows past this, leaving room for a TSIG and an OPT under 65535 (RFC 1035 §4.2.2). */
export const MESSAGE_MAX = 65535 - 1024;
/** The UDP payload size hadns advertises (as the query path does). */
const OUR_UDP_PAYLOAD = 1232;

export function frameOf(msg: Buffer, m: Message, origin: Name): Frame {
  const q = m.question!;
  return {
    id: m.id,
    rd: (m.flags & Flag.RD) !== 0,
    question: Buffer.from(msg.subarray(q.start, q.end)),
    origin,
    edns: m.additional.some((rr) => rr.type === RRType.OPT),
  };
}

function header(f: Frame, rcode: number, an: number, qd: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(f.id, 0);
  h.writeUInt16BE(Flag.QR | Flag.AA | (f.rd ? Flag.RD : 0) | (rcode & 0xf), 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  h.writeUInt16BE(f.edns ? 1 : 0, 10);
  return h;
}

function opt(): Buffer {
  const o = Buffer.alloc(11);
  o.writeUInt16BE(RRType.OPT, 1);
  o.writeUInt16BE(OUR_UDP_PAYLOAD, 3);
  return o;
}

function finish(f: Frame, w: BodyWriter, count: number): Buffer {
  const parts = [header(f, 0, count, 1), f.question, w.finish().body];
  if (f.edns) parts.push(opt());
  return Buffer.concat(parts);
}

/** An answer with no records and this RCODE (REFUSED, NOTAUTH, FORMERR…); the question echoed when there is one. */
export function emptyAnswer(f: Frame, rcode: number, opcode = 0): Buffer {
  const parts = [header(f, rcode, 0, f.question.length > 0 ? 1 : 0), f.question];
  if (f.edns) parts.push(opt());
  const out = Buffer.concat(parts);
  // Only AXFR/IXFR answers are authoritative; an error answer is not (as Knot DNS sends them).
  out.writeUInt16BE((out.readUInt16BE(2) & ~Flag.AA & ~(0xf << 11)) | ((opcode & 0xf) << 11), 2);
  return out;
}

/** The most one record can take in a message: compression only makes it smaller. */
function uncompressedSize(rr: RR): number {
  return rr.owner.key.length + 10 + rr.rdata.length; // the key is the wire form, lower-cased: same length, nothing built
}

/** Pack records into messages of about `target` octets (never over MESSAGE_MAX), in order. */
export function packRecords(f: Frame, records: readonly RR[], target = MESSAGE_TARGET): Buffer[] {
  const out: Buffer[] = [];
  const base = 12 + f.question.length;
  let w = new BodyWriter(f.origin);
  let count = 0;
  for (const rr of records) {
    const size = uncompressedSize(rr);
    if (count > 0 && (base + w.length + size > target || base + w.length + size > MESSAGE_MAX)) {
      out.push(finish(f, w, count));
      w = new BodyWriter(f.origin);
      count = 0;
    }
    w.writeRR(rr.owner, rr.type, rr.class, rr.ttl, rr.rdata);
    count++;
  }
  if (count > 0 || out.length === 0) out.push(finish(f, w, count));
  return out;
}

/** The records of a full transfer: SOA, the rest, SOA (RFC 5936 §2.2). */
export function axfrRecords(v: Version): RR[] {
  return [v.soa, ...v.records.values(), v.soa];
}

/** The messages of an AXFR answer (unsigned: the handler signs each). */
export function axfrMessages(f: Frame, v: Version, target = MESSAGE_TARGET): Buffer[] {
  return packRecords(f, axfrRecords(v), target);
}
