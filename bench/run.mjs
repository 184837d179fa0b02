#!/usr/bin/env node
// hadns beside Knot DNS under dnsperf, on the same generated zone, in the same run: QPS at full
// load, server CPU µs per query and p50/p99 latency at a fixed offered load, lost queries, RSS.
// The servers run one after the other (never at once), alternating first/second each round, pinned
// to one core; dnsperf and this script run on another. Medians over the rounds are reported. Then
// both servers are run once more at half of Knot's full-load QPS, for p50/p99 at that load.
// Usage: npm run bench -- [--rounds N] [--duration S] [--sets static,mixed,tcp] [--workers N] [--profile] [--help]

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runDnsperf } from "./lib/dnsperf.mjs";
import { coreTimes, pinSelf, treeCpuSeconds, treeMemory, waitForQuiet } from "./lib/proc.mjs";
import { topSelfTime } from "./lib/profile.mjs";
import { REPO, hadnsLauncher, knotVersion, snapshotDist, startHadns, startKnot } from "./lib/servers.mjs";
import { QUERY_SETS, writeHadnsConfig, writeQueries, writeZone } from "./lib/zonegen.mjs";
import { ZONE_SIZE_DEFAULTS, zoneSizeReport } from "./zone-size.mjs";
import net from "node:net";

const OUT = path.join(REPO, "bench/out");

/** Query sets as run: a query file (from zonegen's QUERY_SETS) and a transport. */
const SETS = {
  ...Object.fromEntries(Object.entries(QUERY_SETS).map(([k, v]) => [k, { queries: k, mode: "udp", describe: v.describe }])),
  tcp: { queries: "static", mode: "tcp", describe: "the static queries over TCP, several per connection" },
};

const DEFAULTS = {
  rounds: 3,
  duration: 10, // s of full-load dnsperf per set, server and round
  warmup: 1, // s of unrecorded load before each set (lets V8 compile the hot path)
  rate: 20000, // q/s offered for the CPU-per-query and latency run
  rateDuration: 5, // s of that run
  sets: "static,health,mixed,tcp",
  hosts: 1000, // names in the generated zone (about 2.6 records each)
  clients: 4,
  outstanding: 100,
  serverCore: "1", // a taskset list: "1", or "0-1" for --workers 2 on this machine
  clientCore: 0,
  workers: 1, // hadns --workers
  halfRate: 1, // 1: after the rounds, p50/p99 of both servers at half of Knot's full-load QPS
  zoneSizes: ZONE_SIZE_DEFAULTS.sizes, // then the zone-size table (bench/zone-size.mjs); "0": skip it
  queries: 20000, // lines per query file (dnsperf loops over it)
  quietWait: 10, // s to wait, at most, for both cores to be under 25 % busy before each set (0: never)
};

const HELP = `bench/run.mjs: hadns beside Knot DNS under dnsperf (see bench/README.md)

  --rounds N          rounds; each runs both servers, alternating which goes first (${DEFAULTS.rounds})
  --duration S        seconds of full-load dnsperf per set, server and round (${DEFAULTS.duration})
  --warmup S          unrecorded seconds of load before each set (${DEFAULTS.warmup})
  --rate Q            offered q/s for CPU µs/query and p50/p99 (${DEFAULTS.rate})
  --rate-duration S   seconds of that fixed-rate run (${DEFAULTS.rateDuration})
  --sets a,b          query sets: ${Object.keys(SETS).join(", ")} (${DEFAULTS.sets});
                      tcp = the static queries over TCP, dnsperf -m tcp (one connection per
                      client, every query of the run on it, up to --outstanding at once)
  --hosts N           host names in the generated zone (${DEFAULTS.hosts})
  --clients N         dnsperf -c (${DEFAULTS.clients})
  --outstanding N     dnsperf -q (${DEFAULTS.outstanding})
  --server-core L     core(s) for the server under test, a taskset list (${DEFAULTS.serverCore}); every thread
                      of the server and its children is pinned again once it answers (Knot moves
                      its UDP worker to core 0 by itself)
  --workers N         hadns --workers N (${DEFAULTS.workers}); give it as many cores in --server-core
  --half-rate 0|1     measure p50/p99 at half of Knot's full-load QPS after the rounds (${DEFAULTS.halfRate})
  --zone-sizes a,b,c  then load time, RSS and QPS by zone size, as bench/zone-size.mjs does
                      (${DEFAULTS.zoneSizes}; 0: skip)
  --client-core N     core for dnsperf and this script (${DEFAULTS.clientCore})
  --quiet-wait S      before each set, wait up to S seconds for both cores to be < 25 % busy
                      from other processes (${DEFAULTS.quietWait}; at most 6×S in a whole run; 0: never)
  --only hadns|knot   run one server only
  --profile           instead: run hadns under node --cpu-prof at full load on the first set and
                      print the top 10 functions by self time
  --help

Needs dnsperf, knotd and taskset (apt-get install dnsperf knot) and a built hadns (npm run build).
Writes the zone, query files, logs and results (results.json, table.md) to bench/out/.`;

