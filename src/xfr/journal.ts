// The versions of a transferred zone: the current one whole (for AXFR), and a bounded list of the
// differences between consecutive recent versions (for IXFR, RFC 1995 §4: for each step, the old SOA,
// the records deleted, the new SOA, the records added). Older steps fall off; a client further behind
// gets the whole zone.

import type { RR } from "../zone/rr.js";
import { rrKey, withSerial, type RecordSet, type RenderedZone } from "./render.js";
import { serialCompare } from "./serial.js";

export interface Version {
  serial: number;
  /** The apex SOA with `serial`. */
  soa: RR;
  records: RecordSet;
  fingerprint: string;
  /** File serial this version was rendered from. */
  fileSerial: number;
  /** ms since the epoch. */
  at: number;
}

export interface Delta {
  from: number;
  to: number;
  fromSoa: RR;
  toSoa: RR;
  removed: RR[];
  added: RR[];
}

export function versionOf(r: RenderedZone, serial: number, fileSerial: number, at = Date.now()): Version {
  return { serial: serial >>> 0, soa: withSerial(r.soa, serial), records: r.records, fingerprint: r.fingerprint, fileSerial, at };
}

/**
 * Records of `a` not in `b` (removed) and of `b` not in `a` (added). Two renderings of the same Zone
 * object differ only where a pool is: then only the pools' records are compared.
 */
export function difference(a: RecordSet, b: RecordSet): { removed: RR[]; added: RR[] } {
  const removed: RR[] = [];
  const added: RR[] = [];
  if (a.base === b.base) {
    const candidates = new Set<string>([...a.hidden, ...a.overlay.keys(), ...b.hidden, ...b.overlay.keys()]);
    for (const k of candidates) {
      const inA = a.has(k);
      const inB = b.has(k);
      if (inA && !inB) removed.push(a.get(k)!);
      else if (!inA && inB) added.push(b.get(k)!);
    }
    return { removed, added };
  }
  for (const rr of a.values()) if (!b.has(rrKey(rr))) removed.push(rr);
  for (const rr of b.values()) if (!a.has(rrKey(rr))) added.push(rr);
  return { removed, added };
}

export type Since = { kind: "current" } | { kind: "deltas"; deltas: Delta[] } | { kind: "unknown" };

export class Journal {
  private readonly steps: Delta[] = [];

  constructor(
    public current: Version,
    /** Differences kept; 0 keeps none (every IXFR is answered with the whole zone). */
    readonly depth: number,
  ) {}

  /** Make `next` the current version, recording the step from the previous one. */
  push(next: Version): Delta {
    const prev = this.current;
    if (serialCompare(next.serial, prev.serial) !== 1) throw new Error(`serial ${next.serial} does not follow ${prev.serial} (RFC 1982)`);
    const { removed, added } = difference(prev.records, next.records);
    // The SOA itself is not in `records`: a change of its other fields shows in the two SOAs.
    const delta: Delta = { from: prev.serial, to: next.serial, fromSoa: prev.soa, toSoa: next.soa, removed, added };
    this.current = next;
    this.steps.push(delta);
    while (this.steps.length > this.depth) this.steps.shift();
    return delta;
  }

  /** What a client at `serial` needs: nothing, the steps from there, or (too old or unknown) the whole zone. */
  since(serial: number): Since {
    if (serial >>> 0 === this.current.serial) return { kind: "current" };
    const i = this.steps.findIndex((d) => d.from === serial >>> 0);
    if (i < 0) return { kind: "unknown" };
    return { kind: "deltas", deltas: this.steps.slice(i) };
  }

  /** Serials a client can be at and get differences: the oldest first, the current last. */
  serials(): number[] {
    return [...this.steps.map((d) => d.from), this.current.serial];
  }

  get deltas(): readonly Delta[] {
    return this.steps;
  }
}
