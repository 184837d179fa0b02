// Presentation text → wire RDATA per type (RFC 1035 §5.1, RFC 3597 §5 `\#`, and each type's RFC);
// the inverse of rdata-format.ts. Names in RDATA keep their written case.
//
// Fields are lexer tokens: quotes removed, backslash escapes still as written. Names go through
// nameFromField (RFC 1035 §5.1 name escapes), character-strings through charStringBytes (\X, \DDD).

import { RRType, isMetaType, typeToText } from "../wire/constants.js";
import { compactName, KeyName, MAX_NAME_WIRE, nameFromText, ROOT, type Name } from "../wire/name.js";
import { MAX_U32, parseDuration } from "./ttl.js";
import { hasTextFormat, isAlnum, rdataToText } from "./rdata-format.js";

const MAX_RDATA = 0xffff;

// ---- names ------------------------------------------------------------------------------------

/**
 * A name field: `@`, absolute, or relative to `origin`. Plain printable-ASCII names take a fast
 * path that builds the wire form in one pass; anything with escapes or errors goes through
 * nameFromText. Throws an Error with a readable message.
 */
export function nameFromField(text: string, origin: Name | null): Name {
  if (text.length === 1) {
    const c = text.charCodeAt(0);
    if (c === 0x40 /* @ */) return originOrThrow(origin);
    if (c === 0x2e) return ROOT;
  }
  const wire = fastNameWire(text, origin);
  return wire ? { wire, key: foldedKey(wire) } : slowName(text, origin);
}

/**
 * nameFromField for an owner name: one written in lower case is a KeyName (no wire Buffer), the
 * form the zone keeps for its nodes; a million records then leave no Buffer per owner behind.
 */
export function ownerFromField(text: string, origin: Name | null): Name {
  if (text.length === 1) {
    const c = text.charCodeAt(0);
    if (c === 0x40 /* @ */) return compactName(originOrThrow(origin));
    if (c === 0x2e) return ROOT;
  }
  const n = fastNameInto(text, origin, ownerScratch);
  if (n < 0) return compactName(slowName(text, origin));
  for (let i = 0; i < n; i++) {
    const c = ownerScratch[i]!;
    if (c >= 0x41 && c <= 0x5a) {
      const wire = Buffer.allocUnsafe(n);
      ownerScratch.copy(wire, 0, 0, n);
      return { wire, key: foldedKey(wire) };
    }
  }
  return new KeyName(ownerScratch.toString("latin1", 0, n));
}

const ownerScratch = Buffer.allocUnsafe(MAX_NAME_WIRE);

/** The wire form of a name field in RDATA (a fresh buffer; no key is made). */
export function nameWireFromField(text: string, origin: Name | null): Buffer {
  if (text.length === 1) {
    const c = text.charCodeAt(0);
    if (c === 0x40 /* @ */) return Buffer.from(originOrThrow(origin).wire);
    if (c === 0x2e) return Buffer.from([0]);
  }
  return fastNameWire(text, origin) ?? Buffer.from(slowName(text, origin).wire);
}

function originOrThrow(origin: Name | null): Name {
  if (!origin) throw new Error(`"@" used with no $ORIGIN set; add a $ORIGIN line or write the name in full`);
  return origin;
}

/** One pass for names without escapes; undefined sends the caller to the slow path (or its error). */
function fastNameWire(text: string, origin: Name | null): Buffer | undefined {
  const n = text.length;
  const absolute = n > 0 && text.charCodeAt(n - 1) === 0x2e;
  if (n === 0 || !(absolute || origin)) return undefined;
  const relSize = n + 1; // "a.b" → 1a1b (n+1); "a.b." → 1a1b0 (n+1)
  const size = absolute ? relSize : relSize + origin!.key.length;
  if (size > MAX_NAME_WIRE) return undefined;
  const wire = Buffer.allocUnsafe(size);
  return fastNameInto(text, origin, wire) < 0 ? undefined : wire;
}

