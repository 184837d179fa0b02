// Every error the master-file parser reports (RFC 1035 §5 syntax, RFC 3597, per-type RDATA rules):
// exact human messages with file:line, and parsing goes on after each so one run shows them all.

import { describe, expect, it } from "vitest";
import { parseZoneFile, parseZoneText } from "../src/zone/parse.js";
import { rrToText } from "../src/zone/rdata-format.js";
import { formatSourceError } from "../src/zone/rr.js";

const HEAD = "$ORIGIN example.test.\n$TTL 300\n";
const FILE = "zones/example.test.zone";

/** The errors for one line placed on line 3 of a zone file. */
function errorsOf(line: string): string[] {
  return parseZoneText(`${HEAD}${line}\n`, FILE).errors.map(formatSourceError);
}

const cases: Array<[string, string, string]> = [
  // [what, zone line, message]
  ["nested parentheses", "a SOA ns1 h ( 1 2 ( 3 4 5 )", `"(" inside parentheses opened on line 3; parentheses do not nest`],
  ["stray )", "a A 192.0.2.1 )", `")" with no "(" before it`],
  ["unterminated quote", 'a TXT "abc', `quoted string is not closed on its line; add the closing '"'`],
  ["backslash at end of line", "a TXT abc\\", `backslash at the end of a line; write "\\\\" for a backslash`],
  ["$ORIGIN without a name", "$ORIGIN", `$ORIGIN needs exactly one domain name, e.g. "$ORIGIN example.test."`],
  ["$ORIGIN with two names", "$ORIGIN a b", `$ORIGIN needs exactly one domain name, e.g. "$ORIGIN example.test."`],
  ["$ORIGIN with a bad name", "$ORIGIN a..b.", `bad name "a..b.": empty label (two dots in a row, or a leading dot)`],
  ["$TTL without a value", "$TTL", `$TTL needs exactly one TTL, e.g. "$TTL 1h"`],
  ["$TTL with a bad value", "$TTL 1x", `bad TTL "1x": write seconds ("3600") or numbers with units s, m, h, d, w ("1h30m")`],
  ["$INCLUDE without a file", "$INCLUDE", "$INCLUDE needs a file name and optionally an origin"],
  ["$GENERATE (a BIND extension)", "$GENERATE 1-2 a$ A 192.0.2.1", `unknown directive "$GENERATE"; hadns understands $ORIGIN, $TTL and $INCLUDE`],
  ["blank owner with no previous owner", " A 192.0.2.1", "record starts with a blank but no owner name comes before it; write the owner name at the start of the line"],
  ["no type", "a 300 IN", `record has no type; write it as "<name> [TTL] [IN] <type> <data>", e.g. "www 300 IN A 192.0.2.1"`],
  ["two TTLs", "a 1 2 A 192.0.2.1", `two TTLs ("2" after 1); give at most one TTL before the type`],
  ["TTL without a unit at the end", "a 1h30 A 192.0.2.1", `bad TTL "1h30": the last number needs a unit too (s, m, h, d, w), e.g. "1h30m"`],
  ["TTL over 2^31-1 (RFC 2181 §8)", "a 2147483648 A 192.0.2.1", `TTL "2147483648" is over the limit of 2147483647 seconds`],
  ["TTL far too large", "a 99999999999 A 192.0.2.1", `TTL "99999999999" is over the limit of 2147483647 seconds`],
  ["class CH", "a CH A 192.0.2.1", `class CH is not supported; hadns serves class IN only (remove "CH" or write IN)`],
  ["class HS after IN's place", "a 300 HS A 192.0.2.1", `class HS is not supported; hadns serves class IN only (remove "HS" or write IN)`],
  ["class CLASS3", "a CLASS3 A 192.0.2.1", `class CLASS3 is not supported; hadns serves class IN only (remove "CLASS3" or write IN)`],
  ["class NONE", "a NONE A 192.0.2.1", `class NONE is not supported; hadns serves class IN only (remove "NONE" or write IN)`],
  ["class twice", "a IN IN A 192.0.2.1", "class given twice; give at most one class before the type"],
  ["unknown mnemonic", "a FOO bar", `unknown record type "FOO"; use a known type or TYPEnnn with RFC 3597 data ("TYPE65534 \\# 2 abcd")`],
  ["TYPE number too large", "a TYPE70000 \\# 0", `unknown record type "TYPE70000"; use a known type or TYPEnnn with RFC 3597 data ("TYPE65534 \\# 2 abcd")`],
  ["meta type OPT", "a OPT \\# 0", "OPT is a query/meta type and cannot be stored in a zone; remove this record"],
  ["meta type ANY", "a IN ANY \\# 0", "ANY is a query/meta type and cannot be stored in a zone; remove this record"],
  ["meta type AXFR", "a AXFR \\# 0", "AXFR is a query/meta type and cannot be stored in a zone; remove this record"],
  ["meta type IXFR", "a IXFR \\# 0", "IXFR is a query/meta type and cannot be stored in a zone; remove this record"],
  ["meta type TSIG", "a TSIG \\# 0", "TSIG is a query/meta type and cannot be stored in a zone; remove this record"],
  ["meta type TKEY", "a TKEY \\# 0", "TKEY is a query/meta type and cannot be stored in a zone; remove this record"],
  ["meta type by number", "a TYPE255 \\# 0", "TYPE255 is a query/meta type and cannot be stored in a zone; remove this record"],
  ["reserved TYPE0", "a TYPE0 \\# 0", "TYPE0 is reserved (RFC 6895 §3.1) and cannot be stored in a zone; remove this record"],
  ["empty label in owner", "a..b A 192.0.2.1", `bad name "a..b": empty label (two dots in a row, or a leading dot)`],
  ["label over 63 octets", `${"x".repeat(64)} A 192.0.2.1`, `bad name "${"x".repeat(64)}": label of 64 octets; the limit is 63`],
  ["name over 255 octets", `${"abcd.".repeat(60)}x A 192.0.2.1`, `bad name "${"abcd.".repeat(60)}x": name is 316 octets long; the limit is 255`],
  ["non-ASCII owner", "münchen A 192.0.2.1", `name "münchen" holds a character outside printable ASCII; write an internationalised name as IDNA (xn--…) or use \\DDD escapes`],
  ["escape over 255 in a name", "a\\300 A 192.0.2.1", `bad name "a\\300": escape \\300 is over 255`],
  ["bad name in RDATA", "a NS b..c", `bad name "b..c": empty label (two dots in a row, or a leading dot) in NS record`],
  ["non-ASCII name in RDATA", "a CNAME bücher.test.", `name "bücher.test." holds a character outside printable ASCII; write an internationalised name as IDNA (xn--…) or use \\DDD escapes in CNAME record`],
  ["A: no address", "a A", "A record needs one field: an IPv4 address like 192.0.2.1; got none"],
  ["A: two addresses", "a A 192.0.2.1 192.0.2.2", `A record needs one field: an IPv4 address like 192.0.2.1; got 2 ("192.0.2.1 192.0.2.2")`],
  ["A: octet over 255", "a A 300.1.1.1", `bad IPv4 address "300.1.1.1" in A record: write four numbers 0-255 without leading zeros, e.g. 192.0.2.1`],
  ["A: three parts", "a A 1.2.3", `bad IPv4 address "1.2.3" in A record: write four numbers 0-255 without leading zeros, e.g. 192.0.2.1`],
  ["A: leading zero (Knot refuses it too)", "a A 010.0.0.1", `bad IPv4 address "010.0.0.1" in A record: write four numbers 0-255 without leading zeros, e.g. 192.0.2.1`],
  ["A: IPv6 text", "a A ::1", `bad IPv4 address "::1" in A record: write four numbers 0-255 without leading zeros, e.g. 192.0.2.1`],
  ["AAAA: IPv4 text", "a AAAA 192.0.2.1", `bad IPv6 address "192.0.2.1" in AAAA record: write it like 2001:db8::1 or ::ffff:192.0.2.1`],
  ["AAAA: nine groups", "a AAAA 1:2:3:4:5:6:7:8:9", `bad IPv6 address "1:2:3:4:5:6:7:8:9" in AAAA record: write it like 2001:db8::1 or ::ffff:192.0.2.1`],
  ["AAAA: two ::", "a AAAA 1::2::3", `bad IPv6 address "1::2::3" in AAAA record: write it like 2001:db8::1 or ::ffff:192.0.2.1`],
  ["AAAA: zone index", "a AAAA fe80::1%eth0", `bad IPv6 address "fe80::1%eth0" in AAAA record: write it like 2001:db8::1 or ::ffff:192.0.2.1`],
  ["AAAA: five hex digits", "a AAAA 12345::", `bad IPv6 address "12345::" in AAAA record: write it like 2001:db8::1 or ::ffff:192.0.2.1`],
  ["AAAA: leading single colon", "a AAAA :1::", `bad IPv6 address ":1::" in AAAA record: write it like 2001:db8::1 or ::ffff:192.0.2.1`],
  ["AAAA: embedded IPv4 too long", "a AAAA 1:2:3:4:5:6:7:1.2.3.4", `bad IPv6 address "1:2:3:4:5:6:7:1.2.3.4" in AAAA record: write it like 2001:db8::1 or ::ffff:192.0.2.1`],
  ["SOA: six fields", "@ SOA ns1 h 1 2 3 4", `SOA record needs seven fields: primary server, mailbox, serial, refresh, retry, expire, minimum; got 6 ("ns1 h 1 2 3 4")`],
  ["SOA: serial over 32 bits", "@ SOA ns1 h 4294967296 2 3 4 5", `bad serial "4294967296" in SOA record: expected a whole number from 0 to 4294967295`],
  ["SOA: bad time", "@ SOA ns1 h 1 2x 3 4 5", `bad SOA refresh "2x": write seconds ("3600") or numbers with units s, m, h, d, w ("1h30m")`],
  ["SOA: time over 32 bits", "@ SOA ns1 h 1 2 3 4 4294967296", `SOA minimum "4294967296" is over the limit of 4294967295 seconds`],
  ["MX: missing target", "a MX 10", `MX record needs two fields: preference and domain name; got 1 ("10")`],
  ["MX: preference over 16 bits", "a MX 65536 mail", `bad preference "65536" in MX record: expected a whole number from 0 to 65535`],
  ["MX: negative preference", "a MX -1 mail", `bad preference "-1" in MX record: expected a whole number from 0 to 65535`],
  ["TXT: no strings", "a TXT", `TXT record needs at least one character-string, e.g. "v=spf1 -all"`],
  ["TXT: escape over 255", 'a TXT "\\256"', `bad escape \\256 in "\\256": the value is over 255 in TXT record`],
  ["TXT: two-digit escape", 'a TXT "\\25"', `bad escape in "\\25": \\DDD needs exactly three decimal digits in TXT record`],
  ["SRV: three fields", "a SRV 1 2 sip", `SRV record needs four fields: priority, weight, port and target; got 3 ("1 2 sip")`],
  ["SRV: port over 16 bits", "a SRV 1 2 70000 sip", `bad port "70000" in SRV record: expected a whole number from 0 to 65535`],
  ["CAA: no value", "a CAA 0 issue", `CAA record needs three fields: flags, tag and value, e.g. 0 issue "ca.example" (quote a value with spaces); got 2 ("0 issue")`],
  ["CAA: unquoted value with a space", "a CAA 0 issue ca example", `CAA record needs three fields: flags, tag and value, e.g. 0 issue "ca.example" (quote a value with spaces); got 4 ("0 issue ca example")`],
  ["CAA: flags over 255", 'a CAA 256 issue "ca.example"', `bad flags "256" in CAA record: expected a whole number from 0 to 255`],
  ["CAA: tag with a dash (Knot accepts it)", 'a CAA 0 is-sue "ca.example"', `bad CAA tag "is-sue": use letters and digits only, e.g. issue, issuewild, iodef (RFC 8659 §4.1)`],
  ["CAA: empty tag", 'a CAA 0 "" "x"', `bad CAA tag "": use letters and digits only, e.g. issue, issuewild, iodef (RFC 8659 §4.1)`],
  ["DS: no digest", "a DS 1 8 2", `DS record needs key tag, algorithm, digest type and a hex digest; got 3 ("1 8 2")`],
  ["DS: bad hex", "a DS 1 8 2 xyz1", `bad digest "xyz1" in DS record: expected an even number of hex digits`],
  ["DS: key tag over 16 bits", "a DS 70000 8 2 ab", `bad key tag "70000" in DS record: expected a whole number from 0 to 65535`],
  ["DS: unknown algorithm mnemonic", "a DS 1 FOO 2 ab", `bad algorithm "FOO" in DS record: expected a whole number from 0 to 255`],
  ["DNSKEY: no key", "a DNSKEY 257 3 8", `DNSKEY record needs flags, protocol, algorithm and a base64 public key; got 3 ("257 3 8")`],
  ["DNSKEY: bad base64", "a DNSKEY 257 3 8 ab!c", `bad public key in DNSKEY record: not valid base64 ("ab!c")`],
  ["HINFO: one string", "a HINFO x", `HINFO record needs two character-strings: CPU and OS, e.g. "PC" "Linux"; got 1 ("x")`],
  ["HINFO: string over 255 (no splitting outside TXT)", `a HINFO "${"y".repeat(256)}" x`, "CPU in HINFO record is 256 octets long; the limit is 255"],
  ["NAPTR: five fields", "a NAPTR 1 2 x y z", `NAPTR record needs six fields: order, preference, flags, services, regexp and replacement; got 5 ("1 2 x y z")`],
  ["SSHFP: no fingerprint", "a SSHFP 1 2", `SSHFP record needs algorithm, fingerprint type and a hex fingerprint; got 2 ("1 2")`],
  ["TLSA: odd hex", "a TLSA 1 2 3 abc", `bad certificate association data "abc" in TLSA record: expected an even number of hex digits`],
  ["URI: empty target", 'a URI 1 2 ""', "URI record has an empty target; write the URI in quotes"],
  ["RP: one name", "a RP x", `RP record needs two names: a mailbox and a TXT name (. for none); got 1 ("x")`],
  ["type without a text format here", "a HTTPS 1 . alpn=h2", "hadns has no text format for HTTPS records; write the RDATA as RFC 3597 \\# <length> <hex>"],
  ["unknown type with text RDATA", "a TYPE65280 1 2", "hadns has no text format for TYPE65280 records; write the RDATA as RFC 3597 \\# <length> <hex>"],
  ["\\# without a length", "a TYPE65280 \\#", "generic RDATA for TYPE65280 needs a length after \\#, e.g. \\# 4 0a000001"],
  ["\\# with a bad length", "a TYPE65280 \\# x", `bad RDATA length "x" in TYPE65280 record: expected a whole number from 0 to 65535`],
  ["\\# length over 65535", "a TYPE65280 \\# 70000", `bad RDATA length "70000" in TYPE65280 record: expected a whole number from 0 to 65535`],
  ["\\# odd hex", "a TYPE65280 \\# 2 abc", "bad hex RDATA after \\# in TYPE65280 record: expected an even number of hex digits"],
  ["\\# length mismatch", "a TYPE65280 \\# 2 abcdef", "\\# says 2 octets but 3 follow in TYPE65280 record; make the length match the hex"],
  ["\\# not valid for the known type (Knot does not check)", "a A \\# 3 010203", "generic RDATA is not a valid A record: A RDATA of 3 octets is malformed: address runs past the end"],
  ["\\# name not valid in MX", "a MX \\# 3 000a01", "generic RDATA is not a valid MX record: MX RDATA of 3 octets is malformed: name is not a valid uncompressed name"],
  ["\\# empty TXT", "a TXT \\# 0", "generic RDATA is not a valid TXT record: TXT RDATA of 0 octets is malformed: character-string runs past the end"],
];

