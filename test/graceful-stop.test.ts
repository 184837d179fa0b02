// Graceful stop of `hadns serve` (issue 4): on SIGTERM it stops accepting, answers every query a TCP
// client sent before the signal (pipelined on one connection), flushes its log and exits 0; a second
// SIGTERM while it is still stopping exits at once.

import net from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery } from "./support/client.js";
import { buildIfStale, startServe, type ServeProcess } from "./support/serve-process.js";

const ZONE = `$ORIGIN stop.test.
$TTL 300
@    SOA ns1 hostmaster 1 3600 900 604800 120
@    NS  ns1
ns1  A   192.0.2.1
www  A   192.0.2.80
`;

let dir: string;
/** hadns.yaml beside the zone; admin off, so that parallel tests never meet on its default port. */
let config: string;

beforeAll(() => {
  buildIfStale();
  dir = mkdtempSync(join(tmpdir(), "hadns-stop-"));
  writeFileSync(join(dir, "stop.test.zone"), ZONE);
  config = join(dir, "hadns.yaml");
  writeFileSync(config, `listen: ["127.0.0.1:0"]\nadmin: off\nzones:\n  - file: stop.test.zone\n`);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function frame(msg: Buffer): Buffer {
  const l = Buffer.alloc(2);
  l.writeUInt16BE(msg.length, 0);
  return Buffer.concat([l, msg]);
}

/** One connection that keeps writing pipelined queries (IDs 0, 1, 2, …) and reads every answer. */
function pipelinedStream(port: number): {
  connected: Promise<void>;
  /** Queries written so far. */
  sent(): number;
  stopWriting(): void;
  /** Write `n` more queries at once. */
  burst(n: number): void;
  /** Resolves when the server has closed the connection: the answers by ID. */
  closed: Promise<Map<number, Buffer>>;
} {
  const sock = net.connect({ host: "127.0.0.1", port });
  const answers = new Map<number, Buffer>();
  let sent = 0;
  let writing = true;
  let buf = Buffer.alloc(0);
  sock.on("data", (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) break;
      const msg = buf.subarray(2, 2 + len);
      answers.set(msg.readUInt16BE(0), Buffer.from(msg));
      buf = buf.subarray(2 + len);
    }
  });
  sock.on("error", () => (writing = false));
  const closed = new Promise<Map<number, Buffer>>((resolve) => sock.on("close", () => resolve(answers)));
  const connected = new Promise<void>((resolve) => sock.on("connect", () => resolve()));
  const pump = (): void => {
    if (!writing || sock.destroyed || sock.writableEnded) return;
    // Ten queries per write, a write per turn of the event loop: a steady pipelined stream.
    const batch: Buffer[] = [];
    for (let i = 0; i < 10 && sent < 60_000; i++) batch.push(frame(buildQuery({ id: sent++, name: "www.stop.test.", type: "A" })));
    sock.write(Buffer.concat(batch));
    setImmediate(pump);
  };
  void connected.then(pump);
  const burst = (n: number): void => {
    const batch: Buffer[] = [];
    for (let i = 0; i < n; i++) batch.push(frame(buildQuery({ id: sent++, name: "www.stop.test.", type: "A" })));
    sock.write(Buffer.concat(batch));
  };
  return { connected, sent: () => sent, stopWriting: () => (writing = false), burst, closed };
}

describe("SIGTERM", () => {
  it("answers every query sent before the signal on a pipelined TCP stream, logs 'stopped', exits 0", async () => {
    const srv = await startServe(["--config", config]);
    const stream = pipelinedStream(srv.port);
    await stream.connected;
    await new Promise((r) => setTimeout(r, 300));
    // Everything written so far is in the server's socket buffer (loopback) before the signal is sent.
    // The last of them a burst, so that the signal finds queries the server has not read yet.
    stream.burst(5000);
    const before = stream.sent();
    srv.signal("SIGTERM");
    const t0 = Date.now();
    const code = await srv.exited;
    stream.stopWriting();
    const answers = await stream.closed;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(before).toBeGreaterThan(100);
    const missing: number[] = [];
    for (let id = 0; id < before; id++) {
      const a = answers.get(id);
      if (!a) {
        missing.push(id);
        continue;
      }
      // A real answer to that query: QR set, NOERROR, one A record.
      expect(a.readUInt16BE(2) & 0x800f).toBe(0x8000);
      expect(a.readUInt16BE(6)).toBe(1);
    }
    expect(missing, `unanswered of ${before} sent before SIGTERM`).toEqual([]);
    const msgs = srv.lines().map((l) => l.msg);
    expect(msgs).toContain("stopping on SIGTERM");
    expect(msgs.at(-1)).toBe("stopped");
  });

  it("a second SIGTERM while stopping exits at once", async () => {
    const srv = await startServe(["--config", config]);
    // A client that never closes its side holds the clean stop (until the 2 s grace period ends it).
    const holder = net.connect({ host: "127.0.0.1", port: srv.port, allowHalfOpen: true });
    holder.on("error", () => {});
    await new Promise<void>((resolve) => holder.on("connect", () => resolve()));
    srv.signal("SIGTERM");
    await srv.waitForLine((l) => l.msg === "stopping on SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    srv.signal("SIGTERM");
    const code = await srv.exited;
    holder.destroy();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(code).toBe(143);
    const last = srv.lines().at(-1)!;
    expect(last.msg).toBe("second SIGTERM while stopping: exiting now");
    expect(srv.lines().map((l) => l.msg)).not.toContain("stopped");
  });

  it("without the second signal, that same stop finishes by itself and exits 0; a SIGHUP meanwhile is ignored", async () => {
    const srv: ServeProcess = await startServe(["--config", config]);
    const holder = net.connect({ host: "127.0.0.1", port: srv.port, allowHalfOpen: true });
    holder.on("error", () => {});
    await new Promise<void>((resolve) => holder.on("connect", () => resolve()));
    srv.signal("SIGTERM");
    await srv.waitForLine((l) => l.msg === "stopping on SIGTERM");
    srv.signal("SIGHUP");
    await srv.waitForLine((l) => l.msg === "SIGHUP while stopping: ignored");
    const code = await srv.exited;
    holder.destroy();
    expect(code).toBe(0);
    const msgs = srv.lines().map((l) => l.msg);
    expect(msgs.at(-1)).toBe("stopped");
    expect(msgs.filter((m) => m.includes("reload"))).toEqual([]);
  });
});
