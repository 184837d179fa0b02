// Per-endpoint health state machine: rise/fall with non-consecutive failure counting (a decaying
// penalty, after gdnsd's down_thresh/ok_thresh) and flap damping (after BGP route-flap damping, RFC 2439).
//
// The rule, in full:
//   unknown → the first probe decides: success → up, failure → down.
//   up:     failure → penalty += 1; success → penalty = max(0, penalty − decay).
//           penalty ≥ fall → down (reason: the failure that crossed the line).
//           A hard failure therefore goes down after exactly `fall` consecutive failed probes, while
//           random loss must put `fall` more failures than successes into one stretch: with the
//           defaults (fall 6, decay 1) at 5 % loss that is ~10⁻⁴ per hour (once in ~10⁴ hours;
//           bench/failover), at 20 % loss ~0.4 per hour. An endpoint failing half its probes or more
//           still goes down, which a purely consecutive counter may never do.
//   down:   success → successRun += 1; failure → successRun = 0.
//           successRun ≥ riseNeeded → up, penalty = 0.
//   Flap damping: riseNeeded = rise × 2^(k−1), capped at 8 × rise, where k counts the up→down
//           transitions in the last `flapWindow` (the current one included). One outage costs nothing
//           extra; an endpoint that keeps falling over must prove itself for longer each time.
// The machine is pure: time comes in with each observation, so tests and simulations use fake clocks.

import type { EndpointStatus } from "./types.js";

export interface StateParams {
  rise: number;
  fall: number;
  decay: number;
  flapWindowMs: number;
}

export interface StateChange {
  from: EndpointStatus;
  to: EndpointStatus;
  reason: string;
  at: number;
}

const MAX_DAMPING = 8;

export class EndpointState {
  status: EndpointStatus = "unknown";
  since: number;
  reason = "";
  penalty = 0;
  successRun = 0;
  probes = 0;
  failures = 0;
  /** Times of recent up→down transitions, oldest first, pruned to the flap window. */
  private downs: number[] = [];

  constructor(
    private readonly params: StateParams,
    createdAt: number,
  ) {
    this.since = createdAt;
  }

  /** Successes needed, while down, to come up (rise with flap damping applied). */
  riseNeeded(at: number): number {
    this.prune(at);
    const k = Math.max(1, this.downs.length);
    return this.params.rise * Math.min(MAX_DAMPING, 2 ** (k - 1));
  }

  /** True while the state is in doubt: the scheduler then probes at the fast interval. */
  inDoubt(): boolean {
    return (
      this.status === "unknown" ||
      (this.status === "up" && this.penalty > 0) ||
      (this.status === "down" && this.successRun > 0)
    );
  }

  /** A state restored from the warm-start file, until the first probe confirms or corrects it. */
  private restored = false;

  /** Start from a saved state (warm start): answers use it at once; the first probe is decisive. */
  restore(status: "up" | "down", since: number, reason: string): void {
    this.status = status;
    this.since = since;
    this.reason = `restored: ${reason}`;
    this.restored = true;
  }

  /** Feed one probe result; returns the transition it caused, if any. */
  observe(ok: boolean, reason: string, at: number): StateChange | null {
    this.probes++;
    if (!ok) this.failures++;
    if (this.restored) {
      // The first probe after a warm start decides, as a first probe does: a saved state that is no
      // longer true is corrected at once, not after fall/rise probes.
      this.restored = false;
      if ((ok ? "up" : "down") !== this.status) return this.move(ok ? "up" : "down", `first probe after restart: ${reason}`, at);
      return null;
    }
    const from = this.status;
    switch (this.status) {
      case "unknown":
        return this.move(ok ? "up" : "down", `first probe: ${reason}`, at);
      case "up":
        if (ok) {
          this.penalty = Math.max(0, this.penalty - this.params.decay);
          return null;
        }
        this.penalty += 1;
        if (this.penalty >= this.params.fall - 1e-9) return this.move("down", reason, at);
        return null;
      case "down":
        if (!ok) {
          this.successRun = 0;
          return null;
        }
        this.successRun++;
        if (this.successRun >= this.riseNeeded(at)) return this.move("up", reason, at);
        return null;
      default:
        throw new Error(`unreachable state ${from as string}`);
    }
  }

  private move(to: EndpointStatus, reason: string, at: number): StateChange {
    const from = this.status;
    this.status = to;
    this.since = at;
    this.reason = reason;
    this.successRun = 0;
    if (to === "up") {
      this.penalty = 0;
    } else {
      this.penalty = this.params.fall;
      if (from === "up") {
        this.downs.push(at);
        this.prune(at);
      }
    }
    return { from, to, reason, at };
  }

  private prune(at: number): void {
    const horizon = at - this.params.flapWindowMs;
    while (this.downs.length > 0 && this.downs[0]! <= horizon) this.downs.shift();
  }
}
