// Owner names as the parser and the zone keep them: lower-case ones as a KeyName (no wire Buffer,
// made from the key when asked), others with their written case.

import { describe, expect, it } from "vitest";
import { ownerFromField } from "../src/zone/rdata-text.js";
import { KeyName, nameFromText } from "../src/wire/name.js";

describe("ownerFromField", () => {
  const origin = nameFromText("Example.TEST.");
  it("a lower-case owner is a KeyName with the wire form of nameFromText", () => {
    for (const text of ["www", "a.b.c", "*.wild", "_sip._tcp.h0", "abs.other.test."]) {
      const n = ownerFromField(text, origin);
      const expected = nameFromText(text, origin);
      expect(n.key).toBe(expected.key);
      expect(n.wire.equals(expected.wire)).toBe(true);
      // Relative names end in the origin's written case: only absolute ones are wholly lower case.
      if (text.endsWith(".")) expect(n).toBeInstanceOf(KeyName);
    }
    const lowerOrigin = nameFromText("example.test.");
    expect(ownerFromField("www", lowerOrigin)).toBeInstanceOf(KeyName);
    expect(ownerFromField("www", ownerFromField("example.test.", null)).wire.equals(nameFromText("www.example.test.").wire)).toBe(true);
  });
  it("an owner written with upper case keeps it; escapes and @ go the slow way", () => {
    const n = ownerFromField("Mixed.Case", origin);
    expect(n).not.toBeInstanceOf(KeyName);
    expect(n.wire.equals(nameFromText("Mixed.Case", origin).wire)).toBe(true);
    expect(ownerFromField("a\\.b", origin).key).toBe(nameFromText("a\\.b", origin).key);
    expect(ownerFromField("@", origin).wire.equals(origin.wire)).toBe(true);
  });
});
