// The master-file parser (RFC 1035 §5, RFC 2308 §4, RFC 3597), RDATA text codecs and zone content
// checks: exact records for every feature and type, and the same bytes as Knot DNS 3.2 where it agrees.

import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { RRType } from "../src/wire/constants.js";
import { nameFromText, nameToText } from "../src/wire/name.js";
import { checkZoneContent, mergeRRsets, rdataIdentity } from "../src/zone/checks.js";
import { parseZoneFile, parseZoneText, type ParseOptions, type ParseResult } from "../src/zone/parse.js";
import { rdataToText, rrToText } from "../src/zone/rdata-format.js";
import { rdataFromText } from "../src/zone/rdata-text.js";
import { formatSourceError, type SourcedRR } from "../src/zone/rr.js";
import { freePort } from "./support/ports.js";
import { parseDuration, parseDurationMs, parseTtl } from "../src/zone/ttl.js";

const FIX = fileURLToPath(new URL("./fixtures/zonefile/", import.meta.url));
const ORIGIN = nameFromText("example.test.");
const HEAD = "$ORIGIN example.test.\n$TTL 300\n";

function parse(text: string, opts: ParseOptions = {}): ParseResult {
  return parseZoneText(text, "zones/example.test.zone", opts);
}
/** Records as text; asserts there were no errors. */
function lines(text: string, opts: ParseOptions = {}): string[] {
  const r = parse(text, opts);
  expect(r.errors.map(formatSourceError)).toEqual([]);
  return r.records.map(rrToText);
}
function one(rdataText: string, type = "A"): string {
  return lines(`${HEAD}x ${type} ${rdataText}\n`)[0]!.replace(/^x\.example\.test\. 300 IN \S+ /, "");
}
function hex(type: number, fields: string[]): string {
  return rdataFromText(type, fields, ORIGIN).toString("hex");
}

describe("lexing: comments, parentheses, quotes, line ends", () => {
  it("joins lines inside parentheses and drops comments there too", () => {
    expect(
      lines(`${HEAD}@ SOA ns1 hostmaster ( ; opening comment\n  1 ; serial\n  2 3 ; two times\n  4 5 ) ; done\n`),
    ).toEqual(["example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 1 2 3 4 5"]);
  });

  it("treats ( and ) as delimiters even without spaces around them", () => {
    expect(lines(`${HEAD}@ SOA ns1 h (1 2 3 4 5)\n`)).toEqual([
      "example.test. 300 IN SOA ns1.example.test. h.example.test. 1 2 3 4 5",
    ]);
  });

  it("accepts CRLF line ends and a byte-order mark", () => {
    expect(lines(`\ufeff$ORIGIN example.test.\r\n$TTL 300\r\na A 192.0.2.1\r\n  TXT "x" \r\n`)).toEqual([
      "a.example.test. 300 IN A 192.0.2.1",
      'a.example.test. 300 IN TXT "x"',
    ]);
  });

  it("keeps ; ( ) and spaces inside quotes, and handles \\\" \\\\ \\DDD escapes", () => {
    expect(one(String.raw`"a;b" "(c)" "d \"e\" f\\g" \065\066 "\000"`, "TXT")).toBe(
      String.raw`"a;b" "(c)" "d \"e\" f\\g" "AB" "\000"`,
    );
  });

  it("records the line a multi-line record starts on", () => {
    const r = parse(`${HEAD}\n\n; comment\n@ SOA ns1 h (\n 1 2 3 4 5 )\nwww A 192.0.2.1\n`);
    expect(r.records.map((x) => x.line)).toEqual([6, 8]);
    expect(r.records.every((x) => x.file === "zones/example.test.zone")).toBe(true);
  });

  it("skips blank and comment-only lines, including ones that start with white space", () => {
    expect(lines(`${HEAD}a A 192.0.2.1\n   \n\t; note\n  A 192.0.2.2\n`)).toEqual([
      "a.example.test. 300 IN A 192.0.2.1",
      "a.example.test. 300 IN A 192.0.2.2",
    ]);
  });
});

