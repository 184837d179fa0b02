// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): 2-byte length framing however the bytes arrive, several
// queries per connection, pipelining answered in order, an idle timeout, a cap on connections, a
// client that never reads held to bounded memory while others are served, and half-close.

import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, normalise, sendTcpMany, sendUdp } from "./support/client.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

// huge: 100 A records, a 1635-byte answer, to fill a client that does not read.
const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@     3600 SOA ns1 hostmaster 1 3600 900 604800 120
@     3600 NS  ns1
ns1        A   192.0.2.53
www        A   192.0.2.1
${Array.from({ length: 100 }, (_, i) => `huge A 10.0.1.${i + 1}`).join("\n")}
`;

const IDLE_MS = 300;
const MAX_CONNECTIONS = 4;

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([{ origin: "example.test.", text: EXAMPLE }], { tcpIdleTimeoutMs: IDLE_MS, tcpMaxConnections: MAX_CONNECTIONS });
});
afterAll(() => srv.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}

const www = (id: number) => buildQuery({ id, name: "www.example.test", type: "A" });

/** One TCP connection driven step by step: write bytes, read framed replies one at a time, see it close. */
class Conn {
  readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  private readonly replies: Buffer[] = [];
  private waiting: (() => void) | null = null;
  closed = false;
  readonly ready: Promise<void>;

  constructor(host: string, port: number) {
    this.sock = net.connect({ host, port });
    this.ready = new Promise((res, rej) => {
      this.sock.once("connect", () => res());
      this.sock.once("error", rej);
    });
    this.sock.on("error", () => {});
    this.sock.on("data", (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        const len = this.buf.readUInt16BE(0);
        this.replies.push(this.buf.subarray(2, 2 + len));
        this.buf = this.buf.subarray(2 + len);
      }
      this.wake();
    });
    this.sock.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake() {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((res) => this.sock.write(bytes, () => res()));
  }

  /** The next framed reply, or null if the connection closed (or nothing came within `ms`). */
  async next(ms = 2000): Promise<Buffer | null> {
    const deadline = Date.now() + ms;
    while (this.replies.length === 0 && !this.closed && Date.now() < deadline) {
      await Promise.race([new Promise<void>((r) => (this.waiting = r)), sleep(deadline - Date.now())]);
    }
    return this.replies.shift() ?? null;
  }

  /** Resolves true once the server closed the connection, false if it is still open after `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) {
      await Promise.race([new Promise<void>((r) => (this.waiting = r)), sleep(deadline - Date.now())]);
    }
    return this.closed;
  }

  destroy() {
    this.sock.destroy();
  }
}

/** The ID and first answer address of a reply, for order checks. */
function idAndAnswer(reply: Buffer | null) {
  if (!reply) return null;
  const n = normalise(reply);
  return { id: n.id, rcode: n.rcode, an: n.counts.an };
}