/** fastNameWire into `wire` (room for MAX_NAME_WIRE octets): the length written, or -1. */
function fastNameInto(text: string, origin: Name | null, wire: Buffer): number {
  const n = text.length;
  const absolute = n > 0 && text.charCodeAt(n - 1) === 0x2e;
  if (n === 0 || !(absolute || origin)) return -1;
  const relSize = n + 1;
  const size = absolute ? relSize : relSize + origin!.key.length;
  if (size > MAX_NAME_WIRE) return -1;
  const stop = absolute ? n - 1 : n;
  let lenPos = 0;
  let o = 1;
  for (let i = 0; i < stop; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      const len = o - lenPos - 1;
      if (len === 0 || len > 63) return -1;
      wire[lenPos] = len;
      lenPos = o++;
    } else if (c < 0x21 || c > 0x7e || c === 0x5c) {
      return -1;
    } else {
      wire[o++] = c;
    }
  }
  const last = o - lenPos - 1;
  if (last === 0 || last > 63) return -1;
  wire[lenPos] = last;
  if (absolute) wire[o] = 0;
  else if (origin instanceof KeyName) wire.write(origin.key, o, "latin1");
  else {
    const ow = origin!.wire;
    for (let j = 0; j < ow.length; j++) wire[o + j] = ow[j]!;
  }
  return size;
}

const scratch = Buffer.allocUnsafe(MAX_NAME_WIRE);

/** The Name key: wire bytes with A-Z folded, as one flat latin1 string (fast to hash as a Map key). */
function foldedKey(wire: Buffer): string {
  const n = wire.length;
  for (let i = 0; i < n; i++) {
    const c = wire[i]!;
    scratch[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
  }
  return scratch.toString("latin1", 0, n);
}

function slowName(text: string, origin: Name | null): Name {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7e) {
      throw new Error(
        `name "${text}" holds a character outside printable ASCII; write an internationalised name as IDNA (xn--…) or use \\DDD escapes`,
      );
    }
  }
  try {
    return nameFromText(text, origin);
  } catch (e) {
    // nameFromText quotes the name in its messages; say it once, up front.
    let m = (e as Error).message;
    if (m.startsWith("'@'")) throw new Error(`"@" used with no $ORIGIN set; add a $ORIGIN line or write the name in full`);
    m = m
      .replace(`relative name "${text}" with no $ORIGIN set`, "relative name with no $ORIGIN set; add a $ORIGIN line or end the name with a dot")
      .replace(` in "${text}"`, "")
      .replace(`name "${text}" `, "");
    if (m === "empty label") m = "empty label (two dots in a row, or a leading dot)";
    throw new Error(`bad name "${text}": ${m}`);
  }
}

// ---- character-strings ------------------------------------------------------------------------

/**
 * Octets of a character-string field (RFC 1035 §5.1): `\DDD` is one octet (decimal, ≤ 255), `\X` is
 * X; other characters are their UTF-8 encoding (so plain ASCII maps 1:1). No length limit here.
 */
export function charStringBytes(text: string): Buffer {
  const n = text.length;
  let simple = true;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c || c > 0x7f) {
      simple = false;
      break;
    }
  }
  if (simple) return Buffer.from(text, "latin1");
  const out: number[] = [];
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 1 >= n) throw new Error(`"${text}" ends with a lone backslash; write "\\\\" for a backslash`);
      const d1 = text.charCodeAt(i + 1) - 0x30;
      if (d1 >= 0 && d1 <= 9) {
        const d2 = text.charCodeAt(i + 2) - 0x30;
        const d3 = text.charCodeAt(i + 3) - 0x30;
        if (!(d2 >= 0 && d2 <= 9 && d3 >= 0 && d3 <= 9)) {
          throw new Error(`bad escape in "${text}": \\DDD needs exactly three decimal digits`);
        }
        const v = d1 * 100 + d2 * 10 + d3;
        if (v > 255) throw new Error(`bad escape \\${text.substr(i + 1, 3)} in "${text}": the value is over 255`);
        out.push(v);
        i += 4;
        continue;
      }
      i++;
    }
    const ch = text.codePointAt(i)!;
    if (ch < 0x80) {
      out.push(ch);
      i++;
    } else {
      const w = ch > 0xffff ? 2 : 1;
      for (const b of Buffer.from(text.slice(i, i + w), "utf8")) out.push(b);
      i += w;
    }
  }
  return Buffer.from(out);
}

/** A single ≤255-octet character-string with its length byte. */
function oneCharString(text: string, what: string, typeName: string): Buffer {
  const b = charStringBytes(text);
  if (b.length > 255) throw new Error(`${what} in ${typeName} record is ${b.length} octets long; the limit is 255`);
  const out = Buffer.allocUnsafe(b.length + 1);
  out[0] = b.length;
  b.copy(out, 1);
  return out;
}

