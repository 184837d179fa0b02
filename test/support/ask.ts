// The concept tests' way of asking: send one query, check that the ID and the question came back
// exactly as sent, and return the reply as describe() lines (without the size and question lines),
// so a test reads as the answer it expects.

import { expect } from "vitest";
import { buildQuery, describe as describeReply, normalise, send, type QueryOptions, type Transport } from "./client.js";

export async function askLines(srv: { host: string; port: number }, via: Transport, q: QueryOptions): Promise<string[]> {
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