describe("framing and connection reuse", () => {
  it("answers several queries one after another on one connection", async () => {
    const c = new Conn(srv.host, srv.port);
    await c.ready;
    for (let id = 1; id <= 5; id++) {
      await c.write(frame(www(id)));
      expect(idAndAnswer(await c.next())).toEqual({ id, rcode: 0, an: 1 });
    }
    expect(c.closed).toBe(false);
    c.destroy();
  });

  it("answers 50 pipelined queries sent in one write, in order", async () => {
    const msgs = Array.from({ length: 50 }, (_, i) => www(1000 + i));
    const r = await sendTcpMany(srv.host, srv.port, msgs);
    expect(r.responses.map((b) => normalise(b).id)).toEqual(msgs.map((m) => m.readUInt16BE(0)));
  });

  it("1000 pipelined queries in one write with 1635-byte answers (1.6 MB, more than the 1 MiB never-reads limit): all answered, in order", async () => {
    // Answers to one chunk of queries are corked into one writev; what is held back is handed to the
    // kernel every 64 KiB, so a client that reads is never mistaken for one that does not.
    const msgs = Array.from({ length: 1000 }, (_, i) => buildQuery({ id: i, name: "huge.example.test", type: "A" }));
    const r = await sendTcpMany(srv.host, srv.port, msgs, { timeoutMs: 10_000 });
    expect(r.responses.length).toBe(1000);
    expect(r.responses.map((b) => b.readUInt16BE(0))).toEqual(msgs.map((_, i) => i));
    expect(new Set(r.responses.map((b) => b.length))).toEqual(new Set([1635]));
  });

  it("reassembles a query whose length prefix and body are split across writes", async () => {
    const c = new Conn(srv.host, srv.port);
    await c.ready;
    const bytes = frame(www(7));
    await c.write(bytes.subarray(0, 1));
    await sleep(20);
    await c.write(bytes.subarray(1, 9));
    await sleep(20);
    await c.write(bytes.subarray(9));
    expect(idAndAnswer(await c.next())).toEqual({ id: 7, rcode: 0, an: 1 });
    c.destroy();
  });

  it("reassembles queries sent one byte at a time, two back to back", async () => {
    const c = new Conn(srv.host, srv.port);
    await c.ready;
    const bytes = Buffer.concat([frame(www(8)), frame(www(9))]);
    for (const b of bytes) {
      await c.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    expect(idAndAnswer(await c.next())).toEqual({ id: 8, rcode: 0, an: 1 });
    expect(idAndAnswer(await c.next())).toEqual({ id: 9, rcode: 0, an: 1 });
    c.destroy();
  });

  it("a whole query and the start of the next in one write: the first answered at once, the second when complete", async () => {
    const c = new Conn(srv.host, srv.port);
    await c.ready;
    const second = frame(www(11));
    await c.write(Buffer.concat([frame(www(10)), second.subarray(0, 5)]));
    expect(idAndAnswer(await c.next())).toEqual({ id: 10, rcode: 0, an: 1 });
    await c.write(second.subarray(5));
    expect(idAndAnswer(await c.next())).toEqual({ id: 11, rcode: 0, an: 1 });
    c.destroy();
  });

  it("a zero-length frame gets no reply and the connection goes on (Knot DNS closes it instead)", async () => {
    const r = await sendTcpMany(srv.host, srv.port, [], { raw: Buffer.concat([Buffer.from([0, 0]), frame(www(12))]), expect: 1 });
    expect(r.responses.map((b) => normalise(b).id)).toEqual([12]);
  });

  it("a 1635-byte answer arrives as one framed message", async () => {
    const r = await sendTcpMany(srv.host, srv.port, [buildQuery({ id: 13, name: "huge.example.test", type: "A" })]);
    expect(r.responses).toHaveLength(1);
    const n = normalise(r.responses[0]!);
    expect({ id: n.id, an: n.counts.an, tc: n.flags.tc, size: n.size }).toEqual({ id: 13, an: 100, tc: false, size: 1635 });
  });

  it("after the client half-closes, every query sent is still answered, then the server closes", async () => {
    const c = new Conn(srv.host, srv.port);
    await c.ready;
    c.sock.end(Buffer.concat([frame(www(21)), frame(www(22)), frame(www(23))]));
    expect(idAndAnswer(await c.next())).toEqual({ id: 21, rcode: 0, an: 1 });
    expect(idAndAnswer(await c.next())).toEqual({ id: 22, rcode: 0, an: 1 });
    expect(idAndAnswer(await c.next())).toEqual({ id: 23, rcode: 0, an: 1 });
    expect(await c.closedWithin(IDLE_MS / 2)).toBe(true);
  });
});

describe("idle timeout", () => {
  it(`closes a connection that sends nothing after about ${IDLE_MS} ms`, async () => {
    const c = new Conn(srv.host, srv.port);
    await c.ready;
    const t0 = Date.now();
    expect(await c.closedWithin(IDLE_MS * 5)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(IDLE_MS - 50);
  });

  it("closes a connection that goes quiet after a query, and keeps a busy one open past the timeout", async () => {
    const c = new Conn(srv.host, srv.port);
    await c.ready;
    // Busy: a query every IDLE_MS/3 for twice the timeout.
    for (let i = 0; i < 6; i++) {
      await c.write(frame(www(30 + i)));
      expect(idAndAnswer(await c.next())).toEqual({ id: 30 + i, rcode: 0, an: 1 });
      await sleep(IDLE_MS / 3);
    }
    expect(c.closed).toBe(false);
    // Quiet.
    expect(await c.closedWithin(IDLE_MS * 5)).toBe(true);
  });
});

describe("connection cap", () => {
  it(`accepts ${MAX_CONNECTIONS} connections, drops the next one, and accepts again once one closes`, async () => {
    const open: Conn[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const c = new Conn(srv.host, srv.port);
      await c.ready;
      await c.write(frame(www(40 + i)));
      expect(idAndAnswer(await c.next())).toEqual({ id: 40 + i, rcode: 0, an: 1 });
      open.push(c);
    }
    const extra = new Conn(srv.host, srv.port);
    await extra.ready.catch(() => {});
    await extra.write(frame(www(50))).catch(() => {});
    expect(await extra.next(1000)).toBeNull();
    expect(extra.closed).toBe(true);

    open.shift()!.destroy();
    await sleep(50);
    const again = new Conn(srv.host, srv.port);
    await again.ready;
    await again.write(frame(www(51)));
    expect(idAndAnswer(await again.next())).toEqual({ id: 51, rcode: 0, an: 1 });
    for (const c of [...open, again]) c.destroy();
  });
});

describe("a client that never reads", () => {
  it("does not make the server buffer its answers without bound, and others are still served", async () => {
    // 100 000 queries for a 1635-byte answer: about 164 MB of answers if the server kept them all
    // (a server without backpressure was seen holding over 250 MB here after a second).
    const q = frame(buildQuery({ id: 60, name: "huge.example.test", type: "A" }));
    const flood = Buffer.concat(Array.from({ length: 100_000 }, () => q));
    const before = process.memoryUsage().arrayBuffers;

    const sink = net.connect({ host: srv.host, port: srv.port });
    sink.on("error", () => {});
    await new Promise<void>((r) => sink.once("connect", () => r()));
    sink.pause(); // never read
    sink.write(flood);
    await sleep(800);

    // Others are served meanwhile, over UDP and TCP.
    const t0 = Date.now();
    const udp = await sendUdp(srv.host, srv.port, www(61), { timeoutMs: 1000 });
    expect(idAndAnswer(udp)).toEqual({ id: 61, rcode: 0, an: 1 });
    const tcp = await sendTcpMany(srv.host, srv.port, [www(62)], { timeoutMs: 1000 });
    expect(tcp.responses.map((b) => normalise(b).id)).toEqual([62]);
    expect(Date.now() - t0).toBeLessThan(1000);

    // Our own 3.6 MB of queries included, memory held for the sink stays far below 164 MB.
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(32 * 1024 * 1024);
    sink.destroy();
  });
});
