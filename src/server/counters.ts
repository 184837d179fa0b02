// The counters /metrics reads about answering: queries by zone, type, rcode and transport, truncated
// answers, TCP connections. One process reads its own (QueryStats, tcpConnections); with workers
// (cluster-primary.ts) each worker sends its own to the primary, which adds them up. Plain data, so
// it crosses the IPC channel as it is.

import type { QueryStats } from "../answer/stats.js";
import { tcpConnections } from "./tcp.js";

/** One non-zero query counter: [zone, qtype, rcode, transport, value]. */
export type QueryCount = [zone: string, qtype: string, rcode: number, transport: "udp" | "tcp", value: number];

export interface AnswerCounters {
  queries: QueryCount[];
  truncated: number;
  tcp: { open: number; accepted: number; refused: number };
}

export function emptyCounters(): AnswerCounters {
  return { queries: [], truncated: 0, tcp: { open: 0, accepted: 0, refused: 0 } };
}

/** This process's counters, now. */
export function localCounters(stats: QueryStats): AnswerCounters {
  const queries: QueryCount[] = [];
  for (const e of stats.entries()) queries.push([e.zone, e.qtype, e.rcode, e.transport, e.value]);
  return { queries, truncated: stats.truncated, tcp: { ...tcpConnections } };
}

/**
 * The sum of several processes' counters, series in the order they first appear. `open` connections
 * are a gauge: pass `gauges: false` for counters of processes that are gone (their totals still count).
 */
export function sumCounters(parts: Array<{ counters: AnswerCounters; gauges?: boolean }>): AnswerCounters {
  const out = emptyCounters();
  const index = new Map<string, number>();
  for (const { counters: c, gauges = true } of parts) {
    for (const q of c.queries) {
      const key = `${q[0]}\u0000${q[1]}\u0000${q[2]}\u0000${q[3]}`;
      const i = index.get(key);
      if (i === undefined) {
        index.set(key, out.queries.length);
        out.queries.push([...q]);
      } else out.queries[i]![4] += q[4];
    }
    out.truncated += c.truncated;
    if (gauges) out.tcp.open += c.tcp.open;
    out.tcp.accepted += c.tcp.accepted;
    out.tcp.refused += c.tcp.refused;
  }
  return out;
}

/** All queries counted. */
export function totalQueries(c: AnswerCounters): number {
  let n = 0;
  for (const q of c.queries) n += q[4];
  return n;
}
