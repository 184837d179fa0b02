// TTLs and durations in master files and config: plain seconds or units like `1h30m`, `2w`
// (BIND/Knot syntax); TTLs are capped at 2^31-1 (RFC 2181 §8).

/** Largest TTL a zone may hold (RFC 2181 §8). */
export const MAX_TTL = 0x7fffffff;
/** Largest 32-bit unsigned value (SOA serial and timers, RFC 1035 §3.3.13). */
export const MAX_U32 = 0xffffffff;

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

export interface DurationOptions {
  /** Largest value accepted, in the result's unit; default MAX_TTL. */
  max?: number;
  /** What the value is, for messages: "TTL", "SOA refresh"…; default "duration". */
  what?: string;
}

/**
 * Seconds in `text`: digits (`3600`) or number+unit pairs (`1h30m`, `1W2d`; units s m h d w,
 * case-insensitive; every number after the first unit needs a unit, as Knot requires).
 * Throws an Error whose message says what is wrong and how to write it.
 */
export function parseDuration(text: string, opts?: DurationOptions): number {
  const max = opts?.max ?? MAX_TTL;
  const what = opts?.what ?? "duration";
  const v = scanDuration(text, false);
  if (v === -1) throw new Error(badMessage(text, what, false));
  if (v > max) throw new Error(`${what} "${text}" is over the limit of ${max} seconds`);
  return v;
}

/** A TTL: parseDuration capped at 2^31-1 (RFC 2181 §8). */
export function parseTtl(text: string): number {
  return parseDuration(text, { max: MAX_TTL, what: "TTL" });
}

/**
 * Milliseconds in `text`, for config durations: like parseDuration plus the unit `ms`
 * (`250ms`, `1m30s`, `1.5s` is not accepted). A bare number is seconds.
 */
export function parseDurationMs(text: string, opts?: DurationOptions): number {
  const what = opts?.what ?? "duration";
  const v = scanDuration(text, true);
  if (v === -1) throw new Error(badMessage(text, what, true));
  const max = opts?.max ?? Number.MAX_SAFE_INTEGER;
  if (v > max) throw new Error(`${what} "${text}" is over the limit of ${max} ms`);
  return v;
}

function badMessage(text: string, what: string, ms: boolean): string {
  const units = ms ? "ms, s, m, h, d, w" : "s, m, h, d, w";
  if (/^\d+[a-z]+\d+$/i.test(text)) {
    return `bad ${what} "${text}": the last number needs a unit too (${units}), e.g. "1h30m"`;
  }
  return `bad ${what} "${text}": write seconds ("3600") or numbers with units ${units} ("1h30m")`;
}

/**
 * One pass over the characters; -1 if malformed. Result is seconds, or ms when `ms` is set.
 * Values are summed as doubles (exact far beyond 2^32) and compared to the limit by the caller.
 */
function scanDuration(text: string, ms: boolean): number {
  const n = text.length;
  if (n === 0) return -1;
  let total = 0;
  let i = 0;
  let sawUnit = false;
  while (i < n) {
    let num = 0;
    const start = i;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      num = num * 10 + (c - 0x30);
    }
    if (i === start) return -1; // a unit with no number, or a stray character
    if (num > Number.MAX_SAFE_INTEGER / 1e6) return Number.MAX_SAFE_INTEGER; // over any limit
    if (i === n) {
      // Trailing bare number: allowed only when the whole text is digits.
      if (sawUnit) return -1;
      return ms ? num * 1000 : num;
    }
    const c = text.charCodeAt(i) | 0x20;
    let mult: number | undefined;
    if (ms && c === 0x6d /* m */ && i + 1 < n && (text.charCodeAt(i + 1) | 0x20) === 0x73 /* s */) {
      mult = 1;
      i += 2;
    } else {
      mult = UNIT_SECONDS[String.fromCharCode(c)];
      if (mult === undefined) return -1;
      if (ms) mult *= 1000;
      i++;
    }
    total += num * mult;
    sawUnit = true;
  }
  return total;
}
