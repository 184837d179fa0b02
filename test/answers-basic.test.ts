// Basic authoritative answers over real sockets (RFC 1034 §4.3.2, RFC 1035 §4.1.1): exact matches with
// AA, header bits (RD copied and nothing else, RA never), TTLs, the question echoed byte for byte,
// the longest matching zone, REFUSED outside our zones, and the query classes we do not serve.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, describe as describeReply, describeWire, normalise, send, type QueryOptions, type Transport } from "./support/client.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@        3600  IN SOA  ns1 hostmaster 2024010101 3600 900 604800 60
@        3600  IN NS   ns1
ns1            IN A    192.0.2.53
www            IN A    192.0.2.1
www            IN A    192.0.2.2
www      600   IN AAAA 2001:db8::1
txt      1h30m IN TXT  "hello" "world"
deep           IN A    192.0.2.99
`;

// A zone below example.test. with no delegation to it: the longer origin wins for its names.
const DEEP = `$ORIGIN deep.example.test.
$TTL 120
@    IN SOA ns1.example.test. hostmaster.example.test. 7 3600 900 604800 30
@    IN NS  ns1.example.test.
www  IN A   198.51.100.1
`;

const DEEP_SOA =
  'NS deep.example.test. 30 IN SOA {"mname":"ns1.example.test","rname":"hostmaster.example.test","serial":7,"refresh":3600,"retry":900,"expire":604800,"minimum":30}';

const TRANSPORTS: Transport[] = ["udp", "tcp"];

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([
    { origin: "example.test.", text: EXAMPLE },
    { origin: "deep.example.test.", text: DEEP },
  ]);
});
afterAll(() => srv.close());

/**
 * Send a query (to `server`, by default the one serving EXAMPLE and DEEP); check that the reply carries
 * its ID and its question byte for byte; return it as describe() lines (header, OPT, one line per
 * RRset) without the size and question lines.
 */
async function ask(via: Transport, q: QueryOptions, server: HadnsHandle = srv): Promise<string[]> {
  const query = buildQuery(q);
  const reply = await send(via, server.host, server.port, query);
  if (!reply) throw new Error(`no reply over ${via}`);
  const n = normalise(reply);
  expect(n.id).toBe(query.readUInt16BE(0));
  expect(n.questionHex).toBe(normalise(query).questionHex);
  return describeReply(n)
    .split("\n")
    .filter((l) => !l.startsWith("question="))
    .map((l) => l.replace(/ size=\d+$/, ""));
}

describe.each(TRANSPORTS)("over %s", (via) => {
  it("an exact match gets the whole RRset with AA and nothing else", async () => {
    expect(await ask(via, { name: "www.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      'AN www.example.test. 300 IN A "192.0.2.1" | "192.0.2.2"',
    ]);
  });

  it("each RRset keeps its own TTL: $TTL, an explicit TTL, and TTL units (1h30m = 5400)", async () => {
    expect(await ask(via, { name: "www.example.test", type: "AAAA" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN www.example.test. 600 IN AAAA "2001:db8::1"',
    ]);
    expect(await ask(via, { name: "txt.example.test", type: "TXT" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN txt.example.test. 5400 IN TXT ["hello","world"]',
    ]);
    expect(await ask(via, { name: "example.test", type: "SOA" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN example.test. 3600 IN SOA {"mname":"ns1.example.test","rname":"hostmaster.example.test","serial":2024010101,"refresh":3600,"retry":900,"expire":604800,"minimum":60}',
    ]);
  });

  it("RD is copied into the reply", async () => {
    expect(await ask(via, { name: "www.example.test", type: "AAAA", rd: true })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa rd] qd=1 an=1 ns=0 ar=0",
      'AN www.example.test. 600 IN AAAA "2001:db8::1"',
    ]);
  });

  it("no other header bit of the query is copied (CD, AD, Z, AA, TC, RA), and RA is never set", async () => {
    const reply = await ask(via, { name: "www.example.test", type: "AAAA", rd: true, cd: true, ad: true, z: true, aa: true, tc: true, ra: true });
    expect(reply).toEqual(["rcode=0 opcode=0 flags=[qr aa rd] qd=1 an=1 ns=0 ar=0", 'AN www.example.test. 600 IN AAAA "2001:db8::1"']);
  });

  it("a mixed-case (0x20) question comes back as sent, and the owner written from it too", async () => {
    const query = buildQuery({ name: "wWw.ExAmPlE.TeSt", type: "A" });
    const reply = await send(via, srv.host, srv.port, query);
    expect(reply).not.toBeNull();
    // The question section, byte for byte.
    expect(reply!.subarray(12, query.length).equals(query.subarray(12))).toBe(true);
    const lines = describeWire(reply).split("\n");
    expect(lines.filter((l) => l.startsWith("AN "))).toEqual([
      'AN wWw.ExAmPlE.TeSt. 300 IN A "192.0.2.1"',
      'AN wWw.ExAmPlE.TeSt. 300 IN A "192.0.2.2"',
    ]);
  });

  it("the longest matching zone answers: deep.example.test. for its own names", async () => {
    expect(await ask(via, { name: "www.deep.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN www.deep.example.test. 120 IN A "198.51.100.1"',
    ]);
    // example.test. has an A record at deep.example.test., but the deeper zone's apex has none.
    expect(await ask(via, { name: "deep.example.test", type: "A" })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", DEEP_SOA]);
    expect(await ask(via, { name: "nx.deep.example.test", type: "A" })).toEqual(["rcode=3 opcode=0 flags=[qr aa] qd=1 an=0 ns=1 ar=0", DEEP_SOA]);
  });

  it("a name outside every zone is REFUSED without AA, and with EDNS the OPT carries EDE 20 (Not Authoritative)", async () => {
    expect(await ask(via, { name: "www.example.com", type: "A", rd: true })).toEqual(["rcode=5 opcode=0 flags=[qr rd] qd=1 an=0 ns=0 ar=0"]);
    for (const name of ["www.example.com", ".", "test"]) {
      expect(await ask(via, { name, type: "SOA", edns: true })).toEqual([
        "rcode=5 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=1",
        'OPT payload=1232 v=0 do=false ext=0 z=0 opts=[{"code":15,"data":"0014"}]',
      ]);
    }
  });

  it("class ANY is answered as IN (as Knot DNS does)", async () => {
    expect(await ask(via, { name: "www.example.test", type: "A", class: "ANY" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=0",
      'AN www.example.test. 300 IN A "192.0.2.1" | "192.0.2.2"',
    ]);
  });

  it("classes CH, HS and NONE are REFUSED without AA (no EDE: the name is ours, the class is not)", async () => {
    for (const cls of ["CH", "HS", "NONE"]) {
      expect(await ask(via, { name: "www.example.test", type: "A", class: cls })).toEqual(["rcode=5 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=0"]);
    }
    expect(await ask(via, { name: "www.example.test", type: "A", class: "NONE", edns: true })).toEqual([
      "rcode=5 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=1",
      "OPT payload=1232 v=0 do=false ext=0 z=0 opts=[]",
    ]);
  });

  it("CH version.bind and id.server are REFUSED when not configured", async () => {
    for (const name of ["version.bind", "version.server", "id.server", "hostname.bind"]) {
      expect(await ask(via, { name, type: "TXT", class: "CH" })).toEqual(["rcode=5 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=0"]);
    }
  });
});

describe("CH identity when configured", () => {
  let chaos: HadnsHandle;
  beforeAll(async () => {
    chaos = await startHadns([{ origin: "example.test.", text: EXAMPLE }], { chaos: { version: "hadns test", id: "ns-a" } });
  });
  afterAll(() => chaos.close());

  const askChaos = (q: QueryOptions) => ask("udp", q, chaos);

  it("version.bind and id.server get TXT, class CH, TTL 0, without AA", async () => {
    expect(await askChaos({ name: "VERSION.bind", type: "TXT", class: "CH" })).toEqual([
      "rcode=0 opcode=0 flags=[qr] qd=1 an=1 ns=0 ar=0",
      'AN version.bind. 0 CH TXT ["hadns test"]',
    ]);
    expect(await askChaos({ name: "id.server", type: "TXT", class: "CH", rd: true })).toEqual([
      "rcode=0 opcode=0 flags=[qr rd] qd=1 an=1 ns=0 ar=0",
      'AN id.server. 0 CH TXT ["ns-a"]',
    ]);
  });

  it("other CH names and class ANY version.bind stay REFUSED", async () => {
    expect(await askChaos({ name: "www.example.test", type: "TXT", class: "CH" })).toEqual(["rcode=5 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=0"]);
    expect(await askChaos({ name: "version.bind", type: "TXT", class: "ANY" })).toEqual(["rcode=5 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=0"]);
  });
});

describe("IPv6", () => {
  let v6: HadnsHandle;
  beforeAll(async () => {
    v6 = await startHadns([{ origin: "example.test.", text: EXAMPLE }], { host: "::1" });
  });
  afterAll(() => v6.close());

  it.each(TRANSPORTS)("answers on [::1] over %s", async (via) => {
    expect(await ask(via, { name: "www.example.test", type: "AAAA" }, v6)).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN www.example.test. 600 IN AAAA "2001:db8::1"',
    ]);
  });
});