function parseArgs(argv) {
  const o = { ...DEFAULTS, only: null, profile: false };
  const camel = (s) => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === "--help" || a === "-h") {
      console.log(HELP);
      process.exit(0);
    }
    if (a === "--profile") {
      o.profile = true;
      continue;
    }
    let v;
    if (a.includes("=")) [a, v] = [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)];
    const key = camel(a.replace(/^--/, ""));
    if (!a.startsWith("--") || !(key in o) || key === "profile") usage(`unknown option ${a}`);
    v ??= argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    if (typeof DEFAULTS[key] === "number") {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) usage(`${a}: not a number: ${v}`);
      o[key] = n;
    } else o[key] = v;
  }
  o.sets = o.sets.split(",").map((s) => s.trim()).filter(Boolean);
  for (const s of o.sets) if (!SETS[s]) usage(`unknown query set "${s}" (known: ${Object.keys(SETS).join(", ")})`);
  if (!/^\d+([-,]\d+)*$/.test(String(o.serverCore))) usage(`--server-core: not a taskset core list: ${o.serverCore}`);
  if (o.only && !["hadns", "knot"].includes(o.only)) usage("--only takes hadns or knot");
  if (o.rounds < 1 || o.duration < 1) usage("--rounds and --duration must be at least 1");
  return o;
}

function usage(msg) {
  console.error(`bench: ${msg}\n\n${HELP}`);
  process.exit(2);
}

