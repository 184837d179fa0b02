// UDP listener (RFC 1035 §4.2.1): one datagram in, at most one out. Nothing a client sends can throw
// out of the handler or stop the socket; datagrams from port 0 are dropped (they cannot be answered,
// and Node throws when asked to send to port 0).

import dgram from "node:dgram";
import type { Logger } from "pino";
import type { Answerer } from "./answerer.js";

export interface UdpListener {
  socket: dgram.Socket;
  port: number;
  close(): Promise<void>;
}

export function listenUdp(host: string, port: number, answerer: Answerer, log: Logger): Promise<UdpListener> {
  const type = host.includes(":") ? "udp6" : "udp4";
  const socket = dgram.createSocket({ type, ipv6Only: type === "udp6", recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  const onSent = (err: Error | null) => {
    if (err) answerer.sendFailed(err);
  };
  socket.on("message", (msg, rinfo) => {
    if (rinfo.port === 0) return;
    const out = answerer.answer(msg, "udp", rinfo.address);
    if (out === null) return;
    // Over UDP one message at most (a transfer answer that needs more is for TCP).
    const res = Array.isArray(out) ? out[0] : out;
    if (res === undefined) return;
    try {
      socket.send(res, rinfo.port, rinfo.address, onSent);
    } catch (e) {
      answerer.sendFailed(e as Error);
    }
  });
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    socket.once("error", onError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off("error", onError);
      socket.on("error", (e) => log.warn({ err: e, listener: `${host}:${port}/udp` }, "UDP socket error"));
      const close = () => new Promise<void>((res) => socket.close(() => res()));
      resolve({ socket, port: socket.address().port, close });
    });
  });
}
