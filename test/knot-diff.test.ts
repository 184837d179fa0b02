// Differential test: Knot DNS (Debian's knotd, the reference) and hadns serve the same zone files, get
// the same raw queries over UDP and TCP, and must give the same answer: RCODE, header flags, question
// bytes, OPT record, and every section compared as RRsets (owner case-insensitive, TTLs included,
// RDATA exact but for the case of names inside it — RFC 4343; see test/fixtures/diff/KNOT-BEHAVIOUR.md).
// Where hadns knowingly differs, KNOWN_DIFFERENCES says how and why, and pins hadns's exact answer.

import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildQuery,
  comparable,
  describe as describeMsg,
  encodeName,
  normalise,
  send,
  sendTcpMany,
  type Normalised,
  type QueryOptions,
  type Transport,
} from "./support/client.js";
import type { HadnsHandle } from "./support/hadns.js";
import { knotAvailable, startKnot, type KnotServer } from "./support/knot.js";

const FIX = fileURLToPath(new URL("./fixtures/diff/", import.meta.url));
const ZONES = [
  { domain: "diff.test", file: `${FIX}diff.test.zone` },
  { domain: "child.diff.test", file: `${FIX}child.diff.test.zone` },
  { domain: "other.test", file: `${FIX}other.test.zone` },
];
const D = "diff.test";
const n = (s: string) => (s === "@" ? D : `${s}.${D}`);

/** 0x20: alternate the case of every letter, starting upper. */
function mix(name: string): string {
  let up = true;
  return name.replace(/[a-z]/gi, (ch) => {
    const r = up ? ch.toUpperCase() : ch.toLowerCase();
    up = !up;
    return r;
  });
}

// ---------------------------------------------------------------------------------------------
// The queries
// ---------------------------------------------------------------------------------------------

interface Case {
  id: string;
  transport: Transport;
  query?: QueryOptions;
  /** Raw query bytes (malformed input), instead of `query`. */
  hex?: string;
  /** Key of KNOWN_DIFFERENCES when hadns deliberately answers otherwise. */
  known?: KnownKey;
}

/** name, type — each asked plainly over UDP and again over TCP with EDNS, DO and 0x20 case. */
const NAME_TYPES: Array<[string, string]> = [
  // plain data at the apex and below it; additional-section rules for NS/MX/SRV
  ["@", "SOA"], ["@", "NS"], ["@", "MX"], ["@", "TXT"], ["@", "CAA"], ["@", "DS"], ["@", "DNSKEY"],
  ["www", "A"], ["www", "AAAA"], ["mixed", "A"], ["MIXED", "A"], ["txt", "TXT"], ["txt255", "TXT"],
  ["txtlong", "TXT"], ["txtlong2", "TXT"], ["txtlongesc", "TXT"],
  ["_sip._tcp", "SRV"], ["caa", "CAA"], ["ptr", "PTR"], ["hinfo", "HINFO"], ["unknown", "TYPE65280"],
  ["multi", "MX"], ["manymx", "MX"],
  // records from the $INCLUDE file: TTL units, inherited owner, parentheses, \DDD in an owner
  ["inc1", "A"], ["inc1", "AAAA"], ["inc2", "TXT"], ["abc", "A"], ["inc3", "MX"],
  // NXDOMAIN, NODATA, empty non-terminals
  ["nothere", "A"], ["www", "TXT"], ["ent", "A"], ["c.ent", "A"], ["b.c.ent", "A"], ["wild", "A"],
  // CNAME chains: in-zone, to another zone, loops, into a delegation, a wildcard, an ENT, NXDOMAIN
  ["cname", "A"], ["cname", "CNAME"], ["cname", "AAAA"], ["cname", "TXT"], ["chain1", "A"], ["loop1", "A"],
  ["selfloop", "A"], ["external", "A"], ["toother", "A"], ["tonx", "A"], ["tosub", "A"], ["towild", "A"],
  ["toent", "A"], ["tomx", "MX"], ["casetarget", "A"],
  // wildcards and the closest-encloser rule
  ["foo.wild", "A"], ["foo.wild", "TXT"], ["foo.wild", "AAAA"], ["*.wild", "A"], ["exists.wild", "TXT"],
  ["x.exists.wild", "A"], ["ent.wild", "A"], ["x.ent.wild", "A"], ["a.b.wild", "A"], ["foo.wcname", "A"],
  ["foo.wcname", "AAAA"], ["foo.wcname", "CNAME"], ["foo.wchain", "A"], ["foo.wloop", "A"], ["foo.wmx", "MX"],
  // delegations: at the cut, below it, DS and NS at the cut, glue, in-zone NS names, a served child
  ["sub", "NS"], ["sub", "A"], ["sub", "SOA"], ["host.sub", "A"], ["sub", "DS"], ["host.sub", "DS"], ["ns1.sub", "A"],
  ["inzns", "A"], ["inzns", "DS"], ["inzns", "NS"], ["child", "SOA"], ["child", "NS"], ["child", "DS"],
  ["child", "A"], ["www.child", "A"], ["www.child", "DS"], ["ns1.child", "AAAA"],
  // DNAME
  ["x.dname", "A"], ["www.dname", "A"], ["dname", "DNAME"], ["dname", "A"], ["a.b.dname", "A"],
  ["x.dnameout", "A"], ["dname", "CNAME"], ["www.dname", "CNAME"], ["www.dname", "DNAME"],
  // meta and DNSSEC types on an unsigned zone
  ["www", "RRSIG"], ["www", "NSEC"], ["www", "OPT"], ["www", "TSIG"], ["www", "TKEY"], ["www", "MAILA"],
  ["www", "MAILB"], ["www", "TYPE0"],
  // ANY (RFC 8482)
  ["www", "ANY"], ["multi", "ANY"], ["@", "ANY"], ["cname", "ANY"], ["foo.wild", "ANY"], ["foo.wcname", "ANY"],
  ["sub", "ANY"], ["nothere", "ANY"], ["ent", "ANY"], ["x.dname", "ANY"], ["child", "ANY"],
];

