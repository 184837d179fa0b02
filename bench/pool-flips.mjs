#!/usr/bin/env node
// Health changes under load (issue 5): "100 pools flipping every second while dnsperf runs loses no
// query and costs ≤ 5 % QPS". hadns serves a generated zone plus 100 failover pools (primary,
// secondary; an HTTP check on each endpoint) under dnsperf at full load, in three modes, alternating
// within each round on the same server with the same query file:
//   none    nothing flips (the probes run as in the other modes, every endpoint healthy)
//   admin   every pool's primary is overridden down, then up, through POST /v1/overrides: each pool
//           flips once a second, one POST every 10 ms
//   health  every primary's HTTP endpoint answers 200 and 503 in turn, a second each (staggered), and
//           hadns's own probes (interval 500 ms, fall 1, rise 1) flip the pools
// Flips are counted by hadns (accepted overrides, /metrics transitions) and over DNS (a sampler asks
// every pool name 4 times a second and counts the answer changes). The endpoints, the flipper and the
// sampler run in this process, pinned with dnsperf to the client core; hadns has the other core.
// Also times one pool change in-process (LivePools + QueryEngine from the same dist/).
// Usage: node bench/pool-flips.mjs [--rounds N] [--duration S] [--modes none,admin,health]
//        [--profile admin,none] [--no-micro] [--help]. See bench/FLIPS.md.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runDnsperf } from "./lib/dnsperf.mjs";
import { adminClient, flippingSchedule, metricSum, startEndpointFarm, startOverrideFlipper, startSampler } from "./lib/flip-drivers.mjs";
import { flipPools, writeFlipInputs, writeFlipQueries } from "./lib/flipgen.mjs";
import { poolChangeCost } from "./lib/pool-change-cost.mjs";
import { coreTimes, pinSelf, processCpuSeconds, waitForQuiet } from "./lib/proc.mjs";
import { topSelfTime } from "./lib/profile.mjs";
import { REPO, freePort, snapshotDist, startHadns } from "./lib/servers.mjs";
import { ORIGIN } from "./lib/zonegen.mjs";

const OUT = path.join(REPO, "bench/out/flips");
const MODES = ["none", "admin", "health"];

const DEFAULTS = {
  rounds: 5,
  duration: 10,
  warmup: 1,
  pools: 100,
  hosts: 1000,
  clients: 4,
  outstanding: 100,
  serverCore: 1,
  clientCore: 0,
  interval: 500, // ms, the check's interval (and fast_interval)
  timeout: 250, // ms
  sampleEvery: 250, // ms between two samples of one pool name
  rate: 20000, // q/s of the fixed-rate run that measures server CPU (0: none)
  rateDuration: 5,
  quietWait: 10,
  modes: MODES.join(","),
  profile: "",
  dist: "", // another built dist/ to run instead of the repo's (e.g. to compare two builds)
  logLevel: "warn",
  micro: true,
};

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      console.log(`node bench/pool-flips.mjs [options]
  --rounds N        rounds; each runs every mode once, in a rotating order (${DEFAULTS.rounds})
  --duration S      dnsperf -l of each measured run (${DEFAULTS.duration}); 1 s warm-up before (--warmup)
  --modes LIST      of none, admin, health (${DEFAULTS.modes})
  --pools N         failover pools (${DEFAULTS.pools}); 2 HTTP endpoints each
  --interval MS     the check's interval (${DEFAULTS.interval}); --timeout MS (${DEFAULTS.timeout})
  --rate Q          after each full-load run, dnsperf -Q Q for --rate-duration S (${DEFAULTS.rateDuration}) s: the
                    server's CPU share at a fixed load, which other processes on its core disturb
                    far less than QPS (${DEFAULTS.rate}; 0 skips it)
  --sample-every MS each pool name is asked over DNS this often by the flip sampler (${DEFAULTS.sampleEvery})
  --clients N --outstanding N   dnsperf -c, -q (${DEFAULTS.clients}, ${DEFAULTS.outstanding})
  --server-core N --client-core N  (${DEFAULTS.serverCore}, ${DEFAULTS.clientCore})
  --log-level L     hadns --log-level (${DEFAULTS.logLevel}; info logs every flip)
  --quiet-wait S    wait up to S s for both cores to be < 25 % busy before each run (${DEFAULTS.quietWait})
  --profile LIST    instead of the table: one run per listed mode under node --cpu-prof, top functions
  --no-micro        skip the in-process timing of one pool change
  --dist DIR        run this built dist/ instead of the repo's (copied to bench/out/flips/hadns/ first)
Needs dnsperf and taskset (apt-get install dnsperf) and a built hadns (npm run build).`);
      process.exit(0);
    }
    if (a === "--no-micro") {
      o.micro = false;
      continue;
    }
    const key = a.replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!a.startsWith("--") || !(key in DEFAULTS) || key === "micro") fail(`unknown option ${a} (see --help)`);
    const v = argv[++i];
    if (v === undefined) fail(`${a} needs a value`);
    if (typeof DEFAULTS[key] === "number") {
      o[key] = Number(v);
      if (!(o[key] >= 0)) fail(`${a}: not a number: ${v}`);
    } else o[key] = v;
  }
  o.modes = o.modes.split(",").filter(Boolean);
  o.profile = o.profile.split(",").filter(Boolean);
  for (const m of [...o.modes, ...o.profile]) if (!MODES.includes(m)) fail(`unknown mode ${m} (modes: ${MODES.join(", ")})`);
  if (o.interval >= 1000) fail("--interval must be under 1000 ms, or hadns misses flips of a 1 s period");
  if (o.timeout >= o.interval) fail("--timeout must be shorter than --interval");
  return o;
}

