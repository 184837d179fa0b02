// Compiles an Outcome into a Template: the response's sections as ready wire bytes, with what is
// needed to finish it per query (pointer relocations, RRset boundaries for truncation).

import { Flag, RRType } from "../wire/constants.js";
import { edeOption, rrsetRecordsLength, writeRRsetRecords } from "../wire/response.js";
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

/** Recomputes the Outcome of a compiled answer on demand (the engine's lanes), so templates need not keep it. */
export interface OutcomeSource {
  outcomeFor(qtype: number): Outcome;
}

const NONE: readonly number[] = [];
const EMPTY_SETS: readonly OutRRset[] = [];

// A large zone compiles a million templates: each small array they hold is shared where its
// content is common ([n, 0, 0], [size]) and made exact-length otherwise (an array grown by push
// keeps room for 17 elements).
const shared = new Map<string, readonly number[]>();
const ones: (readonly number[])[] = [];
function sharedArray(a: readonly number[]): readonly number[] {
  if (a.length === 0) return NONE;
  if (a.length === 1) {
    // [size], [n]: the common case, without building a string key.
    const v = a[0]!;
    if (v >= 0 && v < 65536 && Number.isInteger(v)) return (ones[v] ??= Object.freeze([v]));
  }
  const k = a.join(",");
  let hit = shared.get(k);
  if (!hit) {
    hit = Object.freeze(a.slice());
    if (shared.size < 65536) shared.set(k, hit);
  }
  return hit;
}

/** An Outcome whose arrays are exact-length (the lookup grows them by push), empty ones shared. */
function compactOutcome(o: Outcome): Outcome {
  const out: Outcome = {
    rcode: o.rcode,
    aa: o.aa,
    answer: o.answer.length === 0 ? (EMPTY_SETS as OutRRset[]) : o.answer.slice(),
    authority: o.authority.length === 0 ? (EMPTY_SETS as OutRRset[]) : o.authority.slice(),
    additional: o.additional.length === 0 ? (EMPTY_SETS as OutRRset[]) : o.additional.slice(),
  };
  if (o.ede) out.ede = o.ede;
  return out;
}

/**
 * Every template has this one shape (the query path reads them monomorphically). A simple answer
 * keeps only the RRset and owner it was written from and builds its Outcome when asked (explain,
 * tests): a million names then hold no Outcome objects.
 */
class CompiledTemplate implements Template {
  constructor(
    readonly flags: number,
    readonly extRcode: number,
    readonly suffixLen: number,
    readonly body: Buffer,
    readonly relocs: readonly number[],
    readonly setEnds: readonly number[],
    readonly setSections: readonly number[],
    readonly setCounts: readonly number[],
    readonly counts: readonly [number, number, number],
    readonly glueRequired: boolean,
    readonly ednsOption: Buffer | null,
    private readonly decided: Outcome | OutRRset | OutcomeSource,
    private readonly qtype: number,
  ) {}

  get outcome(): Outcome {
    const d = this.decided;
    if ("answer" in d) return d;
    if ("outcomeFor" in d) return d.outcomeFor(this.qtype);
    return { rcode: this.flags & 0xf, aa: true, answer: [d], authority: [], additional: [] };
  }
}

/**
 * The common case without the general encoder: one RRset in the answer, owned by the query name,
 * whose RDATA holds no compressible name (A, AAAA, TXT…): each record is a pointer to the question,
 * type, class, TTL and the RDATA as stored. Same bytes as compileTemplate gives. `outcome` must be
 * NOERROR, AA, with `set` as its only RRset.
 */
export function simpleAnswerTemplate(outcome: Outcome, set: OutRRset, questionSuffix: Name): Template {
  const size = rrsetRecordsLength(set);
  const body = Buffer.allocUnsafe(size);
  writeRRsetRecords(body, 0, set);
  const n = set.rdatas.length;
  return new CompiledTemplate(
    Flag.QR | Flag.AA | (outcome.rcode & 0xf),
    outcome.rcode >> 4,
    questionSuffix.key.length,
    body,
    NONE,
    sharedArray([size]),
    sharedArray([0]),
    sharedArray([n]),
    sharedArray([n, 0, 0]) as readonly [number, number, number],
    false,
    null,
    outcome.rcode === 0 && outcome.aa && outcome.answer.length === 1 && outcome.answer[0] === set && outcome.authority.length === 0 && outcome.additional.length === 0 && !outcome.ede
      ? set
      : compactOutcome(outcome),
    0,
  );
}

/**
 * The general encoder. With `again` (where the outcome came from and for which type), the template
 * does not keep the Outcome but asks for it again when read.
 */
export function compileTemplate(outcome: Outcome, questionSuffix: Name, again?: { source: OutcomeSource; qtype: number }): Template {
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
  return new CompiledTemplate(
    flags,
    outcome.rcode >> 4,
    questionSuffix.key.length,
    body,
    relocs.length === 0 ? NONE : relocs.slice(),
    sharedArray(ends),
    sharedArray(sections),
    sharedArray(rrCounts),
    sharedArray(counts) as readonly [number, number, number],
    outcome.authority.some((s) => s.type === RRType.NS),
    ednsOption,
    again ? again.source : compactOutcome(outcome),
    again ? again.qtype : 0,
  );
}