// ---- numbers and binary fields ----------------------------------------------------------------

function uint(text: string, max: number, what: string, typeName: string): number {
  const n = text.length;
  let v = 0;
  if (n === 0 || n > 10) v = -1;
  for (let i = 0; i < n && v >= 0; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) v = -1;
    else v = v * 10 + d;
  }
  if (v < 0 || v > max) {
    throw new Error(`bad ${what} "${text}" in ${typeName} record: expected a whole number from 0 to ${max}`);
  }
  return v;
}

const DNSSEC_ALGORITHMS: Record<string, number> = {
  RSAMD5: 1,
  DH: 2,
  DSA: 3,
  RSASHA1: 5,
  "DSA-NSEC3-SHA1": 6,
  "RSASHA1-NSEC3-SHA1": 7,
  RSASHA256: 8,
  RSASHA512: 10,
  "ECC-GOST": 12,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
  INDIRECT: 252,
  PRIVATEDNS: 253,
  PRIVATEOID: 254,
};

/** DNSSEC algorithm: a number or its mnemonic (RFC 4034 §A.1, §5.3). */
function algorithm(text: string, typeName: string): number {
  const m = DNSSEC_ALGORITHMS[text.toUpperCase()];
  if (m !== undefined) return m;
  return uint(text, 255, "algorithm", typeName);
}

function hexField(parts: string[], what: string, typeName: string): Buffer {
  const hex = parts.join("");
  if (hex.length === 0) throw new Error(`${typeName} record has no ${what}; add it as hex digits`);
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`bad ${what} "${hex}" in ${typeName} record: expected an even number of hex digits`);
  }
  return Buffer.from(hex, "hex");
}

function base64Field(parts: string[], what: string, typeName: string): Buffer {
  const b64 = parts.join("");
  if (b64.length === 0) throw new Error(`${typeName} record has no ${what}; add it in base64`);
  // Pieces that are whole base64 groups are decoded one by one (so "AwEAAc== AwEA" works, as in
  // Knot); otherwise the pieces are one base64 text split by spaces.
  const pieces = parts.every((p) => p.length % 4 === 0) ? parts : [b64];
  for (const p of pieces) {
    if (p.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(p)) {
      throw new Error(`bad ${what} in ${typeName} record: not valid base64 ("${p.length > 40 ? p.slice(0, 40) + "…" : p}")`);
    }
  }
  return pieces.length === 1 ? Buffer.from(b64, "base64") : Buffer.concat(pieces.map((p) => Buffer.from(p, "base64")));
}

// ---- addresses --------------------------------------------------------------------------------

/** Dotted-quad IPv4 into `out` at `off`; false if malformed (leading zeros refused, as Knot does). */
function ipv4Into(text: string, out: Buffer, off: number): boolean {
  const n = text.length;
  let part = 0;
  let v = 0;
  let digits = 0;
  for (let i = 0; i <= n; i++) {
    const c = i === n ? 0x2e : text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return false;
      out[off + part++] = v;
      v = 0;
      digits = 0;
      continue;
    }
    const d = c - 0x30;
    if (d < 0 || d > 9) return false;
    if (digits > 0 && v === 0) return false; // leading zero
    v = v * 10 + d;
    if (v > 255) return false;
    digits++;
  }
  return part === 4;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** IPv6 text (RFC 4291 §2.2, any valid form incl. `::` and a trailing dotted quad) → 16 octets; one pass. */
export function parseIPv6(text: string): Buffer | undefined {
  const n = text.length;
  if (n < 2 || n > 45) return undefined;
  const out = Buffer.alloc(16);
  let i = 0;
  let w = 0; // words written
  let gap = -1; // word index where "::" stands
  if (text.charCodeAt(0) === 0x3a) {
    if (text.charCodeAt(1) !== 0x3a) return undefined;
    gap = 0;
    i = 2;
    if (i === n) return out;
  }
  for (;;) {
    const start = i;
    let v = 0;
    for (; i < n; i++) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) break;
      v = v * 16 + d;
    }
    if (i < n && text.charCodeAt(i) === 0x2e) {
      // Trailing dotted quad: the last 32 bits.
      if (w > 6 || !ipv4Into(text.slice(start), out, 2 * w)) return undefined;
      w += 2;
      break;
    }
    if (i === start || i - start > 4 || w >= 8) return undefined;
    out[2 * w] = v >> 8;
    out[2 * w + 1] = v & 0xff;
    w++;
    if (i === n) break;
    if (text.charCodeAt(i) !== 0x3a) return undefined;
    i++;
    if (text.charCodeAt(i) === 0x3a) {
      if (gap !== -1) return undefined;
      gap = w;
      i++;
      if (i === n) break;
    } else if (i === n) return undefined;
  }
  if (gap === -1) return w === 8 ? out : undefined;
  if (w > 7) return undefined; // "::" stands for at least one zero word
  const tail = w - gap;
  out.copyWithin(16 - 2 * tail, 2 * gap, 2 * w);
  out.fill(0, 2 * gap, 16 - 2 * tail);
  return out;
}

