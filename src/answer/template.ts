// Compiles an Outcome into a Template: the response's sections as ready wire bytes, with what is
// needed to finish it per query (pointer relocations, RRset boundaries for truncation).

import { Flag, RRType } from "../wire/constants.js";
import { edeOption } from "../wire/response.js";
import { BodyWriter } from "../wire/body-writer.js";
import type { Name } from "../wire/name.js";
import type { Outcome, OutRRset } from "./outcome.js";

export interface Template {
  /** Header flags without RD/CD (copied per query): QR, AA and the low 4 bits of the rcode. */
  readonly flags: number;
  /** Upper 8 bits of a 12-bit rcode, carried in the OPT TTL (RFC 6891 §6.1.3). */
  readonly extRcode: number;
  /** Wire length of the known part of the question name the body was encoded against. */
  readonly suffixLen: number;
  readonly body: Buffer;
  /** Body offsets of compression pointers that move with the query name's length. */
  readonly relocs: readonly number[];
  /** Per RRset, in order: end offset in body, section (0 answer, 1 authority, 2 additional), record count. */
  readonly setEnds: readonly number[];
  readonly setSections: readonly number[];
  readonly setCounts: readonly number[];
  readonly counts: readonly [number, number, number];
  /** A referral: glue that does not fit over UDP sets TC (RFC 9471 §3; Knot DNS does so). */
  readonly glueRequired: boolean;
  /** An encoded EDNS option to add when the client sent EDNS (RFC 8914 Extended DNS Error), or null. */
  readonly ednsOption: Buffer | null;
  /** The RRsets as decided, for explain/status and tests. */
  readonly outcome: Outcome;
}

const NONE: readonly number[] = [];
const ZERO: readonly number[] = [0];

/**
 * The common case without the general encoder: one RRset in the answer, owned by the query name,
 * whose RDATA holds no compressible name (A, AAAA, TXT…): each record is a pointer to the question,
 * type, class, TTL and the RDATA as stored. Same bytes as compileTemplate gives.
 */
export function simpleAnswerTemplate(outcome: Outcome, set: OutRRset, questionSuffix: Name): Template {
  let size = 0;
  for (const rd of set.rdatas) size += 12 + rd.length;
  const body = Buffer.allocUnsafe(size);
  let o = 0;
  for (const rd of set.rdatas) {
    body[o] = 0xc0;
    body[o + 1] = 0x0c;
    body.writeUInt16BE(set.type, o + 2);
    body.writeUInt16BE(set.class, o + 4);
    body.writeUInt32BE(set.ttl >>> 0, o + 6);
    body.writeUInt16BE(rd.length, o + 10);
    rd.copy(body, o + 12);
    o += 12 + rd.length;
  }
  const n = set.rdatas.length;
  return {
    flags: Flag.QR | Flag.AA | (outcome.rcode & 0xf),
    extRcode: outcome.rcode >> 4,
    suffixLen: questionSuffix.wire.length,
    body,
    relocs: NONE,
    setEnds: [size],
    setSections: ZERO,
    setCounts: [n],
    counts: [n, 0, 0],
    glueRequired: false,
    ednsOption: null,
    outcome,
  };
}

export function compileTemplate(outcome: Outcome, questionSuffix: Name): Template {
  const w = new BodyWriter(questionSuffix);
  const ends: number[] = [];
  const sections: number[] = [];
  const rrCounts: number[] = [];
  const counts: [number, number, number] = [0, 0, 0];
  const put = (sets: OutRRset[], section: 0 | 1 | 2) => {
    for (const s of sets) {
      for (const rd of s.rdatas) w.writeRR(s.owner, s.type, s.class, s.ttl, rd);
      ends.push(w.length);
      sections.push(section);
      rrCounts.push(s.rdatas.length);
      counts[section] += s.rdatas.length;
    }
  };
  put(outcome.answer, 0);
  put(outcome.authority, 1);
  // Nothing points into the additional section, so any of its RRsets can be left out over UDP.
  w.freeze();
  put(outcome.additional, 2);
  const { body, relocs } = w.finish();
  let flags = Flag.QR | (outcome.rcode & 0xf);
  if (outcome.aa) flags |= Flag.AA;
  const ednsOption = outcome.ede ? edeOption(outcome.ede.code, outcome.ede.text) : null;
  return {
    flags,
    extRcode: outcome.rcode >> 4,
    suffixLen: questionSuffix.wire.length,
    body,
    relocs,
    setEnds: ends,
    setSections: sections,
    setCounts: rrCounts,
    counts,
    glueRequired: outcome.authority.some((s) => s.type === RRType.NS),
    ednsOption,
    outcome,
  };
}
