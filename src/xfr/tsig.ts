// TSIG (RFC 8945): HMAC signatures on transfer requests, their responses, and NOTIFY, with node:crypto.
// The MAC covers, in order (§4.3): the request's MAC (responses only, with its length), the message as
// it was before the TSIG record was added (original ID, ARCOUNT without it), and the TSIG variables
// (§4.3.3: key name and algorithm in canonical form, class ANY, TTL 0, time signed, fudge, error, other
// data). The second and later messages of a multi-message answer (AXFR, IXFR, §5.3.1) cover the prior
// MAC, the message and only the timers (time signed, fudge); hadns signs every one of them.
// A receiver checks in the order of §5.2: the key (BADKEY), the MAC (BADSIG), the time (BADTIME), the
// MAC length (truncated MACs: FORMERR below the floor of §5.2.2.1, else BADTRUNC: hadns sends and wants
// whole MACs).

import { createHmac, timingSafeEqual } from "node:crypto";
import { RRClass, RRType } from "../wire/constants.js";
import { nameFromText, type Name } from "../wire/name.js";
import { MessageError, readName, type Message } from "./message.js";

export type TsigAlgorithm = "hmac-sha1" | "hmac-sha224" | "hmac-sha256" | "hmac-sha384" | "hmac-sha512";
export const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = ["hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1"];

const HASH: Record<TsigAlgorithm, { hash: string; size: number; name: Name }> = {
  "hmac-sha1": { hash: "sha1", size: 20, name: nameFromText("hmac-sha1.") },
  "hmac-sha224": { hash: "sha224", size: 28, name: nameFromText("hmac-sha224.") },
  "hmac-sha256": { hash: "sha256", size: 32, name: nameFromText("hmac-sha256.") },
  "hmac-sha384": { hash: "sha384", size: 48, name: nameFromText("hmac-sha384.") },
  "hmac-sha512": { hash: "sha512", size: 64, name: nameFromText("hmac-sha512.") },
};

/** TSIG error codes (RFC 8945 §3, the TSIG RR's Error field). */
export const TsigError = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;
const ERROR_NAMES = new Map<number, string>(Object.entries(TsigError).map(([k, v]) => [v, k]));
export function tsigErrorText(e: number): string {
  return ERROR_NAMES.get(e) ?? String(e);
}

/** The fudge hadns signs with and the most clock skew it accepts (RFC 8945 §10: 300 s). */
export const FUDGE = 300;

