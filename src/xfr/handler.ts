// The transfer handler the listeners hand NOTIFY and AXFR/IXFR messages to (src/server/answerer.ts),
// in the order Knot DNS's nameserver modules take them:
//   not a zone hadns transfers          → null: the engine answers (REFUSED; NOTIFY: NOTIMP)
//   NOTIFY for one of ours              → NOTAUTH: hadns is the zone's primary, it takes no NOTIFY
//   client not in `allow`               → REFUSED (RFC 5936 §6)
//   TSIG present but does not verify    → NOTAUTH with the TSIG error: BADKEY, BADSIG, BADTIME (RFC 8945 §5.2)
//   zone wants a key, unsigned or other → REFUSED
//   AXFR over UDP                       → NOTIMP (RFC 5936 §4.2: TCP only; Knot DNS answers the same)
//   AXFR                                → the zone (axfr.ts); IXFR → differences or the zone (ixfr.ts)
// A signed request gets every message of its answer signed (RFC 8945 §5.3.1). Every refusal is logged
// with the client and the reason (at most once per 10 s per client and reason, with a count).

import type { Logger } from "pino";
import type { TransferHandler } from "../server/answerer.js";
import { Opcode, Rcode, RRClass, RRType } from "../wire/constants.js";
import { nameToText, type Name } from "../wire/name.js";
import type { XfrZoneSettings } from "../config/xfr.js";
import { aclMatch } from "./acl.js";
import { axfrMessages, emptyAnswer, frameOf, type Frame } from "./axfr.js";
import { clientSerial, ixfrAnswer, type IxfrKind } from "./ixfr.js";
import type { Journal } from "./journal.js";
import { MessageError, parseMessage, type Message } from "./message.js";
import {
  algorithmName,
  appendUnsignedTsig,
  findTsig,
  macSize,
  nowSeconds,
  signMessage,
  TsigError,
  tsigErrorText,
  TsigStream,
  verifyMessage,
  type TsigKey,
  type TsigRecord,
} from "./tsig.js";

/** Transfers served and refused, per zone, since start. */
export interface TransferCounters {
  axfr: number;
  /** IXFR answered with differences / with the whole zone / with the SOA alone (up to date) / over UDP with the SOA alone. */
  ixfr: number;
  ixfrFull: number;
  ixfrUpToDate: number;
  ixfrUdpSoaOnly: number;
  refused: number;
  tsigErrors: number;
  notifyIn: number;
  last: { type: "AXFR" | "IXFR"; kind: string; client: string; serial: number; from?: number; at: number; messages: number; bytes: number; key: string | null } | null;
}

export function newCounters(): TransferCounters {
  return { axfr: 0, ixfr: 0, ixfrFull: 0, ixfrUpToDate: 0, ixfrUdpSoaOnly: 0, refused: 0, tsigErrors: 0, notifyIn: 0, last: null };
}

/** A zone as the handler sees it. */
export interface XfrZone {
  origin: Name;
  text: string;
  settings: XfrZoneSettings;
  journal: Journal;
  counters: TransferCounters;
}

export interface HandlerContext {
  /** The transferred zone with this apex key, if any. */
  zone(key: string): XfrZone | undefined;
  keys: ReadonlyMap<string, TsigKey>;
  log: Logger;
  /** Seconds since the epoch (tests move it). */
  now?: () => number;
}

const LOG_EVERY_MS = 10_000;

