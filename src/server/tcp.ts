// TCP listener (RFC 1035 §4.2.2, RFC 7766): 2-byte length framing, several queries per connection,
// pipelining (answered in order as they arrive), an idle timeout, a cap on connections, and
// backpressure: a client that does not read its answers is paused, then dropped, never buffered
// without bound.

import net from "node:net";
import type { Logger } from "pino";
import type { Answerer } from "./answerer.js";

export interface TcpOptions {
  /** Close a connection with no complete query for this long (RFC 7766 §6.2.3). */
  idleTimeoutMs: number;
  maxConnections: number;
  /** Stop reading from a client whose unsent answers exceed this many bytes. */
  maxPendingBytes: number;
}

export interface TcpListener {
  server: net.Server;
  port: number;
  /** Stop accepting, let open connections finish what they were sent, then end them. */
  close(): Promise<void>;
}

/**
 * TCP connections of this process, for /metrics: open now, accepted and refused at the cap since
 * start. Module-level numbers bumped once per connection (never per query): no allocation.
 */
export const tcpConnections = { open: 0, accepted: 0, refused: 0 };

export function listenTcp(host: string, port: number, answerer: Answerer, opts: TcpOptions, log: Logger): Promise<TcpListener> {
  /** Open connections, each with the function that stops it gracefully. */
  const sockets = new Map<net.Socket, () => void>();
  const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) => {
    if (sockets.size >= opts.maxConnections) {
      tcpConnections.refused++;
      socket.destroy();
      return;
    }
    tcpConnections.accepted++;
    tcpConnections.open++;
    socket.on("close", () => {
      tcpConnections.open--;
      sockets.delete(socket);
    });
    sockets.set(socket, serveConnection(socket, answerer, opts));
  });
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once("error", onError);
    // exclusive: false matters only in a worker of --workers N: the primary holds the listening
    // socket and hands the workers its connections in turn (cluster-primary.ts).
    server.listen({ host, port, exclusive: false, ipv6Only: host.includes(":"), backlog: 511 }, () => {
      server.off("error", onError);
      server.on("error", (e) => log.warn({ err: e, listener: `${host}:${port}/tcp` }, "TCP listener error"));
      const close = () =>
        new Promise<void>((res) => {
          server.close(() => res());
          for (const stop of sockets.values()) stop();
          // A client that never reads would hold the close forever: cut it after a grace period.
          setTimeout(() => {
            for (const s of sockets.keys()) s.destroy();
          }, 2000).unref();
        });
      resolve({ server, port: (server.address() as net.AddressInfo).port, close });
    });
  });
}

/** Answers held back while a chunk of pipelined queries is answered, at most (then written out). */
const HOLD_BYTES = 64 * 1024;

/**
 * The answers to one read's queries, framed into one Buffer and written with one socket.write: at
 * 85k q/s a write per answer (a WriteWrap, a chunk entry, a framed copy each) allocated ~1.2 KB per
 * query, and the scavenges that made (a 1.3 ms pause every ~130 ms) were the TCP p99. Answering is
 * synchronous, so one list serves every connection.
 */
const held: Buffer[] = [];
let heldBytes = 0;

/**
 * Stopping: what a client sent before the stop may still be in the kernel's buffer, unread. Keep
 * reading and answering until the connection has been quiet this long (or STOP_READ_MAX_MS has
 * passed, for a client that never stops sending), then end it.
 */
const STOP_QUIET_MS = 20;
const STOP_READ_MAX_MS = 1000;

/** Serves one connection; returns the function that stops it gracefully. */
function serveConnection(socket: net.Socket, answerer: Answerer, opts: TcpOptions): () => void {
  let pending: Buffer | null = null;
  let lastData = 0;
  // Read once: the getter asks the kernel (getpeername) every time.
  const remote = socket.remoteAddress ?? "";
  socket.setTimeout(opts.idleTimeoutMs, () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.on("drain", () => socket.resume());
  socket.on("data", (chunk: Buffer) => {
    // After the stop has ended our side, a query can no longer be answered: drop it, quietly.
    if (socket.writableEnded) return;
    lastData = Date.now();
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    const off = answerAll(buf);
    if (off < buf.length && !socket.destroyed) pending = Buffer.from(buf.subarray(off));
  });
  socket.on("end", () => socket.end());

  const stop = (): void => {
    const since = Date.now();
    const check = (): void => {
      if (socket.destroyed || socket.writableEnded) return;
      const now = Date.now();
      if (now - lastData >= STOP_QUIET_MS || now - since >= STOP_READ_MAX_MS) socket.end();
      else setTimeout(check, STOP_QUIET_MS).unref();
    };
    check();
  };

  /** Answers each complete message in `buf`; returns where the unfinished rest starts. */
  function answerAll(buf: Buffer): number {
    let off = 0;
    while (buf.length - off >= 2) {
      const len = buf.readUInt16BE(off);
      if (buf.length - off - 2 < len) break;
      const msg = buf.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      const out = answerer.answer(msg, "tcp", remote);
      if (out === null) continue;
      if (Array.isArray(out)) {
        // A zone transfer is many messages, maybe megabytes: each goes out as it is framed.
        if (!writeHeld()) return buf.length;
        for (const res of out) {
          held.push(res);
          heldBytes += res.length + 2;
          if (!writeHeld()) return buf.length;
        }
        continue;
      }
      held.push(out);
      heldBytes += out.length + 2;
      // Enough held back: hand it to the kernel now, so only a client that does not read ever
      // reaches the limits in writeHeld.
      if (heldBytes >= HOLD_BYTES && !writeHeld()) return buf.length;
    }
    writeHeld();
    return off;
  }

  /** Frame and write the held answers; false if the connection was dropped for not reading. */
  function writeHeld(): boolean {
    if (held.length === 0) return true;
    const framed = Buffer.allocUnsafe(heldBytes);
    let o = 0;
    for (let i = 0; i < held.length; i++) {
      const res = held[i]!;
      framed[o] = res.length >> 8;
      framed[o + 1] = res.length;
      framed.set(res, o + 2);
      o += res.length + 2;
    }
    held.length = 0;
    heldBytes = 0;
    if (socket.write(framed) || socket.writableLength <= opts.maxPendingBytes) return true;
    // The client is not reading: stop reading its queries until it does.
    socket.pause();
    if (socket.writableLength <= 4 * opts.maxPendingBytes) return true;
    socket.destroy();
    return false;
  }
  return stop;
}