function fail(msg, code = 2) {
  console.error(`pool-flips: ${msg}`);
  process.exit(code);
}

function checkTools() {
  for (const [cmd, args] of [["dnsperf", ["-h"]], ["taskset", ["-V"]]]) {
    try {
      execFileSync(cmd, args, { stdio: "ignore" });
    } catch (e) {
      if (e.code === "ENOENT") fail(`${cmd} not found: apt-get install dnsperf util-linux`);
    }
  }
  if (!fs.existsSync(path.join(REPO, "dist/cli/main.js"))) fail("dist/cli/main.js missing: run npm run build first");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (s) => process.stderr.write(s + "\n");
const median = (xs) => {
  const a = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};
const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : "–");
const pct1 = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : "–");
const pp = (x) => (Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)} points` : "–");
const us = (x) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) + " µs" : "–");

/** Waits until every pool answers its primary again (hadns_pool_primary_up sums to the pool count). */
async function settle(admin, n, maxMs = 8000) {
  const until = Date.now() + maxMs;
  for (;;) {
    const up = metricSum(await admin.metrics(), "hadns_pool_primary_up");
    if (up === n) return true;
    if (Date.now() > until) return false;
    await sleep(100);
  }
}

/** One measured run of one mode on a running server: flips on, warm-up, full load, flips off. */
async function runMode(mode, ctx) {
  const { o, server, admin, farm, sampler, pools, queries } = ctx;
  const cfg = { port: server.port, clients: o.clients, outstanding: o.outstanding, core: String(o.clientCore), queries };
  let gate = { quiet: true, waitedMs: 0, busy: [] };
  if (o.quietWait > 0 && ctx.quietBudgetMs > 0) {
    gate = await waitForQuiet({ cores: [o.serverCore, o.clientCore], maxMs: Math.min(o.quietWait * 1000, ctx.quietBudgetMs) });
    ctx.quietBudgetMs -= gate.waitedMs;
  }
  let flipper;
  if (mode === "health") farm.schedule = flippingSchedule(pools.length);
  if (mode === "admin") flipper = startOverrideFlipper(admin, pools);
  if (o.warmup > 0) await runDnsperf({ ...cfg, seconds: o.warmup });

  const m0 = await admin.metrics();
  sampler.reset();
  const posts0 = flipper ? flipper.stats.accepted : 0;
  const req0 = farm.requests;
  const c0 = processCpuSeconds(server.pid);
  const k0 = coreTimes()[o.serverCore];
  const t0 = process.hrtime.bigint();
  const full = await runDnsperf({ ...cfg, seconds: o.duration });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = processCpuSeconds(server.pid) - c0;
  const k1 = coreTimes()[o.serverCore];
  const seen = { ...sampler.stats };
  const posts = flipper ? flipper.stats.accepted - posts0 : 0;
  const probes = farm.requests - req0;
  const m1 = await admin.metrics();
  // Fixed rate, flips still on: how much of its core hadns needs for the same load.
  let rate;
  if (o.rate > 0) {
    const r0 = processCpuSeconds(server.pid);
    const rt0 = process.hrtime.bigint();
    const fixed = await runDnsperf({ ...cfg, seconds: o.rateDuration, rate: o.rate });
    const rwall = Number(process.hrtime.bigint() - rt0) / 1e9;
    rate = { share: (processCpuSeconds(server.pid) - r0) / rwall, qps: fixed.qps, lost: fixed.lost, usPerQuery: ((processCpuSeconds(server.pid) - r0) * 1e6) / fixed.completed };
  }

  let flipStats;
  if (flipper) {
    flipStats = await flipper.stop();
    await admin.clearOverrides();
  }
  if (mode === "health") farm.schedule = () => true;
  const settled = await settle(admin, pools.length);
  // Transitions of the primaries (127.0.1.x): the flips. The secondaries' would be probe timeouts.
  const primaries = (labels) => labels.includes('address="127.0.1.');
  const transitions = metricSum(m1, "hadns_endpoint_transitions_total", primaries) - metricSum(m0, "hadns_endpoint_transitions_total", primaries);
  const otherTransitions = metricSum(m1, "hadns_endpoint_transitions_total") - metricSum(m0, "hadns_endpoint_transitions_total") - transitions;
  return {
    mode,
    qps: full.qps,
    lost: full.lost,
    sent: full.sent,
    completed: full.completed,
    codes: full.codes,
    warnings: full.warnings,
    cpuBusy: cpu / wall,
    perCpuSecond: cpu > 0 ? full.completed / cpu : NaN,
    othersOnCore: k0 && k1 ? Math.max(0, k1.busy - k0.busy - cpu) / wall : NaN,
    applied: mode === "admin" ? posts : mode === "health" ? transitions : transitions + posts,
    transitions,
    otherTransitions,
    rateShare: rate?.share ?? NaN,
    rateQps: rate?.qps ?? NaN,
    rateLost: rate?.lost ?? 0,
    rateUsPerQuery: rate?.usPerQuery ?? NaN,
    posts,
    postErrors: flipStats ? flipStats.failed : 0,
    postErrorExamples: flipStats ? flipStats.errors : [],
    seenChanges: seen.changes,
    sampled: seen.sent,
    sampleOdd: seen.odd,
    sampleOddExamples: seen.oddExamples,
    sampleUnanswered: seen.unanswered,
    probesPerSecond: probes / wall,
    wall,
    quiet: gate.quiet,
    settled,
  };
}

function machine(o) {
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8" }).trim();
    } catch {
      return "?";
    }
  };
  const dirty = sh("git", ["status", "--porcelain", "--", "src"]) ? " + uncommitted src/ changes" : "";
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    nproc: String(os.cpus().length),
    cpu: os.cpus()[0]?.model ?? "?",
    node: process.version,
    kernel: os.release(),
    dnsperf: (sh("sh", ["-c", "dnsperf -h 2>&1 | grep -i '^Version'"]).match(/[\d.]+/) ?? ["?"])[0],
    hadns: o.dist ? `built dist/ from ${o.dist} (repo at ${sh("git", ["rev-parse", "--short", "HEAD"])})` : sh("git", ["rev-parse", "--short", "HEAD"]) + dirty,
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(" "),
  };
}

function summarize(o, runs) {
  const rows = [];
  for (const mode of o.modes) {
    const rs = runs.filter((r) => r.mode === mode);
    // Paired with the no-flip run of the same round: the machine's load changes less within a round.
    const ratios = [];
    const cpuRatios = [];
    const extraShare = [];
    for (const r of rs) {
      const base = runs.find((b) => b.mode === "none" && b.round === r.round);
      if (base) {
        ratios.push(r.qps / base.qps);
        cpuRatios.push(r.perCpuSecond / base.perCpuSecond);
        extraShare.push(r.rateShare - base.rateShare);
      }
    }
    rows.push({
      mode,
      n: rs.length,
      qps: median(rs.map((r) => r.qps)),
      qpsRuns: rs.map((r) => r.qps),
      ratio: median(ratios),
      ratios,
      cpuRatio: median(cpuRatios),
      lost: rs.reduce((a, r) => a + r.lost, 0),
      rateLost: rs.reduce((a, r) => a + r.rateLost, 0),
      rateShare: median(rs.map((r) => r.rateShare)),
      rateUs: median(rs.map((r) => r.rateUsPerQuery)),
      extraShare: median(extraShare),
      extraShares: extraShare,
      otherTransitions: rs.reduce((a, r) => a + r.otherTransitions, 0),
      sent: rs.reduce((a, r) => a + r.sent, 0),
      applied: median(rs.map((r) => r.applied / r.wall)),
      appliedTotal: rs.reduce((a, r) => a + r.applied, 0),
      seen: median(rs.map((r) => r.seenChanges / r.wall)),
      seenTotal: rs.reduce((a, r) => a + r.seenChanges, 0),
      cpuBusy: median(rs.map((r) => r.cpuBusy)),
      perCpuSecond: median(rs.map((r) => r.perCpuSecond)),
      othersOnCore: median(rs.map((r) => r.othersOnCore)),
      probes: median(rs.map((r) => r.probesPerSecond)),
      odd: rs.reduce((a, r) => a + r.sampleOdd, 0),
      unanswered: rs.reduce((a, r) => a + r.sampleUnanswered, 0),
      sampled: rs.reduce((a, r) => a + r.sampled, 0),
      postErrors: rs.reduce((a, r) => a + r.postErrors, 0),
      notSettled: rs.filter((r) => !r.settled).length,
      codes: rs.at(-1)?.codes ?? {},
      warnings: [...new Set(rs.flatMap((r) => r.warnings))],
      oddExamples: [...new Set(rs.flatMap((r) => [...r.sampleOddExamples, ...r.postErrorExamples]))].slice(0, 3),
    });
  }
  return rows;
}

function render(o, rows) {
  const x = (v) => (Number.isFinite(v) ? `${v.toFixed(3)}×` : "–");
  const lines = [
    `| mode | QPS median | QPS ratio vs none (paired median) | lost queries | flips applied by hadns (/s) | answer changes seen over DNS (/s) | server CPU at full load | answers per server CPU-s (ratio vs none) | server CPU at ${o.rate / 1000}k q/s | extra CPU vs none at ${o.rate / 1000}k q/s (paired median) |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.mode} | ${fmtInt(r.qps)} | ${r.mode === "none" ? "1" : x(r.ratio)} | ${r.lost} of ${fmtInt(r.sent)}${r.rateLost ? ` (+${r.rateLost} at fixed rate)` : ""} | ${r.mode === "none" ? 0 : `${fmtInt(r.appliedTotal)} (${r.applied.toFixed(1)})`} | ${fmtInt(r.seenTotal)} (${r.seen.toFixed(1)}) | ${pct(r.cpuBusy)} | ${fmtInt(r.perCpuSecond)} (${r.mode === "none" ? "1" : x(r.cpuRatio)}) | ${pct1(r.rateShare)} | ${r.mode === "none" ? "–" : `${pp(r.extraShare)}`} |`,
    );
  }
  const details = ["", "| mode | QPS per round | paired QPS ratios | extra CPU at fixed rate, per round | other CPU on server core | probes answered /s | other transitions | sampler: asked, odd, unanswered | response codes |", "|---|---|---|---|---:|---:|---:|---|---|"];
  for (const r of rows) {
    details.push(
      `| ${r.mode} | ${r.qpsRuns.map((q) => (q / 1000).toFixed(1) + "k").join(", ")} | ${r.mode === "none" ? "" : r.ratios.map((v) => v.toFixed(3)).join(", ")} | ${r.mode === "none" ? "" : r.extraShares.map((v) => (v * 100).toFixed(1)).join(", ")} | ${pct(r.othersOnCore)} | ${fmtInt(r.probes)} | ${r.otherTransitions} | ${fmtInt(r.sampled)}, ${r.odd}, ${r.unanswered} | ${Object.entries(r.codes).map(([k, v]) => `${k} ${v}`).join(", ")} |`,
    );
  }
  return [...lines, ...details].join("\n");
}

function notes(o, rows) {
  const out = [];
  for (const r of rows) {
    if (r.lost > 0 || r.rateLost > 0) out.push(`${r.mode}: dnsperf lost ${r.lost} queries at full load and ${r.rateLost} at the fixed rate`);
    if (r.otherTransitions > 0) out.push(`${r.mode}: ${r.otherTransitions} transitions of secondaries (probe timeouts while hadns's core was saturated), not counted as flips`);
    if (r.odd > 0) out.push(`${r.mode}: the sampler got ${r.odd} answers that were neither the pool's primary nor its secondary, e.g. ${r.oddExamples.join("; ")}`);
    if (r.unanswered > 0) out.push(`${r.mode}: ${r.unanswered} sampler queries unanswered within 1 s`);
    if (r.postErrors > 0) out.push(`${r.mode}: ${r.postErrors} override POSTs failed, e.g. ${r.oddExamples.join("; ")}`);
    if (r.notSettled > 0) out.push(`${r.mode}: ${r.notSettled} runs did not settle back to every primary up within 8 s`);
    for (const w of r.warnings) out.push(`${r.mode}: dnsperf: ${w}`);
    const bad = Object.keys(r.codes).filter((c) => c !== "NOERROR");
    if (bad.length) out.push(`${r.mode}: answers with ${bad.join(", ")}`);
    if (r.mode !== "none" && r.ratio < 0.95) out.push(`${r.mode}: costs more than 5 % QPS (paired median ratio ${r.ratio.toFixed(3)})`);
    if (r.cpuBusy < 0.9) out.push(`${r.mode}: hadns used only ${pct(r.cpuBusy)} of its core: QPS was limited elsewhere (dnsperf's core, or other processes)`);
  }
  return out;
}

