// Fake-clock simulation of one endpoint whose probes fail at random: counts the flips the state
// machine makes, for tests (0 flips at 5 % loss) and for bench/failover's false-flip table.

import { seededRandom } from "./random.js";
import { nextDelayMs } from "./scheduler.js";
import { EndpointState } from "./state.js";
import type { CheckSpec } from "./types.js";

export type SimSpec = Pick<CheckSpec, "rise" | "fall" | "decay" | "intervalMs" | "fastIntervalMs" | "timeoutMs" | "flapWindowMs">;

export interface SimResult {
  probes: number;
  failures: number;
  /** up→down transitions after the first probe (the endpoint is healthy, so all are false). */
  downs: number;
  ups: number;
  /** Fraction of the simulated time spent down. */
  downFraction: number;
}

/**
 * Simulates `durationMs` of probing an endpoint whose probes each fail with probability `lossRate`
 * (independently; a failed probe is taken to last the whole timeout, a success 1 ms). The first
 * probe is taken as a success, so the endpoint starts up.
 */
export function simulateRandomLoss(spec: SimSpec, lossRate: number, durationMs: number, seed: number): SimResult {
  const rnd = seededRandom(seed);
  const jitterRnd = seededRandom(seed ^ 0x9e3779b9);
  const st = new EndpointState(spec, 0);
  st.observe(true, "first", 0);
  let t = 0;
  let probes = 1;
  let failures = 0;
  let downs = 0;
  let ups = 0;
  let downSince = -1;
  let downTime = 0;
  for (;;) {
    const start = t;
    const latency = 1;
    t = start + Math.max(nextDelayMs(spec, st.inDoubt(), jitterRnd), latency);
    if (t >= durationMs) break;
    const ok = rnd() >= lossRate;
    probes++;
    if (!ok) failures++;
    const ch = st.observe(ok, ok ? "ok" : "loss", t + (ok ? latency : spec.timeoutMs));
    if (ch?.to === "down") {
      downs++;
      downSince = t;
    } else if (ch?.to === "up") {
      ups++;
      downTime += t - downSince;
      downSince = -1;
    }
    if (!ok) t += spec.timeoutMs - latency;
  }
  if (downSince >= 0) downTime += durationMs - downSince;
  return { probes, failures, downs, ups, downFraction: downTime / durationMs };
}
