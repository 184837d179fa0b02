// Types shared by the health engine (probes, scheduler, state machine, monitor) and its consumers.
// Health produces state; it never knows about pools, zones or answers.

/** One reusable health check, as validated from the `checks:` section of the config. */
export interface CheckSpec {
  name: string;
  type: "http" | "https" | "tcp";
  port: number;
  path: string;
  method: "GET" | "HEAD";
  /** Host header and TLS SNI; when absent, the probed address is used as Host and no SNI is sent. */
  host?: string;
  /** Extra request headers, `${VAR}` already expanded. */
  headers: Record<string, string>;
  /** Accepted HTTP statuses as inclusive ranges, e.g. [[200, 299]]. */
  expectStatus: Array<[number, number]>;
  expectBody?: { substring: string } | { regex: RegExp };
  /** Bytes of body read at most; the rest is never read and the connection is dropped. */
  bodyLimit: number;
  followRedirects: boolean;
  tlsVerify: boolean;
  /** PEM file with the CA(s) to trust instead of the system store (absolute path). */
  caFile?: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive successes that bring a down endpoint up. */
  rise: number;
  /** Penalty at which an up endpoint goes down: each failure adds 1, each success removes `decay`. */
  fall: number;
  /** Penalty removed by each success while up (non-consecutive failure counting, see state.ts). */
  decay: number;
  /** Probe interval while the state is in doubt (up with penalty > 0, or down with a success run). */
  fastIntervalMs: number;
  /** Flap damping window: every extra up→down within it doubles the rise needed (at most 8×). */
  flapWindowMs: number;
}

export type EndpointStatus = "up" | "down" | "unknown";

/** A status change of one probed endpoint, with the probe result that caused it. */
export interface Transition {
  /** `check|address`: one per distinct (check, probed address). */
  key: string;
  check: string;
  address: string;
  from: EndpointStatus;
  to: EndpointStatus;
  reason: string;
  at: number;
}

/** The outcome of one probe. `reason` is one line for people: "HTTP 200", "timeout after 500 ms", … */
export interface ProbeResult {
  ok: boolean;
  reason: string;
  /** Milliseconds from probe start to verdict. */
  latencyMs: number;
  /** HTTP status when a response arrived. */
  status?: number;
}

/** A probe result as emitted by the monitor's 'probe' event. */
export interface ProbeEvent extends ProbeResult {
  key: string;
  check: string;
  address: string;
  at: number;
}

/** What the monitor knows about one endpoint, for status pages and `explain`. */
export interface EndpointSnapshot {
  key: string;
  check: string;
  address: string;
  status: EndpointStatus;
  /** Time of the last transition (or of the monitor start while unknown). */
  since: number;
  /** Reason of the last transition ("" while unknown). */
  reason: string;
  /** Current penalty (see state.ts). */
  penalty: number;
  /** Consecutive successes while down. */
  successRun: number;
  /** Successes needed to come up now (rise, doubled by flap damping). */
  riseNeeded: number;
  probes: number;
  failures: number;
  lastProbe?: { ok: boolean; reason: string; latencyMs: number; at: number };
}

export function endpointKey(check: string, address: string): string {
  return `${check}|${address}`;
}
