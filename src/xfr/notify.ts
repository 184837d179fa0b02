// NOTIFY (RFC 1996): tell every configured secondary that a zone has a new serial. One UDP message per
// secondary (opcode NOTIFY, AA, the zone's SOA as the question and, §3.7, the new SOA in the answer
// section), signed with the zone's TSIG key when it has one (RFC 8945). Sent again with backoff until a
// matching answer comes back (§3.6: same ID, from the secondary, NOERROR, and signed when we signed);
// a newer serial replaces a pending one. A secondary that answers REFUSED or NOTAUTH is not asked again
// for that serial: it will not change its mind, and its error is logged and shown in the status.

import dgram from "node:dgram";
import { randomInt } from "node:crypto";
import { isIPv6 } from "node:net";
import type { Logger } from "pino";
import { BodyWriter } from "../wire/body-writer.js";
import { Flag, Opcode, Rcode, RRClass, RRType } from "../wire/constants.js";
import { nameToText, type Name } from "../wire/name.js";
import type { RR } from "../zone/rr.js";
import type { NotifyTarget } from "../config/xfr.js";
import { parseMessage } from "./message.js";
import { soaSerial } from "./render.js";
import { findTsig, nowSeconds, signMessage, tsigErrorText, verifyMessage, type TsigKey } from "./tsig.js";

/** Waits before each resend: about 90 s in all, well inside TSIG's 300 s fudge (the message is re-sent as is). */
export const NOTIFY_RETRY_MS: readonly number[] = [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000];

const RCODE_NAMES = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));

export interface NotifyStatus {
  /** host:port as configured. */
  target: string;
  /** Serial of the last NOTIFY sent, and when it was first sent (ms since the epoch). */
  serial: number | null;
  sentAt: number | null;
  attempts: number;
  /** Last acknowledgement: its serial, when, and how long after the first send. */
  ackedSerial: number | null;
  ackedAt: number | null;
  ackMs: number | null;
  /** Why the last NOTIFY is not (yet) acknowledged: no answer, REFUSED, a TSIG error… */
  lastError: string | null;
  sent: number;
  acked: number;
  failed: number;
}

interface Pending {
  zone: string;
  target: NotifyTarget;
  status: NotifyStatus;
  id: number;
  serial: number;
  message: Buffer;
  requestMac?: Buffer;
  key?: TsigKey;
  attempt: number;
  timer?: NodeJS.Timeout;
  firstSent: number;
}

/** The NOTIFY message for a zone whose current SOA is `soa`. */
export function notifyMessage(id: number, origin: Name, soa: RR): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE((Opcode.NOTIFY << 11) | Flag.AA, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(1, 6);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(RRType.SOA, 0);
  q.writeUInt16BE(RRClass.IN, 2);
  const w = new BodyWriter(origin);
  w.writeRR(soa.owner, RRType.SOA, soa.class, soa.ttl, soa.rdata);
  return Buffer.concat([h, origin.wire, q, w.finish().body]);
}