export class XfrHandler implements TransferHandler {
  private readonly lastLog = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly ctx: HandlerContext) {}

  private now(): number {
    return this.ctx.now ? this.ctx.now() : nowSeconds();
  }

  handle(msg: Buffer, transport: "udp" | "tcp", remote: string): Buffer | Buffer[] | null {
    let m: Message;
    try {
      m = parseMessage(msg);
    } catch {
      return null; // the engine answers malformed messages (FORMERR) as it does every other
    }
    const q = m.question;
    if (m.qr || m.qdcount !== 1 || !q || q.class !== RRClass.IN) return null;
    const isNotify = m.opcode === Opcode.NOTIFY;
    const type = isNotify ? "NOTIFY" : q.type === RRType.AXFR ? "AXFR" : q.type === RRType.IXFR ? "IXFR" : undefined;
    if (!type || (!isNotify && m.opcode !== Opcode.QUERY)) return null;
    const zone = this.ctx.zone(q.name.key);
    if (!zone) {
      if (!isNotify) this.refusal(remote, type, nameToText(q.name), "not a zone hadns transfers (REFUSED)", "info");
      return null;
    }
    const f = frameOf(msg, m, zone.origin);

    // TSIG first only to know whether answers can be signed; refusals of address come before its errors.
    let tsig: TsigRecord | undefined;
    try {
      tsig = findTsig(msg, m);
    } catch (e) {
      this.refusal(remote, type, zone.text, `malformed TSIG: ${(e as MessageError).message} (FORMERR)`);
      return emptyAnswer(f, Rcode.FORMERR, m.opcode);
    }
    const verified = tsig ? verifyMessage(msg, tsig, this.ctx.keys.get(tsig.keyName.key), { now: this.now() }) : undefined;
    const goodKey = verified?.ok ? verified.key : undefined;
    const sign = (answers: Buffer[]): Buffer[] => {
      if (!goodKey || !tsig) return answers;
      const stream = new TsigStream(goodKey, tsig.mac, () => this.now());
      return answers.map((a) => stream.sign(a));
    };

    if (isNotify) {
      zone.counters.notifyIn++;
      this.refusal(remote, type, zone.text, "hadns is this zone's primary; it takes no NOTIFY (NOTAUTH)", "info");
      return sign([emptyAnswer(f, Rcode.NOTAUTH, Opcode.NOTIFY)])[0]!;
    }

    const s = zone.settings;
    if (!aclMatch(s.allow, remote)) {
      zone.counters.refused++;
      this.refusal(remote, type, zone.text, "address not in allow (REFUSED)");
      return sign([emptyAnswer(f, Rcode.REFUSED)])[0]!;
    }
    if (tsig && verified && !verified.ok) {
      zone.counters.tsigErrors++;
      zone.counters.refused++;
      const keyText = nameToText(tsig.keyName);
      if (verified.formerr) {
        this.refusal(remote, type, zone.text, `TSIG key ${keyText}: ${verified.reason} (FORMERR)`);
        return emptyAnswer(f, Rcode.FORMERR);
      }
      this.refusal(remote, type, zone.text, `TSIG key ${keyText}: ${verified.reason} (NOTAUTH, ${tsigErrorText(verified.error)})`);
      return this.tsigError(f, tsig, verified.error, verified.key);
    }
    if (s.key && (!goodKey || goodKey.name.key !== s.key.name.key)) {
      zone.counters.refused++;
      const why = goodKey ? `signed with key ${nameToText(goodKey.name)}, not ${nameToText(s.key.name)}` : `unsigned; this zone requires TSIG key ${nameToText(s.key.name)}`;
      this.refusal(remote, type, zone.text, `${why} (REFUSED)`);
      return sign([emptyAnswer(f, Rcode.REFUSED)])[0]!;
    }

    const keyText = goodKey ? nameToText(goodKey.name) : null;
    if (type === "AXFR") {
      if (transport === "udp") {
        this.refusal(remote, type, zone.text, "AXFR over UDP (NOTIMP; RFC 5936 §4.2: TCP only)", "info");
        return sign([emptyAnswer(f, Rcode.NOTIMP)])[0]!;
      }
      const out = sign(axfrMessages(f, zone.journal.current));
      zone.counters.axfr++;
      this.served(zone, remote, "AXFR", "full", out, keyText);
      return out;
    }

    let serial: number;
    try {
      serial = clientSerial(msg, m);
    } catch (e) {
      this.refusal(remote, type, zone.text, `${(e as MessageError).message} (FORMERR)`);
      return sign([emptyAnswer(f, Rcode.FORMERR)])[0]!;
    }
    const limit = transport === "udp" ? udpLimit(m) - (goodKey ? tsigSize(goodKey) : 0) : undefined;
    const a = ixfrAnswer(f, zone.journal, serial, limit);
    const out = sign(a.messages);
    const c = zone.counters;
    const bump: Record<IxfrKind, () => void> = {
      incremental: () => c.ixfr++,
      full: () => c.ixfrFull++,
      "up-to-date": () => c.ixfrUpToDate++,
      "udp-soa-only": () => c.ixfrUdpSoaOnly++,
    };
    bump[a.kind]();
    this.served(zone, remote, "IXFR", a.kind, out, keyText, serial, a.steps);
    return transport === "udp" ? out[0]! : out;
  }

  /** NOTAUTH with the TSIG error: signed for BADTIME (with our time as other data), unsigned for BADKEY/BADSIG (§5.3.2). */
  private tsigError(f: Frame, t: TsigRecord, error: number, key: TsigKey | undefined): Buffer {
    const base = emptyAnswer(f, Rcode.NOTAUTH);
    const now = this.now();
    if (error === TsigError.BADTIME && key) {
      const other = Buffer.alloc(6);
      other.writeUIntBE(now, 0, 6);
      return signMessage(base, key, { time: t.timeSigned, requestMac: t.mac, error, other }).message;
    }
    return appendUnsignedTsig(base, t.keyName, t.algorithm, now, error);
  }

  private served(zone: XfrZone, client: string, type: "AXFR" | "IXFR", kind: string, out: Buffer[], key: string | null, from?: number, steps?: number): void {
    const bytes = out.reduce((n, b) => n + b.length, 0);
    const serial = zone.journal.current.serial;
    zone.counters.last = { type, kind, client, serial, at: Date.now(), messages: out.length, bytes, key, ...(from !== undefined ? { from } : {}) };
    const what = type === "IXFR" ? `IXFR ${kind}${steps ? ` (${steps} difference${steps === 1 ? "" : "s"})` : ""} ${from}→${serial}` : `AXFR serial ${serial}`;
    this.ctx.log.info(
      { zone: zone.text, client, type, kind, serial, ...(from !== undefined ? { from } : {}), messages: out.length, bytes, key },
      `${what} of ${zone.text} to ${client}: ${out.length} message${out.length === 1 ? "" : "s"}, ${bytes} bytes${key ? `, TSIG ${key}` : ""}`,
    );
  }

  private refusal(client: string, type: string, zone: string, reason: string, level: "info" | "warn" = "warn"): void {
    const k = `${client}|${reason}`;
    const now = Date.now();
    const seen = this.lastLog.get(k);
    if (seen && now - seen.at < LOG_EVERY_MS) {
      seen.suppressed++;
      return;
    }
    if (this.lastLog.size > 10_000) this.lastLog.clear();
    this.lastLog.set(k, { at: now, suppressed: 0 });
    const more = seen && seen.suppressed > 0 ? ` (${seen.suppressed} more like it since the last such line)` : "";
    this.ctx.log[level]({ zone, client, type, reason }, `${type} ${zone} from ${client} refused: ${reason}${more}`);
  }
}

/** The most one UDP answer may hold: 512 without EDNS, else the client's size, at most 1232 (as the query path). */
function udpLimit(m: Message): number {
  const opt = m.additional.find((rr) => rr.type === RRType.OPT);
  if (!opt) return 512;
  return Math.min(1232, Math.max(512, opt.class));
}

function tsigSize(k: TsigKey): number {
  return k.name.wire.length + 10 + algorithmName(k.algorithm).wire.length + 16 + macSize(k.algorithm);
}
