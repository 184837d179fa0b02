// The endpoint state machine (rise, fall, decaying penalty, flap damping) and its false-flip rate
// under random probe loss, on a fake clock.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { simulateRandomLoss } from "../src/health/simulate.js";
import { EndpointState, type StateParams } from "../src/health/state.js";
import type { EndpointStatus } from "../src/health/types.js";
import { testCheck } from "./support/http-endpoints.js";

const defaults: StateParams = { rise: 3, fall: 6, decay: 1, flapWindowMs: 600_000 };
const HOUR = 3_600_000;

function upState(p: StateParams = defaults): EndpointState {
  const s = new EndpointState(p, 0);
  s.observe(true, "HTTP 200", 0);
  return s;
}

describe("endpoint state", () => {
  it("is unknown until the first probe, which decides", () => {
    const a = new EndpointState(defaults, 0);
    expect(a.status).toBe("unknown");
    expect(a.observe(true, "HTTP 200", 5)).toEqual({ from: "unknown", to: "up", reason: "first probe: HTTP 200", at: 5 });
    const b = new EndpointState(defaults, 0);
    expect(b.observe(false, "connection refused", 5)).toMatchObject({ from: "unknown", to: "down", reason: "first probe: connection refused" });
  });

  it("goes down after exactly `fall` consecutive failures, with the last failure as reason", () => {
    const s = upState();
    for (let i = 1; i < defaults.fall; i++) expect(s.observe(false, "HTTP 503", i)).toBeNull();
    expect(s.observe(false, "timeout after 500 ms", 9)).toEqual({ from: "up", to: "down", reason: "timeout after 500 ms", at: 9 });
    expect(s.status).toBe("down");
  });

  it("counts failures non-consecutively: successes only pay them back at `decay` each", () => {
    // 2 of every 3 probes fail: a consecutive counter with fall 6 never fires; the penalty does.
    const s = upState();
    let t = 0;
    while (s.status === "up" && t < 100) {
      s.observe(false, "HTTP 503", ++t);
      s.observe(false, "HTTP 503", ++t);
      s.observe(true, "HTTP 200", ++t);
    }
    expect(s.status).toBe("down");
    expect(t).toBeLessThan(20);
    // Alternating failure/success with decay 1 never accumulates.
    const a = upState();
    for (let i = 0; i < 1000; i++) a.observe(i % 2 === 0, "x", i);
    expect(a.status).toBe("up");
    // …but with decay 0.5 it does.
    const h = upState({ ...defaults, decay: 0.5 });
    for (let i = 0; i < 100 && h.status === "up"; i++) h.observe(i % 2 === 1, "x", i);
    expect(h.status).toBe("down");
  });

  it("comes up after `rise` consecutive successes; a failure restarts the count", () => {
    const s = upState();
    for (let i = 0; i < defaults.fall; i++) s.observe(false, "refused", i);
    s.observe(true, "HTTP 200", 10);
    s.observe(true, "HTTP 200", 11);
    s.observe(false, "refused", 12);
    expect(s.status).toBe("down");
    s.observe(true, "HTTP 200", 13);
    s.observe(true, "HTTP 200", 14);
    expect(s.observe(true, "HTTP 200", 15)).toEqual({ from: "down", to: "up", reason: "HTTP 200", at: 15 });
    expect(s.penalty).toBe(0);
  });

  it("damps flapping: each extra outage within the window doubles the rise, up to 8×, then forgets", () => {
    const s = upState();
    let t = 1000;
    const outage = (): number => {
      for (let i = 0; i < defaults.fall; i++) s.observe(false, "refused", t++);
      expect(s.status).toBe("down");
      let n = 0;
      while (s.status === "down") {
        s.observe(true, "ok", t++);
        n++;
      }
      return n;
    };
    expect(outage()).toBe(3);
    expect(outage()).toBe(6);
    expect(outage()).toBe(12);
    expect(outage()).toBe(24);
    expect(outage()).toBe(24);
    t += defaults.flapWindowMs + 1;
    expect(outage()).toBe(3);
  });

  it("always goes down within `fall` failures and up within 8×rise successes, whatever came before", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 200 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 10 }), (history, fall, rise) => {
        const p = { ...defaults, fall, rise };
        const s = new EndpointState(p, 0);
        history.forEach((ok, i) => s.observe(ok, "x", i));
        for (let i = 0; i < fall; i++) s.observe(false, "x", 1000 + i);
        if (s.status !== "down") return false;
        for (let i = 0; i < 8 * rise; i++) s.observe(true, "x", 2000 + i);
        return (s.status as EndpointStatus) === "up";
      }),
    );
  });
});

describe("false flips under random probe loss (fake clock)", () => {
  const spec = testCheck();

  it("makes zero flips in a simulated hour at 5 % loss, for each of 50 seeds", () => {
    let downs = 0;
    for (let seed = 1; seed <= 50; seed++) downs += simulateRandomLoss(spec, 0.05, HOUR, seed).downs;
    expect(downs).toBe(0);
  });

  it("stays up nearly always at 20 % loss (flips are counted, not hidden)", () => {
    const r = simulateRandomLoss(spec, 0.2, 20 * HOUR, 7);
    expect(r.failures / r.probes).toBeGreaterThan(0.15);
    expect(r.downs / 20).toBeLessThan(2);
    expect(r.downFraction).toBeLessThan(0.01);
  });

  it("takes an endpoint failing most probes out of service most of the time", () => {
    const r = simulateRandomLoss(spec, 0.6, HOUR, 3);
    expect(r.downFraction).toBeGreaterThan(0.9);
  });
});
