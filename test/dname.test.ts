// DNAME (RFC 6672 §2-§3): a name below a DNAME owner gets the DNAME, a CNAME synthesized from the
// query name (TTL of the DNAME), and the answer for the new name when it is in the same zone; at the
// owner itself the DNAME is ordinary data; a result over 255 octets is YXDOMAIN.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, describeWire, send, type QueryOptions, type Transport } from "./support/client.js";
import { askLines } from "./support/ask.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

const L63 = (c: string) => c.repeat(63);

const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@          3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@          3600 NS    ns1
ns1             A     192.0.2.53
dname      600  DNAME target
www.target      A     192.0.2.3
x.target        TXT   "x"
dnameout        DNAME other.test.
long            DNAME ${L63("a")}.${L63("b")}.${L63("c")}.test.
`;

const SOA =
  'NS example.test. 120 IN SOA {"mname":"ns1.example.test","rname":"hostmaster.example.test","serial":1,"refresh":3600,"retry":900,"expire":604800,"minimum":120}';
const DNAME = 'AN dname.example.test. 600 IN DNAME "target.example.test"';

const TRANSPORTS: Transport[] = ["udp", "tcp"];

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([{ origin: "example.test.", text: EXAMPLE }]);
});
afterAll(() => srv.close());

/** Send a query; check ID and question came back as sent; the reply as lines (test/support/ask.ts). */
const ask = (via: Transport, q: QueryOptions): Promise<string[]> => askLines(srv, via, q);

describe.each(TRANSPORTS)("over %s", (via) => {
  it("below the owner: the DNAME, a synthesized CNAME with the DNAME's TTL, and the target's records", async () => {
    expect(await ask(via, { name: "www.dname.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=3 ns=0 ar=0",
      DNAME,
      'AN www.dname.example.test. 600 IN CNAME "www.target.example.test"',
      'AN www.target.example.test. 300 IN A "192.0.2.3"',
    ]);
  });

  it("the DNAME is written first, then the CNAME, then the target's records", async () => {
    const reply = await send(via, srv.host, srv.port, buildQuery({ name: "www.dname.example.test", type: "A" }));
    expect(describeWire(reply).split("\n").filter((l) => l.startsWith("AN "))).toEqual([
      'AN dname.example.test. 600 IN DNAME "target.example.test"',
      'AN www.dname.example.test. 600 IN CNAME "www.target.example.test"',
      'AN www.target.example.test. 300 IN A "192.0.2.3"',
    ]);
  });

  it("the synthesized CNAME keeps the case of the query's own labels (Knot DNS lower-cases them; names compare case-insensitively)", async () => {
    expect(await ask(via, { name: "WwW.dname.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=3 ns=0 ar=0",
      DNAME,
      'AN www.dname.example.test. 600 IN CNAME "WwW.target.example.test"',
      'AN www.target.example.test. 300 IN A "192.0.2.3"',
    ]);
    // The same name in another case right after: its own answer, not the one before.
    expect(await ask(via, { name: "WWW.dname.example.test", type: "A" })).toContain('AN www.dname.example.test. 600 IN CNAME "WWW.target.example.test"');
  });

  it("a target that does not exist: NXDOMAIN with the DNAME, the CNAME and the SOA", async () => {
    expect(await ask(via, { name: "nx.dname.example.test", type: "A" })).toEqual([
      "rcode=3 opcode=0 flags=[qr aa] qd=1 an=2 ns=1 ar=0",
      DNAME,
      'AN nx.dname.example.test. 600 IN CNAME "nx.target.example.test"',
      SOA,
    ]);
    expect(await ask(via, { name: "a.b.dname.example.test", type: "A" })).toEqual([
      "rcode=3 opcode=0 flags=[qr aa] qd=1 an=2 ns=1 ar=0",
      'AN a.b.dname.example.test. 600 IN CNAME "a.b.target.example.test"',
      DNAME,
      SOA,
    ]);
  });

  it("a target without the type: NODATA with the DNAME, the CNAME and the SOA", async () => {
    expect(await ask(via, { name: "x.dname.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=1 ar=0",
      DNAME,
      'AN x.dname.example.test. 600 IN CNAME "x.target.example.test"',
      SOA,
    ]);
  });

  it("qtype CNAME below the owner stops at the synthesized CNAME", async () => {
    expect(await ask(via, { name: "www.dname.example.test", type: "CNAME" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      DNAME,
      'AN www.dname.example.test. 600 IN CNAME "www.target.example.test"',
    ]);
  });

  it("qtype DNAME below the owner is followed like any other type (NODATA at the target)", async () => {
    expect(await ask(via, { name: "www.dname.example.test", type: "DNAME" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=1 ar=0",
      DNAME,
      'AN www.dname.example.test. 600 IN CNAME "www.target.example.test"',
      SOA,
    ]);
  });

  it("at the owner itself the DNAME is ordinary data: DNAME answered, other types NODATA", async () => {
    expect(await ask(via, { name: "dname.example.test", type: "DNAME" })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0", DNAME]);
    for (const type of ["A", "CNAME"]) {
      expect(await ask(via, { name: "dname.example.test", type }), type).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", SOA]);
    }
  });

  it("a DNAME into another zone: DNAME and CNAME only", async () => {
    expect(await ask(via, { name: "www.dnameout.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      'AN dnameout.example.test. 300 IN DNAME "other.test"',
      'AN www.dnameout.example.test. 300 IN CNAME "www.other.test"',
    ]);
  });

  // Knot DNS, after YXDOMAIN, goes on looking up the DNAME's *target* as if it were a CNAME's: with
  // the target outside the zone (as here) it sends the DNAME alone; with the target an empty
  // non-terminal of the zone, DNAME + SOA; with no such name, NXDOMAIN instead of YXDOMAIN. hadns
  // always sends YXDOMAIN with the DNAME and the zone's SOA.
  it("a substitution longer than 255 octets is YXDOMAIN with the DNAME and the SOA (RFC 6672 §2.2; Knot omits the SOA here)", async () => {
    const name = `${L63("a")}.${L63("b")}.${L63("c")}.long.example.test`;
    expect(await ask(via, { name, type: "A" })).toEqual([
      "rcode=6 opcode=0 flags=[qr aa] qd=1 an=1 ns=1 ar=0",
      `AN long.example.test. 300 IN DNAME "${L63("a")}.${L63("b")}.${L63("c")}.test"`,
      SOA,
    ]);
  });
});
