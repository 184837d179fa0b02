// Domain names in presentation form (RFC 1035 §5.1 escapes, RFC 4343 case): random labels, bytes
// that need escaping included, round-trip wire → text → wire, and the parser's fast path agrees.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { labelsOf, nameFromLabels, nameFromText, nameToText, type Name } from "../src/wire/name.js";
import { nameFromField } from "../src/zone/rdata-text.js";
import { parseZoneText } from "../src/zone/parse.js";

/** Bytes biased towards the ones presentation form must escape. */
const labelByte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...Buffer.from("abcxyzABCXYZ019-_*")) },
  { weight: 2, arbitrary: fc.constantFrom(0x2e, 0x5c, 0x22, 0x28, 0x29, 0x3b, 0x40, 0x24, 0x20, 0x09, 0x0a, 0x00, 0x7f, 0xff, 0x80) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);
const label = fc.array(labelByte, { minLength: 1, maxLength: 63 }).map((a) => Buffer.from(a));
const labels = fc
  .array(label, { minLength: 0, maxLength: 10 })
  .filter((ls) => ls.reduce((n, l) => n + l.length + 1, 1) <= 255);
const name: fc.Arbitrary<Name> = labels.map((ls) => nameFromLabels(ls));

/** Plain printable-ASCII names without escapes: what the fast path takes. */
const plainLabel = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*"), minLength: 1, maxLength: 63 });

const ORIGIN = nameFromText("Example.TEST.");

describe("names round-trip between wire and presentation text", () => {
  it("wire → text → wire gives the same bytes, case included (nameFromText and nameFromField)", () => {
    fc.assert(
      fc.property(name, (n) => {
        const text = nameToText(n);
        expect(nameFromText(text).wire.equals(n.wire)).toBe(true);
        const viaField = nameFromField(text, null);
        expect(viaField.wire.equals(n.wire)).toBe(true);
        expect(viaField.key).toBe(n.key);
      }),
      { numRuns: 500 },
    );
  });

  it("text is printable ASCII only, whatever the bytes", () => {
    fc.assert(
      fc.property(name, (n) => {
        expect(nameToText(n)).toMatch(/^[\x21-\x7e]+$/);
      }),
    );
  });

  it("relative text completes with the origin, and the key is the lower-cased wire", () => {
    fc.assert(
      fc.property(labels.filter((ls) => ls.length > 0 && ls.reduce((n, l) => n + l.length + 1, 1) + ORIGIN.wire.length - 1 <= 255), (ls) => {
        const rel = nameToText(nameFromLabels(ls)).slice(0, -1); // drop the root dot
        const n = nameFromField(rel, ORIGIN);
        expect(n.wire.equals(nameFromLabels([...ls, ...labelsOf(ORIGIN)]).wire)).toBe(true);
        const folded = Buffer.from(n.wire).map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
        expect(n.key).toBe(Buffer.from(folded).toString("latin1"));
      }),
    );
  });

  it("the fast path and nameFromText agree on plain names, valid or not", () => {
    const text = fc.oneof(
      fc.array(plainLabel, { minLength: 1, maxLength: 8 }).map((ls) => ls.join(".")),
      fc.array(plainLabel, { minLength: 1, maxLength: 8 }).map((ls) => ls.join(".") + "."),
      fc.string({ unit: fc.constantFrom(..."ab.-*9"), maxLength: 300 }),
    );
    fc.assert(
      fc.property(text, fc.boolean(), (t, withOrigin) => {
        const origin = withOrigin ? ORIGIN : null;
        let expected: Name | Error;
        try {
          expected = nameFromText(t, origin);
        } catch (e) {
          expected = e as Error;
        }
        if (expected instanceof Error) {
          expect(() => nameFromField(t, origin)).toThrow();
        } else {
          const got = nameFromField(t, origin);
          expect(got.wire.equals(expected.wire)).toBe(true);
          expect(got.key).toBe(expected.key);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("any name works as an owner in a zone file and comes back byte for byte", () => {
    fc.assert(
      fc.property(name, (n) => {
        const r = parseZoneText(`${nameToText(n)} 300 IN TXT "x"\n`, "f.zone");
        expect(r.errors).toEqual([]);
        expect(r.records[0]!.owner.wire.equals(n.wire)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