function onPath(cmd) {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin"];
  return dirs.some((d) => {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function checkTools(o) {
  const missing = ["dnsperf", "taskset", ...(o.only === "hadns" ? [] : ["knotd"])].filter((c) => !onPath(c));
  if (missing.length > 0) {
    console.error(`bench: missing ${missing.join(", ")}. Install with:\n  apt-get install dnsperf knot   (taskset is in util-linux)`);
    process.exit(2);
  }
  // knotd lives in /usr/sbin, which a non-root PATH may lack.
  for (const d of ["/usr/sbin", "/sbin"]) if (!(process.env.PATH ?? "").split(":").includes(d)) process.env.PATH = `${process.env.PATH ?? ""}:${d}`;
  if (o.only !== "knot" && !hadnsLauncher()) {
    console.error("bench: hadns is not built (no dist/). Run `npm run build` first.");
    process.exit(2);
  }
  const cores = os.cpus().length;
  if (cores < 2) console.error("bench: warning: one core only; server and dnsperf share it, so figures are not comparable with other machines");
  const listed = String(o.serverCore).split(/[-,]/).map(Number);
  if (Math.max(...listed, o.clientCore) >= cores) usage(`cores ${o.serverCore}/${o.clientCore} do not exist here (${cores} cores)`);
}

function machine() {
  const cpu = (fs.readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? "?";
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "?";
    }
  };
  const dirty = sh("git", ["status", "--porcelain", "--", "src"]) !== "" ? " (src/ has uncommitted changes)" : "";
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    nproc: os.cpus().length, // not availableParallelism(): this script pins itself to one core
    cpu,
    node: process.version,
    knot: knotVersion(),
    dnsperf: (sh("sh", ["-c", "dnsperf -h 2>&1 | grep -i '^Version'"]).match(/[\d.]+/) ?? ["?"])[0],
    kernel: os.release(),
    hadnsCommit: sh("git", ["rev-parse", "--short", "HEAD"]) + dirty,
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(" "),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const a = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};

async function startServer(name, o, zone) {
  const common = { zoneFile: zone.file, origin: zone.origin, core: o.serverCore, outDir: OUT };
  if (name !== "hadns") return startKnot(common);
  // hadns serves the pools' names from health checks (config), Knot the same answers statically.
  return startHadns({ ...common, ...(zone.hadnsConfig ? { configFile: zone.hadnsConfig } : {}), ...(hadnsCli ? { cli: hadnsCli } : {}), workers: o.workers });
}

/** The first core of the server's list: the one whose load from other processes is reported. */
const firstCore = (o) => Number(String(o.serverCore).split(/[-,]/)[0]);

/** One server, every set: warm-up, full-load run, fixed-rate run. */
async function measureServer(server, o, files) {
  const out = {};
  const ready = treeMemory(server.pid);
  for (const set of o.sets) {
    const cfg = { port: server.port, clients: o.clients, outstanding: o.outstanding, core: String(o.clientCore), mode: SETS[set].mode };
    // This machine is shared: let someone else's burst pass before measuring (bounded, and reported).
    let gate = { waitedMs: 0, quiet: true, busy: [] };
    if (o.quietWait > 0 && quietBudgetMs > 0) {
      gate = await waitForQuiet({ cores: [firstCore(o), o.clientCore], maxMs: Math.min(o.quietWait * 1000, quietBudgetMs) });
      quietBudgetMs -= gate.waitedMs;
      if (!gate.quiet) log(`    (other processes still keep the cores ${gate.busy.map(pct).join(" / ")} busy; measuring anyway)`);
    }
    if (o.warmup > 0) await runDnsperf({ ...cfg, queries: files[set], seconds: o.warmup });
    await sleep(200);

    // Full load: QPS, lost, and how busy the server's core was (by the server and by others).
    const c0 = treeCpuSeconds(server.pid);
    const k0 = coreTimes()[firstCore(o)];
    const t0 = process.hrtime.bigint();
    const full = await runDnsperf({ ...cfg, queries: files[set], seconds: o.duration });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const serverCpu = treeCpuSeconds(server.pid) - c0;
    const k1 = coreTimes()[firstCore(o)];
    await sleep(200);

    // Fixed rate: server CPU per answered query; latency percentiles from dnsperf -v.
    const r0 = treeCpuSeconds(server.pid);
    const fixed = await runDnsperf({ ...cfg, queries: files[set], seconds: o.rateDuration, rate: o.rate, latency: true });
    const rateCpu = treeCpuSeconds(server.pid) - r0;
    await sleep(200);

    out[set] = {
      qps: full.qps,
      lost: full.lost,
      sent: full.sent,
      codes: full.codes,
      avgLatency: full.avgLatency,
      cpuBusy: serverCpu / wall, // share of the server core the server used at full load
      // Answers per second of server CPU at full load: what the server could do with the core to
      // itself. Less disturbed by other processes than QPS (but not immune: caches, switches).
      perCpuSecond: serverCpu > 0 ? full.completed / serverCpu : NaN,
      startedQuiet: gate.quiet,
      othersOnCore: k1 && k0 ? Math.max(0, k1.busy - k0.busy - serverCpu) / wall : NaN,
      steal: k1 && k0 ? (k1.steal - k0.steal) / wall : NaN,
      rateQps: fixed.qps,
      rateLost: fixed.lost,
      cpuUsPerQuery: fixed.completed > 0 ? (rateCpu * 1e6) / fixed.completed : NaN,
      p50: fixed.p50,
      p99: fixed.p99,
      warnings: [...full.warnings, ...fixed.warnings],
      command: full.command,
      rateCommand: fixed.command,
    };
    const s = out[set];
    log(`    ${set.padEnd(8)} ${fmtInt(s.qps).padStart(8)} q/s  lost ${s.lost}  cpu ${pct(s.cpuBusy)}  | @${o.rate}: ${fmt1(s.cpuUsPerQuery)} µs/q  p50 ${ms(s.p50)}  p99 ${ms(s.p99)}  lost ${s.rateLost}`);
  }
  const mem = treeMemory(server.pid);
  return { sets: out, rssReadyKiB: ready.rssKiB, rssKiB: mem.rssKiB, hwmKiB: mem.hwmKiB, readySeconds: server.readySeconds, affinity: server.affinity };
}

const affinityOf = (rs) => [...new Set((rs ?? []).flatMap((r) => r.affinity ?? []))].map((c) => `core ${c}`).join(", ") || "–";

let quietBudgetMs = 0;
/** The CLI inside bench/out/hadns/ (a copy of dist/ taken at the start), when there is one. */
let hadnsCli = null;
const log = (s) => process.stderr.write(s + "\n");
const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const fmt1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)} %` : "–");
const ms = (s) => (Number.isFinite(s) ? `${(s * 1000).toFixed(3)} ms` : "–");
const mib = (kib) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : "–");

async function benchmark(o, zone, files) {
  const servers = o.only ? [o.only] : ["hadns", "knot"];
  const runs = { hadns: [], knot: [] };
  quietBudgetMs = o.quietWait * 6 * 1000;
  for (let r = 1; r <= o.rounds; r++) {
    const order = r % 2 === 1 ? servers : [...servers].reverse();
    for (const name of order) {
      const server = await startServer(name, o, zone);
      log(`round ${r}/${o.rounds}: ${name} (pid ${server.pid}, port ${server.port}, ready in ${server.readySeconds.toFixed(2)} s)`);
      if (r === 1) log(`    ${server.command}`);
      try {
        runs[name].push(await measureServer(server, o, files));
      } finally {
        const how = await server.stop();
        if (how.code !== 0 && how.signal !== "SIGTERM") log(`    ${name} stopped with ${JSON.stringify(how)}; see bench/out/${name}.log`);
      }
      await sleep(300);
    }
  }
  return runs;
}

/**
 * Latency at half of Knot's maximum (issue 5): each server once more, every set at a fixed rate of
 * half Knot's median full-load QPS for that set; p50/p99 from dnsperf -v. Adds `half` to the rows.
 */
async function halfRate(o, zone, files, rows) {
  for (const name of ["hadns", "knot"]) {
    const server = await startServer(name, o, zone);
    log(`half of Knot's QPS: ${name} (pid ${server.pid}, port ${server.port})`);
    try {
      for (const row of rows) {
        if (!row.knot || !row.hadns) continue;
        const rate = Math.round(row.knot.qps / 2);
        const cfg = { port: server.port, clients: o.clients, outstanding: o.outstanding, core: String(o.clientCore), mode: SETS[row.set].mode, queries: files[row.set] };
        if (o.quietWait > 0) await waitForQuiet({ cores: [firstCore(o), o.clientCore], maxMs: o.quietWait * 1000 });
        if (o.warmup > 0) await runDnsperf({ ...cfg, seconds: o.warmup });
        await sleep(200);
        const r = await runDnsperf({ ...cfg, seconds: o.rateDuration, rate, latency: true });
        row.half ??= { rate };
        row.half[name] = { qps: r.qps, lost: r.lost, p50: r.p50, p99: r.p99, command: r.command };
        log(`    ${row.set.padEnd(8)} @${rate}: ${fmtInt(r.qps)} q/s answered  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}  lost ${r.lost}`);
      }
    } finally {
      await server.stop();
    }
    await sleep(300);
  }
}

