// Property tests for the master-file parser and RDATA codecs (RFC 1035 §5, RFC 3597): every type's
// RDATA survives rdataToText → parse → same bytes, and no input makes parseZoneText throw.

import fs from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RRType, isMetaType, typeToText } from "../src/wire/constants.js";
import { nameFromLabels, type Name } from "../src/wire/name.js";
import { parseZoneText } from "../src/zone/parse.js";
import { ipv6ToText, rdataToText, rrToText } from "../src/zone/rdata-format.js";
import { parseIPv6, rdataFromText } from "../src/zone/rdata-text.js";

const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x22, 0x5c, 0x3b, 0x28, 0x29, 0x20, 0x0a, 0x40, 0x24));
const bytes = (min: number, max: number) => fc.array(byte, { minLength: min, maxLength: max }).map((a) => Buffer.from(a));
const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

const label = fc.array(fc.oneof(fc.constantFrom(...Buffer.from("abcXYZ09-*")), byte), { minLength: 1, maxLength: 20 }).map((a) => Buffer.from(a));
const name: fc.Arbitrary<Name> = fc.array(label, { maxLength: 5 }).map((ls) => nameFromLabels(ls));
const nameWire = name.map((n) => n.wire);
const charString = bytes(0, 255).map((b) => Buffer.concat([Buffer.from([b.length]), b]));

function be16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
function be32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}
const cat = (...parts: Buffer[]) => Buffer.concat(parts);
const alnumTag = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCXYZ0189"), minLength: 1, maxLength: 15 });

/** Valid wire RDATA per type. */
const rdataByType: Array<[number, fc.Arbitrary<Buffer>]> = [
  [RRType.A, bytes(4, 4)],
  [RRType.AAAA, fc.oneof(bytes(16, 16), fc.array(fc.constantFrom(0, 0, 0, 1, 0xff), { minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)))],
  [RRType.NS, nameWire],
  [RRType.CNAME, nameWire],
  [RRType.PTR, nameWire],
  [RRType.DNAME, nameWire],
  [RRType.SOA, fc.tuple(nameWire, nameWire, fc.array(u32, { minLength: 5, maxLength: 5 })).map(([m, r, t]) => cat(m, r, ...t.map(be32)))],
  [RRType.MX, fc.tuple(u16, nameWire).map(([p, n]) => cat(be16(p), n))],
  [RRType.AFSDB, fc.tuple(u16, nameWire).map(([p, n]) => cat(be16(p), n))],
  [RRType.KX, fc.tuple(u16, nameWire).map(([p, n]) => cat(be16(p), n))],
  [RRType.TXT, fc.array(charString, { minLength: 1, maxLength: 4 }).map((a) => cat(...a))],
  [RRType.SPF, fc.array(charString, { minLength: 1, maxLength: 4 }).map((a) => cat(...a))],
  [RRType.SRV, fc.tuple(u16, u16, u16, nameWire).map(([a, b, c, n]) => cat(be16(a), be16(b), be16(c), n))],
  [RRType.CAA, fc.tuple(u8, alnumTag, bytes(0, 100)).map(([f, t, v]) => cat(Buffer.from([f, t.length]), Buffer.from(t), v))],
  [RRType.DS, fc.tuple(u16, u8, u8, bytes(1, 64)).map(([k, a, d, h]) => cat(be16(k), Buffer.from([a, d]), h))],
  [RRType.CDS, fc.tuple(u16, u8, u8, bytes(1, 64)).map(([k, a, d, h]) => cat(be16(k), Buffer.from([a, d]), h))],
  [RRType.DNSKEY, fc.tuple(u16, u8, u8, bytes(1, 300)).map(([f, p, a, k]) => cat(be16(f), Buffer.from([p, a]), k))],
  [RRType.CDNSKEY, fc.tuple(u16, u8, u8, bytes(1, 300)).map(([f, p, a, k]) => cat(be16(f), Buffer.from([p, a]), k))],
  [RRType.HINFO, fc.tuple(charString, charString).map(([c, o]) => cat(c, o))],
  [RRType.NAPTR, fc.tuple(u16, u16, charString, charString, charString, nameWire).map(([o, p, f, s, r, n]) => cat(be16(o), be16(p), f, s, r, n))],
  [RRType.SSHFP, fc.tuple(u8, u8, bytes(1, 64)).map(([a, t, h]) => cat(Buffer.from([a, t]), h))],
  [RRType.TLSA, fc.tuple(u8, u8, u8, bytes(1, 64)).map(([u, s, m, h]) => cat(Buffer.from([u, s, m]), h))],
  [RRType.SMIMEA, fc.tuple(u8, u8, u8, bytes(1, 64)).map(([u, s, m, h]) => cat(Buffer.from([u, s, m]), h))],
  [RRType.URI, fc.tuple(u16, u16, bytes(1, 100)).map(([p, w, t]) => cat(be16(p), be16(w), t))],
  [RRType.RP, fc.tuple(nameWire, nameWire).map(([a, b]) => cat(a, b))],
];

/** Parse one record line with the full parser (lexer included) and return its RDATA. */
function viaZoneFile(type: number, text: string): Buffer {
  const r = parseZoneText(`x.test. 300 IN ${typeToText(type)} ${text}\n`, "prop.zone");
  expect(r.errors).toEqual([]);
  expect(r.records).toHaveLength(1);
  return r.records[0]!.rdata;
}