describe("names: @, relative, absolute, escapes, case", () => {
  it("completes relative names with $ORIGIN and keeps absolute ones", () => {
    expect(lines(`${HEAD}@ NS ns1\nwww CNAME web.other.test.\nsub.www CNAME www\n`)).toEqual([
      "example.test. 300 IN NS ns1.example.test.",
      "www.example.test. 300 IN CNAME web.other.test.",
      "sub.www.example.test. 300 IN CNAME www.example.test.",
    ]);
  });

  it("changes the origin for later relative names at each $ORIGIN, relative ones too", () => {
    expect(lines(`${HEAD}a A 192.0.2.1\n$ORIGIN sub\nb A 192.0.2.2\n$ORIGIN example.test.\nc A 192.0.2.3\n`)).toEqual([
      "a.example.test. 300 IN A 192.0.2.1",
      "b.sub.example.test. 300 IN A 192.0.2.2",
      "c.example.test. 300 IN A 192.0.2.3",
    ]);
  });

  it("keeps escaped dots and \\DDD bytes inside labels", () => {
    const r = parse(String.raw`${HEAD}a\.b A 192.0.2.1
c\032d A 192.0.2.2
`);
    expect(r.errors).toEqual([]);
    expect(r.records[0]!.owner.wire.toString("latin1")).toBe("\x03a.b\x07example\x04test\x00");
    expect(r.records.map(rrToText)).toEqual([
      String.raw`a\.b.example.test. 300 IN A 192.0.2.1`,
      String.raw`c\032d.example.test. 300 IN A 192.0.2.2`,
    ]);
  });

  it("keeps the written case of owners and of names in RDATA (Knot lower-cases RDATA names; we do not)", () => {
    const r = parse(`${HEAD}WWW CNAME Web.Example.TEST.\nMx MX 10 Mail\n`);
    expect(r.records.map(rrToText)).toEqual([
      "WWW.example.test. 300 IN CNAME Web.Example.TEST.",
      "Mx.example.test. 300 IN MX 10 Mail.example.test.",
    ]);
    expect(r.records[0]!.owner.key).toBe(nameFromText("www.example.test.").key);
  });

  it("accepts wildcards and * inside labels", () => {
    expect(lines(`${HEAD}* A 192.0.2.1\n*.sub A 192.0.2.2\na*.b A 192.0.2.3\n`)).toEqual([
      "*.example.test. 300 IN A 192.0.2.1",
      "*.sub.example.test. 300 IN A 192.0.2.2",
      "a*.b.example.test. 300 IN A 192.0.2.3",
    ]);
  });

  it("uses the root for '.' in RDATA", () => {
    expect(one("0 .", "MX")).toBe("0 .");
  });
});

describe("owner, TTL and class fields", () => {
  it("inherits the owner when a line starts with a blank (space or tab)", () => {
    expect(lines(`${HEAD}a A 192.0.2.1\n A 192.0.2.2\n\tAAAA 2001:db8::1\n`)).toEqual([
      "a.example.test. 300 IN A 192.0.2.1",
      "a.example.test. 300 IN A 192.0.2.2",
      "a.example.test. 300 IN AAAA 2001:db8::1",
    ]);
  });

  it("takes TTL and class in either order, each optional", () => {
    expect(lines(`${HEAD}a 60 IN A 192.0.2.1\nb IN 60 A 192.0.2.2\nc IN A 192.0.2.3\nd 60 A 192.0.2.4\ne A 192.0.2.5\n`)).toEqual([
      "a.example.test. 60 IN A 192.0.2.1",
      "b.example.test. 60 IN A 192.0.2.2",
      "c.example.test. 300 IN A 192.0.2.3",
      "d.example.test. 60 IN A 192.0.2.4",
      "e.example.test. 300 IN A 192.0.2.5",
    ]);
  });

  it("accepts class and type mnemonics in any case, and CLASS1 as IN", () => {
    expect(lines(`${HEAD}a in a 192.0.2.1\nb CLASS1 A 192.0.2.2\nc class1 TYPE1 192.0.2.3\n`)).toEqual([
      "a.example.test. 300 IN A 192.0.2.1",
      "b.example.test. 300 IN A 192.0.2.2",
      "c.example.test. 300 IN A 192.0.2.3",
    ]);
  });

  it("reads TTL units, case-insensitive: 1h30m, 2w, 1W2d, 90S", () => {
    expect(lines(`${HEAD}a 1h30m A 192.0.2.1\nb 2w A 192.0.2.2\nc 1W2d A 192.0.2.3\nd 90S A 192.0.2.4\n`)).toEqual([
      "a.example.test. 5400 IN A 192.0.2.1",
      "b.example.test. 1209600 IN A 192.0.2.2",
      "c.example.test. 777600 IN A 192.0.2.3",
      "d.example.test. 90 IN A 192.0.2.4",
    ]);
  });

  it("accepts the largest TTL, 2^31-1 (RFC 2181 §8)", () => {
    expect(lines(`${HEAD}a 2147483647 A 192.0.2.1\n`)).toEqual(["a.example.test. 2147483647 IN A 192.0.2.1"]);
  });
});

