// UDP listener (RFC 1035 §4.2.1): one datagram in, at most one out. Nothing a client sends can throw
// out of the handler or stop the socket; datagrams from port 0 are dropped (they cannot be answered,
// and Node throws when asked to send to port 0).
//
// Responses are sent in a burst once the event loop has read every datagram that was waiting
// (setImmediate runs after the poll phase, and libuv reads up to 32 datagrams per wake-up). The
// first send of a burst wakes the client's thread and the rest find it awake: under full load this
// answered 139k instead of 113k queries per second on one core (bench/README.md), and it adds no
// wait beyond the current loop turn. Node has no sendmmsg, so each response is still its own syscall.
//
// Faster, when built: the native batched socket (udp-native.ts: recvmmsg/sendmmsg, one JS call per
// batch of up to 64 datagrams). listenUdp uses it unless HADNS_UDP=dgram. Each worker of
// `--workers N` binds its own native socket with SO_REUSEPORT, and the kernel spreads the clients
// over them; with dgram, node:cluster shares one socket between the workers instead.

import cluster from "node:cluster";
import dgram from "node:dgram";
import type { Logger } from "pino";
import type { Answerer } from "./answerer.js";
import { listenNative, loadError, loadUdpBatch } from "./udp-native.js";

export interface UdpListener {
  /** The dgram socket; undefined on the native path. */
  socket?: dgram.Socket | undefined;
  port: number;
  close(): Promise<void>;
}

let pathLogged = false;

export async function listenUdp(host: string, port: number, answerer: Answerer, log: Logger): Promise<UdpListener> {
  const mode = process.env.HADNS_UDP;
  const binding = mode === "dgram" ? null : loadUdpBatch();
  if (binding !== null) {
    try {
      const l = listenNative(binding, host, port, answerer, log, cluster.isWorker);
      if (!pathLogged) log.debug("UDP path: native recvmmsg/sendmmsg batches (dist/native/udp-batch.node)");
      pathLogged = true;
      return l;
    } catch (e) {
      // Not an address the addon binds (a host name, an IPv6 scope): dgram does. Anything else is
      // the bind failing as it would for dgram (EADDRINUSE…).
      if ((e as NodeJS.ErrnoException).code !== "EINVAL") throw e;
      log.debug({ listener: `${host}:${port}/udp`, err: e }, "UDP: native socket cannot bind this address; node:dgram");
    }
  } else if (!pathLogged) {
    const why = mode === "dgram" ? "HADNS_UDP=dgram" : loadError;
    log.debug(`UDP path: node:dgram (${why})`);
    pathLogged = true;
  }
  return listenDgram(host, port, answerer, log);
}

function listenDgram(host: string, port: number, answerer: Answerer, log: Logger): Promise<UdpListener> {
  const type = host.includes(":") ? "udp6" : "udp4";
  const socket = dgram.createSocket({ type, ipv6Only: type === "udp6", recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  const burst = new SendBurst(socket, answerer);
  socket.on("message", (msg, rinfo) => {
    if (rinfo.port === 0) return;
    const out = answerer.answer(msg, "udp", rinfo.address);
    if (out === null) return;
    // Over UDP one message at most (a transfer answer that needs more is for TCP).
    const res = Array.isArray(out) ? out[0] : out;
    if (res === undefined) return;
    burst.add(res, rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    socket.once("error", onError);
    socket.bind({ address: host, port, exclusive: false }, () => {
      socket.off("error", onError);
      socket.on("error", (e) => log.warn({ err: e, listener: `${host}:${port}/udp` }, "UDP socket error"));
      const close = () =>
        new Promise<void>((res) => {
          burst.flush();
          socket.close(() => res());
        });
      resolve({ socket, port: socket.address().port, close });
    });
  });
}

/** Responses waiting for the end of this loop turn: parallel arrays, reused, so a query allocates no entry. */
class SendBurst {
  private readonly bufs: Buffer[] = [];
  private readonly ports: number[] = [];
  private readonly addrs: string[] = [];
  private readonly onSent: (err: Error | null) => void;
  private readonly flushNow = () => this.flush();

  constructor(
    private readonly socket: dgram.Socket,
    private readonly answerer: Answerer,
  ) {
    this.onSent = (err) => {
      if (err) answerer.sendFailed(err);
    };
  }

  add(res: Buffer, port: number, address: string): void {
    if (this.bufs.length === 0) setImmediate(this.flushNow);
    this.bufs.push(res);
    this.ports.push(port);
    this.addrs.push(address);
  }

  flush(): void {
    const { bufs, ports, addrs, socket } = this;
    for (let i = 0; i < bufs.length; i++) {
      try {
        socket.send(bufs[i]!, ports[i], addrs[i], this.onSent);
      } catch (e) {
        // The socket was closed under us (shutdown); the rest of the burst goes nowhere either.
        this.answerer.sendFailed(e as Error);
        break;
      }
    }
    bufs.length = 0;
    ports.length = 0;
    addrs.length = 0;
  }
}
