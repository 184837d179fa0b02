// HealthMonitor on a fake clock with scripted probes: first round, one probe per (check, address),
// jitter, independence of targets, transitions logged as one line, stop and reconfigure.

import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { HealthMonitor, type ProbeFn } from "../src/health/monitor.js";
import type { Timers } from "../src/health/scheduler.js";
import type { CheckSpec, ProbeResult, Transition } from "../src/health/types.js";
import { seededRandom } from "../src/health/random.js";
import { testCheck } from "./support/http-endpoints.js";

class FakeClock implements Timers {
  t = 0;
  private seq = 0;
  private readonly q = new Map<number, { at: number; seq: number; fn: () => void }>();
  now = (): number => this.t;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.q.set(id, { at: this.t + Math.max(0, ms), seq: id, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.q.delete(handle as number);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.setTimeout(r, ms));
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      let next: [number, { at: number; seq: number; fn: () => void }] | undefined;
      for (const e of this.q) if (e[1].at <= end && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[1].seq < next[1].seq))) next = e;
      if (!next) break;
      this.q.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n")) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: "info" }, dest), lines };
}

/** A probe whose outcome per address is set by the test; takes `latency` fake ms (or the timeout when hanging). */
function scripted(clock: FakeClock) {
  const mode = new Map<string, "ok" | "fail" | "hang">();
  const calls: Array<{ address: string; at: number }> = [];
  const probe: ProbeFn = async (spec: CheckSpec, address: string, opts): Promise<ProbeResult> => {
    calls.push({ address, at: clock.t });
    const m = mode.get(address) ?? "ok";
    if (m === "hang") {
      await Promise.race([clock.sleep(spec.timeoutMs), new Promise((r) => opts.signal?.addEventListener("abort", r))]);
      if (opts.signal?.aborted) return { ok: false, reason: "cancelled", latencyMs: 0 };
      return { ok: false, reason: `timeout after ${spec.timeoutMs} ms (reading headers)`, latencyMs: spec.timeoutMs };
    }
    await Promise.race([clock.sleep(2), new Promise((r) => opts.signal?.addEventListener("abort", r))]);
    if (opts.signal?.aborted) return { ok: false, reason: "cancelled", latencyMs: 2 };
    return m === "ok" ? { ok: true, reason: "HTTP 200", latencyMs: 2 } : { ok: false, reason: "connection refused", latencyMs: 2 };
  };
  return { mode, calls, probe };
}

function setup(targets: Array<{ check: string; address: string }>, spec: CheckSpec = testCheck()) {
  const clock = new FakeClock();
  const s = scripted(clock);
  const { logger, lines } = capture();
  const mon = new HealthMonitor({
    checks: new Map([[spec.name, spec]]),
    targets,
    logger,
    now: clock.now,
    timers: clock,
    random: seededRandom(1),
    probe: s.probe,
  });
  const transitions: Transition[] = [];
  mon.on("transition", (t) => transitions.push(t));
  return { clock, mon, lines, transitions, ...s };
}

const addrs = (n: number): string[] => Array.from({ length: n }, (_, i) => `192.0.2.${i + 1}`);