function summarize(o, runs) {
  const rows = [];
  for (const set of o.sets) {
    const side = (name) => {
      const rs = runs[name].map((r) => r.sets[set]).filter(Boolean);
      if (rs.length === 0) return null;
      return {
        qps: median(rs.map((x) => x.qps)),
        qpsRuns: rs.map((x) => x.qps),
        cpuUs: median(rs.map((x) => x.cpuUsPerQuery)),
        cpuBusy: median(rs.map((x) => x.cpuBusy)),
        perCpuSecond: median(rs.map((x) => x.perCpuSecond)),
        othersOnCore: median(rs.map((x) => x.othersOnCore)),
        steal: median(rs.map((x) => x.steal)),
        p50: median(rs.map((x) => x.p50)),
        p99: median(rs.map((x) => x.p99)),
        rateQps: median(rs.map((x) => x.rateQps)),
        lost: rs.reduce((n, x) => n + x.lost + x.rateLost, 0),
        sent: rs.reduce((n, x) => n + x.sent, 0),
        codes: rs[rs.length - 1].codes,
        rssKiB: median(runs[name].map((r) => r.rssKiB)),
        rssReadyKiB: median(runs[name].map((r) => r.rssReadyKiB)),
        hwmKiB: median(runs[name].map((r) => r.hwmKiB)),
        readySeconds: median(runs[name].map((r) => r.readySeconds)),
        warnings: [...new Set(rs.flatMap((x) => x.warnings))],
      };
    };
    rows.push({ set, hadns: side("hadns"), knot: side("knot") });
  }
  return rows;
}

