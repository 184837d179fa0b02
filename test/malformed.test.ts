// Malformed and unusual queries (RFC 1035 §4.1, RFC 6891 §6.1.1, issue 2 "Wire"): what cannot carry a
// header is dropped, a response is dropped, what has a header but is malformed gets FORMERR, opcodes
// other than QUERY get NOTIMP, zone transfers REFUSED — and no input throws out of the handler,
// stops the server or makes it log an internal error.

import dgram from "node:dgram";
import net from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, describe as describeReply, encodeName, normalise, send, sendTcpMany, sendUdp, type QueryOptions, type Transport } from "./support/client.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@     3600 SOA ns1 hostmaster 1 3600 900 604800 120
@     3600 NS  ns1
ns1        A   192.0.2.53
www        A   192.0.2.1
`;

const TRANSPORTS: Transport[] = ["udp", "tcp"];

/** Every log line the server writes at warn or above (an internal error is logged, not thrown). */
const logLines: string[] = [];
const logSink = new Writable({
  write(chunk, _enc, done) {
    logLines.push(String(chunk));
    done();
  },
});

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([{ origin: "example.test.", text: EXAMPLE }], { logger: pino({ level: "warn" }, logSink) });
});
afterAll(() => srv.close());

/** A query header with the given flags and counts, ID 0x4d4d. */
function header(flags: number, qd: number, an = 0, ns = 0, ar = 0): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(0x4d4d, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  h.writeUInt16BE(ns, 8);
  h.writeUInt16BE(ar, 10);
  return h;
}

/** The question of `www.example.test A IN` as wire bytes. */
const QUESTION = buildQuery({ name: "www.example.test", type: "A" }).subarray(12);
const RD = 0x0100;

/** A good query sent right after each raw message: its reply coming first means the raw one got none. */
const PROBE_ID = 0xbeef;
const PROBE = buildQuery({ id: PROBE_ID, name: "www.example.test", type: "A" });

function frame(msg: Buffer): Buffer {
  return Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);
}

/** The first reply after sending `bytes` then PROBE on one UDP socket (the server answers in order). */
function udpFirstReply(bytes: Buffer): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      sock.close();
      resolve(null);
    }, 2000);
    sock.once("message", (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(m);
    });
    sock.send(bytes, srv.port, srv.host, () => sock.send(PROBE, srv.port, srv.host));
  });
}

/**
 * Send raw bytes (framed over TCP), then PROBE on the same socket or connection. Returns the raw
 * message's reply as describe() lines without size (question line kept), or null when it got no
 * reply — the probe's answer came first and the connection lives on.
 */
async function raw(via: Transport, bytes: Buffer): Promise<string[] | null> {
  const first =
    via === "udp"
      ? await udpFirstReply(bytes)
      : (await sendTcpMany(srv.host, srv.port, [], { raw: Buffer.concat([frame(bytes), frame(PROBE)]), expect: 1 })).responses[0];
  if (!first) throw new Error(`nothing came back over ${via}, not even the probe's answer`);
  const n = normalise(first);
  if (n.id === PROBE_ID && n.rcode === 0) return null;
  return describeReply(n)
    .split("\n")
    .map((l) => l.replace(/ size=\d+$/, ""));
}

