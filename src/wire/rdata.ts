// Where domain names sit inside RDATA, per type: which are compressible on output (RFC 3597 §4:
// only the RFC 1035 types NS, CNAME, SOA, PTR, MX and the obsolete mail types) and which name targets
// the additional-section and CNAME rules need. Everything else is opaque bytes (RFC 3597).

import { RRType } from "./constants.js";
import { nameFromWire, type Name } from "./name.js";

/** A layout item: a domain name (compressible or not) or a fixed number of opaque octets; "rest" = to the end. */
export type RdataPart = { name: true; compress: boolean } | { fixed: number } | { rest: true };

const N = { name: true, compress: true } as const;
const U = { name: true, compress: false } as const;
const REST = { rest: true } as const;

const layouts = new Map<number, readonly RdataPart[]>([
  [RRType.NS, [N]],
  [RRType.CNAME, [N]],
  [RRType.PTR, [N]],
  [3 /* MD */, [N]],
  [4 /* MF */, [N]],
  [7 /* MB */, [N]],
  [8 /* MG */, [N]],
  [9 /* MR */, [N]],
  [RRType.MINFO, [N, N]],
  [RRType.MX, [{ fixed: 2 }, N]],
  [RRType.SOA, [N, N, { fixed: 20 }]],
  // Names inside these are never compressed on output (RFC 3597 §4, RFC 2782, RFC 6672 §2.5).
  [RRType.SRV, [{ fixed: 6 }, U]],
  [RRType.DNAME, [U]],
  [RRType.RP, [U, U]],
  [RRType.AFSDB, [{ fixed: 2 }, U]],
  [RRType.KX, [{ fixed: 2 }, U]],
]);

export function rdataLayout(type: number): readonly RdataPart[] {
  return layouts.get(type) ?? [REST];
}

/** Length of the uncompressed name starting at `off` in `buf` (no pointers allowed). */
export function uncompressedNameLength(buf: Buffer, off: number): number {
  let i = off;
  for (;;) {
    const len = buf[i];
    if (len === undefined) throw new RangeError("name runs past the end of the RDATA");
    if (len === 0) return i + 1 - off;
    if (len > 63) throw new RangeError("compressed or invalid label in stored RDATA");
    i += len + 1;
  }
}

/** The domain names inside an RDATA, in order (e.g. MX → [exchange], SOA → [mname, rname]). */
export function rdataNames(type: number, rdata: Buffer): Name[] {
  const out: Name[] = [];
  let off = 0;
  for (const p of rdataLayout(type)) {
    if ("name" in p) {
      const len = uncompressedNameLength(rdata, off);
      out.push(nameFromWire(rdata.subarray(off, off + len)));
      off += len;
    } else if ("fixed" in p) {
      off += p.fixed;
    } else {
      break;
    }
  }
  return out;
}

/** The target name that additional-section processing follows (RFC 1035 §3.3, RFC 2782): NS, MX, SRV. */
export function additionalTarget(type: number, rdata: Buffer): Name | undefined {
  if (type === RRType.NS || type === RRType.MX || type === RRType.SRV) return rdataNames(type, rdata)[0];
  return undefined;
}
