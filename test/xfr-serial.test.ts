// SOA serials (RFC 1982 serial arithmetic with SERIAL_BITS = 32) and the serial policy of transferred
// zones: always greater than the last one, the zone file's serial as the base, the same across a
// restart that renders the same zone.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextSerial, serialAdd, serialCompare, serialGt, startSerial } from "../src/xfr/serial.js";

const MAX = 0xffffffff;
const HALF = 0x80000000;

describe("RFC 1982 §3.2 comparison", () => {
  it("orders nearby serials as integers", () => {
    expect(serialCompare(1, 0)).toBe(1);
    expect(serialCompare(0, 1)).toBe(-1);
    expect(serialCompare(2024010101, 2024010101)).toBe(0);
    expect(serialGt(100, 44)).toBe(true);
  });

  it("wraps: 0 follows 2^32-1, and 2^31-1 ahead is still greater", () => {
    expect(serialGt(0, MAX)).toBe(true);
    expect(serialGt(MAX, 0)).toBe(false);
    expect(serialGt(HALF - 1, 0)).toBe(true);
    expect(serialGt(HALF + 1, 0)).toBe(false);
    expect(serialGt(0, HALF + 1)).toBe(true);
  });

  it("leaves exactly 2^31 apart undefined (neither greater)", () => {
    expect(serialCompare(0, HALF)).toBeUndefined();
    expect(serialCompare(HALF, 0)).toBeUndefined();
    expect(serialGt(0, HALF)).toBe(false);
    expect(serialGt(HALF, 0)).toBe(false);
  });

  it("is antisymmetric, and a + n > a for 0 < n < 2^31 (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), fc.integer({ min: 1, max: HALF - 1 }), (a, n) => {
        const b = serialAdd(a, n);
        expect(serialGt(b, a)).toBe(true);
        expect(serialGt(a, b)).toBe(false);
        expect(serialCompare(a, b)).toBe(-1);
      }),
    );
  });

  it("rejects additions outside 0 … 2^31-1 (§3.1)", () => {
    expect(() => serialAdd(1, HALF)).toThrow(/RFC 1982/);
    expect(() => serialAdd(1, -1)).toThrow(/RFC 1982/);
  });
});

describe("next serial", () => {
  it("increment: +1, wrapping past 2^32-1 to 0", () => {
    expect(nextSerial(7, "increment", 1_700_000_000)).toBe(8);
    expect(nextSerial(MAX, "increment", 1_700_000_000)).toBe(0);
  });

  it("unixtime: the time when greater, else +1 (a YYYYMMDDnn serial stays ahead of the clock)", () => {
    expect(nextSerial(5, "unixtime", 1_700_000_000)).toBe(1_700_000_000);
    expect(nextSerial(1_700_000_000, "unixtime", 1_700_000_000)).toBe(1_700_000_001);
    expect(nextSerial(2024010101, "unixtime", 1_700_000_000)).toBe(2024010102);
  });

  it("the zone file's serial wins when it is greater (an operator raised it)", () => {
    expect(nextSerial(10, "increment", 0, 100)).toBe(100);
    expect(nextSerial(10, "increment", 0, 5)).toBe(11);
  });

  it("is always greater than the current serial, whatever the clock and the file say (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: MAX }),
        fc.constantFrom("increment" as const, "unixtime" as const),
        fc.integer({ min: 0, max: MAX }),
        fc.option(fc.integer({ min: 0, max: MAX }), { nil: undefined }),
        (cur, policy, now, base) => {
          expect(serialGt(nextSerial(cur, policy, now, base), cur)).toBe(true);
        },
      ),
    );
  });
});

describe("serial at start-up", () => {
  const saved = { serial: 2024010107, fileSerial: 2024010101, fingerprint: "abc", at: 0 };

  it("nothing saved: the file's serial (unixtime: the time, if greater)", () => {
    expect(startSerial(2024010101, "abc", undefined, "increment", 1_700_000_000)).toBe(2024010101);
    expect(startSerial(3, "abc", undefined, "unixtime", 1_700_000_000)).toBe(1_700_000_000);
  });

  it("the same file serial and the same content: the saved serial, unchanged across the restart", () => {
    expect(startSerial(2024010101, "abc", saved, "increment", 1_700_000_000)).toBe(2024010107);
  });

  it("other content (a pool flipped while hadns was down): the next serial after the saved one", () => {
    expect(startSerial(2024010101, "def", saved, "increment", 1_700_000_000)).toBe(2024010108);
  });

  it("a file serial raised past the saved one: the file's", () => {
    expect(startSerial(2024020101, "def", saved, "increment", 1_700_000_000)).toBe(2024020101);
  });

  it("a file serial lowered (file restored from an old copy): still never back", () => {
    expect(startSerial(1, "def", saved, "increment", 1_700_000_000)).toBe(2024010108);
  });
});
