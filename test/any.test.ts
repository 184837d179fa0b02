// Queries for ANY (RFC 8482 §4.1): one RRset of the node — the lowest type, as Knot DNS 3.2 picks —
// never the whole node, over UDP and TCP alike; CNAME nodes, wildcards, cuts and missing names are
// answered by the usual rules.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type QueryOptions, type Transport } from "./support/client.js";
import { askLines } from "./support/ask.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@        3600 NS    ns1
@             MX    10 mail
@             TXT   "apex"
ns1           A     192.0.2.53
ns1           AAAA  2001:db8::53
mail          A     192.0.2.25
multi         MX    10 mail
multi         TXT   "t"
multi         AAAA  2001:db8::4
multi         A     192.0.2.4
onlytxt       AAAA  2001:db8::5
onlytxt       TXT   "t"
alias         CNAME multi
*.wild        TXT   "w"
*.wild        AAAA  2001:db8::8
sub           NS    ns.sub
ns.sub        A     192.0.2.77
a.ent         A     192.0.2.9
`;

const SOA =
  'NS example.test. 120 IN SOA {"mname":"ns1.example.test","rname":"hostmaster.example.test","serial":1,"refresh":3600,"retry":900,"expire":604800,"minimum":120}';

const TRANSPORTS: Transport[] = ["udp", "tcp"];

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([{ origin: "example.test.", text: EXAMPLE }]);
});
afterAll(() => srv.close());

/** Send a query; check ID and question came back as sent; the reply as lines (test/support/ask.ts). */
const ask = (via: Transport, q: QueryOptions): Promise<string[]> => askLines(srv, via, q);

describe.each(TRANSPORTS)("over %s", (via) => {
  it("a node with A, AAAA, TXT and MX gets only its A set", async () => {
    expect(await ask(via, { name: "multi.example.test", type: "ANY" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN multi.example.test. 300 IN A "192.0.2.4"',
    ]);
  });

  it("a node with AAAA and TXT gets the TXT set (the lower type number)", async () => {
    expect(await ask(via, { name: "onlytxt.example.test", type: "ANY" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN onlytxt.example.test. 300 IN TXT ["t"]',
    ]);
  });

  it("the apex gets its NS set, with the name servers' addresses", async () => {
    expect(await ask(via, { name: "example.test", type: "ANY", edns: true })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=3",
      "OPT payload=1232 v=0 do=false ext=0 z=0 opts=[]",
      'AN example.test. 3600 IN NS "ns1.example.test"',
      'AR ns1.example.test. 300 IN A "192.0.2.53"',
      'AR ns1.example.test. 300 IN AAAA "2001:db8::53"',
    ]);
  });

  it("a CNAME node gets the CNAME alone, not followed", async () => {
    expect(await ask(via, { name: "alias.example.test", type: "ANY" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN alias.example.test. 300 IN CNAME "multi.example.test"',
    ]);
  });

  it("a wildcard match gets one synthesized RRset", async () => {
    expect(await ask(via, { name: "foo.wild.example.test", type: "ANY" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN foo.wild.example.test. 300 IN TXT ["w"]',
    ]);
  });

  it("at or below a cut, ANY gets the referral", async () => {
    const referral = ["rcode=0 opcode=0 flags=[qr] qd=1 an=0 ns=1 ar=1", 'NS sub.example.test. 300 IN NS "ns.sub.example.test"', 'AR ns.sub.example.test. 300 IN A "192.0.2.77"'];
    expect(await ask(via, { name: "sub.example.test", type: "ANY" })).toEqual(referral);
    expect(await ask(via, { name: "host.sub.example.test", type: "ANY" })).toEqual(referral);
  });

  it("an empty non-terminal is NODATA and a missing name NXDOMAIN", async () => {
    expect(await ask(via, { name: "ent.example.test", type: "ANY" })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", SOA]);
    expect(await ask(via, { name: "nx.example.test", type: "ANY" })).toEqual(["rcode=3 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", SOA]);
  });
});