describe("HealthMonitor", () => {
  it("start() resolves after the first round, bounded by the timeout, with every status known", async () => {
    const { clock, mon, mode } = setup(addrs(3).map((address) => ({ check: "web", address })));
    mode.set("192.0.2.2", "hang");
    mode.set("192.0.2.3", "fail");
    let done = false;
    void mon.start().then(() => (done = true));
    expect(mon.status("web", "192.0.2.1")).toBe("unknown");
    await clock.advance(499);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
    expect([mon.status("web", "192.0.2.1"), mon.status("web", "192.0.2.2"), mon.status("web", "192.0.2.3")]).toEqual(["up", "down", "down"]);
    expect(mon.status("web", "203.0.113.9")).toBe("unknown");
    await mon.stop();
  });

  it("probes each distinct (check, address) once however often it is listed", async () => {
    const { clock, mon, calls } = setup([
      { check: "web", address: "192.0.2.1" },
      { check: "web", address: "192.0.2.1" },
      { check: "web", address: "192.0.2.2" },
    ]);
    void mon.start();
    await clock.advance(10_000);
    const per = (a: string) => calls.filter((c) => c.address === a).length;
    expect(per("192.0.2.1")).toBeGreaterThanOrEqual(9);
    expect(per("192.0.2.1")).toBeLessThanOrEqual(12);
    expect(mon.snapshot()).toHaveLength(2);
    await mon.stop();
  });

  it("the second probe of a target comes after the spread offset, never right after the first (jitter is not added on top)", async () => {
    // random(): 0.05 for the spread offset, then 0 (jitter -10 %) — which once made the wait negative.
    const clock = new FakeClock();
    const s = scripted(clock);
    const seq = [0.05, 0];
    const mon = new HealthMonitor({
      checks: new Map([["web", testCheck()]]),
      targets: [{ check: "web", address: "192.0.2.1" }],
      logger: capture().logger,
      now: clock.now,
      timers: clock,
      random: () => seq.shift() ?? 0.5,
      probe: s.probe,
    });
    void mon.start();
    const interval = testCheck().intervalMs;
    await clock.advance(interval);
    expect(s.calls.length).toBeGreaterThanOrEqual(2);
    const gap = s.calls[1]!.at - s.calls[0]!.at;
    // The first probe takes a few ms; the offset counts from its end.
    expect(gap).toBeGreaterThanOrEqual(0.05 * interval);
    expect(gap).toBeLessThan(0.05 * interval + 50);
    await mon.stop();
  });

  it("spreads probes over the interval with jitter, never in lockstep", async () => {
    const { clock, mon, calls } = setup(addrs(100).map((address) => ({ check: "web", address })));
    void mon.start();
    await clock.advance(10);
    const first = calls.length;
    await clock.advance(5000);
    const starts = calls.slice(first).map((c) => c.at);
    const buckets = new Set(starts.filter((t) => t < 1000).map((t) => Math.floor(t / 100)));
    expect(buckets.size).toBeGreaterThanOrEqual(9);
    // No two targets share a start time, and consecutive gaps of one target vary.
    const a1 = calls.filter((c) => c.address === "192.0.2.1").map((c) => c.at);
    const gaps = a1.slice(1).map((t, i) => t - a1[i]!);
    expect(new Set(gaps.slice(1)).size).toBeGreaterThan(1);
    for (const g of gaps.slice(1)) expect(g).toBeGreaterThanOrEqual(900);
    await mon.stop();
  });

  it("keeps probing other targets on time while one hangs", async () => {
    const { clock, mon, calls, mode } = setup(addrs(2).map((address) => ({ check: "web", address })));
    mode.set("192.0.2.1", "hang");
    void mon.start();
    await clock.advance(20_000);
    const good = calls.filter((c) => c.address === "192.0.2.2").length;
    expect(good).toBeGreaterThanOrEqual(19);
    await mon.stop();
  });

  it("detects a hard failure within interval + (fall−1) × max(fast_interval, timeout) and logs ONE line", async () => {
    const spec = testCheck();
    const { clock, mon, mode, transitions, lines } = setup([{ check: "web", address: "192.0.2.1" }], spec);
    await Promise.all([mon.start(), clock.advance(10)]);
    await clock.advance(5000);
    const t0 = clock.t;
    mode.set("192.0.2.1", "fail");
    while (mon.status("web", "192.0.2.1") === "up" && clock.t - t0 < 10_000) await clock.advance(10);
    const detect = clock.t - t0;
    expect(detect).toBeLessThanOrEqual(spec.intervalMs * 1.1 + (spec.fall - 1) * spec.fastIntervalMs * 1.1 + 20);
    const t1 = clock.t;
    mode.set("192.0.2.1", "hang");
    await clock.advance(3000);
    mode.set("192.0.2.1", "ok");
    while (mon.status("web", "192.0.2.1") === "down" && clock.t - t1 < 20_000) await clock.advance(10);
    expect(mon.status("web", "192.0.2.1")).toBe("up");
    expect(transitions.map((t) => [t.from, t.to, t.reason])).toEqual([
      ["unknown", "up", "first probe: HTTP 200"],
      ["up", "down", "connection refused"],
      ["down", "up", "HTTP 200"],
    ]);
    const logged = lines.filter((l) => String(l.msg).startsWith("endpoint"));
    expect(logged).toHaveLength(3);
    expect(logged[1]).toMatchObject({ level: 40, msg: "endpoint down", check: "web", address: "192.0.2.1", from: "up", to: "down", reason: "connection refused" });
    expect(logged[2]).toMatchObject({ level: 30, msg: "endpoint up", from: "down", to: "up" });
    const snap = mon.snapshot()[0]!;
    expect(snap).toMatchObject({ status: "up", reason: "HTTP 200", lastProbe: { ok: true } });
    await mon.stop();
  });

  it("emits a probe event per probe with latency", async () => {
    const { clock, mon } = setup([{ check: "web", address: "192.0.2.1" }]);
    const events: unknown[] = [];
    mon.on("probe", (e) => events.push(e));
    void mon.start();
    await clock.advance(3000);
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events[0]).toMatchObject({ key: "web|192.0.2.1", check: "web", address: "192.0.2.1", ok: true, latencyMs: 2 });
    await mon.stop();
  });

  it("stop() ends probing and cancels probes in flight", async () => {
    const { clock, mon, calls } = setup([{ check: "web", address: "192.0.2.1" }]);
    void mon.start();
    await clock.advance(2500);
    const n = calls.length;
    await Promise.all([mon.stop(), clock.advance(10)]);
    await clock.advance(10_000);
    expect(calls.length).toBe(n);
  });

  it("reconfigure keeps the state of unchanged targets and probes new ones at once", async () => {
    const spec = testCheck();
    const { clock, mon, mode, calls } = setup([{ check: "web", address: "192.0.2.1" }], spec);
    mode.set("192.0.2.1", "fail");
    void mon.start();
    await clock.advance(100);
    const since = mon.snapshot()[0]!.since;
    const p = mon.reconfigure(new Map([["web", { ...spec }]]), [
      { check: "web", address: "192.0.2.1" },
      { check: "web", address: "192.0.2.9" },
    ]);
    await clock.advance(10);
    await p;
    expect(mon.status("web", "192.0.2.9")).toBe("up");
    expect(mon.snapshot().find((s) => s.address === "192.0.2.1")).toMatchObject({ status: "down", since });
    // A changed check restarts its targets from scratch; a target no longer listed is dropped.
    await Promise.all([
      mon.reconfigure(new Map([["web", { ...spec, path: "/other" }]]), [{ check: "web", address: "192.0.2.9" }]),
      clock.advance(10),
    ]);
    expect(mon.snapshot().map((s) => [s.address, s.status, s.probes])).toEqual([["192.0.2.9", "up", 1]]);
    const before = calls.length;
    await clock.advance(5000);
    expect(calls.slice(before).every((c) => c.address === "192.0.2.9")).toBe(true);
    await mon.stop();
  });
});
