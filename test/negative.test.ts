// Negative answers (RFC 2308 §2-§3, RFC 8020): NXDOMAIN for names that do not exist, NODATA for
// names that exist without the type asked — empty non-terminals included — each with the zone's SOA
// in authority, AA set, and the SOA's TTL lowered to min(SOA TTL, SOA MINIMUM).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type QueryOptions, type Transport } from "./support/client.js";
import { askLines } from "./support/ask.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

// SOA TTL 3600, MINIMUM 120: negative answers carry TTL 120.
const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA  ns1 hostmaster 1 3600 900 604800 120
@        3600 NS   ns1
ns1           A    192.0.2.53
www           A    192.0.2.1
a.b.c.ent     A    192.0.2.2
`;

// SOA TTL 60, MINIMUM 900: negative answers carry TTL 60.
const SHORT = `$ORIGIN short.test.
@    60 SOA ns1 hostmaster 1 3600 900 604800 900
@    60 NS  ns1
ns1  60 A   192.0.2.54
`;

const SOA =
  'NS example.test. 120 IN SOA {"mname":"ns1.example.test","rname":"hostmaster.example.test","serial":1,"refresh":3600,"retry":900,"expire":604800,"minimum":120}';
const SHORT_SOA =
  'NS short.test. 60 IN SOA {"mname":"ns1.short.test","rname":"hostmaster.short.test","serial":1,"refresh":3600,"retry":900,"expire":604800,"minimum":900}';
const NODATA = ["rcode=0 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", SOA];
const NXDOMAIN = ["rcode=3 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", SOA];

const TRANSPORTS: Transport[] = ["udp", "tcp"];

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([
    { origin: "example.test.", text: EXAMPLE },
    { origin: "short.test.", text: SHORT },
  ]);
});
afterAll(() => srv.close());

/** Send a query; check ID and question came back as sent; the reply as lines (test/support/ask.ts). */
const ask = (via: Transport, q: QueryOptions): Promise<string[]> => askLines(srv, via, q);

describe.each(TRANSPORTS)("over %s", (via) => {
  it("a name that does not exist is NXDOMAIN with the SOA at TTL min(3600, 120) = 120", async () => {
    expect(await ask(via, { name: "nx.example.test", type: "A" })).toEqual(NXDOMAIN);
    expect(await ask(via, { name: "a.b.nx.example.test", type: "TXT" })).toEqual(NXDOMAIN);
  });

  it("a name below an existing leaf is NXDOMAIN", async () => {
    expect(await ask(via, { name: "x.www.example.test", type: "A" })).toEqual(NXDOMAIN);
  });

  it("an existing name without the type is NODATA, at the apex too", async () => {
    expect(await ask(via, { name: "www.example.test", type: "TXT" })).toEqual(NODATA);
    expect(await ask(via, { name: "www.example.test", type: "AAAA" })).toEqual(NODATA);
    expect(await ask(via, { name: "example.test", type: "MX" })).toEqual(NODATA);
  });

  it("empty non-terminals are NODATA at every level, and names below them NXDOMAIN", async () => {
    for (const name of ["ent.example.test", "c.ent.example.test", "b.c.ent.example.test"]) {
      expect(await ask(via, { name, type: "A" }), name).toEqual(NODATA);
    }
    expect(await ask(via, { name: "x.b.c.ent.example.test", type: "A" })).toEqual(NXDOMAIN);
    expect(await ask(via, { name: "x.ent.example.test", type: "A" })).toEqual(NXDOMAIN);
  });

  it("when the SOA TTL is the lower, it is kept: min(60, 900) = 60", async () => {
    expect(await ask(via, { name: "nx.short.test", type: "A" })).toEqual(["rcode=3 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", SHORT_SOA]);
    expect(await ask(via, { name: "short.test", type: "MX" })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", SHORT_SOA]);
  });

  it("RD is copied and an OPT (DO echoed) is added to negative answers", async () => {
    expect(await ask(via, { name: "nx.example.test", type: "A", rd: true, edns: { do: true } })).toEqual([
      "rcode=3 opcode=0 flags=[qr aa rd] qd=1 an=0 ns=1 ar=1",
      "OPT payload=1232 v=0 do=true ext=0 z=0 opts=[]",
      SOA,
    ]);
  });

  it("a mixed-case name that does not exist comes back as sent", async () => {
    expect(await ask(via, { name: "NoT.ThErE.example.test", type: "A" })).toEqual(NXDOMAIN);
  });

  it("DNSSEC and meta types at an unsigned name are NODATA, as in Knot DNS", async () => {
    for (const type of ["RRSIG", "NSEC", "DNSKEY", "OPT", "TSIG", "MAILA", "MAILB", "TYPE65280"]) {
      expect(await ask(via, { name: "www.example.test", type }), type).toEqual(NODATA);
    }
  });

  it("qtype 0 is NOTIMP without AA, as in Knot DNS", async () => {
    expect(await ask(via, { name: "www.example.test", type: 0 })).toEqual(["rcode=4 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=0"]);
  });
});