// ---- per-type encoders ------------------------------------------------------------------------

type Encoder = (f: string[], origin: Name | null, typeName: string) => Buffer;

function count(f: string[], min: number, max: number, typeName: string, shape: string): void {
  if (f.length >= min && f.length <= max) return;
  const got = f.length === 0 ? "none" : `${f.length} ("${f.join(" ")}")`;
  throw new Error(`${typeName} record needs ${shape}; got ${min === max || f.length < min ? "" : "too many fields: "}${got}`);
}

function withU16(v: number, rest: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + rest.length);
  out.writeUInt16BE(v, 0);
  rest.copy(out, 2);
  return out;
}

const nameOnly: Encoder = (f, origin, t) => {
  count(f, 1, 1, t, "one field: a domain name");
  return nameWireFromField(f[0]!, origin);
};
const prefName: Encoder = (f, origin, t) => {
  count(f, 2, 2, t, "two fields: preference and domain name");
  return withU16(uint(f[0]!, 0xffff, "preference", t), nameWireFromField(f[1]!, origin));
};
const txtLike: Encoder = (f, _origin, t) => {
  if (f.length === 0) throw new Error(`${t} record needs at least one character-string, e.g. "v=spf1 -all"`);
  // Fast path: short plain-ASCII strings are written straight into one buffer.
  let size = 0;
  for (const s of f) {
    if (size < 0 || s.length > 255 || !isPlainAscii(s)) size = -1;
    else size += s.length + 1;
  }
  if (size >= 0) {
    const out = Buffer.allocUnsafe(size);
    let o = 0;
    for (const s of f) {
      out[o++] = s.length;
      o += out.write(s, o, "latin1");
    }
    return out;
  }
  const parts: Buffer[] = [];
  let total = 0;
  for (const s of f) {
    const b = charStringBytes(s);
    // Longer than 255: split into 255-octet strings (Knot does the same).
    for (let o = 0; o < b.length || o === 0; o += 255) {
      const chunk = b.subarray(o, Math.min(o + 255, b.length));
      parts.push(Buffer.from([chunk.length]), chunk);
      total += chunk.length + 1;
      if (b.length === 0) break;
    }
  }
  return Buffer.concat(parts, total);
};

/** No escapes and nothing beyond ASCII: the text is its own octets. */
function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c || c > 0x7f) return false;
  }
  return true;
}
const dsLike: Encoder = (f, _o, t) => {
  count(f, 4, Infinity, t, "key tag, algorithm, digest type and a hex digest");
  const out = Buffer.allocUnsafe(4);
  out.writeUInt16BE(uint(f[0]!, 0xffff, "key tag", t), 0);
  out[2] = algorithm(f[1]!, t);
  out[3] = uint(f[2]!, 255, "digest type", t);
  return Buffer.concat([out, hexField(f.slice(3), "digest", t)]);
};
const dnskeyLike: Encoder = (f, _o, t) => {
  count(f, 4, Infinity, t, "flags, protocol, algorithm and a base64 public key");
  const out = Buffer.allocUnsafe(4);
  out.writeUInt16BE(uint(f[0]!, 0xffff, "flags", t), 0);
  out[2] = uint(f[1]!, 255, "protocol", t);
  out[3] = algorithm(f[2]!, t);
  return Buffer.concat([out, base64Field(f.slice(3), "public key", t)]);
};
const tlsaLike: Encoder = (f, _o, t) => {
  count(f, 4, Infinity, t, "usage, selector, matching type and hex certificate data");
  const head = Buffer.from([uint(f[0]!, 255, "usage", t), uint(f[1]!, 255, "selector", t), uint(f[2]!, 255, "matching type", t)]);
  return Buffer.concat([head, hexField(f.slice(3), "certificate association data", t)]);
};

