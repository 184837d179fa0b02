// Delegations (RFC 1034 §4.3.2 step 3b, RFC 4035 §3.1.4.1 for DS): referrals with the cut's NS in
// authority, glue in additional and AA clear, for every query at or below the cut; DS at the cut
// answered by the parent; a child zone we also serve answers for itself.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type QueryOptions, type Transport } from "./support/client.js";
import { askLines } from "./support/ask.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

// The DS digests are the hex of printable ASCII so that the expected lines stay readable.
const PARENT = `$ORIGIN example.test.
$TTL 300
@        3600 SOA  ns1 hostmaster 1 3600 900 604800 120
@        3600 NS   ns1
ns1           A    192.0.2.53
www           A    192.0.2.1
sub      600  NS   ns1.sub
sub      600  NS   ns2.sub
sub      900  DS   12345 13 2 3031323334353637383961626364656630313233343536373839616263646566
ns1.sub       A    192.0.2.10
ns1.sub       AAAA 2001:db8::10
ns2.sub  700  A    192.0.2.11
inz           NS   ns1.example.test.
tosub         CNAME sub
toinz         CNAME inz
outz          NS   ns.elsewhere.net.
child         NS   ns1.child
ns1.child     A    192.0.2.20
child         DS   54321 13 2 6162636465666768696a6b6c6d6e6f707172737475767778797a414243444546
`;

const CHILD = `$ORIGIN child.example.test.
$TTL 60
@    SOA ns1 hostmaster 5 3600 900 604800 30
@    NS  ns1
ns1  A   192.0.2.20
www  A   198.51.100.20
`;

const PARENT_SOA =
  'NS example.test. 120 IN SOA {"mname":"ns1.example.test","rname":"hostmaster.example.test","serial":1,"refresh":3600,"retry":900,"expire":604800,"minimum":120}';
const CHILD_SOA =
  'NS child.example.test. 30 IN SOA {"mname":"ns1.child.example.test","rname":"hostmaster.child.example.test","serial":5,"refresh":3600,"retry":900,"expire":604800,"minimum":30}';

/** The referral to sub.example.test.: no answer, NS in authority, glue A and AAAA, AA clear. */
const SUB_REFERRAL = [
  "rcode=0 opcode=0 flags=[qr] qd=1 an=0 ns=2 ar=3",
  'NS sub.example.test. 600 IN NS "ns1.sub.example.test" | "ns2.sub.example.test"',
  'AR ns1.sub.example.test. 300 IN A "192.0.2.10"',
  'AR ns1.sub.example.test. 300 IN AAAA "2001:db8::10"',
  'AR ns2.sub.example.test. 700 IN A "192.0.2.11"',
];

const TRANSPORTS: Transport[] = ["udp", "tcp"];

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([
    { origin: "example.test.", text: PARENT },
    { origin: "child.example.test.", text: CHILD },
  ]);
});
afterAll(() => srv.close());

/** Send a query; check ID and question came back as sent; the reply as lines (test/support/ask.ts). */
const ask = (via: Transport, q: QueryOptions): Promise<string[]> => askLines(srv, via, q);