function renderMicro(m) {
  const row = (what, t, extra = "") => `| ${what} | ${us(t.medianUs)} | ${us(t.p99Us)} | ${us(t.meanUs)} | ${extra} |`;
  return [
    `In-process, ${m.pools} pools, ${m.ops} changes each (\`bench/lib/pool-change-cost.mjs\`, the same dist/):`,
    "",
    "| one pool change | median | p99 | mean | |",
    "|---|---:|---:|---:|---|",
    row("QueryEngine.updatePool (refill the lanes that read the pool; a state seen before reuses its fill)", m.updatePool, `${m.updatePool.lanesPerUpdate} lane per pool`),
    row("health transition: LivePools.endpointChanged", m.health, `${m.health.changesPerOp} pool change per transition`),
    row("override set (down/up): OverrideStore.add → LivePools.refresh() of every pool", m.override, `${m.override.activeOverrides} overrides active`),
    ...(m.overrideTargeted ? [row("override set, only the pools it names: OverrideStore.add → LivePools.overrideChanged", m.overrideTargeted, "")] : []),
    row("LivePools.refresh() of every pool when nothing changed", m.noopRefresh, ""),
  ].join("\n");
}

async function profileModes(o, ctx) {
  const out = [];
  for (const mode of o.profile) {
    const dir = path.join(OUT, `profile-${mode}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const server = await startHadns({ ...ctx.serverArgs, nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
    const admin = adminClient(ctx.adminPort);
    const sampler = await startSampler(server.port, ctx.pools, { everyMs: o.sampleEvery });
    log(`profiling ${mode}: ${server.command}`);
    let r;
    try {
      r = await runMode(mode, { ...ctx, server, admin, sampler });
    } finally {
      await sampler.stop();
      admin.close();
      await server.stop();
    }
    const file = fs.readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`no profile written in ${dir}`);
    const p = topSelfTime(path.join(dir, file), { repo: REPO, limit: 15 });
    out.push(
      `### ${mode}: ${fmtInt(r.qps)} q/s, lost ${r.lost}, flips applied ${r.applied}, server CPU ${pct(r.cpuBusy)}`,
      `Profile ${path.relative(REPO, path.join(dir, file))}: ${(p.totalMs / 1000).toFixed(1)} s sampled (start-up, warm-up and settling included), ${((100 * p.idleMs) / p.totalMs).toFixed(1)} % idle.`,
      "",
      "| # | function | where | self ms | % of non-idle |",
      "|---:|---|---|---:|---:|",
      ...p.top.map((t, i) => `| ${i + 1} | ${t.fn} | ${t.where || "(native)"} | ${t.selfMs.toFixed(0)} | ${t.pct.toFixed(1)} % |`),
      "",
      `By where the code lives: ${p.byGroup.map((g) => `${g.group} ${g.pct.toFixed(1)} %`).join(", ")}.`,
      "",
    );
  }
  return out.join("\n");
}

