// Pool answers become RDATA through the same address parser as zone files.

import { describe, expect, it } from "vitest";
import { rdataOf } from "../src/answer/pools.js";
import { RRType } from "../src/wire/constants.js";

describe("rdataOf", () => {
  it("AAAA: compressed, full and IPv4-embedded forms; nonsense is an error", () => {
    expect(rdataOf(RRType.AAAA, "2001:db8::10").toString("hex")).toBe("20010db8000000000000000000000010");
    expect(rdataOf(RRType.AAAA, "::1").toString("hex")).toBe("00000000000000000000000000000001");
    expect(rdataOf(RRType.AAAA, "::ffff:192.0.2.1").toString("hex")).toBe("00000000000000000000ffffc0000201");
    expect(rdataOf(RRType.AAAA, "2001:db8:0:0:0:0:0:1").toString("hex")).toBe("20010db8000000000000000000000001");
    expect(() => rdataOf(RRType.AAAA, "2001:db8::g")).toThrow(/not an IPv6 address/);
  });

  it("A and CNAME targets", () => {
    expect(rdataOf(RRType.A, "192.0.2.10").toString("hex")).toBe("c000020a");
    expect(() => rdataOf(RRType.A, "300.1.1.1")).toThrow(/not an IPv4 address/);
    expect(rdataOf(RRType.CNAME, "lb.example.net").toString("hex")).toBe("026c62076578616d706c65036e657400");
  });
});
