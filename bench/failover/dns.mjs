#!/usr/bin/env node
// Failover timing end to end, over DNS: the time from an endpoint's death (refusing; hanging) to the
// first changed answer, and from its recovery to the first answer that holds it again, polled with UDP
// queries every few milliseconds, over N trials, with the default and the fastest settings, beside the
// bound the rules guarantee (README.md, "Health checks and pools"). run.mjs measures the same at the monitor; the
// difference is the pool's recompile and the polling.
//
// Usage: npm run build && node bench/failover/dns.mjs [--trials 20] [--parallel 5] [--poll 5] [--only default|fastest]

import dgram from "node:dgram";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import dnsPacket from "dns-packet";
import { bounds, Endpoint, failoverSettings, parseArgs } from "./lib.mjs";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dist = (p) => import(path.join(REPO, "dist", p));
const { startInstance } = await dist("server/instance.js");
const { loadZones } = await dist("zone/load.js");
const { CHECK_DEFAULTS } = await dist("config/health.js");
const { pino } = await import("pino");

const args = parseArgs(process.argv.slice(2));
const TRIALS = Number(args.trials ?? 20);
const PARALLEL = Number(args.parallel ?? 5);
const POLL_MS = Number(args.poll ?? 5);
const LIMIT_MS = 30_000;

const SETTINGS = failoverSettings(CHECK_DEFAULTS);

const ZONE = `$ORIGIN bench.test.
$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 60
@ NS ns1
ns1 A 192.0.2.53
`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-failover-dns-"));
fs.writeFileSync(path.join(tmp, "bench.test.zone"), ZONE);
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const silent = pino({ level: "silent" });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A UDP client asking one question again and again: resolves with the A records of each reply. */
class Poller {
  constructor(port) {
    this.port = port;
    this.sock = dgram.createSocket("udp4");
    this.waiting = new Map();
    this.id = 0;
    this.sock.on("message", (m) => {
      const id = m.readUInt16BE(0);
      const w = this.waiting.get(id);
      if (!w) return;
      this.waiting.delete(id);
      clearTimeout(w.timer);
      const p = dnsPacket.decode(m);
      w.resolve(p.answers.filter((a) => a.type === "A").map((a) => a.data));
    });
  }
  ask() {
    const id = (this.id = (this.id + 1) & 0xffff);
    const q = dnsPacket.encode({ type: "query", id, questions: [{ type: "A", name: "app.bench.test" }] });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(null);
      }, 500);
      this.waiting.set(id, { resolve, timer });
      this.sock.send(q, this.port, "127.0.0.1");
    });
  }
  /** Polls every POLL_MS until `done(addresses)`; the time the deciding reply arrived, or null after `limitMs`. */
  async until(done, limitMs) {
    const end = performance.now() + limitMs;
    while (performance.now() < end) {
      const a = await this.ask();
      if (a && done(a)) return performance.now();
      await sleep(POLL_MS);
    }
    return null;
  }
  close() {
    this.sock.close();
  }
}

async function trial(spec, failure, w) {
  const primary = new Endpoint(`127.0.0.${120 + 2 * w}`);
  const backup = new Endpoint(`127.0.0.${121 + 2 * w}`);
  await primary.listen(0);
  await backup.listen(primary.port);
  const check = { ...spec, name: "web", port: primary.port };
  const zones = loadZones([{ file: path.join(tmp, "bench.test.zone") }]);
  if (zones.errors.length) throw new Error(JSON.stringify(zones.errors));
  const pool = {
    name: "app.bench.test.", type: "A", ttl: 30, policy: "failover", check: "web", whenAllDown: "serve-all",
    endpoints: [{ address: primary.address }, { address: backup.address }],
  };
  const inst = await startInstance({
    zones: zones.zones, listen: [{ host: "127.0.0.1", port: 0 }], logger: silent, checks: new Map([["web", check]]), pools: [pool],
  });
  const poller = new Poller(inst.server.listening.find((l) => l.transport === "udp").port);
  try {
    const first = await poller.ask();
    if (first?.join() !== primary.address) throw new Error(`first answer ${first} is not the primary ${primary.address}`);
    // Let the probe phase settle, then die at a random point of the interval.
    await sleep(spec.intervalMs * (1.5 + Math.random()));
    const t0 = performance.now();
    await primary.set(failure === "refused" ? "refuse" : "hang");
    const tDown = await poller.until((a) => !a.includes(primary.address), LIMIT_MS);
    await sleep(spec.intervalMs * (0.5 + Math.random()));
    const t1 = performance.now();
    await primary.set("ok");
    const tUp = await poller.until((a) => a.includes(primary.address), LIMIT_MS);
    return { detect: tDown === null ? null : tDown - t0, recover: tUp === null ? null : tUp - t1 };
  } finally {
    poller.close();
    await inst.close();
    await primary.close();
    await backup.close();
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
      results.push(await trial(spec, failure, w));
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, TRIALS) }, (_, w) => worker(w)));
  return results;
}

const fmt = (ms) => (Number.isNaN(ms) ? "n/a" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const rows = [];
const json = { trials: TRIALS, pollMs: POLL_MS, parallel: PARALLEL, settings: {}, timing: [] };

for (const [name, spec] of Object.entries(SETTINGS)) {
  if (args.only && args.only !== name) continue;
  json.settings[name] = spec;
  const b = bounds(spec);
  for (const failure of ["refused", "hanging"]) {
    const r = await runTrials(spec, failure);
    const det = r.map((x) => x.detect);
    const rec = r.map((x) => x.recover);
    const row = {
      settings: name, failure,
      detectMedian: quantile(det, 0.5), detectP95: quantile(det, 0.95), detectMax: quantile(det, 1), detectBound: b[failure],
      recoverMedian: quantile(rec, 0.5), recoverP95: quantile(rec, 0.95), recoverMax: quantile(rec, 1), recoverBound: b.recovery,
      missed: r.filter((x) => x.detect === null || x.recover === null).length,
      overBound: r.filter((x) => (x.detect ?? Infinity) > b[failure] || (x.recover ?? Infinity) > b.recovery).length,
    };
    rows.push(row);
    json.timing.push({ ...row, detect: det, recover: rec });
    process.stderr.write(`${name}/${failure}: done\n`);
  }
}

console.log(`\nFailover timing over DNS (death → first changed answer; recovery → first answer holding it again), ${TRIALS} trials each, UDP polled every ${POLL_MS} ms\n`);
console.log("| settings | failure | detect median | detect p95 | detect max | bound | recover median | recover p95 | recover max | bound | over bound | missed |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of rows) {
  console.log(
    `| ${r.settings} | ${r.failure} | ${fmt(r.detectMedian)} | ${fmt(r.detectP95)} | ${fmt(r.detectMax)} | ${fmt(r.detectBound)} | ${fmt(r.recoverMedian)} | ${fmt(r.recoverP95)} | ${fmt(r.recoverMax)} | ${fmt(r.recoverBound)} | ${r.overBound} | ${r.missed} |`,
  );
}
for (const [name, s] of Object.entries(SETTINGS)) {
  if (args.only && args.only !== name) continue;
  console.log(`\n${name}: interval ${s.intervalMs} ms, timeout ${s.timeoutMs} ms, fast_interval ${s.fastIntervalMs} ms, fall ${s.fall}, decay ${s.decay}, rise ${s.rise}`);
}

fs.mkdirSync(path.join(REPO, "bench/out"), { recursive: true });
fs.writeFileSync(path.join(REPO, "bench/out/failover-dns.json"), JSON.stringify(json, null, 2));
console.log("\n(raw numbers: bench/out/failover-dns.json)");
