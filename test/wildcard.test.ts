// Wildcards (RFC 4592): synthesis with the query name as owner, wildcard CNAMEs, and the closest-
// encloser rule — an existing name or an empty non-terminal blocks the wildcard above it; `*`
// asked literally matches the wildcard's own records.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, describeWire, send, type QueryOptions, type Transport } from "./support/client.js";
import { askLines } from "./support/ask.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@            3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@            3600 NS    ns1
ns1               A     192.0.2.53
www               A     192.0.2.1
mail              AAAA  2001:db8::25
*.wild            A     192.0.2.8
*.wild       60   TXT   "from the wildcard"
exists.wild       TXT   "real"
a.ent.wild        A     192.0.2.9
*.wcname          CNAME www
*.wchain          CNAME x.wild
*.wloop           CNAME a.wloop
*.wnx             CNAME nothere
*.wmx             MX    10 mail
`;

const SOA =
  'NS example.test. 120 IN SOA {"mname":"ns1.example.test","rname":"hostmaster.example.test","serial":1,"refresh":3600,"retry":900,"expire":604800,"minimum":120}';
const NODATA = ["rcode=0 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", SOA];
const NXDOMAIN = ["rcode=3 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", SOA];

const TRANSPORTS: Transport[] = ["udp", "tcp"];

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([{ origin: "example.test.", text: EXAMPLE }]);
});
afterAll(() => srv.close());

/** Send a query; check ID and question came back as sent; the reply as lines (test/support/ask.ts). */
const ask = (via: Transport, q: QueryOptions): Promise<string[]> => askLines(srv, via, q);

describe.each(TRANSPORTS)("over %s", (via) => {
  it("a name that does not exist below the wildcard's parent gets the records with the query name as owner", async () => {
    expect(await ask(via, { name: "foo.wild.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN foo.wild.example.test. 300 IN A "192.0.2.8"',
    ]);
    expect(await ask(via, { name: "foo.wild.example.test", type: "TXT" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN foo.wild.example.test. 60 IN TXT ["from the wildcard"]',
    ]);
  });

  it("the wildcard matches several labels deep", async () => {
    expect(await ask(via, { name: "a.b.wild.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN a.b.wild.example.test. 300 IN A "192.0.2.8"',
    ]);
  });

  it("the synthesized owner is the query name byte for byte (0x20 case kept)", async () => {
    const reply = await send(via, srv.host, srv.port, buildQuery({ name: "FoO.wIlD.example.test", type: "A" }));
    expect(describeWire(reply).split("\n").filter((l) => l.startsWith("AN "))).toEqual(['AN FoO.wIlD.example.test. 300 IN A "192.0.2.8"']);
  });

  it("`*` asked literally gets the wildcard's own records", async () => {
    expect(await ask(via, { name: "*.wild.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN *.wild.example.test. 300 IN A "192.0.2.8"',
    ]);
  });

  it("a type the wildcard does not hold is NODATA", async () => {
    expect(await ask(via, { name: "foo.wild.example.test", type: "AAAA" })).toEqual(NODATA);
  });

  it("ANY gets one synthesized RRset (RFC 8482)", async () => {
    expect(await ask(via, { name: "foo.wild.example.test", type: "ANY" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN foo.wild.example.test. 300 IN A "192.0.2.8"',
    ]);
  });

  it("an existing name is answered from its own data, never the wildcard (NODATA for what it lacks)", async () => {
    expect(await ask(via, { name: "exists.wild.example.test", type: "TXT" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN exists.wild.example.test. 300 IN TXT ["real"]',
    ]);
    expect(await ask(via, { name: "exists.wild.example.test", type: "A" })).toEqual(NODATA);
  });

  it("closest encloser: a name below an existing name is NXDOMAIN, not the wildcard", async () => {
    expect(await ask(via, { name: "x.exists.wild.example.test", type: "A" })).toEqual(NXDOMAIN);
  });

  it("closest encloser: an empty non-terminal is NODATA and blocks the wildcard for names below it", async () => {
    expect(await ask(via, { name: "ent.wild.example.test", type: "A" })).toEqual(NODATA);
    expect(await ask(via, { name: "x.ent.wild.example.test", type: "A" })).toEqual(NXDOMAIN);
  });

  it("the wildcard's parent (an empty non-terminal) is NODATA; no wildcard at the apex means NXDOMAIN", async () => {
    expect(await ask(via, { name: "wild.example.test", type: "A" })).toEqual(NODATA);
    expect(await ask(via, { name: "*.example.test", type: "A" })).toEqual(NXDOMAIN);
    expect(await ask(via, { name: "x.www.example.test", type: "A" })).toEqual(NXDOMAIN);
  });

  it("a name below the literal `*` is NXDOMAIN (its source of synthesis would be *.*.wild)", async () => {
    expect(await ask(via, { name: "x.*.wild.example.test", type: "A" })).toEqual(NXDOMAIN);
  });

  it("a wildcard CNAME is synthesized with the query name and followed", async () => {
    expect(await ask(via, { name: "foo.wcname.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      'AN foo.wcname.example.test. 300 IN CNAME "www.example.test"',
      'AN www.example.test. 300 IN A "192.0.2.1"',
    ]);
    expect(await ask(via, { name: "foo.wcname.example.test", type: "CNAME" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN foo.wcname.example.test. 300 IN CNAME "www.example.test"',
    ]);
  });

  it("a wildcard CNAME into another wildcard is followed through both", async () => {
    expect(await ask(via, { name: "foo.wchain.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      'AN foo.wchain.example.test. 300 IN CNAME "x.wild.example.test"',
      'AN x.wild.example.test. 300 IN A "192.0.2.8"',
    ]);
  });

  it("a wildcard CNAME that loops back into its own wildcard stops when a name repeats", async () => {
    expect(await ask(via, { name: "foo.wloop.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      'AN a.wloop.example.test. 300 IN CNAME "a.wloop.example.test"',
      'AN foo.wloop.example.test. 300 IN CNAME "a.wloop.example.test"',
    ]);
  });

  it("a wildcard CNAME to a missing name is NXDOMAIN with the synthesized CNAME", async () => {
    expect(await ask(via, { name: "foo.wnx.example.test", type: "A" })).toEqual([
      "rcode=3 opcode=0 flags=[qr aa] qd=1 an=1 ns=1 ar=0",
      'AN foo.wnx.example.test. 300 IN CNAME "nothere.example.test"',
      SOA,
    ]);
  });

  it("a wildcard MX gets the additional addresses of its target", async () => {
    expect(await ask(via, { name: "foo.wmx.example.test", type: "MX" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=1",
      'AN foo.wmx.example.test. 300 IN MX {"preference":10,"exchange":"mail.example.test"}',
      'AR mail.example.test. 300 IN AAAA "2001:db8::25"',
    ]);
  });
});