function codeShares(codes) {
  const total = Object.values(codes).reduce((a, b) => a + b, 0) || 1;
  return Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, v / total]));
}

function renderTable(o, rows) {
  const g = (side, f) => (side ? f(side) : "–");
  const lines = [
    "| query set | hadns QPS | Knot QPS | ratio | hadns CPU µs/q | Knot CPU µs/q | CPU ratio | at ½ Knot QPS | hadns p50 / p99 | Knot p50 / p99 | lost (hadns / Knot) | hadns RSS | Knot RSS |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const { set, hadns, knot, half } of rows) {
    const ratio = hadns && knot ? `${(hadns.qps / knot.qps).toFixed(2)}×` : "–";
    const cpuRatio = hadns && knot ? `${(hadns.cpuUs / knot.cpuUs).toFixed(2)}×` : "–";
    const lat = (h) => (h ? `${ms(h.p50)} / ${ms(h.p99)}` : "–");
    const lost = (side, h) => (side ? side.lost + (h?.lost ?? 0) : "–");
    lines.push(
      `| ${set} | ${g(hadns, (s) => fmtInt(s.qps))} | ${g(knot, (s) => fmtInt(s.qps))} | ${ratio} | ${g(hadns, (s) => fmt1(s.cpuUs))} | ${g(knot, (s) => fmt1(s.cpuUs))} | ${cpuRatio} | ${half ? `${fmtInt(half.rate)} q/s` : "–"} | ${lat(half?.hadns)} | ${lat(half?.knot)} | ${lost(hadns, half?.hadns)} / ${lost(knot, half?.knot)} | ${g(hadns, (s) => mib(s.rssKiB))} | ${g(knot, (s) => mib(s.rssKiB))} |`,
    );
  }
  return lines.join("\n");
}

function renderDetails(o, rows) {
  const lines = [
    "| query set | server | QPS per round | server CPU at full load | answers per server CPU-second | other CPU on server core | p50 / p99 at " + `${o.rate / 1000}k q/s` + " | CPU µs/q ratio | RSS ready → after | response codes |",
    "|---|---|---|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const { set, hadns, knot } of rows) {
    for (const [name, s] of [["hadns", hadns], ["Knot", knot]]) {
      if (!s) continue;
      const ratio = name === "hadns" && knot ? `${(s.cpuUs / knot.cpuUs).toFixed(2)}×` : "";
      const codes = Object.entries(codeShares(s.codes)).map(([k, v]) => `${k} ${(v * 100).toFixed(1)} %`).join(", ");
      lines.push(`| ${set} | ${name} | ${s.qpsRuns.map((q) => (q / 1000).toFixed(1) + "k").join(", ")} | ${pct(s.cpuBusy)} | ${fmtInt(s.perCpuSecond)} | ${pct(s.othersOnCore)} | ${ms(s.p50)} / ${ms(s.p99)} | ${ratio} | ${mib(s.rssReadyKiB)} → ${mib(s.rssKiB)} | ${codes} |`);
    }
  }
  return lines.join("\n");
}

