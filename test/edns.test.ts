// EDNS(0) (RFC 6891): the OPT echoed with our payload size (1232) and the DO bit, BADVERS for a
// version we do not speak, FORMERR without OPT for two OPT records, unknown options ignored, and
// the client's UDP payload size honoured — under 512 read as 512, over 1232 limited to 1232.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, describe as describeReply, normalise, send, type QueryOptions, type Transport } from "./support/client.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

// Sizes with an OPT in the reply: header 12 + question 23 + RR 12 + RDATA + OPT 11.
//   t200: RDATA 201 → 259 bytes, over a literal 100-byte limit but within 512.
//   fits: RDATA 1174 → 1232 bytes exactly;  over: RDATA 1175 → 1233 bytes.
const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@     3600 SOA ns1 hostmaster 1 3600 900 604800 120
@     3600 NS  ns1
ns1        A   192.0.2.53
www        A   192.0.2.1
t200       TXT "${"t".repeat(200)}"
fits       TXT ${[255, 255, 255, 255, 149].map((n) => `"${"x".repeat(n)}"`).join(" ")}
over       TXT ${[255, 255, 255, 255, 150].map((n) => `"${"y".repeat(n)}"`).join(" ")}
`;

const WWW = 'AN www.example.test. 300 IN A "192.0.2.1"';
const OPT = "OPT payload=1232 v=0 do=false ext=0 z=0 opts=[]";
const OPT_DO = "OPT payload=1232 v=0 do=true ext=0 z=0 opts=[]";

const TRANSPORTS: Transport[] = ["udp", "tcp"];

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([{ origin: "example.test.", text: EXAMPLE }]);
});
afterAll(() => srv.close());

/** Send a query (or raw bytes); check ID and question came back as sent; the reply as describe() lines without size and question. */
async function ask(via: Transport, q: QueryOptions | Buffer): Promise<string[]> {
  const query = Buffer.isBuffer(q) ? q : buildQuery(q);
  const reply = await send(via, srv.host, srv.port, query);
  if (!reply) throw new Error(`no reply over ${via}`);
  const n = normalise(reply);
  expect(n.id).toBe(query.readUInt16BE(0));
  expect(n.questionHex).toBe(normalise(query).questionHex);
  return describeReply(n)
    .split("\n")
    .filter((l) => !l.startsWith("question="))
    .map((l) => l.replace(/ size=\d+$/, ""));
}

/** The reply's size in bytes and whether TC is set (for the payload-size rules, UDP only). */
async function udpSize(q: QueryOptions): Promise<{ size: number; tc: boolean; an: number }> {
  const reply = await send("udp", srv.host, srv.port, buildQuery(q));
  if (!reply) throw new Error("no reply");
  const n = normalise(reply);
  return { size: n.size, tc: n.flags.tc, an: n.counts.an };
}

describe.each(TRANSPORTS)("over %s", (via) => {
  it("a query with EDNS gets an OPT with payload 1232, version 0, no options", async () => {
    expect(await ask(via, { name: "www.example.test", type: "A", edns: true })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=1", OPT, WWW]);
  });

  it("a query without EDNS gets no OPT", async () => {
    expect(await ask(via, { name: "www.example.test", type: "A" })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0", WWW]);
  });

  it("the DO bit is echoed", async () => {
    expect(await ask(via, { name: "www.example.test", type: "A", edns: { do: true } })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=1", OPT_DO, WWW]);
  });

  it("EDNS version 1 gets BADVERS (16 = header 0 + OPT extended rcode 1), OPT version 0, DO and RD copied, no AA, no records", async () => {
    expect(await ask(via, { name: "www.example.test", type: "A", rd: true, edns: { version: 1, do: true } })).toEqual([
      "rcode=16 opcode=0 flags=[qr rd] qd=1 an=0 ns=0 ar=1",
      "OPT payload=1232 v=0 do=true ext=1 z=0 opts=[]",
    ]);
    // Before any lookup: a name outside our zones gets BADVERS too, not REFUSED.
    expect(await ask(via, { name: "www.example.com", type: "A", edns: { version: 1 } })).toEqual([
      "rcode=16 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=1",
      "OPT payload=1232 v=0 do=false ext=1 z=0 opts=[]",
    ]);
  });

  // Regression test (was a server bug): hadns checks the opcode before the EDNS version and answers NOTIMP;
  // RFC 6891 §6.1.3 says a responder that does not implement the version MUST answer BADVERS, and
  // Knot DNS does so for every opcode. Fix: test ednsVersion before the opcode in QueryEngine.answer.
  it("EDNS version 1 gets BADVERS whatever the opcode (RFC 6891 §6.1.3), as Knot DNS does", async () => {
    for (const opcode of [1, 2, 4, 5, 15]) {
      expect(await ask(via, { name: "www.example.test", type: "A", opcode, edns: { version: 1 } }), `opcode ${opcode}`).toEqual([
        `rcode=16 opcode=${opcode} flags=[qr] qd=1 an=0 ns=0 ar=1`,
        "OPT payload=1232 v=0 do=false ext=1 z=0 opts=[]",
      ]);
    }
  });

  it("two OPT records get FORMERR with the question echoed and no OPT, RD copied", async () => {
    expect(await ask(via, { name: "www.example.test", type: "A", rd: true, edns: true, optCount: 2 })).toEqual(["rcode=1 opcode=0 flags=[qr rd] qd=1 an=0 ns=0 ar=0"]);
  });

  it("unknown and unsupported options (NSID, COOKIE, PADDING, ECS, 65001) are ignored: the reply OPT has none", async () => {
    const options = [
      { code: 3, data: Buffer.alloc(0) },
      { code: 8, data: Buffer.from("00011800c00002", "hex") },
      { code: 10, data: Buffer.alloc(8, 1) },
      { code: 12, data: Buffer.alloc(5) },
      { code: 65001, data: Buffer.from("abcd") },
    ];
    expect(await ask(via, { name: "www.example.test", type: "A", edns: { options } })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=1", OPT, WWW]);
  });

  it("Z flags and an extended rcode in the query are not echoed", async () => {
    expect(await ask(via, { name: "www.example.test", type: "A", edns: { zFlags: 0x1234, extRcode: 3 } })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=1",
      OPT,
      WWW,
    ]);
  });

  it("an OPT whose owner is not the root is accepted, as Knot DNS does", async () => {
    const plain = buildQuery({ id: 77, name: "www.example.test", type: "A" });
    const opt = Buffer.from("01610000290200000000000000", "hex"); // owner "a.", payload 512
    const q = Buffer.concat([plain, opt]);
    q.writeUInt16BE(1, 10);
    expect(await ask(via, q)).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=1", OPT, WWW]);
  });
});

describe("UDP payload size", () => {
  it("a payload under 512 (0, 100, 511) is read as 512", async () => {
    for (const payload of [0, 100, 511]) {
      expect(await udpSize({ name: "t200.example.test", type: "TXT", edns: { payload } }), `payload ${payload}`).toEqual({ size: 259, tc: false, an: 1 });
    }
  });

  it("the client's payload is honoured: 1232 bytes fit in 1232, not in 1231", async () => {
    expect(await udpSize({ name: "fits.example.test", type: "TXT", edns: { payload: 1232 } })).toEqual({ size: 1232, tc: false, an: 1 });
    expect((await udpSize({ name: "fits.example.test", type: "TXT", edns: { payload: 1231 } })).tc).toBe(true);
  });

  it("a payload over 1232 is limited to 1232: 1233 bytes are truncated even for 4096", async () => {
    expect(await udpSize({ name: "fits.example.test", type: "TXT", edns: { payload: 4096 } })).toEqual({ size: 1232, tc: false, an: 1 });
    const over = await udpSize({ name: "over.example.test", type: "TXT", edns: { payload: 4096 } });
    expect(over).toEqual({ size: 46, tc: true, an: 0 });
  });

  it("over TCP the payload size does not matter", async () => {
    const reply = await send("tcp", srv.host, srv.port, buildQuery({ name: "over.example.test", type: "TXT", edns: { payload: 512 } }));
    const n = normalise(reply!);
    expect({ size: n.size, tc: n.flags.tc, an: n.counts.an }).toEqual({ size: 1233, tc: false, an: 1 });
  });
});