/** Send a well-formed query; check ID and question came back as sent; describe() lines without size and question. */
async function ask(via: Transport, q: QueryOptions): Promise<string[]> {
  const query = buildQuery(q);
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

const Q = `question=${QUESTION.toString("hex")}`;
const FORMERR_WITH_QUESTION = ["rcode=1 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=0", Q];
const FORMERR_NO_QUESTION = ["rcode=1 opcode=0 flags=[qr] qd=0 an=0 ns=0 ar=0", "question="];

describe.each(TRANSPORTS)("over %s", (via) => {
  it("a message shorter than a header is dropped", async () => {
    for (const len of [0, 1, 11]) {
      expect(await raw(via, header(0, 1).subarray(0, len)), `${len} bytes`).toBeNull();
    }
  });

  it("a response (QR=1) is dropped", async () => {
    expect(await raw(via, Buffer.concat([header(0x8000 | RD, 1), QUESTION]))).toBeNull();
  });

  it("QDCOUNT 0 gets FORMERR with no question, RD copied, and an OPT when the query had one", async () => {
    expect(await ask(via, { questions: [], rd: true, edns: true })).toEqual([
      "rcode=1 opcode=0 flags=[qr rd] qd=0 an=0 ns=0 ar=1",
      "OPT payload=1232 v=0 do=false ext=0 z=0 opts=[]",
    ]);
  });

  it("QDCOUNT 2 gets FORMERR (the issue's rule; Knot DNS drops it)", async () => {
    expect(await raw(via, Buffer.concat([header(RD, 2), QUESTION, QUESTION]))).toEqual(["rcode=1 opcode=0 flags=[qr rd] qd=0 an=0 ns=0 ar=0", "question="]);
    // With EDNS the FORMERR carries an OPT (RFC 6891 §7).
    const opt = Buffer.from("00002904d0000000000000", "hex"); // root, OPT, payload 1232, no options
    expect(await raw(via, Buffer.concat([header(0, 2, 0, 0, 1), QUESTION, QUESTION, opt]))).toEqual([
      "rcode=1 opcode=0 flags=[qr] qd=0 an=0 ns=0 ar=1",
      "question=",
      "OPT payload=1232 v=0 do=false ext=0 z=0 opts=[]",
    ]);
  });

  it("a compression pointer in the question name, even a loop, gets FORMERR without the question (Knot DNS drops it)", async () => {
    expect(await raw(via, Buffer.concat([header(0, 1), Buffer.from("c00c00010001", "hex")]))).toEqual(FORMERR_NO_QUESTION);
    expect(await raw(via, Buffer.concat([header(0, 1), Buffer.from("03777777c00c00010001", "hex")]))).toEqual(FORMERR_NO_QUESTION);
  });

  it("reserved label types 0x40 and 0x80 get FORMERR (Knot DNS drops them)", async () => {
    for (const first of [0x41, 0x81]) {
      expect(await raw(via, Buffer.concat([header(0, 1), Buffer.from([first, 0x61, 0, 0, 1, 0, 1])])), first.toString(16)).toEqual(FORMERR_NO_QUESTION);
    }
  });

  it("a question name over 255 octets gets FORMERR", async () => {
    const label = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)]);
    const long = Buffer.concat([label, label, label, label, Buffer.from([0, 0, 1, 0, 1])]); // 4 × 64 + 1 = 257 octets
    expect(await raw(via, Buffer.concat([header(0, 1), long]))).toEqual(FORMERR_NO_QUESTION);
    // 255 exactly is a name: outside our zones, so REFUSED.
    const name255 = Buffer.concat([label, label, label, Buffer.from([61]), Buffer.alloc(61, 0x62), Buffer.from([0, 0, 1, 0, 1])]);
    expect((await raw(via, Buffer.concat([header(0, 1), name255])))?.[0]).toBe("rcode=5 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=0");
  });

  it("count bombs get FORMERR: ANCOUNT, NSCOUNT or ARCOUNT 65535 with nothing behind, QDCOUNT 65535", async () => {
    expect(await raw(via, Buffer.concat([header(0, 1, 0xffff), QUESTION]))).toEqual(FORMERR_WITH_QUESTION);
    expect(await raw(via, Buffer.concat([header(0, 1, 0, 0xffff), QUESTION]))).toEqual(FORMERR_WITH_QUESTION);
    expect(await raw(via, Buffer.concat([header(0, 1, 0, 0, 0xffff), QUESTION]))).toEqual(FORMERR_WITH_QUESTION);
    expect(await raw(via, Buffer.concat([header(0, 0xffff), QUESTION]))).toEqual(FORMERR_NO_QUESTION);
  });

  it("bytes after the question, or an answer record in a query, get FORMERR with the question (as Knot DNS)", async () => {
    expect(await raw(via, Buffer.concat([header(RD, 1), QUESTION, Buffer.from([1, 2, 3])]))).toEqual(["rcode=1 opcode=0 flags=[qr rd] qd=1 an=0 ns=0 ar=0", Q]);
    expect(await raw(via, Buffer.concat([header(0, 1, 1), QUESTION]))).toEqual(FORMERR_WITH_QUESTION);
  });

  it("a broken OPT (RDLENGTH past the end, an option cut short) gets FORMERR without OPT", async () => {
    expect(await raw(via, Buffer.concat([header(0, 1, 0, 0, 1), QUESTION, Buffer.from("00002904d000000000000a", "hex")]))).toEqual(FORMERR_WITH_QUESTION);
    expect(await raw(via, Buffer.concat([header(0, 1, 0, 0, 1), QUESTION, Buffer.from("00002904d0000000000006000a00080102", "hex")]))).toEqual(FORMERR_WITH_QUESTION);
  });

  it("every cut-short prefix of a real EDNS query is dropped (< 12 bytes) or gets FORMERR, never an answer", async () => {
    const full = buildQuery({ id: 0x4d4d, name: "www.example.test", type: "A", edns: { do: true } });
    const questionEnd = 12 + QUESTION.length;
    for (let len = 1; len < full.length; len++) {
      const reply = await raw(via, full.subarray(0, len));
      if (len < 12) expect(reply, `${len} bytes`).toBeNull();
      else if (len < questionEnd) expect(reply, `${len} bytes`).toEqual(["rcode=1 opcode=0 flags=[qr] qd=0 an=0 ns=0 ar=0", "question="]);
      else expect(reply, `${len} bytes`).toEqual(FORMERR_WITH_QUESTION);
    }
  });

  it("opcodes other than QUERY get NOTIMP with the opcode, question and RD echoed, no AA (NOTIFY and UPDATE too: Knot DNS says NOTAUTH)", async () => {
    for (const opcode of [1, 2, 3, 4, 5, 6, 15]) {
      expect(await ask(via, { name: "www.example.test", type: "A", opcode, rd: true }), `opcode ${opcode}`).toEqual([
        `rcode=4 opcode=${opcode} flags=[qr rd] qd=1 an=0 ns=0 ar=0`,
      ]);
    }
    expect(await ask(via, { name: "www.example.test", type: "SOA", opcode: 4, edns: true })).toEqual([
      "rcode=4 opcode=4 flags=[qr] qd=1 an=0 ns=0 ar=1",
      "OPT payload=1232 v=0 do=false ext=0 z=0 opts=[]",
    ]);
  });

  it("AXFR and IXFR get REFUSED without AA, in or out of our zones (the issue's rule; Knot DNS says NOTAUTH, or NOTIMP for AXFR over UDP)", async () => {
    for (const name of ["example.test", "www.example.test", "example.com"]) {
      for (const type of ["AXFR", "IXFR"]) {
        expect(await ask(via, { name, type, rd: true }), `${name} ${type}`).toEqual(["rcode=5 opcode=0 flags=[qr rd] qd=1 an=0 ns=0 ar=0"]);
      }
    }
    expect(await ask(via, { name: "example.test", type: "AXFR", edns: true })).toEqual(["rcode=5 opcode=0 flags=[qr] qd=1 an=0 ns=0 ar=1", "OPT payload=1232 v=0 do=false ext=0 z=0 opts=[]"]);
  });
});

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random datagrams: pure noise, and real queries with a few bytes changed (header, counts, name, OPT). */
function junk(count: number, seed: number): Buffer[] {
  const rnd = prng(seed);
  const real = [
    buildQuery({ name: "www.example.test", type: "A", edns: { do: true, options: [{ code: 10, data: Buffer.alloc(8) }] } }),
    buildQuery({ name: "x.y.example.test", type: "ANY", rd: true }),
    Buffer.concat([header(0, 1), encodeName("example.test"), Buffer.from("00fc0001", "hex")]),
  ];
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      const b = Buffer.alloc(Math.floor(rnd() * 600));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      if (b.length > 2 && rnd() < 0.5) b[2]! &= 0x7f; // often QR=0, so the decoder looks further
      out.push(b);
    } else {
      const b = Buffer.from(real[i % real.length]!);
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      b[2]! &= 0x7f;
      out.push(rnd() < 0.2 ? b.subarray(0, Math.floor(rnd() * b.length)) : b);
    }
  }
  return out;
}

