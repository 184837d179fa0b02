// UDP size limits and truncation (RFC 1035 §4.2.1, RFC 2181 §9, RFC 6891 §7, RFC 9471): an answer that
// does not fit loses whole RRsets and sets TC (never a cut record), the OPT stays; additional data
// that does not fit is dropped without TC, except a referral's glue; TCP carries the whole answer,
// and a real dig retries over TCP on TC.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, describe as describeReply, normalise, send, type QueryOptions, type Transport } from "./support/client.js";
import { digParsed } from "./support/dig.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

const many = (lines: number, line: (i: number) => string) => Array.from({ length: lines }, (_, i) => line(i)).join("\n");

// big: 40 A records (685 bytes with OPT); huge: 100 A records (1635 bytes).
// edge: one TXT record whose reply is exactly 512 bytes without EDNS (12 + 23 + 12 + 465).
// manymx: 12 MX whose 24 addresses do not all fit in 512 bytes.
// bigsub: a cut with 8 name servers whose 16 glue records do not all fit in 512 bytes.
const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@     3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@     3600 NS    ns1
ns1        A     192.0.2.53
${many(40, (i) => `big   A 10.0.0.${i + 1}`)}
${many(100, (i) => `huge  A 10.0.1.${i + 1}`)}
tobig      CNAME big
edge       TXT   "${"x".repeat(255)}" "${"y".repeat(208)}"
${many(12, (i) => `manymx MX ${i} mail${i}\nmail${i} A 192.0.2.${100 + i}\nmail${i} AAAA 2001:db8::${100 + i}`)}
${many(8, (i) => `bigsub NS nameserver-number-${i}.bigsub\nnameserver-number-${i}.bigsub A 192.0.2.${200 + i}\nnameserver-number-${i}.bigsub AAAA 2001:db8::${200 + i}`)}
`;

const TRANSPORTS: Transport[] = ["udp", "tcp"];

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([{ origin: "example.test.", text: EXAMPLE }]);
});
afterAll(() => srv.close());

/** Send a query; check ID and question came back as sent; the normalised reply. */
async function query(via: Transport, q: QueryOptions) {
  const msg = buildQuery(q);
  const reply = await send(via, srv.host, srv.port, msg);
  if (!reply) throw new Error(`no reply over ${via}`);
  const n = normalise(reply);
  expect(n.id).toBe(msg.readUInt16BE(0));
  expect(n.questionHex).toBe(normalise(msg).questionHex);
  expect(n.decodeError).toBeUndefined();
  return n;
}

/** The reply as describe() lines without size and question. */
async function ask(via: Transport, q: QueryOptions): Promise<string[]> {
  return describeReply(await query(via, q))
    .split("\n")
    .filter((l) => !l.startsWith("question="))
    .map((l) => l.replace(/ size=\d+$/, ""));
}

const glue = (i: number) => [`AR nameserver-number-${i}.bigsub.example.test. 300 IN A "192.0.2.${200 + i}"`, `AR nameserver-number-${i}.bigsub.example.test. 300 IN AAAA "2001:db8::${200 + i}"`];
const ALL_GLUE = Array.from({ length: 8 }, (_, i) => glue(i)).flat();
const BIGSUB_NS = `NS bigsub.example.test. 300 IN NS ${Array.from({ length: 8 }, (_, i) => `"nameserver-number-${i}.bigsub.example.test"`).join(" | ")}`;

describe("over UDP", () => {
  it("an answer over 512 bytes without EDNS: TC, AA kept, the RRset dropped whole", async () => {
    expect(await ask("udp", { name: "big.example.test", type: "A", rd: true })).toEqual(["rcode=0 opcode=0 flags=[qr aa tc rd] qd=1 an=0 ns=0 ar=0"]);
  });

  it("the same answer fits with EDNS 1232", async () => {
    const n = await query("udp", { name: "big.example.test", type: "A", edns: true });
    expect({ tc: n.flags.tc, counts: n.counts, size: n.size }).toEqual({ tc: false, counts: { qd: 1, an: 40, ns: 0, ar: 1 }, size: 685 });
  });

  it("a truncated answer keeps the OPT (payload 600 < 685)", async () => {
    expect(await ask("udp", { name: "big.example.test", type: "A", edns: { payload: 600, do: true } })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa tc] qd=1 an=0 ns=0 ar=1",
      "OPT payload=1232 v=0 do=true ext=0 z=0 opts=[]",
    ]);
  });

  it("a CNAME that fits is kept while the target's RRset that does not is dropped, with TC", async () => {
    expect(await ask("udp", { name: "tobig.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa tc] qd=1 an=1 ns=0 ar=0",
      'AN tobig.example.test. 300 IN CNAME "big.example.test"',
    ]);
  });

  it("a reply of exactly 512 bytes fits without EDNS; with EDNS it needs payload 523 (the OPT adds 11)", async () => {
    const plain = await query("udp", { name: "edge.example.test", type: "TXT" });
    expect({ tc: plain.flags.tc, an: plain.counts.an, size: plain.size }).toEqual({ tc: false, an: 1, size: 512 });
    const tight = await query("udp", { name: "edge.example.test", type: "TXT", edns: { payload: 522 } });
    expect({ tc: tight.flags.tc, an: tight.counts.an, size: tight.size }).toEqual({ tc: true, an: 0, size: 46 });
    const room = await query("udp", { name: "edge.example.test", type: "TXT", edns: { payload: 523 } });
    expect({ tc: room.flags.tc, an: room.counts.an, size: room.size }).toEqual({ tc: false, an: 1, size: 523 });
  });

  it("additional data that does not fit is dropped without TC: all 12 MX, whole address RRsets, at most 512 bytes", async () => {
    const n = await query("udp", { name: "manymx.example.test", type: "MX" });
    expect(n.flags.tc).toBe(false);
    expect(n.counts.an).toBe(12);
    expect(n.size).toBeLessThanOrEqual(512);
    expect(n.counts.ar).toBeGreaterThan(0);
    expect(n.counts.ar).toBeLessThan(24);
    // Every additional record is a whole RRset of the zone (one address per name and type here).
    for (const s of n.additional) expect(s.rdata).toHaveLength(1);
    expect(n.additional).toHaveLength(n.counts.ar);
  });

  // Knot DNS skips an additional RRset that does not fit and goes on with the
  // next ones that do (12 MX + 10 of 24 addresses: mail4's AAAA skipped, mail5's A added, 511 bytes);
  // so does hadns (src/wire/response.ts, writeTruncated; nothing points into the additional section).
  it("additional RRsets after one that does not fit are still added when they fit, as Knot DNS does", async () => {
    const n = await query("udp", { name: "manymx.example.test", type: "MX" });
    expect({ tc: n.flags.tc, counts: n.counts, size: n.size }).toEqual({ tc: false, counts: { qd: 1, an: 12, ns: 0, ar: 10 }, size: 511 });
    expect(n.additional.map((s) => `${s.owner} ${s.type}`)).toContain("mail5.example.test. A");
  });

  it("referral glue that does not fit sets TC; the NS set is kept and glue as far as it fits", async () => {
    expect(await ask("udp", { name: "host.bigsub.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr tc] qd=1 an=0 ns=8 ar=9",
      BIGSUB_NS,
      ...ALL_GLUE.slice(0, 9),
    ]);
  });

  it("the same referral fits with EDNS 1232", async () => {
    expect(await ask("udp", { name: "host.bigsub.example.test", type: "A", edns: true })).toEqual([
      "rcode=0 opcode=0 flags=[qr] qd=1 an=0 ns=8 ar=17",
      "OPT payload=1232 v=0 do=false ext=0 z=0 opts=[]",
      BIGSUB_NS,
      ...ALL_GLUE,
    ]);
  });
});

describe("over TCP", () => {
  it("a 1635-byte answer comes whole, whatever the EDNS payload", async () => {
    for (const edns of [false, { payload: 512 }]) {
      const n = await query("tcp", { name: "huge.example.test", type: "A", edns });
      expect({ tc: n.flags.tc, an: n.counts.an }).toEqual({ tc: false, an: 100 });
      expect(n.answer).toHaveLength(1);
      expect(n.answer[0]!.rdata).toHaveLength(100);
    }
  });

  it("a referral comes with all its glue and no TC, without EDNS", async () => {
    expect(await ask("tcp", { name: "host.bigsub.example.test", type: "A" })).toEqual([
      "rcode=0 opcode=0 flags=[qr] qd=1 an=0 ns=8 ar=16",
      BIGSUB_NS,
      ...ALL_GLUE,
    ]);
  });
});

describe.each(TRANSPORTS)("TC is only about size (%s)", (via) => {
  it("a small answer never has TC", async () => {
    expect(await ask(via, { name: "ns1.example.test", type: "A" })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0", 'AN ns1.example.test. 300 IN A "192.0.2.53"']);
  });
});

describe("dig", () => {
  it("retries over TCP after a truncated UDP answer and gets all 100 records", async () => {
    const r = await digParsed(srv.host, srv.port, ["huge.example.test", "A"]);
    expect(r.notes.some((n) => /Truncated, retrying in TCP mode/.test(n))).toBe(true);
    expect(r.transport).toBe("TCP");
    expect(r.status).toBe("NOERROR");
    expect(r.flags).not.toContain("tc");
    expect(r.answer).toHaveLength(100);
  });
});
