// IXFR answers (RFC 1995): the client sends its SOA in the authority section (§3). A client at the
// current serial (or ahead of it) gets the current SOA alone (§4); one whose serial the journal knows
// gets the differences, each the old SOA, the records deleted, the new SOA, the records added, the
// whole bracketed by the current SOA (§4); any other gets the whole zone as AXFR would send it (§4).
// Over UDP (§4): the differences if they fit in one message, else the current SOA alone, which tells
// the client to ask again over TCP.

import { RRType } from "../wire/constants.js";
import type { RR } from "../zone/rr.js";
import { axfrRecords, packRecords, type Frame } from "./axfr.js";
import type { Delta, Journal } from "./journal.js";
import { MessageError, soaSerialAt, type Message } from "./message.js";
import { serialGt } from "./serial.js";

export type IxfrKind = "up-to-date" | "incremental" | "full" | "udp-soa-only";

export interface IxfrAnswer {
  kind: IxfrKind;
  messages: Buffer[];
  /** Differences sent (incremental), for logs. */
  steps?: number;
}

/** The serial of the client's SOA in the authority section (RFC 1995 §3); throws MessageError without one. */
export function clientSerial(msg: Buffer, m: Message): number {
  const soa = m.authority.find((rr) => rr.type === RRType.SOA);
  if (!soa) throw new MessageError("IXFR without the client's SOA in the authority section (RFC 1995 §3)");
  if (soa.owner.key !== m.question!.name.key) throw new MessageError("the SOA in the authority section is not the zone's");
  return soaSerialAt(msg, soa);
}

/** The records of an incremental answer: current SOA, each step, current SOA (RFC 1995 §4). */
export function ixfrRecords(current: RR, deltas: readonly Delta[]): RR[] {
  const out: RR[] = [current];
  for (const d of deltas) out.push(d.fromSoa, ...d.removed, d.toSoa, ...d.added);
  out.push(current);
  return out;
}

/**
 * The answer to an IXFR from a client at `serial`. `udpLimit`: the most octets one UDP message may
 * hold (512, or the client's EDNS size up to ours); undefined over TCP.
 */
export function ixfrAnswer(f: Frame, journal: Journal, serial: number, udpLimit?: number): IxfrAnswer {
  const current = journal.current;
  const soaOnly = () => packRecords(f, [current.soa]);
  const since = journal.since(serial);
  if (since.kind === "current" || serialGt(serial, current.serial)) return { kind: "up-to-date", messages: soaOnly() };
  if (since.kind === "deltas") {
    const records = ixfrRecords(current.soa, since.deltas);
    if (udpLimit === undefined) return { kind: "incremental", messages: packRecords(f, records), steps: since.deltas.length };
    const one = packRecords(f, records, udpLimit);
    if (one.length === 1 && one[0]!.length <= udpLimit) return { kind: "incremental", messages: one, steps: since.deltas.length };
    return { kind: "udp-soa-only", messages: soaOnly() };
  }
  if (udpLimit !== undefined) return { kind: "udp-soa-only", messages: soaOnly() };
  return { kind: "full", messages: packRecords(f, axfrRecords(current)) };
}