const encoders = new Map<number, Encoder>([
  [
    RRType.A,
    (f, _o, t) => {
      count(f, 1, 1, t, "one field: an IPv4 address like 192.0.2.1");
      const out = Buffer.allocUnsafe(4);
      if (!ipv4Into(f[0]!, out, 0)) {
        throw new Error(`bad IPv4 address "${f[0]}" in A record: write four numbers 0-255 without leading zeros, e.g. 192.0.2.1`);
      }
      return out;
    },
  ],
  [
    RRType.AAAA,
    (f, _o, t) => {
      count(f, 1, 1, t, "one field: an IPv6 address like 2001:db8::1");
      const b = parseIPv6(f[0]!);
      if (!b) throw new Error(`bad IPv6 address "${f[0]}" in AAAA record: write it like 2001:db8::1 or ::ffff:192.0.2.1`);
      return b;
    },
  ],
  [RRType.NS, nameOnly],
  [RRType.CNAME, nameOnly],
  [RRType.PTR, nameOnly],
  [RRType.DNAME, nameOnly],
  [
    RRType.SOA,
    (f, origin, t) => {
      count(f, 7, 7, t, "seven fields: primary server, mailbox, serial, refresh, retry, expire, minimum");
      const m = nameWireFromField(f[0]!, origin);
      const r = nameWireFromField(f[1]!, origin);
      const out = Buffer.allocUnsafe(m.length + r.length + 20);
      m.copy(out, 0);
      r.copy(out, m.length);
      let o = m.length + r.length;
      out.writeUInt32BE(uint(f[2]!, MAX_U32, "serial", t), o);
      const names = ["refresh", "retry", "expire", "minimum"];
      for (let k = 0; k < 4; k++) {
        o += 4;
        out.writeUInt32BE(parseDuration(f[3 + k]!, { max: MAX_U32, what: `SOA ${names[k]}` }), o);
      }
      return out;
    },
  ],
  [RRType.MX, prefName],
  [RRType.AFSDB, prefName],
  [RRType.KX, prefName],
  [RRType.TXT, txtLike],
  [RRType.SPF, txtLike],
  [
    RRType.SRV,
    (f, origin, t) => {
      count(f, 4, 4, t, "four fields: priority, weight, port and target");
      const target = nameWireFromField(f[3]!, origin);
      const out = Buffer.allocUnsafe(6 + target.length);
      out.writeUInt16BE(uint(f[0]!, 0xffff, "priority", t), 0);
      out.writeUInt16BE(uint(f[1]!, 0xffff, "weight", t), 2);
      out.writeUInt16BE(uint(f[2]!, 0xffff, "port", t), 4);
      target.copy(out, 6);
      return out;
    },
  ],
  [
    RRType.CAA,
    (f, _o, t) => {
      count(f, 3, 3, t, 'three fields: flags, tag and value, e.g. 0 issue "ca.example" (quote a value with spaces)');
      const flags = uint(f[0]!, 255, "flags", t);
      const tag = f[1]!;
      let okTag = tag.length > 0 && tag.length <= 255;
      for (let i = 0; okTag && i < tag.length; i++) okTag = isAlnum(tag.charCodeAt(i));
      if (!okTag) throw new Error(`bad CAA tag "${tag}": use letters and digits only, e.g. issue, issuewild, iodef (RFC 8659 §4.1)`);
      const value = charStringBytes(f[2]!);
      return Buffer.concat([Buffer.from([flags, tag.length]), Buffer.from(tag, "latin1"), value]);
    },
  ],
  [RRType.DS, dsLike],
  [RRType.CDS, dsLike],
  [RRType.DNSKEY, dnskeyLike],
  [RRType.CDNSKEY, dnskeyLike],
  [
    RRType.HINFO,
    (f, _o, t) => {
      count(f, 2, 2, t, 'two character-strings: CPU and OS, e.g. "PC" "Linux"');
      return Buffer.concat([oneCharString(f[0]!, "CPU", t), oneCharString(f[1]!, "OS", t)]);
    },
  ],
  [
    RRType.NAPTR,
    (f, origin, t) => {
      count(f, 6, 6, t, "six fields: order, preference, flags, services, regexp and replacement");
      const head = Buffer.allocUnsafe(4);
      head.writeUInt16BE(uint(f[0]!, 0xffff, "order", t), 0);
      head.writeUInt16BE(uint(f[1]!, 0xffff, "preference", t), 2);
      return Buffer.concat([
        head,
        oneCharString(f[2]!, "flags", t),
        oneCharString(f[3]!, "services", t),
        oneCharString(f[4]!, "regexp", t),
        nameWireFromField(f[5]!, origin),
      ]);
    },
  ],
  [
    RRType.SSHFP,
    (f, _o, t) => {
      count(f, 3, Infinity, t, "algorithm, fingerprint type and a hex fingerprint");
      const head = Buffer.from([uint(f[0]!, 255, "algorithm", t), uint(f[1]!, 255, "fingerprint type", t)]);
      return Buffer.concat([head, hexField(f.slice(2), "fingerprint", t)]);
    },
  ],
  [RRType.TLSA, tlsaLike],
  [RRType.SMIMEA, tlsaLike],
  [
    RRType.URI,
    (f, _o, t) => {
      count(f, 3, 3, t, 'three fields: priority, weight and a quoted target URI, e.g. 10 1 "https://example.test/"');
      const target = charStringBytes(f[2]!);
      if (target.length === 0) throw new Error(`URI record has an empty target; write the URI in quotes`);
      const head = Buffer.allocUnsafe(4);
      head.writeUInt16BE(uint(f[0]!, 0xffff, "priority", t), 0);
      head.writeUInt16BE(uint(f[1]!, 0xffff, "weight", t), 2);
      return Buffer.concat([head, target]);
    },
  ],
  [
    RRType.RP,
    (f, origin, t) => {
      count(f, 2, 2, t, "two names: a mailbox and a TXT name (. for none)");
      return Buffer.concat([nameWireFromField(f[0]!, origin), nameWireFromField(f[1]!, origin)]);
    },
  ],
]);

