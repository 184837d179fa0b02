// Resource records and RRsets as held in memory (RFC 1035 §3.2.1, RFC 2181 §5: an RRset is all
// records of one owner, class and type, sharing one TTL).

import type { Name } from "../wire/name.js";

/** One record. `rdata` is the uncompressed wire form of its RDATA (names with their written case). */
export interface RR {
  owner: Name;
  type: number;
  class: number;
  ttl: number;
  rdata: Buffer;
}

/** A record with the place in a zone file it came from, for error messages. */
export interface SourcedRR extends RR {
  file: string;
  line: number;
}

export interface RRset {
  owner: Name;
  type: number;
  class: number;
  ttl: number;
  rdatas: Buffer[];
}

/** A problem found in a zone file or config: `file:line: message`. */
export interface SourceError {
  file: string;
  line: number;
  message: string;
}

export function formatSourceError(e: SourceError): string {
  return e.line > 0 ? `${e.file}:${e.line}: ${e.message}` : `${e.file}: ${e.message}`;
}