/** Things a reader must not miss: lost queries, errors, differing answers, saturation. */
function oddities(o, rows) {
  const notes = [];
  for (const { set, hadns, knot } of rows) {
    for (const [name, s] of [["hadns", hadns], ["Knot", knot]]) {
      if (!s) continue;
      if (s.lost > 0) notes.push(`${set}: ${name} lost ${s.lost} queries (of ${s.sent} sent at full load, plus the fixed-rate runs)`);
      const bad = Object.keys(s.codes).filter((c) => !["NOERROR", "NXDOMAIN"].includes(c));
      if (bad.length) notes.push(`${set}: ${name} answered ${bad.join(", ")} to some queries`);
      if (s.rateQps < o.rate * 0.95) notes.push(`${set}: ${name} answered only ${fmtInt(s.rateQps)} q/s of the ${o.rate} offered in the fixed-rate run`);
      for (const w of s.warnings) notes.push(`${set}: dnsperf against ${name}: ${w}`);
    }
    if (hadns && knot) {
      const a = codeShares(hadns.codes);
      const b = codeShares(knot.codes);
      for (const c of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (Math.abs((a[c] ?? 0) - (b[c] ?? 0)) > 0.01) notes.push(`${set}: response codes differ: ${c} ${((a[c] ?? 0) * 100).toFixed(1)} % from hadns, ${((b[c] ?? 0) * 100).toFixed(1)} % from Knot`);
      }
      if (hadns.cpuBusy > 0.95) {
        const k = knot.cpuBusy < 0.85 ? `Knot used ${pct(knot.cpuBusy)}: dnsperf's core limits it` : `Knot used ${pct(knot.cpuBusy)}: it is near its own ceiling too`;
        notes.push(`${set}: hadns used ${pct(hadns.cpuBusy)} of its core at full load: it is CPU-bound, so its QPS is its own ceiling (${k})`);
      }
    }
  }
  return notes;
}