/** As snapshotDist, for a dist/ built elsewhere; modules still resolve from the repo's node_modules. */
function snapshotOf(dist) {
  const dest = path.join(OUT, "hadns");
  if (!fs.existsSync(path.join(dist, "cli/main.js"))) fail(`--dist ${dist}: no cli/main.js there`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  fs.cpSync(path.resolve(dist), path.join(dest, "dist"), { recursive: true });
  fs.copyFileSync(path.join(REPO, "package.json"), path.join(dest, "package.json"));
  return path.join(dest, "dist/cli/main.js");
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  checkTools();
  fs.mkdirSync(OUT, { recursive: true });
  if (!pinSelf(o.clientCore)) log(`pool-flips: warning: could not pin this script to core ${o.clientCore}`);

  const pools = flipPools(o.pools);
  // Primaries first (farm index i = pool i), then secondaries.
  const farm = await startEndpointFarm([...pools.map((p) => p.primaryProbe), ...pools.map((p) => p.secondaryProbe)]);
  const adminPort = await freePort();
  const { zone, config } = writeFlipInputs(OUT, { hosts: o.hosts, pools, checkPort: farm.port, adminPort, intervalMs: o.interval, timeoutMs: o.timeout });
  const queries = writeFlipQueries(OUT, { pools, hosts: o.hosts });
  const m = machine(o);
  const cli = o.dist ? snapshotOf(o.dist) : snapshotDist(OUT);
  const dist = path.dirname(path.dirname(cli));
  log(`zone ${path.relative(REPO, zone.hadnsZone)} (${zone.records - 10} records) + ${pools.length} pools in ${path.relative(REPO, config)}; ${2 * pools.length} HTTP endpoints on 127.0.1.x/127.0.2.x:${farm.port}; queries ${path.relative(REPO, queries)}`);

  const serverArgs = { zoneFile: zone.hadnsZone, configFile: config, origin: ORIGIN, core: o.serverCore, outDir: OUT, cli };
  const ctx = { o, farm, pools, queries, adminPort, serverArgs, quietBudgetMs: o.quietWait * 1000 * 3 * Math.max(1, o.rounds) };
  const text = [];
  try {
    if (o.profile.length) {
      const p = await profileModes(o, ctx);
      fs.writeFileSync(path.join(OUT, "profile.md"), p + "\n");
      console.log(p);
      return;
    }
    let micro;
    if (o.micro) {
      log("timing one pool change in-process …");
      micro = await poolChangeCost({ dist, zoneFile: zone.hadnsZone, origin: `${ORIGIN}.`, pools });
    }
    const runs = [];
    log(`about ${Math.ceil((o.rounds * o.modes.length * (o.duration + o.warmup + (o.rate ? o.rateDuration : 0) + 3) + o.rounds * 3) / 60)} min: ${o.rounds} rounds × ${o.modes.join("/")} × (${o.warmup} s warm-up + ${o.duration} s)`);
    for (let round = 1; round <= o.rounds; round++) {
      const order = o.modes.map((_, i) => o.modes[(i + round - 1) % o.modes.length]);
      const server = await startHadns(serverArgs);
      const admin = adminClient(adminPort);
      const sampler = await startSampler(server.port, pools, { everyMs: o.sampleEvery });
      log(`round ${round}/${o.rounds}: hadns pid ${server.pid} port ${server.port} ready in ${server.readySeconds.toFixed(2)} s; order ${order.join(", ")}`);
      if (round === 1) log(`    ${server.command}`);
      try {
        for (const mode of order) {
          const r = await runMode(mode, { ...ctx, server, admin, sampler });
          r.round = round;
          runs.push(r);
          log(`    ${mode.padEnd(6)} ${fmtInt(r.qps).padStart(8)} q/s  lost ${r.lost}  cpu ${pct(r.cpuBusy)}  others ${pct(r.othersOnCore)}  applied ${r.applied}  seen ${r.seenChanges}  odd ${r.sampleOdd}  probes ${fmtInt(r.probesPerSecond)}/s  @${o.rate}: cpu ${pct1(r.rateShare)}${r.settled ? "" : "  (did not settle)"}`);
        }
      } finally {
        await sampler.stop();
        admin.close();
        const how = await server.stop();
        if (how.code !== 0 && how.signal !== "SIGTERM") log(`    hadns stopped with ${JSON.stringify(how)}; see ${path.relative(REPO, path.join(OUT, "hadns.log"))}`);
      }
    }
    const rows = summarize(o, runs);
    m.loadavgEnd = os.loadavg().map((x) => x.toFixed(2)).join(" ");
    text.push(
      `${m.date} · ${m.nproc} cores, ${m.cpu} · Linux ${m.kernel} · Node ${m.node} · dnsperf ${m.dnsperf} · hadns ${m.hadns}`,
      `${pools.length} failover pools + ${zone.records - 10} static records; queries: 80 % A for the pool names, 20 % A/AAAA for static names, mixed case. ` +
        `hadns on core ${o.serverCore}; dnsperf, the ${2 * pools.length} HTTP endpoints, the flipper and the sampler on core ${o.clientCore}. ` +
        `${o.rounds} rounds, modes alternating; \`dnsperf -l ${o.duration} -c ${o.clients} -q ${o.outstanding}\` after ${o.warmup} s warm-up. ` +
        `Check: http, interval ${o.interval} ms, timeout ${o.timeout} ms, fall 1, rise 1, no flap damping. Load average ${m.loadavg} at start, ${m.loadavgEnd} at end.`,
      "",
      render(o, rows),
    );
    const n = notes(o, rows);
    if (n.length) text.push("", ...n.map((x) => `- ${x}`));
    if (micro) text.push("", renderMicro(micro));
    fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify({ machine: m, options: o, rows, runs, micro }, null, 2) + "\n");
    fs.writeFileSync(path.join(OUT, "table.md"), text.join("\n") + "\n");
    console.log(text.join("\n"));
  } finally {
    await farm.close();
  }
}

main().catch((e) => {
  console.error(`pool-flips: ${e.stack ?? e}`);
  process.exit(1);
});
