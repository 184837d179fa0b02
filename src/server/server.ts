// Starts the UDP and TCP listeners for every listen address on one port number each, and owns them
// for reload (setEngine) and shutdown (close).

import type { Logger } from "pino";
import type { QueryEngine } from "../answer/engine.js";
import { Answerer, type TransferHandler } from "./answerer.js";
import type { AnswerCounters } from "./counters.js";
import { listenTcp, type TcpListener } from "./tcp.js";
import { listenUdp, type UdpListener } from "./udp.js";

export interface ListenAddress {
  host: string;
  /** 0: pick a free port, the same number for UDP and TCP. */
  port: number;
}

export interface ServerOptions {
  listen: ListenAddress[];
  engine: QueryEngine;
  logger: Logger;
  tcpIdleTimeoutMs?: number;
  tcpMaxConnections?: number;
  /** Unsent answer bytes per TCP client before we stop reading from it. */
  tcpMaxPendingBytes?: number;
}

export interface Listening {
  host: string;
  port: number;
  transport: "udp" | "tcp";
}

export interface RunningServer {
  listening: Listening[];
  /** With workers (cluster-primary.ts): the query and TCP counters summed over them. Else read locally. */
  counters?(): AnswerCounters;
  /** With workers: each worker's state, for /v1/status. */
  workers?(): WorkerStatus[];
  /** Zone transfers and NOTIFY (src/xfr); survives engine swaps. */
  setTransferHandler(h: TransferHandler | undefined): void;
  setEngine(e: QueryEngine): void;
  readonly engine: QueryEngine;
  close(): Promise<void>;
}

/** One worker process of `hadns serve --workers N`, as /v1/status shows it. */
export interface WorkerStatus {
  worker: number;
  pid: number | null;
  state: "starting" | "answering" | "restarting" | "stopped";
  /** When the current process started (ms since the epoch). */
  startedAt: number;
  /** Times this worker was restarted after dying. */
  restarts: number;
  /** Queries it answered, over all its restarts (reported every second). */
  queries: number;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const log = opts.logger;
  const answerer = new Answerer(opts.engine, log);
  const tcpOpts = {
    idleTimeoutMs: opts.tcpIdleTimeoutMs ?? 10_000,
    maxConnections: opts.tcpMaxConnections ?? 1000,
    maxPendingBytes: opts.tcpMaxPendingBytes ?? 256 * 1024,
  };
  const udps: UdpListener[] = [];
  const tcps: TcpListener[] = [];
  const listening: Listening[] = [];
  try {
    for (const addr of opts.listen) {
      const [udp, tcp] = await bindPair(addr, answerer, tcpOpts, log);
      udps.push(udp);
      tcps.push(tcp);
      listening.push({ host: addr.host, port: udp.port, transport: "udp" }, { host: addr.host, port: tcp.port, transport: "tcp" });
    }
  } catch (e) {
    await Promise.all([...udps.map((u) => u.close()), ...tcps.map((t) => t.close())]);
    throw e;
  }
  return {
    listening,
    get engine() {
      return answerer.engine;
    },
    setEngine(e) {
      answerer.engine = e;
    },
    setTransferHandler(h) {
      answerer.transfers = h;
    },
    async close() {
      await Promise.all([...udps.map((u) => u.close()), ...tcps.map((t) => t.close())]);
    },
  };
}

/** UDP and TCP on the same port; with port 0, retry until a port is free for both. */
async function bindPair(
  addr: ListenAddress,
  answerer: Answerer,
  tcpOpts: Parameters<typeof listenTcp>[3],
  log: Logger,
): Promise<[UdpListener, TcpListener]> {
  for (let attempt = 0; ; attempt++) {
    const udp = await listenUdp(addr.host, addr.port, answerer, log);
    try {
      const tcp = await listenTcp(addr.host, udp.port, answerer, tcpOpts, log);
      return [udp, tcp];
    } catch (e) {
      await udp.close();
      if (addr.port !== 0 || attempt >= 20 || (e as NodeJS.ErrnoException).code !== "EADDRINUSE") throw e;
    }
  }
}
