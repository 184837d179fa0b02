// What the lookup decides for a question, before any bytes are written: the rcode, the AA bit and
// the three sections as RRsets (CoreDNS's Success/NameError/Delegation/NoData, as data).

import type { RRset } from "../zone/rr.js";
import type { Owner } from "../wire/body-writer.js";

export interface OutRRset {
  /** The owner to write: a name, or the query name as sent (wildcard synthesis). */
  owner: Owner;
  type: number;
  class: number;
  ttl: number;
  rdatas: readonly Buffer[];
}

export interface Outcome {
  rcode: number;
  aa: boolean;
  answer: OutRRset[];
  authority: OutRRset[];
  additional: OutRRset[];
  /** Extended DNS Error (RFC 8914) to attach when the client sent EDNS. */
  ede?: { code: number; text: string };
}

export function emptyOutcome(): Outcome {
  return { rcode: 0, aa: true, answer: [], authority: [], additional: [] };
}

export function fromRRset(set: RRset, owner: Owner = set.owner, ttl = set.ttl): OutRRset {
  return { owner, type: set.type, class: set.class, ttl, rdatas: set.rdatas };
}