describe("one error per bad line, with the exact message", () => {
  it.each(cases)("%s", (_what, line, message) => {
    expect(errorsOf(line)).toEqual([`${FILE}:3: ${message}`]);
  });
});

describe("errors with no origin", () => {
  it("relative names and @ without any $ORIGIN say how to fix it", () => {
    const r = parseZoneText("$TTL 1\na A 192.0.2.1\n@ A 192.0.2.1\nb. NS c\n", FILE);
    expect(r.errors.map(formatSourceError)).toEqual([
      `${FILE}:2: bad name "a": relative name with no $ORIGIN set; add a $ORIGIN line or end the name with a dot`,
      `${FILE}:3: "@" used with no $ORIGIN set; add a $ORIGIN line or write the name in full`,
      `${FILE}:4: bad name "c": relative name with no $ORIGIN set; add a $ORIGIN line or end the name with a dot in NS record`,
    ]);
  });
});

describe("collecting every error in one run", () => {
  it("reports each bad record with its line and keeps every good one", () => {
    const text = [
      "$ORIGIN example.test.", // 1
      "$TTL 300", // 2
      "good1 A 192.0.2.1", // 3
      "bad1 A 300.1.1.1", // 4
      "@ SOA ns1 h (", // 5
      "   1 2 3 4 )", // 6  (six fields: error reported at line 5)
      "good2 TXT \"ok\"", // 7
      'bad2 TXT "open', // 8
      "good3 A 192.0.2.3", // 9
      "bad3 CH A 192.0.2.4", // 10
      "  A 192.0.2.5", // 11: owner bad3 is still known, so this is fine
      "bad4 FOO x", // 12
      "good4 MX 10 mail", // 13
    ].join("\r\n");
    const r = parseZoneText(text, FILE);
    expect(r.errors.map((e) => e.line)).toEqual([4, 5, 8, 10, 12]);
    expect(r.records.map(rrToText)).toEqual([
      "good1.example.test. 300 IN A 192.0.2.1",
      'good2.example.test. 300 IN TXT "ok"',
      "good3.example.test. 300 IN A 192.0.2.3",
      "bad3.example.test. 300 IN A 192.0.2.5",
      "good4.example.test. 300 IN MX 10 mail.example.test.",
    ]);
  });

  it("blank-owner lines after a broken owner line never land under an earlier owner", () => {
    const r = parseZoneText(
      `${HEAD}first A 192.0.2.1\nsecond TXT "open\n  A 192.0.2.2\nbad..name A 192.0.2.3\n  A 192.0.2.4\n  A 300.0.0.1\nthird A 192.0.2.5\n  A 192.0.2.6\n`,
      FILE,
    );
    expect(r.errors.map((e) => e.line)).toEqual([4, 6, 8]);
    expect(r.errors[2]!.message).toBe(`bad IPv4 address "300.0.0.1" in A record: write four numbers 0-255 without leading zeros, e.g. 192.0.2.1`);
    expect(r.records.map(rrToText)).toEqual([
      "first.example.test. 300 IN A 192.0.2.1",
      "second.example.test. 300 IN A 192.0.2.2",
      "third.example.test. 300 IN A 192.0.2.5",
      "third.example.test. 300 IN A 192.0.2.6",
    ]);
  });

  it("an unclosed parenthesis is reported at the line that opened it", () => {
    const r = parseZoneText(`${HEAD}ok A 192.0.2.1\n@ SOA ns1 h ( 1 2\n3 4 5\n`, FILE);
    expect(r.errors.map(formatSourceError)).toEqual([`${FILE}:4: "(" opened here is never closed; add ")"`]);
    expect(r.records).toHaveLength(1);
  });

  it("an unreadable file is one error, not an exception", () => {
    const r = parseZoneFile("/nonexistent/dir/example.test.zone");
    expect(r.errors.map(formatSourceError)).toEqual(["/nonexistent/dir/example.test.zone: cannot read zone file: no such file"]);
    expect(r.records).toEqual([]);
  });

  it("a directory given as the zone file is one error", () => {
    const r = parseZoneFile("/tmp");
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.message).toMatch(/^cannot read zone file: /);
  });
});
