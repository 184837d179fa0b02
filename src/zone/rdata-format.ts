// Wire RDATA → presentation text per type (RFC 1035 §5.1 and each type's RFC); types with no
// text form here (and unknown types) print as RFC 3597 §5 `\# len hex`.

import { RRType, classToText, typeToText } from "../wire/constants.js";
import { nameFromWire, nameToText } from "../wire/name.js";
import { uncompressedNameLength } from "../wire/rdata.js";
import type { RR } from "./rr.js";

/** Thrown by a decoder when stored RDATA does not match its type's layout. */
export class RdataFormatError extends Error {}

/** A cursor over one RDATA; every read checks bounds. */
class Cursor {
  off = 0;
  constructor(readonly buf: Buffer, readonly typeName: string) {}
  fail(what: string): never {
    throw new RdataFormatError(`${this.typeName} RDATA of ${this.buf.length} octets is malformed: ${what}`);
  }
  need(k: number, what: string): void {
    if (this.off + k > this.buf.length) this.fail(`${what} runs past the end`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.off++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  bytes(k: number, what: string): Buffer {
    this.need(k, what);
    const b = this.buf.subarray(this.off, this.off + k);
    this.off += k;
    return b;
  }
  rest(): Buffer {
    const b = this.buf.subarray(this.off);
    this.off = this.buf.length;
    return b;
  }
  name(what: string): string {
    let len: number;
    try {
      len = uncompressedNameLength(this.buf, this.off);
    } catch {
      this.fail(`${what} is not a valid uncompressed name`);
    }
    let text: string;
    try {
      text = nameToText(nameFromWire(this.buf.subarray(this.off, this.off + len)));
    } catch (e) {
      this.fail(`${what}: ${(e as Error).message}`);
    }
    this.off += len;
    return text;
  }
  charString(what: string): string {
    const len = this.u8(what);
    return quoteBytes(this.bytes(len, what));
  }
  end(): void {
    if (this.off !== this.buf.length) this.fail(`${this.buf.length - this.off} octets left over at the end`);
  }
}

/** A character-string in quotes: printable ASCII as is, `"` and `\` escaped, other octets as \DDD. */
export function quoteBytes(b: Buffer): string {
  let s = '"';
  let from = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    s += b.toString("latin1", from, i);
    s += c === 0x22 || c === 0x5c ? "\\" + String.fromCharCode(c) : "\\" + (c < 10 ? "00" : c < 100 ? "0" : "") + c;
    from = i + 1;
  }
  return s + b.toString("latin1", from, b.length) + '"';
}

function hexUpper(b: Buffer): string {
  return b.toString("hex").toUpperCase();
}

/** IPv6 text as glibc inet_ntop writes it (what Knot prints): RFC 5952 plus ::a.b.c.d / ::ffff:a.b.c.d. */
export function ipv6ToText(b: Buffer): string {
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push((b[i]! << 8) | b[i + 1]!);
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else curBase = -1;
  }
  if (bestLen < 2) bestBase = -1;
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ":";
      continue;
    }
    if (i !== 0) s += ":";
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      return s + `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    }
    s += w[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ":";
  return s;
}

type Formatter = (c: Cursor) => string;

const nameOnly: Formatter = (c) => c.name("name");
const prefName: Formatter = (c) => `${c.u16("preference")} ${c.name("name")}`;
const txtLike: Formatter = (c) => {
  const parts: string[] = [];
  do parts.push(c.charString("character-string"));
  while (c.off < c.buf.length);
  return parts.join(" ");
};
const dsLike: Formatter = (c) => {
  const tag = c.u16("key tag");
  const alg = c.u8("algorithm");
  const dt = c.u8("digest type");
  const digest = c.rest();
  if (digest.length === 0) c.fail("empty digest");
  return `${tag} ${alg} ${dt} ${hexUpper(digest)}`;
};
const dnskeyLike: Formatter = (c) => {
  const flags = c.u16("flags");
  const proto = c.u8("protocol");
  const alg = c.u8("algorithm");
  const key = c.rest();
  if (key.length === 0) c.fail("empty public key");
  return `${flags} ${proto} ${alg} ${key.toString("base64")}`;
};
const tlsaLike: Formatter = (c) => {
  const u = c.u8("usage");
  const s = c.u8("selector");
  const m = c.u8("matching type");
  const data = c.rest();
  if (data.length === 0) c.fail("empty certificate association data");
  return `${u} ${s} ${m} ${hexUpper(data)}`;
};

const formatters = new Map<number, Formatter>([
  [
    RRType.A,
    (c) => {
      const b = c.bytes(4, "address");
      return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
    },
  ],
  [RRType.AAAA, (c) => ipv6ToText(c.bytes(16, "address"))],
  [RRType.NS, nameOnly],
  [RRType.CNAME, nameOnly],
  [RRType.PTR, nameOnly],
  [RRType.DNAME, nameOnly],
  [
    RRType.SOA,
    (c) => {
      const m = c.name("MNAME");
      const r = c.name("RNAME");
      const nums: number[] = [];
      for (const w of ["serial", "refresh", "retry", "expire", "minimum"]) nums.push(c.u32(w));
      return `${m} ${r} ${nums.join(" ")}`;
    },
  ],
  [RRType.MX, prefName],
  [RRType.AFSDB, prefName],
  [RRType.KX, prefName],
  [RRType.TXT, txtLike],
  [RRType.SPF, txtLike],
  [
    RRType.SRV,
    (c) => `${c.u16("priority")} ${c.u16("weight")} ${c.u16("port")} ${c.name("target")}`,
  ],
  [
    RRType.CAA,
    (c) => {
      const flags = c.u8("flags");
      const tagLen = c.u8("tag length");
      if (tagLen === 0) c.fail("empty tag");
      const tag = c.bytes(tagLen, "tag");
      for (const t of tag) {
        if (!isAlnum(t)) c.fail("tag holds a character other than a-z, A-Z, 0-9");
      }
      return `${flags} ${tag.toString("latin1")} ${quoteBytes(c.rest())}`;
    },
  ],
  [RRType.DS, dsLike],
  [RRType.CDS, dsLike],
  [RRType.DNSKEY, dnskeyLike],
  [RRType.CDNSKEY, dnskeyLike],
  [RRType.HINFO, (c) => `${c.charString("CPU")} ${c.charString("OS")}`],
  [
    RRType.NAPTR,
    (c) =>
      `${c.u16("order")} ${c.u16("preference")} ${c.charString("flags")} ${c.charString("services")} ` +
      `${c.charString("regexp")} ${c.name("replacement")}`,
  ],
  [
    RRType.SSHFP,
    (c) => {
      const a = c.u8("algorithm");
      const t = c.u8("fingerprint type");
      const fp = c.rest();
      if (fp.length === 0) c.fail("empty fingerprint");
      return `${a} ${t} ${hexUpper(fp)}`;
    },
  ],
  [RRType.TLSA, tlsaLike],
  [RRType.SMIMEA, tlsaLike],
  [
    RRType.URI,
    (c) => {
      const p = c.u16("priority");
      const w = c.u16("weight");
      const target = c.rest();
      if (target.length === 0) c.fail("empty target");
      return `${p} ${w} ${quoteBytes(target)}`;
    },
  ],
  [RRType.RP, (c) => `${c.name("mailbox")} ${c.name("TXT name")}`],
]);

export function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** True for the types that have a presentation format here (others only have RFC 3597 `\#`). */
export function hasTextFormat(type: number): boolean {
  return formatters.has(type);
}

/** RFC 3597 §5 generic form: `\# len hex` (`\# 0` for empty RDATA). */
export function genericRdataText(rdata: Buffer): string {
  return rdata.length === 0 ? "\\# 0" : `\\# ${rdata.length} ${hexUpper(rdata)}`;
}

/**
 * Presentation form of `rdata` for `type`. Names are absolute with their stored case.
 * Throws RdataFormatError when the RDATA does not fit its type (it never can after rdataFromText).
 */
export function rdataToText(type: number, rdata: Buffer): string {
  const f = formatters.get(type);
  if (!f) return genericRdataText(rdata);
  const c = new Cursor(rdata, typeToText(type));
  const s = f(c);
  c.end();
  return s;
}

/** `owner TTL CLASS TYPE rdata`, one line, single spaces. */
export function rrToText(rr: RR): string {
  return `${nameToText(rr.owner)} ${rr.ttl} ${classToText(rr.class)} ${typeToText(rr.type)} ${rdataToText(rr.type, rr.rdata)}`;
}