describe("a flood of random and mutated messages", () => {
  it("leaves the server answering on UDP and TCP, with no internal error logged", async () => {
    const messages = junk(4000, 0x5eed);

    // UDP: fire everything from one socket, without waiting for replies.
    const sock = dgram.createSocket("udp4");
    sock.on("message", () => {});
    for (const m of messages) await new Promise<void>((r) => sock.send(m, srv.port, srv.host, () => r()));
    sock.close();

    // TCP: every message framed on one connection, then raw noise on another.
    const framed = Buffer.concat(messages.slice(0, 1500).map(frame));
    await sendTcpMany(srv.host, srv.port, [], { raw: framed, expect: Number.MAX_SAFE_INTEGER, timeoutMs: 500 });
    await sendTcpMany(srv.host, srv.port, [], { raw: Buffer.concat(messages.slice(0, 200)), expect: Number.MAX_SAFE_INTEGER, timeoutMs: 300 });

    // Still answering, correctly.
    const www = ["rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0", 'AN www.example.test. 300 IN A "192.0.2.1"'];
    expect(await ask("udp", { name: "www.example.test", type: "A" })).toEqual(www);
    expect(await ask("tcp", { name: "www.example.test", type: "A" })).toEqual(www);
    const udp = await sendUdp(srv.host, srv.port, buildQuery({ name: "www.example.test", type: "A" }));
    expect(udp).not.toBeNull();
    expect(logLines.filter((l) => /internal error/.test(l))).toEqual([]);
  });

  it("a TCP client that sends garbage and vanishes mid-frame does not disturb the next one", async () => {
    const sock = net.connect({ host: srv.host, port: srv.port });
    sock.on("error", () => {});
    await new Promise<void>((r) => sock.once("connect", () => r()));
    sock.write(Buffer.from([0xff, 0xff, 1, 2, 3]));
    sock.destroy();
    expect(await ask("tcp", { name: "www.example.test", type: "A" })).toEqual(["rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0", 'AN www.example.test. 300 IN A "192.0.2.1"']);
  });
});
