// CNAME chains (RFC 1034 §3.6.2, §4.3.2 step 3a; RFC 6604 for the rcode at the end of a chain):
// followed inside the zone, loops cut, other zones left to the resolver, a delegation at the end
// answered as a referral with AA kept, as Knot DNS 3.2 does.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, describeWire, send, type QueryOptions, type Transport } from "./support/client.js";
import { askLines } from "./support/ask.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
www           A     192.0.2.1
alias         CNAME www
alias2   600  CNAME alias
loop1         CNAME loop2
loop2         CNAME loop1
self          CNAME self
tonx          CNAME nothere
toent         CNAME ent
a.b.ent       A     192.0.2.3
toother       CNAME www.other.test.
tosub         CNAME host.sub
sub           NS    ns.sub
ns.sub        A     192.0.2.77
towild        CNAME foo.wild
*.wild        A     192.0.2.8
tomx          CNAME mx
mx            MX    10 www
; five CNAMEs c1..c5 before www; six CNAMEs d1..d6 before www
c1 CNAME c2
c2 CNAME c3
c3 CNAME c4
c4 CNAME c5
c5 CNAME www
d1 CNAME d2
d2 CNAME d3
d3 CNAME d4
d4 CNAME d5
d5 CNAME d6
d6 CNAME www
`;

const OTHER = `$ORIGIN other.test.
$TTL 300
@    SOA ns1 hostmaster 1 3600 900 604800 60
@    NS  ns1
ns1  A   192.0.2.99
www  A   203.0.113.1
`;

const SOA =
  'NS example.test. 120 IN SOA {"mname":"ns1.example.test","rname":"hostmaster.example.test","serial":1,"refresh":3600,"retry":900,"expire":604800,"minimum":120}';

const TRANSPORTS: Transport[] = ["udp", "tcp"];

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([
    { origin: "example.test.", text: EXAMPLE },
    { origin: "other.test.", text: OTHER },
  ]);
});
afterAll(() => srv.close());

/** Send a query; check ID and question came back as sent; the reply as lines (test/support/ask.ts). */
const ask = (via: Transport, q: QueryOptions): Promise<string[]> => askLines(srv, via, q);

describe.each(TRANSPORTS)("over %s", (via) => {
  it("a CNAME is followed to the records asked for, each RRset with its own TTL", async () => {
    expect(await ask(via, { name: "alias.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      'AN alias.example.test. 300 IN CNAME "www.example.test"',
      'AN www.example.test. 300 IN A "192.0.2.1"',
    ]);
    expect(await ask(via, { name: "alias2.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=3 ns=0 ar=0",
      'AN alias.example.test. 300 IN CNAME "www.example.test"',
      'AN alias2.example.test. 600 IN CNAME "alias.example.test"',
      'AN www.example.test. 300 IN A "192.0.2.1"',
    ]);
  });

  it("the chain is written in order: each CNAME before the records of its target", async () => {
    const reply = await send(via, srv.host, srv.port, buildQuery({ name: "alias2.example.test", type: "A" }));
    expect(describeWire(reply).split("\n").filter((l) => l.startsWith("AN "))).toEqual([
      'AN alias2.example.test. 600 IN CNAME "alias.example.test"',
      'AN alias.example.test. 300 IN CNAME "www.example.test"',
      'AN www.example.test. 300 IN A "192.0.2.1"',
    ]);
  });

  it("qtype CNAME or ANY at a CNAME gets the CNAME alone", async () => {
    for (const type of ["CNAME", "ANY"]) {
      expect(await ask(via, { name: "alias.example.test", type })).toEqual([
        "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
        'AN alias.example.test. 300 IN CNAME "www.example.test"',
      ]);
    }
  });

  // Regression test (was a server bug): RRSIG and NSEC live beside a CNAME (RFC 4035 §2.5), so a query for them at
  // a CNAME owner is answered there — NODATA in an unsigned zone — and not followed; Knot DNS does
  // so. hadns follows the CNAME (answerAt in src/answer/lookup.ts) and answers CNAME + NODATA at www.
  it("qtype RRSIG or NSEC at a CNAME is answered at its owner (NODATA here), not followed, as Knot DNS does", async () => {
    for (const type of ["RRSIG", "NSEC"]) {
      expect(await ask(via, { name: "alias.example.test", type }), type).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", SOA]);
    }
  });

  it("a chain ending where the type is missing is NODATA: CNAME + SOA, NOERROR, AA", async () => {
    expect(await ask(via, { name: "alias.example.test", type: "TXT" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=1 ar=0",
      'AN alias.example.test. 300 IN CNAME "www.example.test"',
      SOA,
    ]);
    // An empty non-terminal at the end is NODATA too.
    expect(await ask(via, { name: "toent.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=1 ar=0",
      'AN toent.example.test. 300 IN CNAME "ent.example.test"',
      SOA,
    ]);
  });

  it("a chain ending at a name that does not exist is NXDOMAIN with the CNAME kept (RFC 6604)", async () => {
    expect(await ask(via, { name: "tonx.example.test", type: "A" })).toEqual([
      "rcode=3 opcode=0 flags=[qr aa] qd=1 an=1 ns=1 ar=0",
      'AN tonx.example.test. 300 IN CNAME "nothere.example.test"',
      SOA,
    ]);
  });

  it("a loop is cut when a name comes round again: each CNAME once, NOERROR, no SOA", async () => {
    expect(await ask(via, { name: "loop1.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      'AN loop1.example.test. 300 IN CNAME "loop2.example.test"',
      'AN loop2.example.test. 300 IN CNAME "loop1.example.test"',
    ]);
    expect(await ask(via, { name: "self.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN self.example.test. 300 IN CNAME "self.example.test"',
    ]);
  });

  it("a target in another zone is not followed, even one we serve (as Knot DNS)", async () => {
    expect(await ask(via, { name: "toother.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN toother.example.test. 300 IN CNAME "www.other.test"',
    ]);
  });

  it("a target below a delegation ends in a referral: CNAME, the cut's NS, glue, and AA stays set", async () => {
    expect(await ask(via, { name: "tosub.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=1 ar=1",
      'AN tosub.example.test. 300 IN CNAME "host.sub.example.test"',
      'NS sub.example.test. 300 IN NS "ns.sub.example.test"',
      'AR ns.sub.example.test. 300 IN A "192.0.2.77"',
    ]);
  });

  it("a target matched by a wildcard is synthesized with the target as owner", async () => {
    expect(await ask(via, { name: "towild.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      'AN foo.wild.example.test. 300 IN A "192.0.2.8"',
      'AN towild.example.test. 300 IN CNAME "foo.wild.example.test"',
    ]);
  });

  it("an MX at the end of a chain gets its additional addresses", async () => {
    expect(await ask(via, { name: "tomx.example.test", type: "MX" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=1",
      'AN mx.example.test. 300 IN MX {"preference":10,"exchange":"www.example.test"}',
      'AN tomx.example.test. 300 IN CNAME "mx.example.test"',
      'AR www.example.test. 300 IN A "192.0.2.1"',
    ]);
  });

  it("a chain of five CNAMEs is followed to its end", async () => {
    expect(await ask(via, { name: "c1.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=6 ns=0 ar=0",
      'AN c1.example.test. 300 IN CNAME "c2.example.test"',
      'AN c2.example.test. 300 IN CNAME "c3.example.test"',
      'AN c3.example.test. 300 IN CNAME "c4.example.test"',
      'AN c4.example.test. 300 IN CNAME "c5.example.test"',
      'AN c5.example.test. 300 IN CNAME "www.example.test"',
      'AN www.example.test. 300 IN A "192.0.2.1"',
    ]);
  });

  // Regression test (was a server bug): Knot DNS 3.2 puts at most five CNAMEs in an answer and stops there
  // (NOERROR, no SOA); hadns follows up to 16 (MAX_CHAIN in src/answer/lookup.ts).
  it("a chain of six CNAMEs is cut after the fifth, as Knot DNS does", async () => {
    expect(await ask(via, { name: "d1.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=5 ns=0 ar=0",
      'AN d1.example.test. 300 IN CNAME "d2.example.test"',
      'AN d2.example.test. 300 IN CNAME "d3.example.test"',
      'AN d3.example.test. 300 IN CNAME "d4.example.test"',
      'AN d4.example.test. 300 IN CNAME "d5.example.test"',
      'AN d5.example.test. 300 IN CNAME "d6.example.test"',
    ]);
  });
});
