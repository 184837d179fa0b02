// End to end at the monitor level, real time: HTTPS endpoints on 127.0.0.2/3 fail in every way the
// issue lists and come back; the monitor sees each transition with its reason, and pool answers follow.

import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthMonitor } from "../src/health/monitor.js";
import type { CheckSpec, Transition } from "../src/health/types.js";
import { poolAnswer } from "../src/pool/policy.js";
import { poolStatusOf, poolTargets } from "../src/pool/targets.js";
import type { PoolSpec } from "../src/pool/types.js";
import { makeCerts, startEndpoints, testCheck, type EndpointMode, type TestCerts } from "./support/http-endpoints.js";

let certs: TestCerts;
let eps: Awaited<ReturnType<typeof startEndpoints>>;
let mon: HealthMonitor;
const transitions: Transition[] = [];
let web: CheckSpec;
let tcp: CheckSpec;
let failover: PoolSpec;
let multi: PoolSpec;
let tcpPool: PoolSpec;

// Fast settings so the test is short; the generous bounds below are many times the configured ones.
// Probe timeouts sturdy enough for a loaded 2-core CI machine (first HTTPS probes take 40-90 ms here).
const fast = { intervalMs: 600, timeoutMs: 500, fastIntervalMs: 50, rise: 2, fall: 3 };
const BOUND_MS = 4000;

beforeAll(async () => {
  certs = makeCerts(["app.example.test"]);
  eps = await startEndpoints(2, certs);
  web = testCheck({ name: "web", type: "https", port: eps.port, path: "/health", host: "app.example.test", caFile: certs.caFile, expectBody: { substring: "ok" }, ...fast });
  tcp = testCheck({ name: "tcp", type: "tcp", port: eps.port, ...fast });
  failover = { name: "app.example.test.", type: "A", ttl: 30, degradedTtl: 5, policy: "failover", check: "web", whenAllDown: "serve-all", endpoints: [{ address: "127.0.0.2" }, { address: "127.0.0.3" }] };
  multi = { ...failover, name: "multi.example.test.", policy: "multivalue" };
  tcpPool = { ...failover, name: "tcp.example.test.", check: "tcp" };
  mon = new HealthMonitor({
    checks: new Map([["web", web], ["tcp", tcp]]),
    targets: poolTargets([failover, multi, tcpPool]),
    logger: pino({ level: "silent" }),
  });
  mon.on("transition", (t) => transitions.push(t));
}, 30_000);

afterAll(async () => {
  await mon?.stop();
  await eps?.close();
  certs?.cleanup();
});

const answer = (p: PoolSpec) => poolAnswer(p, poolStatusOf(p, (c, a) => mon.status(c, a)));

async function waitFor(pred: () => boolean, ms = BOUND_MS): Promise<number> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - t0;
}

async function breakAndRecover(mode: EndpointMode, reason: RegExp): Promise<void> {
  const ep = eps.endpoints[0]!;
  const n = transitions.length;
  await ep.set(mode);
  await waitFor(() => mon.status("web", "127.0.0.2") === "down");
  const t = transitions.slice(n).find((x) => x.check === "web" && x.address === "127.0.0.2")!;
  expect(t).toMatchObject({ from: "up", to: "down", key: "web|127.0.0.2" });
  expect(t.reason).toMatch(reason);
  expect(answer(failover)).toMatchObject({ variants: [["127.0.0.3"]], ttl: 5, failOpen: false });
  expect(answer(multi)).toMatchObject({ selection: "fixed", variants: [["127.0.0.3"]] });
  await ep.set("ok");
  await waitFor(() => mon.status("web", "127.0.0.2") === "up");
  expect(answer(failover)).toMatchObject({ variants: [["127.0.0.2"]], ttl: 30 });
}

describe("monitor against real endpoints", () => {
  it("starts with every endpoint probed once and answers right from the first round", async () => {
    const t0 = Date.now();
    await mon.start();
    expect(Date.now() - t0).toBeLessThan(fast.timeoutMs + 1000);
    expect(mon.snapshot().map((s) => s.status)).toEqual(["up", "up", "up", "up"]);
    expect(answer(failover)).toMatchObject({ variants: [["127.0.0.2"]], ttl: 30 });
    expect(answer(multi)).toMatchObject({ selection: "rotate", variants: [["127.0.0.2", "127.0.0.3"], ["127.0.0.3", "127.0.0.2"]] });
  }, 10_000);

  it("refused", { timeout: 20_000 }, () => breakAndRecover("refuse", /^connection refused$/));
  it("hanging", { timeout: 20_000 }, () => breakAndRecover("hang", /^timeout after 500 ms/));
  it("503", { timeout: 20_000 }, () => breakAndRecover("503", /^HTTP 503$/));
  it("wrong body", { timeout: 20_000 }, () => breakAndRecover("wrong-body", /^body did not contain "ok"$/));
  it("bad certificate", { timeout: 20_000 }, () => breakAndRecover("bad-cert", /^TLS: self-signed certificate$/));

  it("tcp check: refused goes down, hanging HTTP still accepts TCP", { timeout: 20_000 }, async () => {
    const ep = eps.endpoints[1]!;
    await ep.set("hang");
    await new Promise((r) => setTimeout(r, 600));
    expect(mon.status("tcp", "127.0.0.3")).toBe("up");
    await ep.set("refuse");
    await waitFor(() => mon.status("tcp", "127.0.0.3") === "down");
    expect(answer(tcpPool).variants).toEqual([["127.0.0.2"]]);
    await ep.set("ok");
    await waitFor(() => mon.status("tcp", "127.0.0.3") === "up" && mon.status("web", "127.0.0.3") === "up");
  });

  it("all down: fail-open serve-all, then back", { timeout: 20_000 }, async () => {
    await Promise.all(eps.endpoints.map((e) => e.set("503")));
    await waitFor(() => mon.status("web", "127.0.0.2") === "down" && mon.status("web", "127.0.0.3") === "down");
    const a = answer(failover);
    expect(a).toMatchObject({ failOpen: true, ttl: 5, reason: "all down: serving all (fail-open); degraded ttl 5" });
    expect(a.variants).toEqual([["127.0.0.2", "127.0.0.3"], ["127.0.0.3", "127.0.0.2"]]);
    expect(answer({ ...failover, whenAllDown: "servfail" }).rcode).toBe("servfail");
    await Promise.all(eps.endpoints.map((e) => e.set("ok")));
    await waitFor(() => mon.status("web", "127.0.0.2") === "up" && mon.status("web", "127.0.0.3") === "up");
    expect(answer(failover).failOpen).toBe(false);
  });

  it("probed each (check, address) once, however many pools share it", () => {
    expect(mon.snapshot().map((s) => s.key).sort()).toEqual(["tcp|127.0.0.2", "tcp|127.0.0.3", "web|127.0.0.2", "web|127.0.0.3"]);
  });
});