export class Notifier {
  private sock4: dgram.Socket | undefined;
  private sock6: dgram.Socket | undefined;
  /** By zone key + target. */
  private readonly pending = new Map<string, Pending>();
  private readonly statuses = new Map<string, NotifyStatus>();
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly retryMs: readonly number[] = NOTIFY_RETRY_MS,
  ) {}

  /** Notify `targets` of the zone at `origin` with the SOA `soa`; replaces any NOTIFY still pending for it. */
  notify(origin: Name, soa: RR, targets: readonly NotifyTarget[], key?: TsigKey): void {
    if (this.closed) return;
    const zone = nameToText(origin);
    const serial = soaSerial(soa);
    for (const target of targets) {
      const slot = `${origin.key}|${target.text}`;
      const old = this.pending.get(slot);
      if (old?.timer) clearTimeout(old.timer);
      const status = this.statusFor(origin.key, target);
      const id = randomInt(0, 0x10000);
      let message = notifyMessage(id, origin, soa);
      let requestMac: Buffer | undefined;
      if (key) {
        const signed = signMessage(message, key, { time: nowSeconds() });
        message = signed.message;
        requestMac = signed.mac;
      }
      const p: Pending = { zone, target, status, id, serial, message, attempt: 0, firstSent: Date.now() };
      if (requestMac) p.requestMac = requestMac;
      if (key) p.key = key;
      this.pending.set(slot, p);
      status.serial = serial;
      status.sentAt = p.firstSent;
      status.attempts = 0;
      status.lastError = null;
      status.sent++;
      this.transmit(slot, p);
    }
  }

  /** The state of every secondary of a zone (by apex key), in configured order. */
  status(originKey: string, targets: readonly NotifyTarget[]): NotifyStatus[] {
    return targets.map((t) => ({ ...this.statusFor(originKey, t) }));
  }

  /** Resolves when no NOTIFY is pending (every one acknowledged, refused or given up); for tests. */
  async settled(timeoutMs = 5000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return this.pending.size === 0;
  }

  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
    this.sock4?.close();
    this.sock6?.close();
    this.sock4 = this.sock6 = undefined;
  }

  private statusFor(originKey: string, t: NotifyTarget): NotifyStatus {
    const k = `${originKey}|${t.text}`;
    let s = this.statuses.get(k);
    if (!s) {
      s = { target: t.text, serial: null, sentAt: null, attempts: 0, ackedSerial: null, ackedAt: null, ackMs: null, lastError: null, sent: 0, acked: 0, failed: 0 };
      this.statuses.set(k, s);
    }
    return s;
  }

  private socket(v6: boolean): dgram.Socket {
    const existing = v6 ? this.sock6 : this.sock4;
    if (existing) return existing;
    const s = dgram.createSocket(v6 ? "udp6" : "udp4");
    s.on("message", (msg, rinfo) => this.onAnswer(msg, rinfo));
    s.on("error", (e) => this.log.warn({ err: e }, "NOTIFY socket error"));
    s.bind(0);
    s.unref();
    if (v6) this.sock6 = s;
    else this.sock4 = s;
    return s;
  }

  private transmit(slot: string, p: Pending): void {
    p.attempt++;
    p.status.attempts = p.attempt;
    this.socket(isIPv6(p.target.host)).send(p.message, p.target.port, p.target.host, (err) => {
      if (err) p.status.lastError = `send failed: ${err.message}`;
    });
    this.log.debug({ zone: p.zone, secondary: p.target.text, serial: p.serial, attempt: p.attempt }, `NOTIFY ${p.zone} serial ${p.serial} to ${p.target.text}`);
    const wait = this.retryMs[p.attempt - 1];
    if (wait === undefined) {
      p.timer = setTimeout(() => this.giveUp(slot, p, `no answer after ${p.attempt} tries`), this.retryMs[this.retryMs.length - 1] ?? 1000);
    } else {
      p.timer = setTimeout(() => {
        if (this.pending.get(slot) !== p) return;
        p.status.lastError = `no answer yet (try ${p.attempt})`;
        this.transmit(slot, p);
      }, wait);
    }
    p.timer.unref();
  }

  private giveUp(slot: string, p: Pending, why: string): void {
    if (this.pending.get(slot) !== p) return;
    this.pending.delete(slot);
    p.status.lastError = why;
    p.status.failed++;
    this.log.warn(
      { zone: p.zone, secondary: p.target.text, serial: p.serial, attempts: p.attempt, reason: why },
      `NOTIFY ${p.zone} serial ${p.serial} to ${p.target.text} not acknowledged: ${why}; the secondary still refreshes on its SOA timers`,
    );
  }

  private onAnswer(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    let m;
    try {
      m = parseMessage(msg);
    } catch {
      return;
    }
    if (!m.qr || m.opcode !== Opcode.NOTIFY) return;
    const from = rinfo.address.replace(/^::ffff:/i, "");
    let slot: string | undefined;
    let p: Pending | undefined;
    for (const [k, v] of this.pending) {
      if (v.id === m.id && v.target.port === rinfo.port && v.target.host.replace(/^::ffff:/i, "") === from) {
        slot = k;
        p = v;
        break;
      }
    }
    if (!p || !slot) return; // late, duplicate or unknown: RFC 1996 §3.6 matches on ID and source
    if (p.key) {
      let tsig;
      try {
        tsig = findTsig(msg, m);
      } catch {
        tsig = undefined;
      }
      if (!tsig) {
        // RFC 8945 §5.3: an unsigned answer to a signed request is not to be trusted, unless it is an
        // error about our TSIG (which the secondary could not sign).
        if (m.rcode === Rcode.NOERROR) {
          p.status.lastError = "unsigned answer to a signed NOTIFY (ignored)";
          return;
        }
      } else if (tsig.error !== 0) {
        return this.giveUp(slot, p, `${RCODE_NAMES.get(m.rcode) ?? m.rcode}, TSIG ${tsigErrorText(tsig.error)}: the secondary does not accept key ${nameToText(p.key.name)}`);
      } else {
        const v = verifyMessage(msg, tsig, p.key, { now: nowSeconds(), requestMac: p.requestMac! });
        if (!v.ok) {
          p.status.lastError = `answer's TSIG does not verify: ${v.reason} (ignored)`;
          return;
        }
      }
    }
    if (m.rcode !== Rcode.NOERROR) return this.giveUp(slot, p, `answered ${RCODE_NAMES.get(m.rcode) ?? m.rcode}`);
    if (p.timer) clearTimeout(p.timer);
    this.pending.delete(slot);
    const now = Date.now();
    p.status.ackedSerial = p.serial;
    p.status.ackedAt = now;
    p.status.ackMs = now - p.firstSent;
    p.status.lastError = null;
    p.status.acked++;
    this.log.info(
      { zone: p.zone, secondary: p.target.text, serial: p.serial, ms: p.status.ackMs, attempts: p.attempt },
      `NOTIFY ${p.zone} serial ${p.serial} acknowledged by ${p.target.text}`,
    );
  }
}