function buildCases(): Case[] {
  const cases: Case[] = [];
  const add = (c: Case) => cases.push(c);
  for (const [s, t] of NAME_TYPES) {
    add({ id: `${s} ${t} / udp`, transport: "udp", query: { name: n(s), type: t } });
    add({
      id: `${s} ${t} / tcp edns do 0x20`,
      transport: "tcp",
      query: { name: mix(n(s)), type: t, edns: { do: true } },
    });
  }
  // other zones and names outside every zone
  for (const [name, type] of [
    ["www.other.test", "A"], ["nx.other.test", "A"], ["other.test", "TXT"], ["www.example.com", "A"], [".", "NS"],
    ["test", "SOA"], ["version.bind", "TXT"], ["example.com", "SOA"],
  ] as const) {
    add({ id: `${name} ${type} / udp`, transport: "udp", query: { name, type } });
    add({ id: `${name} ${type} / udp edns`, transport: "udp", query: { name, type, edns: true } });
  }
  // classes
  for (const [cls, name, type] of [
    ["CH", "version.bind", "TXT"], ["CH", "id.server", "TXT"], ["CH", "hostname.bind", "TXT"],
    ["CH", "version.server", "TXT"], ["CH", "version.bind", "A"], ["CH", "foo.bar", "TXT"], ["CH", n("www"), "A"],
    ["ANY", n("www"), "A"], ["ANY", D, "SOA"], ["ANY", n("nothere"), "A"], ["ANY", "version.bind", "TXT"],
    ["NONE", n("www"), "A"], ["HS", n("www"), "A"], ["CLASS7", n("www"), "A"],
  ] as const) {
    add({ id: `class ${cls} ${name} ${type} / udp`, transport: "udp", query: { name, type, class: cls } });
  }
  add({ id: "class CH version.bind TXT / tcp edns", transport: "tcp", query: { name: "version.bind", type: "TXT", class: "CH", edns: true } });

  // header bits
  const www = n("www");
  for (const [bit, q] of [
    ["rd", { rd: true }], ["cd", { cd: true }], ["ad", { ad: true }], ["z", { z: true }], ["tc", { tc: true }],
    ["aa", { aa: true }], ["ra", { ra: true }], ["rcode=3", { rcode: 3 }],
  ] as const) {
    add({ id: `www A with ${bit} / udp`, transport: "udp", query: { name: www, type: "A", ...q } });
  }
  add({ id: "rd on REFUSED / udp", transport: "udp", query: { name: "example.com", type: "A", rd: true } });
  add({ id: "rd on NXDOMAIN / tcp", transport: "tcp", query: { name: n("nothere"), type: "A", rd: true } });
  add({ id: "rd on referral / udp", transport: "udp", query: { name: n("host.sub"), type: "A", rd: true } });
  add({ id: "cd on REFUSED / udp", transport: "udp", query: { name: "example.com", type: "A", cd: true } });
  add({ id: "qr=1 query / udp", transport: "udp", query: { name: www, type: "A", qr: true } });
  add({ id: "qr=1 query / tcp", transport: "tcp", query: { name: www, type: "A", qr: true } });

  // EDNS
  const e = (id: string, edns: QueryOptions["edns"], extra: Partial<QueryOptions> = {}, t: Transport = "udp") =>
    add({ id: `edns ${id} / ${t}`, transport: t, query: { name: www, type: "A", edns, ...extra } });
  e("plain", true);
  e("DO", { do: true });
  e("payload 512", { payload: 512 });
  e("payload 100", { payload: 100 });
  e("payload 0", { payload: 0 });
  e("payload 65535", { payload: 65535 });
  e("version 1", { version: 1 });
  e("version 1 DO rd", { version: 1, do: true }, { rd: true });
  e("version 1", { version: 1 }, {}, "tcp");
  e("version 1 NXDOMAIN name", { version: 1 }, { name: n("nothere") });
  e("version 255 outside zones", { version: 255 }, { name: "example.com" });
  e("unknown option 65001", { options: [{ code: 65001, data: Buffer.from("01020304", "hex") }] });
  e("NSID request", { options: [{ code: 3, data: Buffer.alloc(0) }] });
  e("COOKIE", { options: [{ code: 10, data: Buffer.from("0102030405060708", "hex") }] });
  e("PADDING", { options: [{ code: 12, data: Buffer.alloc(4) }] });
  e("ECS v4 /24", { options: [{ code: 8, data: Buffer.from("000118000a0000", "hex") }] });
  e("ECS v6 /56", { options: [{ code: 8, data: Buffer.from("00023800200100000000", "hex") }] });
  e("several options", {
    do: true,
    options: [
      { code: 10, data: Buffer.from("0102030405060708", "hex") },
      { code: 65001, data: Buffer.alloc(0) },
      { code: 12, data: Buffer.alloc(16) },
    ],
  });
  e("Z flags", { zFlags: 0x1234 });
  e("ext-rcode in query", { extRcode: 1 });
  e("two OPTs", true, { optCount: 2 });
  e("two OPTs rd", true, { optCount: 2, rd: true }, "tcp");
  e("on NXDOMAIN DO", { do: true }, { name: n("nothere") });
  e("on referral DO", { do: true }, { name: n("host.sub") });
  e("on REFUSED DO", { do: true }, { name: "www.example.com" });
  e("on wildcard DO", { do: true }, { name: n("foo.wild") });
  e("on DS DO", { do: true }, { name: n("sub"), type: "DS" });

  // UDP size and truncation
  const big = n("big");
  const tr = (id: string, q: QueryOptions, t: Transport = "udp") => add({ id: `size ${id} / ${t}`, transport: t, query: q });
  tr("big A no EDNS (TC)", { name: big, type: "A" });
  tr("big A no EDNS rd (TC)", { name: big, type: "A", rd: true });
  tr("big A no EDNS", { name: big, type: "A" }, "tcp");
  tr("big A payload 512 (TC)", { name: big, type: "A", edns: { payload: 512 } });
  tr("big A payload 100 (TC)", { name: big, type: "A", edns: { payload: 100 } });
  tr("big A payload 1232", { name: big, type: "A", edns: { payload: 1232 } });
  tr("huge AAAA payload 1232 (TC)", { name: n("huge"), type: "AAAA", edns: { payload: 1232 } });
  tr("huge AAAA payload 4096 (TC: our limit is 1232)", { name: n("huge"), type: "AAAA", edns: { payload: 4096 } });
  tr("huge AAAA no EDNS (TC)", { name: n("huge"), type: "AAAA" });
  tr("huge AAAA", { name: n("huge"), type: "AAAA", edns: true }, "tcp");
  tr("huge AAAA no EDNS", { name: n("huge"), type: "AAAA" }, "tcp");
  tr("CNAME then big A no EDNS (TC, CNAME kept)", { name: n("tobig"), type: "A" });
  tr("CNAME then big A payload 512", { name: n("tobig"), type: "A", edns: { payload: 512, do: true } });
  tr("txt255 no EDNS (503 bytes fit)", { name: n("txt255"), type: "TXT" });
  tr("txt255 payload 513 (TC by 1 byte)", { name: n("txt255"), type: "TXT", edns: { payload: 513 } });
  tr("txt255 payload 514 (fits exactly)", { name: n("txt255"), type: "TXT", edns: { payload: 514 } });
  tr("txt255 payload 100 (treated as 512)", { name: n("txt255"), type: "TXT", edns: { payload: 100 } });
  tr("manymx no EDNS (additional dropped, no TC)", { name: n("manymx"), type: "MX" });
  tr("manymx payload 1232", { name: n("manymx"), type: "MX", edns: true });
  tr("bigsub referral no EDNS (glue does not fit)", { name: n("host.bigsub"), type: "A" });
  tr("bigsub referral payload 1232", { name: n("host.bigsub"), type: "A", edns: true });
  tr("bigsub referral no EDNS", { name: n("host.bigsub"), type: "A" }, "tcp");
  tr("apex ANY no EDNS", { name: D, type: "ANY" });
  tr("txtlong2 payload 512", { name: n("txtlong2"), type: "TXT", edns: { payload: 512 } });

  // opcodes
  for (const op of [1, 2, 3, 6, 15]) {
    add({ id: `opcode ${op} / udp`, transport: "udp", query: { name: www, type: "A", opcode: op, rd: true } });
    add({ id: `opcode ${op} edns / tcp`, transport: "tcp", query: { name: D, type: "SOA", opcode: op, edns: true } });
  }
  add({ id: "opcode 4 NOTIFY / udp", transport: "udp", query: { name: D, type: "SOA", opcode: 4, aa: true }, known: "notify" });
  add({ id: "opcode 4 NOTIFY outside zones / udp", transport: "udp", query: { name: "example.com", type: "SOA", opcode: 4 }, known: "notify" });
  add({ id: "opcode 4 NOTIFY edns rd / tcp", transport: "tcp", query: { name: D, type: "SOA", opcode: 4, rd: true, edns: true }, known: "notify" });
  add({ id: "opcode 5 UPDATE / udp", transport: "udp", query: { name: D, type: "SOA", opcode: 5 }, known: "update" });
  add({ id: "opcode 5 UPDATE www A rd / udp", transport: "udp", query: { name: www, type: "A", opcode: 5, rd: true }, known: "update" });
  add({ id: "opcode 5 UPDATE edns / tcp", transport: "tcp", query: { name: D, type: "SOA", opcode: 5, edns: true }, known: "update" });

  // zone transfers
  for (const t of ["udp", "tcp"] as const) {
    add({ id: `AXFR apex / ${t}`, transport: t, query: { name: D, type: "AXFR" }, known: "xfr" });
    add({ id: `IXFR apex / ${t}`, transport: t, query: { name: D, type: "IXFR" }, known: "xfr" });
    add({ id: `AXFR apex edns rd / ${t}`, transport: t, query: { name: D, type: "AXFR", edns: true, rd: true }, known: "xfr" });
  }
  add({ id: "AXFR non-apex / tcp", transport: "tcp", query: { name: www, type: "AXFR" }, known: "xfr" });
  add({ id: "AXFR outside zones / tcp", transport: "tcp", query: { name: "example.com", type: "AXFR" }, known: "xfr-outside" });

  // long names: a 255-octet query name; a DNAME whose synthesized name would exceed 255 octets (YXDOMAIN, RFC 6672 §2.2)
  const longUnder = (suffix: string, total: number) => {
    // labels of 63 and less until the wire length of the whole name is exactly `total`
    let wire = suffix.length + 2; // suffix labels + root, as text "a.b" has len+2 wire octets
    const labels: string[] = [];
    while (wire < total) {
      const room = total - wire - 1;
      const l = Math.min(63, room);
      labels.push("y".repeat(l));
      wire += l + 1;
    }
    return [...labels, suffix].join(".");
  };
  add({ id: "255-octet name below dname (YXDOMAIN) / udp", transport: "udp", query: { name: longUnder(n("dname"), 255), type: "A" } });
  add({ id: "254-octet name below dname (CNAME fits) / udp edns", transport: "udp", query: { name: longUnder(n("dname"), 254), type: "A", edns: true } });
  add({ id: "254-octet name below dname, no EDNS (TC) / udp", transport: "udp", query: { name: longUnder(n("dname"), 254), type: "A" }, known: "truncated-rcode" });
  add({ id: "255-octet name below dname (YXDOMAIN) / tcp edns", transport: "tcp", query: { name: longUnder(n("dname"), 255), type: "A", edns: true } });
  add({ id: "255-octet name below a wildcard / udp", transport: "udp", query: { name: longUnder(n("wild"), 255), type: "A" } });
  add({ id: "255-octet NXDOMAIN / tcp", transport: "tcp", query: { name: longUnder(D, 255), type: "A", edns: true } });
  add({ id: "dname ANY / udp", transport: "udp", query: { name: n("dname"), type: "ANY" } });
  add({ id: "@ AAAA NODATA at the apex / udp", transport: "udp", query: { name: D, type: "AAAA" } });
  add({ id: "other.test DS at an apex whose parent we do not serve / udp", transport: "udp", query: { name: "other.test", type: "DS" } });
  add({ id: "ns1.sub AAAA glue name / udp", transport: "udp", query: { name: n("ns1.sub"), type: "AAAA", edns: true } });
  add({ id: "literal *.wcname / udp", transport: "udp", query: { name: n("*.wcname"), type: "A" } });
  add({ id: "child NS DO 0x20 / udp", transport: "udp", query: { name: mix(n("child")), type: "NS", edns: { do: true } } });

  // question count and malformed input
  add({ id: "QDCOUNT=0 rd / udp", transport: "udp", query: { questions: [], rd: true } });
  add({ id: "QDCOUNT=0 edns / udp", transport: "udp", query: { questions: [], edns: true } });
  add({ id: "QDCOUNT=0 / tcp", transport: "tcp", query: { questions: [] } });
  add({ id: "QDCOUNT=2 / udp", transport: "udp", query: { questions: [{ name: www, type: "A" }, { name: www, type: "A" }], rd: true }, known: "qd2" });
  add({ id: "QDCOUNT=2 edns / udp", transport: "udp", query: { questions: [{ name: www, type: "A" }, { name: n("mail"), type: "A" }], edns: true }, known: "qd2" });
  add({ id: "QDCOUNT=2 / tcp", transport: "tcp", query: { questions: [{ name: www, type: "A" }, { name: www, type: "A" }] }, known: "qd2" });
  const wwwQ = encodeName(www).toString("hex") + "00010001";
  for (const [id, hex] of [
    ["5 bytes", "1234010000"],
    ["header only, QDCOUNT=1", "123401000001000000000000"],
    ["question cut short", "123401000001000000000000037777770464"],
    ["pointer loop in qname", "123401000001000000000000c00c00010001"],
    ["trailing garbage", `123401000001000000000000${wwwQ}deadbeef`],
    ["ANCOUNT=1 with no answer", `123401000001000100000000${wwwQ}`],
    ["OPT in the answer section", `123400000001000100000000${wwwQ}0000290200000000000000`],
    ["OPT RDLENGTH past the end", `123400000001000000000001${wwwQ}0000290200000000000004000a`],
    ["OPT option cut short", `123400000001000000000001${wwwQ}00002902000000000000020003`],
  ] as const) {
    const unreadableQuestion = /header only|question cut short|pointer loop/.test(id);
    const known: KnownKey | undefined = unreadableQuestion ? "malformed-question" : undefined;
    add({ id: `malformed: ${id} / udp`, transport: "udp", hex, ...(known ? { known } : {}) });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Where hadns knowingly differs from Knot DNS
// ---------------------------------------------------------------------------------------------

type KnownKey = "xfr" | "xfr-outside" | "notify" | "update" | "qd2" | "malformed-question" | "truncated-rcode";

export interface KnownDifference {
  query: string;
  knot: string;
  hadns: string;
  why: string;
  /** Pins what Knot does (so the table stays true when Knot changes). */
  checkKnot(k: Normalised | null, c: Case): void;
  /** Pins hadns's exact answer. */
  checkHadns(h: Normalised | null, c: Case, sent: Buffer): void;
}

/** The reply carries nothing but the header, the echoed question and (if the query had one) an OPT. */
function expectBareReply(h: Normalised | null, c: Case, sent: Buffer, rcode: number) {
  expect(h, "a reply").not.toBeNull();
  const q = normalise(Buffer.concat([sent.subarray(0, 2), Buffer.from([0x80 | sent[2]!, sent[3]!]), sent.subarray(4)]));
  expect(h!.rcode).toBe(rcode);
  expect(h!.opcode).toBe(c.query?.opcode ?? 0);
  expect(h!.flags).toEqual({ qr: true, aa: false, tc: false, rd: !!c.query?.rd, ra: false, z: false, ad: false, cd: false });
  expect(h!.questionHex).toBe(q.questionHex);
  expect(h!.counts.qd).toBe(1);
  expect(h!.answer).toEqual([]);
  expect(h!.authority).toEqual([]);
  expect(h!.additional).toEqual([]);
  if (c.query?.edns) {
    expect(h!.opt).toEqual([{ payload: 1232, version: 0, do: false, extRcode: 0, z: 0, options: [] }]);
  } else {
    expect(h!.opt).toEqual([]);
  }
}

export const KNOWN_DIFFERENCES: Record<KnownKey, KnownDifference> = {
  xfr: {
    query: "AXFR or IXFR for a zone we serve (UDP or TCP)",
    knot: "NOTAUTH (9) — NOTIMP (4) for AXFR over UDP",
    hadns: "REFUSED (5), no AA, question and OPT echoed",
    why:
      "transfers go only to secondaries a transfers: entry allows (this test configures none); REFUSED says \"not by policy\", while NOTAUTH " +
      "would say we are not authoritative for the zone, or with TSIG that the signature failed (RFC 8945)",
    checkKnot(k, c) {
      const axfrUdp = c.query?.type === "AXFR" && c.transport === "udp";
      expect(k?.rcode).toBe(axfrUdp ? 4 : 9);
    },
    checkHadns(h, c, sent) {
      expectBareReply(h, c, sent, 5);
    },
  },
  "xfr-outside": {
    query: "AXFR for a name outside our zones",
    knot: "NOTAUTH (9)",
    hadns: "REFUSED (5), no AA",
    why: "a name outside our zones is REFUSED whatever the type (issue 2); transfers are refused anyway",
    checkKnot(k) {
      expect(k?.rcode).toBe(9);
    },
    checkHadns(h, c, sent) {
      expectBareReply(h, c, sent, 5);
    },
  },
  notify: {
    query: "opcode NOTIFY (4)",
    knot: "NOTAUTH (9)",
    hadns: "NOTIMP (4), opcode, RD, question and OPT echoed",
    why: "hadns is a primary only: it sends NOTIFY to its secondaries (src/xfr) but never acts on one, so the opcode is not implemented for it",
    checkKnot(k) {
      expect(k?.rcode).toBe(9);
    },
    checkHadns(h, c, sent) {
      expectBareReply(h, c, sent, 4);
    },
  },
  update: {
    query: "opcode UPDATE (5)",
    knot: "NOTAUTH (9) when the zone section names our zone's SOA; FORMERR for an ordinary question",
    hadns: "NOTIMP (4), opcode, RD, question and OPT echoed",
    why: "dynamic update is not implemented (issue 2: NOTIMP for opcodes other than QUERY); RFC 2136 §3.1 lets a server without UPDATE answer NOTIMP",
    checkKnot(k, c) {
      expect(k?.rcode).toBe(c.query?.type === "SOA" ? 9 : 1);
    },
    checkHadns(h, c, sent) {
      expectBareReply(h, c, sent, 4);
    },
  },
  "truncated-rcode": {
    query: "a 254-octet name below a DNAME whose target does not exist, over UDP without EDNS (the answer does not fit in 512 octets)",
    knot: "NOERROR, AA, TC, the DNAME only: Knot stops building the answer when the packet is full, before it learns the target is NXDOMAIN",
    hadns: "NXDOMAIN, AA, TC, the DNAME only: the rcode of the whole answer, as over TCP or with EDNS",
    why: "hadns compiles the whole answer before it truncates, so the rcode is the real outcome (RFC 6604 §2); the client retries over TCP on TC anyway",
    checkKnot(k) {
      expect(k?.rcode).toBe(0);
      expect(k?.flags.tc).toBe(true);
    },
    checkHadns(h) {
      expect(h?.rcode).toBe(3);
      expect(h?.flags.tc).toBe(true);
      expect(h?.flags.aa).toBe(true);
      expect(h?.answer.map((r) => r.type)).toEqual(["DNAME"]);
    },
  },
  qd2: {
    query: "QDCOUNT = 2",
    knot: "no reply (the packet is dropped as malformed)",
    hadns: "FORMERR, no AA, RD copied, OPT echoed when the query had one",
    why: "issue 2 asks FORMERR for QDCOUNT ≠ 1 (RFC 9619: a query has exactly one question); a reply lets the client stop retrying",
    checkKnot(k) {
      expect(k).toBeNull();
    },
    checkHadns(h, c) {
      expect(h, "a reply").not.toBeNull();
      expect(h!.rcode).toBe(1);
      expect(h!.flags.qr).toBe(true);
      expect(h!.flags.aa).toBe(false);
      expect(h!.flags.rd).toBe(!!c.query?.rd);
      expect(h!.answer).toEqual([]);
      expect(h!.authority).toEqual([]);
      expect(h!.additional).toEqual([]);
      expect(h!.opt.length).toBe(c.query?.edns ? 1 : 0);
    },
  },
  "malformed-question": {
    query: "a readable header but an unreadable question (QDCOUNT=1 and nothing after the header, a question cut short, a compression-pointer loop in the name)",
    knot: "no reply (dropped)",
    hadns: "FORMERR: the 12-byte header only (all counts 0), ID and RD copied, no AA",
    why:
      "issue 2: a malformed packet gets FORMERR where a header can be read and is dropped otherwise; " +
      "RFC 1035 §4.1.1 defines FORMERR for a query the server could not interpret, and a reply stops the client's retries",
    checkKnot(k) {
      expect(k).toBeNull();
    },
    checkHadns(h, _c, sent) {
      expect(h, "a reply").not.toBeNull();
      expect(h!.size).toBe(12);
      expect(h!.id).toBe(sent.readUInt16BE(0));
      expect(h!.rcode).toBe(1);
      expect(h!.opcode).toBe(0);
      expect(h!.flags).toEqual({ qr: true, aa: false, tc: false, rd: !!(sent[2]! & 1), ra: false, z: false, ad: false, cd: false });
      expect(h!.counts).toEqual({ qd: 0, an: 0, ns: 0, ar: 0 });
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Running both servers
// ---------------------------------------------------------------------------------------------

const KNOT_OFF = 'identity: ""\nversion: ""\nnsid: ""';
const haveKnot = knotAvailable();
if (!haveKnot && process.env.HADNS_SKIP_KNOT !== "1") {
  throw new Error("knotd not found (apt-get install knot, or set HADNS_SKIP_KNOT=1 to skip the differential test)");
}

const REPORT = process.env.DIFF_REPORT;

/**
 * The server under test. DIFF_SELF=1 runs a second Knot in its place, which checks the harness
 * itself: every case but the KNOWN_DIFFERENCES must then pass.
 */
async function startUnderTest(zones: Array<{ domain: string; file: string }>, knotConf: string, chaos?: { version: string; id: string }): Promise<{ host: string; port: number; close(): Promise<void> }> {
  if (process.env.DIFF_SELF === "1") return startKnot(zones, { extraServerConf: knotConf });
  const { startHadns } = await import("./support/hadns.js");
  const h: HadnsHandle = await startHadns(zones.map((z) => ({ file: z.file })), chaos ? { chaos } : {});
  return h;
}
const mismatches: string[] = [];

function sentBytes(c: Case, id: number): Buffer {
  if (c.hex) return Buffer.from(c.hex, "hex");
  return buildQuery({ ...c.query!, id });
}

async function ask(c: Case, knot: { host: string; port: number }, hadns: { host: string; port: number }, idx: number) {
  const sent = sentBytes(c, (0x4000 + idx) & 0xffff);
  const timeoutMs = 1000;
  const [k, h] = await Promise.all([
    send(c.transport, knot.host, knot.port, sent, { timeoutMs }),
    send(c.transport, hadns.host, hadns.port, sent, { timeoutMs }),
  ]);
  return { sent, k: k ? normalise(k) : null, h: h ? normalise(h) : null };
}

function compare(c: Case, sent: Buffer, k: Normalised | null, h: Normalised | null) {
  const text = `query ${c.id}: ${sent.toString("hex")}\n--- Knot\n${describeMsg(k)}\n--- hadns\n${describeMsg(h)}`;
  const ok = JSON.stringify(comparable(k)) === JSON.stringify(comparable(h));
  if (!ok) mismatches.push(text);
  if (k === null) {
    expect(h, `Knot dropped this query; hadns must too\n${text}`).toBeNull();
    return;
  }
  expect(h, `Knot answered; hadns did not\n${text}`).not.toBeNull();
  expect(h!.id, "ID copied").toBe(sent.readUInt16BE(0));
  if (!c.hex && (c.query?.questions === undefined || c.query.questions.length === 1)) {
    // the question comes back byte for byte (0x20 case included)
    const q = normalise(Buffer.concat([sent.subarray(0, 2), Buffer.from([0x80, 0]), sent.subarray(4)]));
    expect(h!.questionHex, "question echoed byte for byte").toBe(q.questionHex);
  }
  expect(comparable(h), text).toEqual(comparable(k));
}

const CASES = buildCases();

afterAll(() => {
  if (REPORT) fs.writeFileSync(REPORT, `${mismatches.length} mismatches\n\n${mismatches.join("\n\n")}\n`);
});

describe.skipIf(!haveKnot)("differential: hadns answers like Knot DNS", () => {
  let knot: KnotServer;
  let hadns: { host: string; port: number; close(): Promise<void> };
  beforeAll(async () => {
    knot = await startKnot(ZONES, { extraServerConf: KNOT_OFF });
    hadns = await startUnderTest(ZONES, KNOT_OFF);
  }, 30_000);
  afterAll(async () => {
    await hadns?.close();
    await knot?.close();
  });

  it("sends at least 150 queries", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(150);
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length);
  });

  it("pipelined queries on one TCP connection: each answer (matched by ID) equals Knot's", async () => {
    const qs: QueryOptions[] = [
      { name: n("www"), type: "A" },
      { name: n("nothere"), type: "A", edns: true },
      { name: n("host.sub"), type: "A", rd: true },
      { name: mix(n("foo.wild")), type: "TXT", edns: { do: true } },
      { name: n("huge"), type: "AAAA" },
      { name: n("chain1"), type: "A" },
      { name: "example.com", type: "A", edns: true },
      { name: n("www"), type: "A", edns: { version: 1 } },
    ];
    const msgs = qs.map((q, i) => buildQuery({ ...q, id: 0x7000 + i }));
    const [k, h] = await Promise.all([
      sendTcpMany(knot.host, knot.port, msgs, { timeoutMs: 3000 }),
      sendTcpMany(hadns.host, hadns.port, msgs, { timeoutMs: 3000 }),
    ]);
    expect(k.responses.length).toBe(msgs.length);
    expect(h.responses.length, "one answer per pipelined query").toBe(msgs.length);
    const byId = (rs: Buffer[]) => new Map(rs.map((r) => [r.readUInt16BE(0), normalise(r)]));
    const km = byId(k.responses);
    const hm = byId(h.responses);
    for (let i = 0; i < msgs.length; i++) {
      const id = 0x7000 + i;
      expect(comparable(hm.get(id) ?? null), `pipelined query ${i}: ${describeMsg(km.get(id) ?? null)}`).toEqual(comparable(km.get(id) ?? null));
    }
  });

  it.each(CASES.map((c, i) => [c.id, c, i] as const))("%s", async (_id, c, i) => {
    const { sent, k, h } = await ask(c, knot, hadns, i);
    if (c.known) {
      const d = KNOWN_DIFFERENCES[c.known];
      d.checkKnot(k, c);
      d.checkHadns(h, c, sent);
      return;
    }
    compare(c, sent, k, h);
  });
});

// CH-class identity answers when both servers are configured with the same strings.
describe.skipIf(!haveKnot)("differential: configured CH version.bind / id.server", () => {
  let knot: KnotServer;
  let hadns: { host: string; port: number; close(): Promise<void> };
  const VERSION = "hadns-diff 1.0";
  const ID = "ns1.diff.test";
  const conf = `identity: "${ID}"\nversion: "${VERSION}"\nnsid: ""`;
  beforeAll(async () => {
    knot = await startKnot(ZONES.slice(0, 1), { extraServerConf: conf });
    hadns = await startUnderTest(ZONES.slice(0, 1), conf, { version: VERSION, id: ID });
  }, 30_000);
  afterAll(async () => {
    await hadns?.close();
    await knot?.close();
  });
  const chCases: Case[] = [];
  for (const name of ["version.bind", "version.server", "id.server", "hostname.bind", "VeRsIoN.BiNd", "authors.bind"]) {
    chCases.push({ id: `CH ${name} TXT / udp`, transport: "udp", query: { name, type: "TXT", class: "CH" } });
  }
  chCases.push({ id: "CH version.bind TXT edns rd / tcp", transport: "tcp", query: { name: "version.bind", type: "TXT", class: "CH", edns: true, rd: true } });
  chCases.push({ id: "CH version.bind A / udp", transport: "udp", query: { name: "version.bind", type: "A", class: "CH" } });
  chCases.push({ id: "CH version.bind ANY / udp", transport: "udp", query: { name: "version.bind", type: "ANY", class: "CH" } });
  chCases.push({ id: "IN version.bind TXT / udp", transport: "udp", query: { name: "version.bind", type: "TXT" } });
  it.each(chCases.map((c, i) => [c.id, c, i] as const))("%s", async (_id, c, i) => {
    const { sent, k, h } = await ask(c, knot, hadns, 1000 + i);
    compare(c, sent, k, h);
  });
});