export interface TsigKey {
  /** The key's name; compared case-insensitively, signed in canonical (lower-case) form. */
  name: Name;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

/** A TSIG record found at the end of a message. */
export interface TsigRecord {
  /** Offset of the record in the message: what precedes it is what was signed. */
  start: number;
  keyName: Name;
  algorithm: Name;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

export function algorithmName(a: TsigAlgorithm): Name {
  return HASH[a].name;
}

export function macSize(a: TsigAlgorithm): number {
  return HASH[a].size;
}

/**
 * The message's TSIG record: undefined when it has none; throws MessageError when a TSIG is anywhere but
 * last in the additional section, or is malformed (RFC 8945 §5.2: FORMERR).
 */
export function findTsig(msg: Buffer, m: Message): TsigRecord | undefined {
  const all = [...m.answer, ...m.authority, ...m.additional];
  const at = all.findIndex((rr) => rr.type === RRType.TSIG);
  if (at < 0) return undefined;
  const rr = all[at]!;
  if (at !== all.length - 1 || m.additional.length === 0) throw new MessageError("TSIG record is not the last record of the message");
  if (rr.class !== RRClass.ANY) throw new MessageError("TSIG record's class is not ANY");
  const { name: algorithm, next } = readName(msg, rr.rdataStart);
  let o = next;
  const need = (n: number) => {
    if (o + n > rr.end) throw new MessageError("TSIG RDATA is too short");
  };
  need(10);
  const timeSigned = msg.readUIntBE(o, 6);
  const fudge = msg.readUInt16BE(o + 6);
  const macLen = msg.readUInt16BE(o + 8);
  o += 10;
  need(macLen);
  const mac = Buffer.from(msg.subarray(o, o + macLen));
  o += macLen;
  need(6);
  const originalId = msg.readUInt16BE(o);
  const error = msg.readUInt16BE(o + 2);
  const otherLen = msg.readUInt16BE(o + 4);
  o += 6;
  need(otherLen);
  const other = Buffer.from(msg.subarray(o, o + otherLen));
  o += otherLen;
  if (o !== rr.end) throw new MessageError("bytes after the TSIG RDATA");
  return { start: rr.start, keyName: rr.owner, algorithm, timeSigned, fudge, mac, originalId, error, other };
}

function u16(v: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(v);
  return b;
}

function time48(t: number): Buffer {
  const b = Buffer.allocUnsafe(6);
  b.writeUIntBE(Math.max(0, Math.floor(t)), 0, 6);
  return b;
}

function canonical(n: Name): Buffer {
  return Buffer.from(n.key, "latin1");
}

/** §4.3.3: the TSIG variables in canonical form. */
function variables(keyName: Name, alg: Name, time: number, fudge: number, error: number, other: Buffer): Buffer {
  const fixed = Buffer.allocUnsafe(6);
  fixed.writeUInt16BE(RRClass.ANY, 0);
  fixed.writeUInt32BE(0, 2);
  return Buffer.concat([canonical(keyName), fixed, canonical(alg), time48(time), u16(fudge), u16(error), u16(other.length), other]);
}

/** §5.3.1: the timers only, for the second and later messages of an answer. */
function timers(time: number, fudge: number): Buffer {
  return Buffer.concat([time48(time), u16(fudge)]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const h = createHmac(HASH[key.algorithm].hash, key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

export interface SignOptions {
  /** Seconds since the epoch: the time signed. */
  time: number;
  fudge?: number;
  /** A response: the MAC of the request it answers. */
  requestMac?: Buffer;
  /** A later message of a multi-message answer: the MAC of the message before it (timers only). */
  priorMac?: Buffer;
  error?: number;
  other?: Buffer;
}

/** Append a TSIG record signing `msg` (which must not have one yet). */
export function signMessage(msg: Buffer, key: TsigKey, o: SignOptions): { message: Buffer; mac: Buffer } {
  const fudge = o.fudge ?? FUDGE;
  const error = o.error ?? 0;
  const other = o.other ?? Buffer.alloc(0);
  const alg = HASH[key.algorithm].name;
  const parts: Buffer[] = [];
  if (o.priorMac) parts.push(u16(o.priorMac.length), o.priorMac, msg, timers(o.time, fudge));
  else {
    if (o.requestMac) parts.push(u16(o.requestMac.length), o.requestMac);
    parts.push(msg, variables(key.name, alg, o.time, fudge, error, other));
  }
  const mac = hmac(key, parts);
  return { message: appendTsig(msg, key.name, alg, o.time, fudge, mac, error, other), mac };
}

/**
 * An unsigned TSIG record on an error answer (RFC 8945 §5.3.2: BADKEY and BADSIG answers carry no MAC,
 * since the request could not be verified).
 */
export function appendUnsignedTsig(msg: Buffer, keyName: Name, alg: Name, time: number, error: number): Buffer {
  return appendTsig(msg, keyName, alg, time, FUDGE, Buffer.alloc(0), error, Buffer.alloc(0));
}

function appendTsig(msg: Buffer, keyName: Name, alg: Name, time: number, fudge: number, mac: Buffer, error: number, other: Buffer): Buffer {
  const rdata = Buffer.concat([canonical(alg), time48(time), u16(fudge), u16(mac.length), mac, msg.subarray(0, 2), u16(error), u16(other.length), other]);
  const head = Buffer.allocUnsafe(10);
  head.writeUInt16BE(RRType.TSIG, 0);
  head.writeUInt16BE(RRClass.ANY, 2);
  head.writeUInt32BE(0, 4);
  head.writeUInt16BE(rdata.length, 8);
  const out = Buffer.concat([msg, canonical(keyName), head, rdata]);
  out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  return out;
}

/** The message as its signer saw it: TSIG record removed, ARCOUNT one less, the original ID (§4.3.2). */
export function unsignedForm(msg: Buffer, t: TsigRecord): Buffer {
  const out = Buffer.from(msg.subarray(0, t.start));
  out.writeUInt16BE(t.originalId, 0);
  out.writeUInt16BE(out.readUInt16BE(10) - 1, 10);
  return out;
}

export type Verified =
  | { ok: true; key: TsigKey; tsig: TsigRecord }
  | { ok: false; error: number; formerr: boolean; tsig: TsigRecord; key?: TsigKey; reason: string };

export interface VerifyOptions {
  /** Seconds since the epoch. */
  now: number;
  /** Verifying a response: the MAC of our request. */
  requestMac?: Buffer;
  /** Verifying a later message of a multi-message answer: the MAC of the message before it. */
  priorMac?: Buffer;
}

/** Check a message's TSIG against `key` (undefined: no key of that name is known). */
export function verifyMessage(msg: Buffer, t: TsigRecord, key: TsigKey | undefined, o: VerifyOptions): Verified {
  const keyText = t.keyName.key;
  if (!key || key.name.key !== keyText) return { ok: false, error: TsigError.BADKEY, formerr: false, tsig: t, reason: "unknown key" };
  if (HASH[key.algorithm].name.key !== t.algorithm.key) {
    return { ok: false, error: TsigError.BADKEY, formerr: false, tsig: t, key, reason: `key ${key.algorithm} signed with another algorithm` };
  }
  const full = HASH[key.algorithm].size;
  if (t.mac.length > full || t.mac.length < Math.max(10, full / 2)) {
    return { ok: false, error: 0, formerr: true, tsig: t, key, reason: `MAC of ${t.mac.length} octets for ${key.algorithm}` };
  }
  const unsigned = unsignedForm(msg, t);
  const parts: Buffer[] = [];
  if (o.priorMac) parts.push(u16(o.priorMac.length), o.priorMac, unsigned, timers(t.timeSigned, t.fudge));
  else {
    if (o.requestMac) parts.push(u16(o.requestMac.length), o.requestMac);
    parts.push(unsigned, variables(t.keyName, t.algorithm, t.timeSigned, t.fudge, t.error, t.other));
  }
  const expect = hmac(key, parts).subarray(0, t.mac.length);
  if (!timingSafeEqual(expect, t.mac)) return { ok: false, error: TsigError.BADSIG, formerr: false, tsig: t, key, reason: "wrong MAC (another secret?)" };
  if (Math.abs(o.now - t.timeSigned) > t.fudge) {
    return { ok: false, error: TsigError.BADTIME, formerr: false, tsig: t, key, reason: `signed at ${t.timeSigned}, ${Math.round(o.now - t.timeSigned)} s from our clock (fudge ${t.fudge} s)` };
  }
  if (t.mac.length < full) return { ok: false, error: TsigError.BADTRUNC, formerr: false, tsig: t, key, reason: `truncated MAC (${t.mac.length} of ${full} octets)` };
  return { ok: true, key, tsig: t };
}

/**
 * Signs the messages of one answer in order: the first with the request's MAC and every variable, each
 * later one with the MAC before it and the timers (RFC 8945 §5.3.1).
 */
export class TsigStream {
  private prior: Buffer | undefined;

  constructor(
    private readonly key: TsigKey,
    private readonly requestMac: Buffer,
    private readonly now: () => number,
  ) {}

  sign(msg: Buffer): Buffer {
    const o: SignOptions = this.prior ? { time: this.now(), priorMac: this.prior } : { time: this.now(), requestMac: this.requestMac };
    const { message, mac } = signMessage(msg, this.key, o);
    this.prior = mac;
    return message;
  }
}

/** Seconds since the epoch, the clock TSIG uses. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Parse a secret: base64 (RFC 4648 §4) as BIND's tsig-keygen, Knot's keymgr and NSD write it. */
export function decodeSecret(text: string): Buffer {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(t) || t.length % 4 !== 0) throw new Error("the secret is not base64 (as `tsig-keygen` or `keymgr -t` print it)");
  return Buffer.from(t, "base64");
}