describe("default TTLs: explicit, $TTL, last explicit TTL, then defaultTtl / 3600", () => {
  it("uses $TTL for records without a TTL, even after a record with an explicit one (RFC 2308 §4)", () => {
    expect(lines(`$ORIGIN example.test.\n$TTL 99\na 800 A 192.0.2.1\nb A 192.0.2.2\n$TTL 1m\nc A 192.0.2.3\n`)).toEqual([
      "a.example.test. 800 IN A 192.0.2.1",
      "b.example.test. 99 IN A 192.0.2.2",
      "c.example.test. 60 IN A 192.0.2.3",
    ]);
  });

  it("without $TTL, uses the last explicit TTL (RFC 1035 §5.1; Knot instead gives 3600 here)", () => {
    const r = parse(`$ORIGIN example.test.\na 700 A 192.0.2.1\nb A 192.0.2.2\n`);
    expect(r.records.map(rrToText)).toEqual(["a.example.test. 700 IN A 192.0.2.1", "b.example.test. 700 IN A 192.0.2.2"]);
    expect(r.warnings).toEqual([]);
  });

  it("with no TTL anywhere, uses 3600 like Knot's default-ttl (not the SOA MINIMUM) and warns once", () => {
    const r = parse(`$ORIGIN example.test.\n@ SOA ns1 h 1 2 3 4 5\nb A 192.0.2.2\n`);
    expect(r.records.map((x) => x.ttl)).toEqual([3600, 3600]);
    expect(r.warnings.map(formatSourceError)).toEqual([
      `zones/example.test.zone:2: no TTL given and no $TTL before this record; using 3600 (Knot's default). Add "$TTL <ttl>" at the top`,
    ]);
  });

  it("uses opts.defaultTtl when given, without a warning", () => {
    const r = parse(`$ORIGIN example.test.\na A 192.0.2.1\n`, { defaultTtl: 42 });
    expect(r.records[0]!.ttl).toBe(42);
    expect(r.warnings).toEqual([]);
  });
});

describe("zone origin", () => {
  const body = "@ SOA ns1 h 1 2 3 4 5\n";
  it("is opts.origin when given; relative names use it until a $ORIGIN", () => {
    const r = parse(`$TTL 1\n${body}`, { origin: ORIGIN });
    expect(nameToText(r.origin!)).toBe("example.test.");
    expect(rrToText(r.records[0]!)).toBe("example.test. 1 IN SOA ns1.example.test. h.example.test. 1 2 3 4 5");
  });

  it("is the first $ORIGIN when no origin is given", () => {
    const r = parse(`$ORIGIN example.test.\n$TTL 1\n${body}$ORIGIN sub.example.test.\nx A 192.0.2.1\n`, {
      fallbackOrigin: nameFromText("file.test."),
    });
    expect(nameToText(r.origin!)).toBe("example.test.");
    expect(r.records.map((x) => nameToText(x.owner))).toEqual(["example.test.", "x.sub.example.test."]);
  });

  it("is fallbackOrigin when records come before the first $ORIGIN; they are relative to it", () => {
    const r = parse(`$TTL 1\n${body}$ORIGIN sub.file.test.\nx A 192.0.2.1\n`, { fallbackOrigin: nameFromText("file.test.") });
    expect(nameToText(r.origin!)).toBe("file.test.");
    expect(r.records.map((x) => nameToText(x.owner))).toEqual(["file.test.", "x.sub.file.test."]);
  });

  it("falls back to the owner of the first SOA, and is null when nothing tells", () => {
    expect(nameToText(parse(`$TTL 1\nexample.test. SOA ns1.example.test. h.example.test. 1 2 3 4 5\n`).origin!)).toBe("example.test.");
    expect(parse("$TTL 1\na.test. A 192.0.2.1\n").origin).toBeNull();
  });
});