/** RFC 3597 §5: `\# len hex…`; the hex may be split by spaces. */
function genericRdata(f: string[], typeName: string): Buffer {
  if (f.length < 2) {
    throw new Error(`generic RDATA for ${typeName} needs a length after \\#, e.g. \\# 4 0a000001`);
  }
  const len = uint(f[1]!, MAX_RDATA, "RDATA length", typeName);
  const hex = f.slice(2).join("");
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new Error(`bad hex RDATA after \\# in ${typeName} record: expected an even number of hex digits`);
  }
  if (hex.length / 2 !== len) {
    throw new Error(`\\# says ${len} octets but ${hex.length / 2} follow in ${typeName} record; make the length match the hex`);
  }
  return Buffer.from(hex, "hex");
}

/**
 * Wire RDATA for `type` from its text fields (see the file comment for the field convention).
 * Accepts `\# len hex` for every type; for types with a text form the generic bytes must also be
 * valid for the type. Throws an Error with a message that names the problem and the fix.
 */
export function rdataFromText(type: number, fields: string[], origin: Name | null): Buffer {
  const typeName = typeToText(type);
  if (type === 0) throw new Error(`TYPE0 is reserved (RFC 6895 §3.1) and cannot be stored in a zone`);
  if (isMetaType(type)) throw new Error(`${typeName} is a query/meta type and cannot be stored in a zone`);
  let out: Buffer;
  if (fields.length > 0 && fields[0] === "\\#") {
    out = genericRdata(fields, typeName);
    if (hasTextFormat(type)) {
      try {
        rdataToText(type, out);
      } catch (e) {
        throw new Error(`generic RDATA is not a valid ${typeName} record: ${(e as Error).message}`);
      }
    }
  } else {
    const enc = encoders.get(type);
    if (!enc) {
      throw new Error(`hadns has no text format for ${typeName} records; write the RDATA as RFC 3597 \\# <length> <hex>`);
    }
    try {
      out = enc(fields, origin, typeName);
    } catch (e) {
      const m = (e as Error).message;
      throw new Error(m.includes(` ${typeName} `) || m.startsWith(typeName) ? m : `${m} in ${typeName} record`);
    }
  }
  if (out.length > MAX_RDATA) throw new Error(`${typeName} RDATA is ${out.length} octets long; the limit is 65535`);
  return out;
}