async function profile(o, zone, files) {
  const dir = path.join(OUT, "profile");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const set = o.sets[0];
  const server = await startHadns({ zoneFile: zone.file, origin: zone.origin, core: o.serverCore, outDir: OUT, nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`] });
  log(`profiling: ${server.command}`);
  const cfg = { port: server.port, clients: o.clients, outstanding: o.outstanding, core: String(o.clientCore), queries: files[set] };
  let full;
  try {
    await runDnsperf({ ...cfg, seconds: o.warmup });
    full = await runDnsperf({ ...cfg, seconds: o.duration });
  } finally {
    await server.stop();
  }
  const prof = fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (prof.length === 0) throw new Error(`no .cpuprofile written in ${dir} (did hadns exit cleanly? see bench/out/hadns.log)`);
  const file = path.join(dir, prof[0]);
  const { totalMs, idleMs, top, byGroup } = topSelfTime(file, { repo: REPO, limit: 10 });
  const lines = [
    `hadns under dnsperf, set "${set}", ${o.duration} s at full load: ${fmtInt(full.qps)} q/s, lost ${full.lost}. Profile ${path.relative(REPO, file)}: ${(totalMs / 1000).toFixed(1)} s sampled, ${((100 * idleMs) / totalMs).toFixed(1)} % idle (includes start-up and the warm-up).`,
    "",
    "| # | function | where | self ms | % of non-idle |",
    "|---:|---|---|---:|---:|",
    ...top.map((t, i) => `| ${i + 1} | ${t.fn} | ${t.where || "(native)"} | ${t.selfMs.toFixed(0)} | ${t.pct.toFixed(1)} % |`),
    "",
    `Non-idle self time by where the code lives: ${byGroup.map((g) => `${g.group} ${g.pct.toFixed(1)} %`).join(", ")}.`,
  ];
  const text = lines.join("\n");
  fs.writeFileSync(path.join(OUT, "profile.md"), text + "\n");
  console.log(text);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  checkTools(o);
  fs.mkdirSync(OUT, { recursive: true });
  if (!pinSelf(o.clientCore)) log(`bench: warning: could not pin this script to core ${o.clientCore}`);

  const zone = writeZone(OUT, { hosts: o.hosts });
  // The health checks of hadns's pools probe this listener, which stays up for the whole run.
  const checkTarget = net.createServer((c) => c.destroy()).listen(0, "127.0.0.1");
  await new Promise((r) => checkTarget.once("listening", r));
  checkTarget.unref();
  zone.hadnsConfig = writeHadnsConfig(OUT, zone, checkTarget.address().port);
  const files = Object.fromEntries(o.sets.map((s) => [s, writeQueries(OUT, SETS[s].queries, zone, { count: o.queries })]));
  log(`zone ${path.relative(REPO, zone.file)}: ${zone.records} records; query sets: ${o.sets.map((s) => `${s} (${SETS[s].describe})`).join("; ")}`);

  if (o.profile) return profile(o, zone, files);

  const m = machine(); // the commit, taken with the copy of dist/ below
  if (o.only !== "knot" && hadnsLauncher() === "cli") hadnsCli = snapshotDist(OUT);
  const per = o.sets.length * (o.warmup + o.duration + o.rateDuration + 0.6) + 1;
  const half = o.halfRate && !o.only ? 2 * (o.sets.length * (o.warmup + o.rateDuration + 0.4) + 1) : 0;
  log(`about ${Math.ceil((per * o.rounds * (o.only ? 1 : 2) + half) / 60)} min: ${o.rounds} rounds × ${o.only ? 1 : 2} servers × ${o.sets.length} sets × (${o.warmup} s warm-up + ${o.duration} s full load + ${o.rateDuration} s at ${o.rate} q/s)`);
  const runs = await benchmark(o, zone, files);
  const rows = summarize(o, runs);
  if (o.halfRate && !o.only) await halfRate(o, zone, files, rows);
  m.loadavgEnd = os.loadavg().map((x) => x.toFixed(2)).join(" ");

  const header = [
    `${m.date} · ${m.nproc} cores, ${m.cpu} · Linux ${m.kernel} · Node ${m.node} · Knot ${m.knot} · dnsperf ${m.dnsperf} · hadns ${m.hadnsCommit}`,
    `Zone: ${zone.records} records (${zone.hosts} hosts). Pinning: each server started under \`taskset -c ${o.serverCore}\` and, once it answered, every thread of it (and of its children) pinned again with \`taskset -a -p -c ${o.serverCore}\` ` +
      `(threads then allowed: hadns ${affinityOf(runs.hadns)}, Knot ${affinityOf(runs.knot)}); dnsperf and this script on core ${o.clientCore}. Knot with 1 UDP worker, 1 TCP worker; hadns with ${o.workers} worker${o.workers === 1 ? " (one process)" : "s"}. ` +
      `${o.rounds} rounds, servers alternating; medians. Full load: \`dnsperf -l ${o.duration} -c ${o.clients} -q ${o.outstanding}\` after ${o.warmup} s warm-up; ` +
      `CPU µs/q: \`-Q ${o.rate} -l ${o.rateDuration}\` (server utime+stime from /proc, process and children, over queries answered); p50/p99: \`-Q <½ Knot's QPS> -l ${o.rateDuration}\`. RSS after the runs (summed over processes). Load average ${m.loadavg} at start, ${m.loadavgEnd} at end.`,
  ].join("\n");
  const notes = oddities(o, rows);
  let sizes = "";
  if (String(o.zoneSizes) !== "0") {
    log("zone sizes (bench/zone-size.mjs):");
    const zs = { ...ZONE_SIZE_DEFAULTS, sizes: String(o.zoneSizes).split(",").map(Number), duration: o.duration, warmup: o.warmup, serverCore: firstCore(o), clientCore: o.clientCore, only: o.only ?? "" };
    sizes = `\n\nZone size: time from start until the zone's SOA is answered, RSS then (peak), and QPS at full load on random names of that zone (\`dnsperf -l ${o.duration} -c 4 -q 100\`).\n\n${await zoneSizeReport(zs)}`;
  }
  const text = [header, "", renderTable(o, rows), "", renderDetails(o, rows), ...(notes.length ? ["", ...notes.map((n) => `- ${n}`)] : [])].join("\n") + sizes;
  fs.writeFileSync(path.join(OUT, "table.md"), text + "\n");
  fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify({ machine: m, options: o, zone, rows, runs }, null, 2) + "\n");
  console.log(text);
}

main().catch((e) => {
  console.error(`bench: ${e.stack ?? e}`);
  process.exit(1);
});
