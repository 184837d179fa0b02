// Whole-message decoding for zone transfers and NOTIFY (RFC 1035 §4.1): header, question and every
// record with its offsets, names decompressed (§4.1.4). The query path never uses this; transfers need
// what it skips: the SOA in an IXFR's authority section (RFC 1995 §3) and a trailing TSIG (RFC 8945 §4.2).

import { MAX_NAME_WIRE, nameFromWire, type Name } from "../wire/name.js";

export class MessageError extends Error {}

export interface WireRecord {
  owner: Name;
  type: number;
  class: number;
  ttl: number;
  /** Offset of the record's first byte (its owner name) in the message. */
  start: number;
  /** Offset of the RDATA and its end; RDATA names may be compressed against the message. */
  rdataStart: number;
  end: number;
}

export interface Message {
  id: number;
  flags: number;
  opcode: number;
  qr: boolean;
  rcode: number;
  qdcount: number;
  /** The first question, when there is one. */
  question?: { name: Name; type: number; class: number; start: number; end: number };
  answer: WireRecord[];
  authority: WireRecord[];
  additional: WireRecord[];
}

/**
 * Read a possibly compressed name at `off`: the name (uncompressed, case kept) and the offset just
 * after it in the message. Pointers must point backwards (no loops).
 */
export function readName(msg: Buffer, off: number): { name: Name; next: number } {
  const parts: number[] = [];
  let next = -1;
  let pos = off;
  let size = 0;
  for (let hops = 0; hops < 128; hops++) {
    if (pos >= msg.length) throw new MessageError("name runs past the end of the message");
    const len = msg[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) throw new MessageError("compression pointer runs past the end");
      const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
      if (next < 0) next = pos + 2;
      if (target >= pos) throw new MessageError("compression pointer does not point backwards");
      pos = target;
      continue;
    }
    if (len & 0xc0) throw new MessageError("unknown label type");
    if (pos + 1 + len > msg.length) throw new MessageError("label runs past the end of the message");
    for (let i = pos; i <= pos + len; i++) parts.push(msg[i]!);
    size += len + 1;
    if (size > MAX_NAME_WIRE) throw new MessageError("name longer than 255 octets");
    if (len === 0) {
      if (next < 0) next = pos + 1;
      return { name: nameFromWire(Buffer.from(parts)), next };
    }
    pos += len + 1;
  }
  throw new MessageError("too many compression pointers");
}

function readRecord(msg: Buffer, off: number): WireRecord {
  const { name, next } = readName(msg, off);
  if (next + 10 > msg.length) throw new MessageError("record header runs past the end of the message");
  const rdlen = msg.readUInt16BE(next + 8);
  const rdataStart = next + 10;
  if (rdataStart + rdlen > msg.length) throw new MessageError("RDATA runs past the end of the message");
  return {
    owner: name,
    type: msg.readUInt16BE(next),
    class: msg.readUInt16BE(next + 2),
    ttl: msg.readUInt32BE(next + 4),
    start: off,
    rdataStart,
    end: rdataStart + rdlen,
  };
}

/** Decode a whole message; throws MessageError when it is malformed or has bytes after its last record. */
export function parseMessage(msg: Buffer): Message {
  if (msg.length < 12) throw new MessageError("shorter than a DNS header");
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const counts = [msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)] as const;
  const m: Message = {
    id: msg.readUInt16BE(0),
    flags,
    opcode: (flags >> 11) & 0xf,
    qr: (flags & 0x8000) !== 0,
    rcode: flags & 0xf,
    qdcount: qd,
    answer: [],
    authority: [],
    additional: [],
  };
  let off = 12;
  for (let i = 0; i < qd; i++) {
    const start = off;
    const { name, next } = readName(msg, off);
    if (next + 4 > msg.length) throw new MessageError("question runs past the end of the message");
    if (i === 0) m.question = { name, type: msg.readUInt16BE(next), class: msg.readUInt16BE(next + 2), start, end: next + 4 };
    off = next + 4;
  }
  const sections = [m.answer, m.authority, m.additional];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const rr = readRecord(msg, off);
      sections[s]!.push(rr);
      off = rr.end;
    }
  }
  if (off !== msg.length) throw new MessageError(`${msg.length - off} bytes after the last record`);
  return m;
}

/** The 32-bit SOA serial of a SOA record in a message (the first of its five trailing numbers). */
export function soaSerialAt(msg: Buffer, rr: WireRecord): number {
  if (rr.end - rr.rdataStart < 22) throw new MessageError("SOA RDATA too short");
  return msg.readUInt32BE(rr.end - 20);
}