describe.each(TRANSPORTS)("over %s", (via) => {
  it("every type at the cut except DS gets the referral (NS, SOA, A, ANY)", async () => {
    for (const type of ["NS", "SOA", "A", "ANY"]) {
      expect(await ask(via, { name: "sub.example.test", type }), type).toEqual(SUB_REFERRAL);
    }
  });

  it("names below the cut get the referral, glue names included", async () => {
    expect(await ask(via, { name: "host.sub.example.test", type: "A" })).toEqual(SUB_REFERRAL);
    expect(await ask(via, { name: "ns1.sub.example.test", type: "A" })).toEqual(SUB_REFERRAL);
    expect(await ask(via, { name: "a.b.host.sub.example.test", type: "MX" })).toEqual(SUB_REFERRAL);
    expect(await ask(via, { name: "host.sub.example.test", type: "DS" })).toEqual(SUB_REFERRAL);
  });

  it("RD is copied into a referral and an OPT is added for EDNS, AA still clear", async () => {
    expect(await ask(via, { name: "host.sub.example.test", type: "A", rd: true, edns: true })).toEqual([
      "rcode=0 opcode=0 flags=[qr rd] qd=1 an=0 ns=2 ar=4",
      "OPT payload=1232 v=0 do=false ext=0 z=0 opts=[]",
      ...SUB_REFERRAL.slice(1),
    ]);
  });

  it("DS at the cut is the parent's data: answered with AA", async () => {
    expect(await ask(via, { name: "sub.example.test", type: "DS" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN sub.example.test. 900 IN DS {"keyTag":12345,"algorithm":13,"digestType":2,"digest":"0123456789abcdef0123456789abcdef"}',
    ]);
  });

  it("no DS at a cut is the parent's NODATA", async () => {
    expect(await ask(via, { name: "inz.example.test", type: "DS" })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", PARENT_SOA]);
  });

  it("a CNAME to a cut, asked for DS, gets the DS from the parent side", async () => {
    expect(await ask(via, { name: "tosub.example.test", type: "DS" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      'AN sub.example.test. 900 IN DS {"keyTag":12345,"algorithm":13,"digestType":2,"digest":"0123456789abcdef0123456789abcdef"}',
      'AN tosub.example.test. 300 IN CNAME "sub.example.test"',
    ]);
  });

  // Regression test (was a server bug): the engine compiles an answer per type only for the types the visited
  // nodes hold (QueryEngine.compileLane), so DS through a CNAME to a cut *without* DS falls to the
  // referral compiled for "other types". Knot DNS answers CNAME + the parent's NODATA.
  it("a CNAME to a cut without DS, asked for DS, gets the parent's NODATA after the CNAME, as Knot DNS does", async () => {
    expect(await ask(via, { name: "toinz.example.test", type: "DS" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=1 ar=0",
      'AN toinz.example.test. 300 IN CNAME "inz.example.test"',
      PARENT_SOA,
    ]);
  });

  it("a name server in the parent zone, not below the cut, still gets its address", async () => {
    expect(await ask(via, { name: "www.inz.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr] qd=1 an=0 ns=1 ar=1",
      'NS inz.example.test. 300 IN NS "ns1.example.test"',
      'AR ns1.example.test. 300 IN A "192.0.2.53"',
    ]);
  });

  it("a name server outside our zones gets no additional records", async () => {
    expect(await ask(via, { name: "outz.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr] qd=1 an=0 ns=1 ar=0",
      'NS outz.example.test. 300 IN NS "ns.elsewhere.net"',
    ]);
  });

  it("a mixed-case query below the cut gets the same referral (names compressed against it may take its case, as in Knot DNS)", async () => {
    const reply = await ask(via, { name: "Host.SUB.example.test", type: "A" });
    expect(reply.map((l) => l.toLowerCase())).toEqual(SUB_REFERRAL.map((l) => l.toLowerCase()));
  });

  describe("a child zone we also serve", () => {
    it("answers at its apex and below, authoritatively (longest match)", async () => {
      expect(await ask(via, { name: "child.example.test", type: "SOA" })).toEqual([
        "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
        'AN child.example.test. 60 IN SOA {"mname":"ns1.child.example.test","rname":"hostmaster.child.example.test","serial":5,"refresh":3600,"retry":900,"expire":604800,"minimum":30}',
      ]);
      expect(await ask(via, { name: "www.child.example.test", type: "A" })).toEqual([
        "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
        'AN www.child.example.test. 60 IN A "198.51.100.20"',
      ]);
      expect(await ask(via, { name: "child.example.test", type: "A" })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", CHILD_SOA]);
      expect(await ask(via, { name: "nx.child.example.test", type: "A" })).toEqual(["rcode=3 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", CHILD_SOA]);
    });

    it("answers NS at its apex from its own data, with its own glue TTL", async () => {
      expect(await ask(via, { name: "child.example.test", type: "NS" })).toEqual([
        "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=1",
        'AN child.example.test. 60 IN NS "ns1.child.example.test"',
        'AR ns1.child.example.test. 60 IN A "192.0.2.20"',
      ]);
    });

    it("leaves DS at its apex to the parent", async () => {
      expect(await ask(via, { name: "child.example.test", type: "DS" })).toEqual([
        "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
        'AN child.example.test. 300 IN DS {"keyTag":54321,"algorithm":13,"digestType":2,"digest":"abcdefghijklmnopqrstuvwxyzABCDEF"}',
      ]);
    });
  });

  it("DS at our own apex is NODATA from the zone itself", async () => {
    expect(await ask(via, { name: "example.test", type: "DS" })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", PARENT_SOA]);
  });
});
