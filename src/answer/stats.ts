// Query counters kept on the query path for /metrics: by zone, query type, rcode and transport, plus
// truncated answers. One flat Float64Array indexed by small integers: counting is an increment, no
// Map lookup, no string, no allocation. The counters outlive engines, so a reload loses no count.

import { RRType, typeToText } from "../wire/constants.js";

/** Types with their own label; everything else counts as "other". */
const TYPES = [
  RRType.A, RRType.AAAA, RRType.CNAME, RRType.NS, RRType.SOA, RRType.MX, RRType.TXT, RRType.SRV, RRType.PTR,
  RRType.CAA, RRType.DS, RRType.DNSKEY, RRType.HTTPS, RRType.SVCB, RRType.ANY, RRType.AXFR, RRType.IXFR,
];
const SLOTS = TYPES.length + 1;
const typeSlot = new Uint8Array(65536).fill(TYPES.length);
TYPES.forEach((t, i) => (typeSlot[t] = i));

/** Header rcode plus the extended bits (BADVERS is 16). */
const RCODES = 24;
const PER_ZONE = SLOTS * RCODES * 2;
const MAX_ZONES = 4096;

export const TRANSPORT_UDP = 0;
export const TRANSPORT_TCP = 1;

export class QueryStats {
  /** Zone label → index; index 0 is "no zone" (REFUSED, FORMERR, CHAOS…). */
  private readonly zoneIndex = new Map<string, number>([["", 0]]);
  private readonly zoneNames: string[] = [""];
  private counts = new Float64Array(PER_ZONE * 8);
  truncated = 0;

  /** The index for a zone (its origin in text form), stable across reloads. */
  zone(origin: string): number {
    let i = this.zoneIndex.get(origin);
    if (i === undefined) {
      i = this.zoneNames.length;
      if (i >= MAX_ZONES) return 0;
      this.zoneIndex.set(origin, i);
      this.zoneNames.push(origin);
      if ((i + 1) * PER_ZONE > this.counts.length) {
        const next = new Float64Array(this.counts.length * 2);
        next.set(this.counts);
        this.counts = next;
      }
    }
    return i;
  }

  count(zone: number, qtype: number, rcode: number, transport: number): void {
    if (rcode >= RCODES) rcode = RCODES - 1;
    this.counts[zone * PER_ZONE + ((typeSlot[qtype]! * RCODES + rcode) << 1) + transport]++;
  }

  /** Every non-zero counter, for the exposition format. */
  *entries(): Generator<{ zone: string; qtype: string; rcode: number; transport: "udp" | "tcp"; value: number }> {
    const c = this.counts;
    for (let z = 0; z < this.zoneNames.length; z++) {
      for (let s = 0; s < SLOTS; s++) {
        for (let r = 0; r < RCODES; r++) {
          for (let t = 0; t < 2; t++) {
            const v = c[z * PER_ZONE + ((s * RCODES + r) << 1) + t]!;
            if (v === 0) continue;
            yield { zone: this.zoneNames[z]!, qtype: s < TYPES.length ? typeToText(TYPES[s]!) : "other", rcode: r, transport: t === 0 ? "udp" : "tcp", value: v };
          }
        }
      }
    }
  }

  total(): number {
    let n = 0;
    for (const v of this.counts) n += v;
    return n;
  }
}
