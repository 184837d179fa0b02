#!/usr/bin/env node
// Failover timing at the health-monitor level: the time from an endpoint's death (refusing; hanging)
// to the monitor's `down` transition, and from its recovery to the `up` transition, over N trials,
// with the default and the fastest settings, beside the bound the rules guarantee. Plus false flips
// per hour at 5 % and 20 % random probe loss (fake-clock simulation of the same state machine).
//
// Measured at the monitor, not over DNS: the first changed answer follows the transition by one
// recompile of the pool (the core's part). The end-to-end DNS numbers need the server.
// Usage: npm run build && node bench/failover/run.mjs [--trials N] [--parallel N] [--hours H] [--only default|fastest]

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { bounds, Endpoint, failoverSettings, parseArgs } from "./lib.mjs";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dist = (p) => import(path.join(REPO, "dist", p));
const { HealthMonitor } = await dist("health/monitor.js");
const { simulateRandomLoss } = await dist("health/simulate.js");
const { CHECK_DEFAULTS } = await dist("config/health.js");

const args = parseArgs(process.argv.slice(2));
const TRIALS = Number(args.trials ?? 20);
const PARALLEL = Number(args.parallel ?? 5);
const HOURS = Number(args.hours ?? 1000);

const SETTINGS = failoverSettings(CHECK_DEFAULTS);

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function waitTransition(mon, to, limitMs) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      mon.off("transition", on);
      resolve(null);
    }, limitMs);
    const on = (t) => {
      if (t.to !== to) return;
      clearTimeout(timer);
      mon.off("transition", on);
      resolve(performance.now());
    };
    mon.on("transition", on);
  });
}

async function trial(spec, failure, address) {
  const ep = new Endpoint(address);
  await ep.listen();
  const check = { ...spec, name: "web", port: ep.port };
  const mon = new HealthMonitor({ checks: new Map([["web", check]]), targets: [{ check: "web", address }], logger: silent });
  try {
    await mon.start();
    if (mon.status("web", address) !== "up") throw new Error(`${address} not up after the first round`);
    // Let the probe phase settle, then die at a random point of the interval.
    await sleep(spec.intervalMs * (1.5 + Math.random()));
    const down = waitTransition(mon, "down", 30_000);
    const t0 = performance.now();
    await ep.set(failure === "refused" ? "refuse" : "hang");
    const tDown = await down;
    await sleep(spec.intervalMs * (0.5 + Math.random()));
    const up = waitTransition(mon, "up", 30_000);
    const t1 = performance.now();
    await ep.set("ok");
    const tUp = await up;
    return { detect: tDown === null ? null : tDown - t0, recover: tUp === null ? null : tUp - t1 };
  } finally {
    await mon.stop();
    await ep.close();
  }
}

function quantile(xs, q) {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}

async function runTrials(spec, failure) {
  const results = [];
  let next = 0;
  const worker = async (w) => {
    while (next < TRIALS) {
      next++;
      // Each worker its own loopback address, so concurrent trials never share an endpoint.
      results.push(await trial(spec, failure, `127.0.0.${100 + w}`));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, TRIALS) }, (_, w) => worker(w)));
  return results;
}

const fmt = (ms) => (Number.isNaN(ms) ? "n/a" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const rows = [];
const json = { trials: TRIALS, settings: {}, timing: [], flips: [] };

for (const [name, spec] of Object.entries(SETTINGS)) {
  if (args.only && args.only !== name) continue;
  json.settings[name] = spec;
  const b = bounds(spec);
  for (const failure of ["refused", "hanging"]) {
    const r = await runTrials(spec, failure);
    const det = r.map((x) => x.detect);
    const rec = r.map((x) => x.recover);
    const missed = r.filter((x) => x.detect === null || x.recover === null).length;
    const row = {
      settings: name, failure,
      detectMedian: quantile(det, 0.5), detectP95: quantile(det, 0.95), detectMax: quantile(det, 1), detectBound: b[failure],
      recoverMedian: quantile(rec, 0.5), recoverP95: quantile(rec, 0.95), recoverBound: b.recovery, missed,
    };
    rows.push(row);
    json.timing.push({ ...row, detect: det, recover: rec });
    process.stderr.write(`${name}/${failure}: done\n`);
  }
}

console.log(`\nFailover timing at the monitor (death → down transition; recovery → up transition), ${TRIALS} trials each\n`);
console.log("| settings | failure | detect median | detect p95 | detect max | bound | recover median | recover p95 | bound | missed |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(`| ${r.settings} | ${r.failure} | ${fmt(r.detectMedian)} | ${fmt(r.detectP95)} | ${fmt(r.detectMax)} | ${fmt(r.detectBound)} | ${fmt(r.recoverMedian)} | ${fmt(r.recoverP95)} | ${fmt(r.recoverBound)} | ${r.missed} |`);
}
for (const [name, s] of Object.entries(SETTINGS)) {
  if (args.only && args.only !== name) continue;
  console.log(`\n${name}: interval ${s.intervalMs} ms, timeout ${s.timeoutMs} ms, fast_interval ${s.fastIntervalMs} ms, fall ${s.fall}, decay ${s.decay}, rise ${s.rise}`);
}

console.log(`\nFalse flips of a healthy endpoint whose probes fail at random (default settings, ${HOURS} simulated hours, fake clock)\n`);
console.log("| probe loss | down-flips per hour | hours between flips | time down |");
console.log("| --- | --- | --- | --- |");
for (const loss of [0.05, 0.1, 0.2, 0.3]) {
  let downs = 0;
  let downFrac = 0;
  const chunks = 10;
  for (let seed = 1; seed <= chunks; seed++) {
    const r = simulateRandomLoss(SETTINGS.default, loss, (HOURS / chunks) * 3_600_000, seed);
    downs += r.downs;
    downFrac += r.downFraction / chunks;
  }
  const perHour = downs / HOURS;
  json.flips.push({ loss, hours: HOURS, downs, perHour, downFraction: downFrac });
  console.log(`| ${loss * 100} % | ${perHour.toFixed(4)} | ${downs === 0 ? `> ${HOURS}` : (1 / perHour).toFixed(1)} | ${(downFrac * 100).toFixed(3)} % |`);
}

fs.mkdirSync(path.join(REPO, "bench/out"), { recursive: true });
fs.writeFileSync(path.join(REPO, "bench/out/failover.json"), JSON.stringify(json, null, 2));
console.log("\n(raw numbers: bench/out/failover.json)");