describe("every type: rdataToText → rdataFromText gives the same bytes", () => {
  it.each(rdataByType.map(([t, arb]) => [typeToText(t), t, arb] as const))("%s", (_n, type, arb) => {
    fc.assert(
      fc.property(arb, (rdata) => {
        const text = rdataToText(type, rdata);
        const back = viaZoneFile(type, text);
        expect(back.toString("hex")).toBe(rdata.toString("hex"));
        // RFC 3597 generic form of the same bytes is accepted for known types and equal.
        const generic = viaZoneFile(type, `\\# ${rdata.length} ${rdata.toString("hex")}`);
        expect(generic.equals(rdata)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe("generic RDATA (RFC 3597) for any type", () => {
  it("round-trips through text for every non-meta type without a text format", () => {
    const type = fc.integer({ min: 1, max: 0xffff }).filter((t) => !isMetaType(t) && !rdataByType.some(([k]) => k === t));
    fc.assert(
      fc.property(type, bytes(0, 300), (t, rdata) => {
        const text = rdataToText(t, rdata);
        expect(text.startsWith("\\# ")).toBe(true);
        expect(viaZoneFile(t, text).equals(rdata)).toBe(true);
        expect(rdataFromText(t, text.split(" "), null).equals(rdata)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("rrToText output parses back to the same record", () => {
    const rr = fc.constantFrom(...rdataByType).chain(([type, arb]) =>
      fc.tuple(name, fc.integer({ min: 0, max: 0x7fffffff }), arb).map(([owner, ttl, rdata]) => ({ owner, type, class: 1, ttl, rdata })),
    );
    fc.assert(
      fc.property(rr, (r) => {
        const back = parseZoneText(rrToText(r) + "\n", "prop.zone");
        expect(back.errors).toEqual([]);
        const got = back.records[0]!;
        expect([got.owner.wire.toString("hex"), got.ttl, got.type, got.rdata.toString("hex")]).toEqual([
          r.owner.wire.toString("hex"),
          r.ttl,
          r.type,
          r.rdata.toString("hex"),
        ]);
      }),
      { numRuns: 300 },
    );
  });
});

describe("no input makes the parser throw; what it accepts is valid", () => {
  const FIXTURE = fs.readFileSync(fileURLToPath(new URL("./fixtures/zonefile/all-types.zone", import.meta.url)), "utf8");

  /** Every accepted record has RDATA its type's decoder takes; every error has a sane place. */
  function sane(text: string): void {
    const r = parseZoneText(text, "/nonexistent/zones/fuzz.zone");
    const lines = text.split("\n").length;
    for (const e of r.errors) {
      expect(e.file).toBe("/nonexistent/zones/fuzz.zone");
      expect(e.line).toBeGreaterThanOrEqual(0);
      expect(e.line).toBeLessThanOrEqual(lines);
      expect(e.message.length).toBeGreaterThan(5);
    }
    for (const rec of r.records) {
      expect(() => rdataToText(rec.type, rec.rdata)).not.toThrow();
      expect(rec.ttl).toBeLessThanOrEqual(0x7fffffff);
      expect(rec.class).toBe(1);
    }
  }

  it("random text from zone-file characters and words", () => {
    const unit = fc.oneof(
      fc.constantFrom(..."abz09 \t\n\r();\"\\$@.*:#-=/+".split("")),
      fc.constantFrom("A", "AAAA", "TXT", "MX", "SOA", "NS", "CNAME", "CAA", "DS", "IN", "CH", "300", "1h", "\\#", "\\065", "$ORIGIN ", "$TTL ", "$INCLUDE ", "TYPE65280", "ns1.example.test.", "192.0.2.1", "::1"),
    );
    fc.assert(fc.property(fc.string({ unit, maxLength: 200 }), sane), { numRuns: 2000 });
  });

  it("random Unicode and binary text", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 300 }), sane), { numRuns: 500 });
  });

  it("the all-types fixture with random bytes deleted, inserted or replaced", () => {
    const edit = fc.tuple(fc.nat(FIXTURE.length - 1), fc.integer({ min: 0, max: 3 }), fc.string({ unit: fc.constantFrom(..."()\";\\ \n.x9@$#"), maxLength: 3 }));
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 8 }), (edits) => {
        let t = FIXTURE;
        for (const [at, del, ins] of edits) t = t.slice(0, at % t.length) + ins + t.slice((at % t.length) + del);
        sane(t);
      }),
      { numRuns: 500 },
    );
  });
});

describe("IPv6 text", () => {
  it("parseIPv6 accepts exactly what Node's net.isIPv6 accepts, with the same bytes as inet_pton", () => {
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:."), maxLength: 45 }),
      fc.array(fc.oneof(fc.constantFrom("", "0", "1", "ffff", "FFFF", "12345", "db8", "1.2.3.4", "255.255.255.255", "01.2.3.4"), fc.integer({ min: 0, max: 0xffff }).map((v) => v.toString(16))), { minLength: 1, maxLength: 10 }).map((a) => a.join(":")),
    );
    fc.assert(
      fc.property(text, (t) => {
        const b = parseIPv6(t);
        expect(b !== undefined).toBe(net.isIPv6(t));
        if (b) {
          const sock = new net.SocketAddress({ address: t, family: "ipv6" });
          expect(ipv6ToText(b)).toBe(ipv6ToText(parseIPv6(sock.address)!));
        }
      }),
      { numRuns: 3000 },
    );
  });
});
