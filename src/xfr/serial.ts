// SOA serials of the zones hadns transfers: RFC 1982 serial number arithmetic (SERIAL_BITS = 32) and
// the policy that picks the next serial on every change of a rendered zone (RFC 1035 §3.3.13, RFC 1996
// §3: a secondary only transfers when the primary's serial is greater than its own).
//
// The zone file's serial is the base: the first version of a zone is served with it, and a file whose
// serial was raised past the current one (an operator's edit, then a reload) takes over. Every other
// change adds one (`increment`) or uses the Unix time when that is greater (`unixtime`). What was last
// served is persisted, so a restart that renders the same zone serves the same serial, and one that
// renders a different zone serves a greater one.

export type SerialPolicy = "increment" | "unixtime";
export const SERIAL_POLICIES: readonly SerialPolicy[] = ["increment", "unixtime"];

const HALF = 0x80000000;

/**
 * RFC 1982 §3.2 comparison: -1 when a < b, 0 when equal, 1 when a > b, undefined when the two are
 * exactly 2^31 apart (the RFC leaves that pair undefined).
 */
export function serialCompare(a: number, b: number): -1 | 0 | 1 | undefined {
  a >>>= 0;
  b >>>= 0;
  if (a === b) return 0;
  if ((a < b && b - a < HALF) || (a > b && a - b > HALF)) return -1;
  if ((a < b && b - a > HALF) || (a > b && a - b < HALF)) return 1;
  return undefined;
}

/** a > b in serial arithmetic (false when undefined). */
export function serialGt(a: number, b: number): boolean {
  return serialCompare(a, b) === 1;
}

/** RFC 1982 §3.1 addition: n from 0 to 2^31 - 1. */
export function serialAdd(s: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > HALF - 1) throw new RangeError(`cannot add ${n} to a serial (RFC 1982 §3.1: 0 … 2^31-1)`);
  return (s + n) % 0x100000000 >>> 0;
}

/**
 * The serial of the next version, always greater than `current` (RFC 1982): `current + 1`; with
 * `unixtime`, `now` when that is greater; and `base` (the zone file's serial) when that is greater still.
 */
export function nextSerial(current: number, policy: SerialPolicy, nowSeconds: number, base?: number): number {
  let next = serialAdd(current, 1);
  // A candidate must beat both: 2^31 ahead of `current` is greater than current + 1 but not than current.
  const better = (c: number) => serialGt(c, next) && serialGt(c, current);
  if (policy === "unixtime" && better(nowSeconds >>> 0)) next = nowSeconds >>> 0;
  if (base !== undefined && better(base >>> 0)) next = base >>> 0;
  return next;
}

/** What is persisted per zone: the serial last served, for which file serial and which content. */
export interface SavedSerial {
  serial: number;
  fileSerial: number;
  /** renderZone's fingerprint of the content served at `serial`. */
  fingerprint: string;
  at: number;
}

/**
 * The serial to start serving a zone with. No saved state: the file's serial (`unixtime`: the time,
 * when greater). Saved state for the same file serial and content: the saved serial, unchanged.
 * Anything else: the next serial after the saved one (never back), or the file's when that is greater.
 */
export function startSerial(fileSerial: number, fingerprint: string, saved: SavedSerial | undefined, policy: SerialPolicy, nowSeconds: number): number {
  if (!saved) {
    if (policy === "unixtime" && serialGt(nowSeconds >>> 0, fileSerial)) return nowSeconds >>> 0;
    return fileSerial >>> 0;
  }
  if (saved.fileSerial === fileSerial && saved.fingerprint === fingerprint) return saved.serial >>> 0;
  return nextSerial(saved.serial, policy, nowSeconds, fileSerial);
}