describe("$INCLUDE", () => {
  const dir = path.join(FIX, "include");
  it("reads the included file relative to the including one, with its own file name and lines", () => {
    const r = parseZoneFile(path.join(dir, "main.zone"), { root: dir });
    expect(r.errors.map(formatSourceError)).toEqual([]);
    expect(r.records.map((x) => `${path.relative(FIX, x.file)}:${x.line} ${rrToText(x)}`)).toEqual([
      "include/main.zone:3 example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 300",
      "include/main.zone:4 example.test. 300 IN NS ns1.example.test.",
      "include/sub/hosts.inc:2 ns1.example.test. 300 IN A 192.0.2.1",
      "include/sub/hosts.inc:4 www.example.test. 60 IN A 192.0.2.80",
      "include/sub/nested.inc:1 deep.example.test. 300 IN TXT \"nested\"",
      "include/sub/hosts.inc:6 after.example.test. 60 IN A 192.0.2.81",
      "include/main.zone:7 mail.sub.example.test. 60 IN A 192.0.2.25",
      "include/main.zone:8 back.example.test. 300 IN A 192.0.2.2",
      "include/main.zone:9 back.example.test. 300 IN A 192.0.2.3",
    ]);
  });

  it("refuses a path that leaves the root, naming the including line", () => {
    const r = parseZoneFile(path.join(dir, "escape.zone"), { root: dir });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.file).toBe(path.join(dir, "escape.zone"));
    expect(r.errors[0]!.line).toBe(3);
    expect(r.errors[0]!.message).toBe(
      `$INCLUDE "../outside.inc" resolves to ${path.join(FIX, "outside.inc")}, outside the zones folder ${dir}; move the file into that folder`,
    );
    expect(r.records.map(rrToText)).toEqual(["a.example.test. 300 IN A 192.0.2.1"]);
  });

  it("refuses a symlink inside the root that points outside it (realpath)", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-inc-"));
    try {
      fs.mkdirSync(path.join(tmp, "zones"));
      fs.writeFileSync(path.join(tmp, "secret.inc"), "leak A 192.0.2.9\n");
      fs.symlinkSync(path.join(tmp, "secret.inc"), path.join(tmp, "zones", "link.inc"));
      fs.writeFileSync(path.join(tmp, "zones", "z.zone"), "$ORIGIN example.test.\n$TTL 1\n$INCLUDE link.inc\n");
      const r = parseZoneFile(path.join(tmp, "zones", "z.zone"));
      expect(r.records).toEqual([]);
      expect(r.errors.map((e) => e.line)).toEqual([3]);
      expect(r.errors[0]!.message).toMatch(/^\$INCLUDE "link\.inc" resolves to .*secret\.inc, outside the zones folder .*zones; move the file into that folder$/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("detects include loops and names the chain", () => {
    const r = parseZoneFile(path.join(dir, "loop-a.zone"), { root: dir });
    expect(r.errors.map((e) => `${path.relative(FIX, e.file)}:${e.line}: ${e.message}`)).toEqual([
      "include/loop-b.inc:2: $INCLUDE loop: loop-a.zone includes loop-b.inc includes loop-a.zone; remove one of these $INCLUDE lines",
    ]);
    expect(r.records.map(rrToText)).toEqual(["a.example.test. 300 IN A 192.0.2.1", "b.example.test. 300 IN A 192.0.2.2"]);
  });

  it("reports a missing include file at the including line and goes on", () => {
    const r = parseZoneText(`${HEAD}$INCLUDE nope.inc\na A 192.0.2.1\n`, path.join(dir, "virtual.zone"), { root: dir });
    expect(r.errors.map((e) => [e.line, e.message])).toEqual([
      [3, `$INCLUDE file "nope.inc" not found (looked for ${path.join(dir, "nope.inc")})`],
    ]);
    expect(r.records).toHaveLength(1);
  });
});

describe("RDATA of every type, as Knot prints it", () => {
  it("A and AAAA in every valid IPv6 form", () => {
    expect(one("192.0.2.1")).toBe("192.0.2.1");
    expect(one("0.0.0.0")).toBe("0.0.0.0");
    const v6: Array<[string, string]> = [
      ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["2001:db8::", "2001:db8::"],
      ["::", "::"],
      ["::1", "::1"],
      ["1::", "1::"],
      ["::ffff:192.0.2.7", "::ffff:192.0.2.7"],
      ["::192.0.2.7", "::192.0.2.7"],
      ["1::2:3.4.5.6", "1::2:304:506"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
      ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
      ["0:0:0:0:0:0:0:0", "::"],
      ["1:0:2:0:0:3:0:0", "1:0:2::3:0:0"],
      ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
      ["fe80::0001:ABCD", "fe80::1:abcd"],
    ];
    for (const [input, out] of v6) expect(one(input, "AAAA"), input).toBe(out);
  });

  it("names: NS, CNAME, PTR, DNAME", () => {
    expect(one("ns1", "NS")).toBe("ns1.example.test.");
    expect(one("@", "CNAME")).toBe("example.test.");
    expect(one("host.other.", "PTR")).toBe("host.other.");
    expect(one("target.test.", "DNAME")).toBe("target.test.");
  });

  it("SOA with times in units", () => {
    expect(one("ns1 h.master 4294967295 1h 15m 1w 1d", "SOA")).toBe(
      "ns1.example.test. h.master.example.test. 4294967295 3600 900 604800 86400",
    );
  });

  it("MX, SRV, AFSDB, KX", () => {
    expect(one("10 mail", "MX")).toBe("10 mail.example.test.");
    expect(one("0 5 5060 sip.example.test.", "SRV")).toBe("0 5 5060 sip.example.test.");
    expect(one("1 afs", "AFSDB")).toBe("1 afs.example.test.");
    expect(one("2 kx", "KX")).toBe("2 kx.example.test.");
  });

  it("TXT and SPF: several strings, unquoted words, empty strings", () => {
    expect(one('"v=spf1" include:x -all ""', "TXT")).toBe('"v=spf1" "include:x" "-all" ""');
    expect(one("word", "SPF")).toBe('"word"');
  });

  it("TXT: a string over 255 octets is split into 255-octet strings (Knot 3.2 does the same)", () => {
    const long = "x".repeat(600);
    const b = rdataFromText(RRType.TXT, [long], ORIGIN);
    expect([b[0], b[256], b[512], b.length]).toEqual([255, 255, 90, 603]);
    expect(one(`"${long}"`, "TXT")).toBe(`"${"x".repeat(255)}" "${"x".repeat(255)}" "${"x".repeat(90)}"`);
    expect(rdataFromText(RRType.TXT, ["y".repeat(255)], ORIGIN).length).toBe(256);
  });

  it("TXT: characters beyond ASCII are stored as UTF-8 (Knot refuses them; write \\DDD to be portable)", () => {
    expect(hex(RRType.TXT, ["héllo"])).toBe("0668c3a96c6c6f");
    expect(one('"héllo"', "TXT")).toBe(String.raw`"h\195\169llo"`);
  });

  it("CAA: flags 0-255, alphanumeric tag, quoted or bare value", () => {
    expect(one('0 issue "ca.example.net; account=1"', "CAA")).toBe('0 issue "ca.example.net; account=1"');
    expect(one("128 iodef mailto:sec@example.test", "CAA")).toBe('128 iodef "mailto:sec@example.test"');
    expect(one('0 issuewild ""', "CAA")).toBe('0 issuewild ""');
    expect(hex(RRType.CAA, ["0", "issue", "ca"])).toBe("0005697373756563" + "61");
  });

  it("DS and CDS: hex digest split by spaces, algorithm as number or mnemonic", () => {
    expect(one("60485 5 1 2BB183AF5F22588179A53B0A 98631fad1a292118", "DS")).toBe(
      "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
    );
    expect(one("1 ECDSAP256SHA256 2 ABCD", "CDS")).toBe("1 13 2 ABCD");
  });

  it("DNSKEY and CDNSKEY: base64 split by spaces", () => {
    expect(one("257 3 8 AwEA AQAB", "DNSKEY")).toBe("257 3 8 AwEAAQAB");
    expect(one("256 3 ED25519 AwEAAc== AwEA", "CDNSKEY")).toBe("256 3 15 AwEAAQMBAA==");
  });

  it("HINFO, NAPTR, SSHFP, TLSA, SMIMEA, URI, RP", () => {
    expect(one('"Generic PC" Linux', "HINFO")).toBe('"Generic PC" "Linux"');
    expect(one('100 10 "S" "SIP+D2U" "" _sip._udp', "NAPTR")).toBe('100 10 "S" "SIP+D2U" "" _sip._udp.example.test.');
    expect(one("4 2 12 34 ab", "SSHFP")).toBe("4 2 1234AB");
    expect(one("3 1 1 0c72 ac70", "TLSA")).toBe("3 1 1 0C72AC70");
    expect(one("3 0 0 00", "SMIMEA")).toBe("3 0 0 00");
    expect(one('10 1 "https://www.example.test/"', "URI")).toBe('10 1 "https://www.example.test/"');
    expect(one("admin.example.test. .", "RP")).toBe("admin.example.test. .");
  });

  it("RFC 3597 generic RDATA for any type; for known types it equals the text form", () => {
    expect(one(String.raw`\# 4 DEADBEEF`, "TYPE65280")).toBe(String.raw`\# 4 DEADBEEF`);
    expect(one(String.raw`\# 0`, "TYPE65281")).toBe(String.raw`\# 0`);
    expect(hex(RRType.A, ["\\#", "4", "0a000001"])).toBe(hex(RRType.A, ["10.0.0.1"]));
    expect(hex(RRType.MX, ["\\#", "3", "000a", "00"])).toBe(hex(RRType.MX, ["10", "."]));
    expect(one(String.raw`\# 6 0568656c6c6f`, "TXT")).toBe('"hello"');
    expect(one(String.raw`\# 2 abcd`, "HTTPS")).toBe(String.raw`\# 2 ABCD`);
  });

  it('a quoted "\\#" is a character-string, not the generic marker', () => {
    expect(one('"\\#"', "TXT")).toBe('"#"');
  });

  it("rrToText prints owner TTL class type rdata", () => {
    expect(lines(`${HEAD}x 5 IN TYPE65280 \\# 1 ff\n`)).toEqual(["x.example.test. 5 IN TYPE65280 \\# 1 FF"]);
  });

  it("rdataToText prints unknown types as RFC 3597 and escapes bytes in strings", () => {
    expect(rdataToText(65000, Buffer.from([1, 2]))).toBe("\\# 2 0102");
    expect(rdataToText(RRType.TXT, Buffer.from([3, 0x22, 0x5c, 0x7f]))).toBe(String.raw`"\"\\\127"`);
  });
});

describe("duplicates and RRset TTLs (what Knot DNS 3.2 does when it loads)", () => {
  it("drops identical records silently, comparing names in RDATA case-insensitively and keeping the first", () => {
    const r = parse(`${HEAD}a A 192.0.2.1\nb A 192.0.2.9\na A 192.0.2.1\nc CNAME Foo\nc CNAME foo\nt TXT "x"\nt TXT x\n`);
    expect(r.records.map(rrToText)).toEqual([
      "a.example.test. 300 IN A 192.0.2.1",
      "b.example.test. 300 IN A 192.0.2.9",
      "c.example.test. 300 IN CNAME Foo.example.test.",
      't.example.test. 300 IN TXT "x"',
    ]);
    expect(r.warnings).toEqual([]);
  });

  it("RRset TTL mismatch is not an error: like Knot 3.2, every record gets the last TTL, with a notice", () => {
    const r = parse(`${HEAD}www 300 A 192.0.2.2\nwww 150 A 192.0.2.3\nother A 192.0.2.1\nwww 400 A 192.0.2.4\n`);
    expect(r.errors).toEqual([]);
    expect(r.records.map(rrToText)).toEqual([
      "www.example.test. 400 IN A 192.0.2.2",
      "www.example.test. 400 IN A 192.0.2.3",
      "other.example.test. 300 IN A 192.0.2.1",
      "www.example.test. 400 IN A 192.0.2.4",
    ]);
    expect(r.warnings.map(formatSourceError)).toEqual([
      "zones/example.test.zone:4: TTL 150 differs from TTL 300 of the A record at www.example.test. on line 3; an RRset has one TTL (RFC 2181 §5.2), so all get 400, the last one given (as Knot does)",
    ]);
  });

  it("a duplicate with another TTL is dropped but still sets the RRset's TTL (Knot: 300 then 100 → 100)", () => {
    const r = parse(`${HEAD}www 300 A 192.0.2.2\nwww 100 A 192.0.2.2\n`);
    expect(r.records.map(rrToText)).toEqual(["www.example.test. 100 IN A 192.0.2.2"]);
    expect(r.warnings).toHaveLength(1);
  });

  it("mergeRRsets and rdataIdentity work on records from anywhere", () => {
    const rr = (ttl: number, target: string): SourcedRR => ({
      owner: nameFromText("a.example.test."),
      type: RRType.MX,
      class: 1,
      ttl,
      rdata: rdataFromText(RRType.MX, ["1", target], null),
      file: "f",
      line: ttl,
    });
    const m = mergeRRsets([rr(1, "X.test."), rr(2, "x.TEST.")]);
    expect(m.records).toHaveLength(1);
    expect(m.records[0]!.ttl).toBe(2);
    expect(rdataIdentity(RRType.MX, rr(1, "AB.").rdata)).toBe(rdataIdentity(RRType.MX, rr(1, "ab.").rdata));
    expect(rdataIdentity(RRType.TXT, Buffer.from("\x01A"))).not.toBe(rdataIdentity(RRType.TXT, Buffer.from("\x01a")));
  });
});

describe("checkZoneContent", () => {
  const APEX = "@ SOA ns1 hostmaster 1 1h 15m 1w 1h\n@ NS ns1\nns1 A 192.0.2.1\n";
  function check(body: string): string[] {
    const r = parse(`${HEAD}${APEX}${body}`);
    expect(r.errors.map(formatSourceError)).toEqual([]);
    return checkZoneContent(r.records, r.origin!, "zones/example.test.zone").map(formatSourceError);
  }

  it("accepts a sound zone, with wildcards, delegations with glue and data below a DNAME (occluded)", () => {
    expect(check("*.w A 192.0.2.1\na*.w A 192.0.2.1\nsub NS ns.sub\nns.sub A 192.0.2.5\nbelow.sub A 192.0.2.6\nd DNAME t.test.\nx.d A 192.0.2.7\n")).toEqual([]);
  });

  it("CNAME beside other data is an error (RFC 1034 §3.6.2), whichever comes first", () => {
    expect(check("c CNAME www\nc A 192.0.2.1\n")).toEqual([
      "zones/example.test.zone:7: CNAME at c.example.test. beside other data (A on line 7, CNAME on line 6); a name with a CNAME can have no other records (RFC 1034 §3.6.2, RFC 2181 §10.1)",
    ]);
    expect(check("c TXT x\nc CNAME www\n")).toEqual([
      "zones/example.test.zone:7: CNAME at c.example.test. beside other data (TXT on line 6, CNAME on line 7); a name with a CNAME can have no other records (RFC 1034 §3.6.2, RFC 2181 §10.1)",
    ]);
  });

  it("CNAME at the apex is beside SOA and NS", () => {
    expect(check("@ CNAME www\n")).toEqual([
      "zones/example.test.zone:6: CNAME at example.test. beside other data (SOA on line 3, CNAME on line 6); a name with a CNAME can have no other records (RFC 1034 §3.6.2, RFC 2181 §10.1)",
    ]);
  });

  it("two CNAMEs at one owner are an error; the same CNAME twice is a duplicate", () => {
    expect(check("c CNAME a\nc CNAME b\n")).toEqual([
      "zones/example.test.zone:7: second CNAME at c.example.test. (the first is on line 6); a name can have only one CNAME (RFC 2181 §10.1)",
    ]);
    expect(check("c CNAME a\nc CNAME A\n")).toEqual([]);
  });

  it("CNAME beside RRSIG or NSEC is allowed (RFC 4035)", () => {
    const r = parse(`${HEAD}${APEX}c CNAME a\nc NSEC \\# 7 01610000000000\n`);
    expect(r.errors).toEqual([]);
    expect(checkZoneContent(r.records, ORIGIN, "f")).toEqual([]);
  });

  it("two DNAMEs at one owner are an error (RFC 6672 §2.4)", () => {
    expect(check("d DNAME a.test.\nd DNAME b.test.\n")).toEqual([
      "zones/example.test.zone:7: second DNAME at d.example.test. (the first is on line 6); a name can have only one DNAME (RFC 6672 §2.4)",
    ]);
  });

  it("data outside the zone is an error (Knot only warns and drops it)", () => {
    expect(check("www.other.test. A 192.0.2.1\nexample.test.evil. A 192.0.2.2\n")).toEqual([
      "zones/example.test.zone:6: www.other.test. is outside the zone example.test.; records must be at or below the origin (check $ORIGIN, or a name written with a trailing dot by mistake)",
      "zones/example.test.zone:7: example.test.evil. is outside the zone example.test.; records must be at or below the origin (check $ORIGIN, or a name written with a trailing dot by mistake)",
    ]);
  });

  it("SOA: missing at the apex, below the apex, or a second one", () => {
    const r = parse(`${HEAD}@ NS ns1\nsub SOA ns1 h 1 2 3 4 5\n`);
    expect(checkZoneContent(r.records, ORIGIN, "zones/example.test.zone").map(formatSourceError)).toEqual([
      "zones/example.test.zone:4: SOA record at sub.example.test., which is not the zone apex example.test.; an SOA belongs only at the apex (RFC 1035 §5.2)",
      'zones/example.test.zone: no SOA record at the zone apex example.test.; add one, e.g. "@ SOA ns1 hostmaster 1 1h 15m 1w 1h" (RFC 1035 §5.2)',
    ]);
    expect(check("@ SOA ns1 hostmaster 2 1h 15m 1w 1h\n")).toEqual([
      "zones/example.test.zone:6: second SOA record at example.test. (the first is on line 3); a zone has exactly one SOA (RFC 1035 §5.2)",
    ]);
  });

  it("no NS at the apex is an error", () => {
    const r = parse(`${HEAD}@ SOA ns1 h 1 2 3 4 5\nsub NS ns1\n`);
    expect(checkZoneContent(r.records, ORIGIN, "zones/example.test.zone").map(formatSourceError)).toEqual([
      'zones/example.test.zone: no NS record at the zone apex example.test.; add at least one, e.g. "@ NS ns1" (RFC 1035 §5.2)',
    ]);
  });

  it("errors name the included file of the record at fault", () => {
    const dir = path.join(FIX, "include");
    const r = parseZoneFile(path.join(dir, "main.zone"), { root: dir });
    const extra: SourcedRR = { ...r.records[2]!, type: RRType.CNAME, rdata: rdataFromText(RRType.CNAME, ["x."], null), line: 99, file: "other.zone" };
    const errs = checkZoneContent([...r.records, extra], r.origin!, "main.zone");
    expect(errs.map((e) => `${e.file}:${e.line}`)).toEqual(["other.zone:99"]);
  });
});

describe("durations (ttl.ts), shared with the config", () => {
  it("parses seconds and unit pairs", () => {
    expect(parseDuration("0")).toBe(0);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("1w2d3h4m5s")).toBe(604800 + 172800 + 10800 + 240 + 5);
    expect(parseTtl("2147483647")).toBe(2147483647);
    expect(parseDuration("4294967295", { max: 4294967295 })).toBe(4294967295);
  });
  it("refuses malformed or too large values with a hint", () => {
    expect(() => parseTtl("2147483648")).toThrow('TTL "2147483648" is over the limit of 2147483647 seconds');
    expect(() => parseTtl("1h30")).toThrow('bad TTL "1h30": the last number needs a unit too (s, m, h, d, w), e.g. "1h30m"');
    for (const bad of ["", "h", "1x", "1.5h", "-1", "1 h", "1hh"]) expect(() => parseTtl(bad), bad).toThrow(/^bad TTL/);
  });
  it("parseDurationMs adds ms for config durations", () => {
    expect(parseDurationMs("250ms")).toBe(250);
    expect(parseDurationMs("1m30s")).toBe(90000);
    expect(parseDurationMs("2")).toBe(2000);
    expect(() => parseDurationMs("1.5s", { what: "interval" })).toThrow(/^bad interval "1\.5s"/);
  });
});

// ---- the same bytes as Knot DNS -------------------------------------------------------------------

const KNOTD = "/usr/sbin/knotd";
const haveKnot = fs.existsSync(KNOTD) && fs.existsSync("/usr/bin/kdig") && fs.existsSync("/usr/sbin/knotc");

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

function knotConf(dir: string, zoneFile: string, port: number): string {
  return [
    "server:",
    `    rundir: "${dir}"`,
    `    listen: 127.0.0.1@${port}`,
    "database:",
    `    storage: "${dir}/db"`,
    "acl:",
    "  - id: xfr",
    "    address: 127.0.0.1",
    "    action: transfer",
    "template:",
    "  - id: default",
    `    storage: "${dir}"`,
    "    semantic-checks: on",
    "    zonefile-sync: -1",
    "    journal-content: none",
    "    acl: xfr",
    "zone:",
    "  - domain: example.test.",
    `    file: "${zoneFile}"`,
    "",
  ].join("\n");
}

/** Load `file` in a throwaway knotd and AXFR it in RFC 3597 form: "owner ttl TYPEn hex" lines. */
async function knotAxfr(file: string): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-knot-zf-"));
  const port = await freePort();
  fs.writeFileSync(path.join(dir, "knot.conf"), knotConf(dir, file, port));
  const child = spawn(KNOTD, ["-c", path.join(dir, "knot.conf")], { stdio: "ignore" });
  try {
    for (let i = 0; i < 50; i++) {
      const r = await run("kdig", [`@127.0.0.1`, "-p", String(port), "example.test.", "AXFR", "+noall", "+answer", "+generic"]);
      if (r.code === 0 && r.out.includes("TYPE6")) {
        const recs = r.out.trim().split("\n").map((l) => l.trim().split(/\s+/));
        recs.pop(); // the closing SOA
        return recs.map((f) => `${f[0]!.toLowerCase()} ${f[1]} ${f[3]} ${f.slice(6).join("").toLowerCase()}`).sort();
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error("knotd did not serve the zone");
  } finally {
    child.kill();
    await new Promise((res) => setTimeout(res, 100));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!haveKnot)("agrees with Knot DNS 3.2", () => {
  it("gives the same RDATA bytes as Knot for every type in all-types.zone (names compared case-folded)", async () => {
    const file = path.join(FIX, "all-types.zone");
    const ours = parseZoneFile(file);
    expect(ours.errors).toEqual([]);
    const mine = ours.records
      .map((r) => `${nameToText(r.owner).toLowerCase()} ${r.ttl} TYPE${r.type} ${Buffer.from(rdataIdentity(r.type, r.rdata), "latin1").toString("hex")}`)
      .sort();
    expect(mine).toEqual(await knotAxfr(file));
  }, 30000);

  it("kzonecheck-style: knotc zone-check accepts and rejects the same fixture files as hadns", async () => {
    const cases = fs.readdirSync(path.join(FIX, "knot")).filter((f) => f.endsWith(".zone")).sort();
    expect(cases.length).toBeGreaterThan(5);
    for (const c of cases) {
      const file = path.join(FIX, "knot", c);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-knotc-"));
      try {
        fs.writeFileSync(path.join(dir, "knot.conf"), knotConf(dir, file, 1));
        const k = await run("/usr/sbin/knotc", ["-c", path.join(dir, "knot.conf"), "zone-check", "example.test."]);
        const r = parseZoneFile(file, { origin: ORIGIN });
        const errs = [...r.errors, ...checkZoneContent(r.records, ORIGIN, file)];
        const expectOk = c.startsWith("ok-");
        expect({ c, knot: k.code === 0 }).toEqual({ c, knot: expectOk });
        expect({ c, hadns: errs.length === 0 }).toEqual({ c, hadns: expectOk });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }, 60000);
});
