// When to probe next: every target has its own timer chain, offset at random after the first round and
// jittered ±10 % each time, so probes never run in lockstep and a slow target never delays another.

/** Relative jitter applied to every interval: a delay is base × (1 ± JITTER). */
export const JITTER = 0.1;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Delay from one probe's start to the next one's: the fast interval while the state is in doubt. */
export function nextDelayMs(
  spec: { intervalMs: number; fastIntervalMs: number },
  inDoubt: boolean,
  random: () => number,
): number {
  const base = inDoubt ? Math.min(spec.fastIntervalMs, spec.intervalMs) : spec.intervalMs;
  return base * (1 - JITTER + 2 * JITTER * random());
}

/** Delay of a target's second probe after the first round: uniform over one interval, spreading the targets. */
export function spreadOffsetMs(intervalMs: number, random: () => number): number {
  return intervalMs * random();
}
