#!/usr/bin/env node
// What counting queries for /metrics costs. Each round starts two hadns servers of the same build,
// pinned to the same core: one counting (as shipped), one with HADNS_NO_QUERY_STATS=1 (a switch that
// exists only for this measurement). dnsperf, pinned to another core with this script, loads one at
// a time, alternating which goes first, so both see the same neighbours; the median of the per-pair
// ratios over the rounds is the result. Also: server CPU µs per query (utime+stime, /proc/PID/stat)
// at full load and at a fixed offered load, full load with /metrics scraped every 250 ms vs not,
// and the counting timed in-process (engine.answer over the query file, counting on vs off).
// The issue's bound: counting costs ≤ 5 % of QPS.
// Usage: node bench/metrics-overhead.mjs [--rounds 6] [--duration 10] [--rate 20000] [--set static] [--help]

import { execFileSync, spawn } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseOptions } from "./lib/args.mjs";
import { runDnsperf } from "./lib/dnsperf.mjs";
import { pinSelf, processCpuSeconds, waitForQuiet } from "./lib/proc.mjs";
import { REPO, freePort } from "./lib/servers.mjs";
import { QUERY_SETS, writeQueries, writeZone } from "./lib/zonegen.mjs";

const OUT = path.join(REPO, "bench/out/metrics-overhead");
const DEFAULTS = {
  rounds: 6, // each with a fresh pair of servers
  pairs: 1, // on/off pairs of full-load runs per round
  duration: 10, // s of each full-load run (dnsperf -l)
  ratePairs: 1, // on/off pairs at the fixed offered load per round
  rate: 20000, // q/s offered (dnsperf -Q)
  rateDuration: 5,
  scrapePairs: 1, // pairs of full-load runs on the counting server per round, scraped vs not
  scrapeMs: 250,
  microReps: 40, // in-process: passes over the query file per engine
  set: "static",
  hosts: 1000,
  clients: 4,
  outstanding: 100,
  serverCore: 1,
  clientCore: 0,
  quietWait: 5, // s to wait, at most, for both cores to be < 25 % busy before each pair
};

const HELP = `node bench/metrics-overhead.mjs [options]   (writes bench/out/metrics-overhead/)
${Object.entries(DEFAULTS)
  .map(([k, v]) => `  --${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} ${v}`)
  .join("\n")}`;

function parseArgs(argv) {
  const o = parseOptions(argv, DEFAULTS, HELP);
  if (!QUERY_SETS[o.set]) throw new Error(`unknown query set ${o.set}`);
  return o;
}

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};
const quartiles = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  const q = (p) => a[Math.min(a.length - 1, Math.floor(p * a.length))];
  return [q(0.25), q(0.75)];
};

/** Builds this tree into OUT/hadns/dist (never touching dist/, which others may be using). */
function build() {
  const root = path.join(OUT, "hadns");
  const dest = path.join(root, "dist");
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  fs.copyFileSync(path.join(REPO, "package.json"), path.join(root, "package.json"));
  try {
    execFileSync(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", path.join(REPO, "tsconfig.json"), "--outDir", dest], { stdio: "pipe" });
  } catch (e) {
    // tsc emits despite type errors elsewhere in a shared tree; a missing CLI is the real failure.
    if (!fs.existsSync(path.join(dest, "cli/main.js"))) throw new Error(`build failed:\n${e.stdout}`);
    console.error(`note: tsc reported errors (elsewhere in the tree); using what it emitted:\n${String(e.stdout).trim().split("\n").slice(0, 5).join("\n")}`);
  }
  return dest;
}

function get(url) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    http
      .get(url, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode, body, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
      })
      .on("error", reject);
  });
}

function encodeName(name) {
  const parts = name.split(".").filter(Boolean).flatMap((l) => [Buffer.from([l.length]), Buffer.from(l, "ascii")]);
  return Buffer.concat([...parts, Buffer.from([0])]);
}

const TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 };

/** A query in wire form: ID, RD off, one question of class IN. */
function wireQuery(id, name, type) {
  const t = TYPES[type] ?? 1;
  return Buffer.concat([Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), encodeName(name), Buffer.from([t >> 8, t & 255, 0, 1])]);
}

function soaAnswered(port, origin) {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const t = setTimeout(() => done(false), 300);
    const done = (ok) => {
      clearTimeout(t);
      s.close();
      resolve(ok);
    };
    s.on("error", () => done(false));
    s.on("message", (m) => done((m[3] & 0x0f) === 0 && m.readUInt16BE(6) > 0));
    s.send(wireQuery(0x1234, origin, "SOA"), port, "127.0.0.1");
  });
}

/** Ports handed out so far: freePort only knows a port is free now, not that it stays so. */
const taken = new Set();

async function startServer(cli, o, zoneFile, origin, counting) {
  const pick = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) return (taken.add(p), p);
    }
  };
  const port = await pick();
  const adminPort = await pick();
  const cfg = path.join(OUT, `admin-${counting ? "on" : "off"}.yaml`);
  fs.writeFileSync(cfg, `admin: { listen: "127.0.0.1:${adminPort}" }\n`);
  const args = [cli, "serve", "--config", cfg, "--zone", zoneFile, "--listen", `127.0.0.1:${port}`, "--log-level", "warn"];
  const env = { ...process.env, NODE_ENV: "production" };
  if (!counting) env.HADNS_NO_QUERY_STATS = "1";
  else delete env.HADNS_NO_QUERY_STATS;
  const logFile = path.join(OUT, `hadns-${counting ? "on" : "off"}.log`);
  const log = fs.openSync(logFile, "w");
  const child = spawn("taskset", ["-c", String(o.serverCore), process.execPath, ...args], { stdio: ["ignore", log, log], env });
  fs.closeSync(log);
  const exit = new Promise((r) => child.on("exit", r));
  const deadline = Date.now() + 30_000;
  while (!(await soaAnswered(port, origin))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`hadns did not start; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const rel = (p) => path.relative(REPO, p);
  return {
    name: counting ? "on" : "off",
    pid: child.pid,
    port,
    metricsUrl: `http://127.0.0.1:${adminPort}/metrics`,
    command: `${counting ? "" : "HADNS_NO_QUERY_STATS=1 "}taskset -c ${o.serverCore} node ${rel(cli)} serve --config ${rel(cfg)} --zone ${rel(zoneFile)} --listen 127.0.0.1:${port} --log-level warn`,
    async stop() {
      child.kill("SIGTERM");
      await exit;
    },
  };
}

/** Sum of hadns_queries_total in an exposition. */
function countedQueries(text) {
  let n = 0;
  for (const l of text.split("\n")) if (l.startsWith("hadns_queries_total{")) n += Number(l.slice(l.lastIndexOf(" ") + 1));
  return n;
}

/** One dnsperf run against `srv`, with its CPU time; optionally scraping /metrics meanwhile. */
async function load(srv, o, queries, { seconds, rate, scrape } = {}) {
  const scrapes = [];
  let timer;
  if (scrape) {
    let busy = false;
    timer = setInterval(() => {
      if (busy) return;
      busy = true;
      get(srv.metricsUrl)
        .then((r) => scrapes.push({ ms: r.ms, bytes: Buffer.byteLength(r.body), ok: r.status === 200 }))
        .catch(() => scrapes.push({ ok: false }))
        .finally(() => (busy = false));
    }, o.scrapeMs);
  }
  const c0 = processCpuSeconds(srv.pid);
  const r = await runDnsperf({ port: srv.port, queries, clients: o.clients, outstanding: o.outstanding, core: String(o.clientCore), seconds, ...(rate ? { rate } : {}) });
  const c1 = processCpuSeconds(srv.pid);
  clearInterval(timer);
  return { qps: r.qps, completed: r.completed, lost: r.lost, cpuUsPerQ: ((c1 - c0) * 1e6) / r.completed, cpuShare: (c1 - c0) / r.runTime, command: r.command, scrapes };
}

async function quiet(o) {
  if (o.quietWait > 0) await waitForQuiet({ cores: [o.serverCore, o.clientCore], maxMs: o.quietWait * 1000 });
}

/** Runs `a` and `b` in pairs, alternating which goes first; returns both series and per-pair ratios a/b. */
async function paired(label, n, a, b, log, offset = 0) {
  const A = [];
  const B = [];
  for (let i = 0; i < n; i++) {
    const order = (i + offset) % 2 === 0 ? [a, b] : [b, a];
    const got = {};
    for (const f of order) got[f === a ? "a" : "b"] = await f();
    A.push(got.a);
    B.push(got.b);
    log(`${label} pair ${i + 1}/${n}: ${Math.round(got.a.qps).toLocaleString("en")} vs ${Math.round(got.b.qps).toLocaleString("en")} q/s (${(got.a.qps / got.b.qps).toFixed(3)}), ${got.a.cpuUsPerQ.toFixed(2)} vs ${got.b.cpuUsPerQ.toFixed(2)} µs/q`);
  }
  return { a: A, b: B, qpsRatios: A.map((x, i) => x.qps / B[i].qps), cpuRatios: A.map((x, i) => x.cpuUsPerQ / B[i].cpuUsPerQ) };
}

/** In-process: engine.answer over every query of the file, counting on vs off, alternating. */
async function micro(dist, o, zone, queriesFile) {
  const load = (m) => import(pathToFileURL(path.join(dist, m)).href);
  const { loadZones } = await load("zone/load.js");
  const { buildEngine } = await load("answer/engine.js");
  const zones = loadZones([{ file: zone.file }]).zones;
  delete process.env.HADNS_NO_QUERY_STATS;
  const on = buildEngine(zones);
  process.env.HADNS_NO_QUERY_STATS = "1";
  const off = buildEngine(zones);
  delete process.env.HADNS_NO_QUERY_STATS;
  const msgs = fs
    .readFileSync(queriesFile, "utf8")
    .trim()
    .split("\n")
    .map((l, i) => {
      const [name, type] = l.split(" ");
      return wireQuery(i & 0xffff, name, type);
    });
  // Chunks of 1000 queries, on and off interleaved: a burst from another process lands in one chunk
  // of one of them, and the median of many chunk pairs leaves it out.
  const CHUNK = 1000;
  const pass = (e, from) => {
    const t0 = process.hrtime.bigint();
    for (let i = from; i < from + CHUNK; i++) e.answer(msgs[i], "udp");
    return Number(process.hrtime.bigint() - t0) / CHUNK;
  };
  const chunks = Math.floor(msgs.length / CHUNK);
  for (let i = 0; i < 5 * chunks; i++) (pass(on, (i % chunks) * CHUNK), pass(off, (i % chunks) * CHUNK)); // warm-up: let V8 optimise both
  const nsOn = [];
  const nsOff = [];
  for (let i = 0; i < o.microReps * chunks; i++) {
    const from = (i % chunks) * CHUNK;
    if (i % 2 === 0) (nsOn.push(pass(on, from)), nsOff.push(pass(off, from)));
    else (nsOff.push(pass(off, from)), nsOn.push(pass(on, from)));
  }
  const counted = on.stats.total();
  // The counting alone: QueryStats.count in a loop over the query file's types, fastest of 20 runs.
  const { QueryStats } = await load("answer/stats.js");
  const st = new QueryStats();
  const zi = st.zone(zone.origin + ".");
  const qtypes = msgs.map((m) => m.readUInt16BE(m.length - 4));
  let countNs = Infinity;
  for (let rep = 0; rep < 20; rep++) {
    const t0 = process.hrtime.bigint();
    for (let j = 0; j < 50; j++) for (let i = 0; i < qtypes.length; i++) st.count(zi, qtypes[i], i & 3, i & 1);
    countNs = Math.min(countNs, Number(process.hrtime.bigint() - t0) / (50 * qtypes.length));
  }
  return {
    nsOn: median(nsOn),
    nsOff: median(nsOff),
    iqrOn: quartiles(nsOn),
    iqrOff: quartiles(nsOff),
    pairs: nsOn.length,
    countNs,
    diffNs: median(nsOn.map((x, i) => x - nsOff[i])),
    queries: msgs.length,
    counted,
    offCounted: off.stats.total(),
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  fs.mkdirSync(OUT, { recursive: true });
  pinSelf(o.clientCore);
  const log = (s) => console.error(s);
  const dist = build();
  const cli = path.join(dist, "cli/main.js");
  const zone = writeZone(OUT, { hosts: o.hosts });
  const queries = writeQueries(OUT, o.set, zone);
  const load0 = os.loadavg();
  const started = new Date();

  const mi = await micro(dist, o, zone, queries);
  log(`QueryStats.count: ${mi.countNs.toFixed(1)} ns per call; in-process: ${mi.nsOn.toFixed(0)} ns/q counting, ${mi.nsOff.toFixed(0)} ns/q not (medians of ${mi.pairs} chunk pairs); median pair difference ${mi.diffNs.toFixed(1)} ns/q`);

  // Each round starts a fresh pair of servers: two processes of one build differ by several per cent
  // (JIT and memory layout), more than counting could; fresh pairs each round average that out.
  const series = () => ({ a: [], b: [], qpsRatios: [], cpuRatios: [] });
  const add = (into, p) => {
    for (const k of Object.keys(into)) into[k].push(...p[k]);
  };
  const full = series();
  const fixed = series();
  const scrape = series();
  let counted = 0;
  let offCounted = 0;
  let commands;
  for (let r = 0; r < o.rounds; r++) {
    const flip = r % 2;
    const started = [];
    for (const counting of flip ? [false, true] : [true, false]) started.push(await startServer(cli, o, zone.file, zone.origin, counting));
    const on = started.find((x) => x.name === "on");
    const off = started.find((x) => x.name === "off");
    try {
      // Warm both up (V8 optimises the query path in the first second or so).
      await load(on, o, queries, { seconds: 2 });
      await load(off, o, queries, { seconds: 2 });
      const tag = `round ${r + 1}/${o.rounds}`;
      add(full, await paired(`${tag} full load`, o.pairs, async () => (await quiet(o), load(on, o, queries, { seconds: o.duration })), async () => load(off, o, queries, { seconds: o.duration }), log, flip));
      add(fixed, await paired(`${tag} -Q ${o.rate}`, o.ratePairs, async () => (await quiet(o), load(on, o, queries, { seconds: o.rateDuration, rate: o.rate })), async () => load(off, o, queries, { seconds: o.rateDuration, rate: o.rate }), log, flip));
      add(scrape, await paired(`${tag} scraped`, o.scrapePairs, async () => (await quiet(o), load(on, o, queries, { seconds: o.duration, scrape: true })), async () => load(on, o, queries, { seconds: o.duration }), log, flip));
      counted += countedQueries((await get(on.metricsUrl)).body);
      offCounted += countedQueries((await get(off.metricsUrl)).body);
      commands ??= { on: on.command, off: off.command, dnsperf: full.a[0].command };
    } finally {
      await on.stop();
      await off.stop();
    }
  }
  const result = { full, fixed, scrape, counted, offCounted, commands };

  const k = (x) => `${(x / 1000).toFixed(1)}k`;
  const pct = (r) => `${((r - 1) * 100).toFixed(1)} %`;
  const iqr = (xs) => quartiles(xs).map((x) => x.toFixed(3)).join("–");
  const scr = scrape.a.flatMap((x) => x.scrapes);
  const scrOk = scr.filter((s) => s.ok);
  const table = [
    `${started.toISOString().replace(/\.\d+Z$/, "Z")} · ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "?"} · ${os.type()} ${os.release()} · Node ${process.version} · load average ${load0.map((x) => x.toFixed(2)).join(" ")} at start, ${os.loadavg().map((x) => x.toFixed(2)).join(" ")} at end`,
    `Zone: ${zone.records} records (${o.hosts} hosts), query set "${o.set}". ${o.rounds} rounds; each starts a fresh pair of servers (both up at once on core ${o.serverCore}, loaded one at a time from core ${o.clientCore}), alternating which starts and which is loaded first.`,
    "",
    "```",
    result.commands.on,
    result.commands.off,
    result.commands.dnsperf.replace(/-p \d+/, "-p PORT").replace(REPO + "/", ""),
    "```",
    "",
    `| measurement | counting on | counting off | on/off, median of pairs (IQR) | cost of counting |`,
    `|---|---:|---:|---:|---:|`,
    `| QPS at full load, ${full.a.length} pairs × ${o.duration} s (median) | ${Math.round(median(full.a.map((x) => x.qps))).toLocaleString("en")} | ${Math.round(median(full.b.map((x) => x.qps))).toLocaleString("en")} | ${median(full.qpsRatios).toFixed(3)} (${iqr(full.qpsRatios)}) | ${pct(1 / median(full.qpsRatios))} |`,
    `| server's share of its core during those runs (median; the rest went to other processes) | ${(median(full.a.map((x) => x.cpuShare)) * 100).toFixed(0)} % | ${(median(full.b.map((x) => x.cpuShare)) * 100).toFixed(0)} % | | |`,
    `| answers per server CPU-second at full load (median) | ${Math.round(median(full.a.map((x) => 1e6 / x.cpuUsPerQ))).toLocaleString("en")} | ${Math.round(median(full.b.map((x) => 1e6 / x.cpuUsPerQ))).toLocaleString("en")} | ${median(full.a.map((x, i) => full.b[i].cpuUsPerQ / x.cpuUsPerQ)).toFixed(3)} | ${pct(1 / median(full.a.map((x, i) => full.b[i].cpuUsPerQ / x.cpuUsPerQ)))} |`,
    `| server CPU µs/query at full load | ${median(full.a.map((x) => x.cpuUsPerQ)).toFixed(2)} | ${median(full.b.map((x) => x.cpuUsPerQ)).toFixed(2)} | ${median(full.cpuRatios).toFixed(3)} (${iqr(full.cpuRatios)}) | ${pct(median(full.cpuRatios))} |`,
    `| server CPU µs/query at ${o.rate} q/s, ${fixed.a.length} pairs × ${o.rateDuration} s | ${median(fixed.a.map((x) => x.cpuUsPerQ)).toFixed(2)} | ${median(fixed.b.map((x) => x.cpuUsPerQ)).toFixed(2)} | ${median(fixed.cpuRatios).toFixed(3)} (${iqr(fixed.cpuRatios)}) | ${pct(median(fixed.cpuRatios))} |`,
    `| in-process engine.answer, ns/query, median of ${mi.pairs} interleaved chunks of 1000 queries (IQR) | ${mi.nsOn.toFixed(0)} (${mi.iqrOn.map((x) => x.toFixed(0)).join("–")}) | ${mi.nsOff.toFixed(0)} (${mi.iqrOff.map((x) => x.toFixed(0)).join("–")}) | ${(mi.nsOn / mi.nsOff).toFixed(3)} | ${mi.diffNs.toFixed(1)} ns/q (median pair difference) |`,
    `| QueryStats.count alone (what counting adds to a query), fastest of 20 × ${mi.queries * 50} calls | ${mi.countNs.toFixed(1)} ns | | | ${((mi.countNs / 1000 / median(fixed.b.map((x) => x.cpuUsPerQ))) * 100).toFixed(3)} % of the server's CPU per query |`,
    "",
    `QPS per pair (one pair per round, fresh servers each round), on: ${full.a.map((x) => k(x.qps)).join(", ")}; off: ${full.b.map((x) => k(x.qps)).join(", ")}. Lost: ${[...full.a, ...full.b, ...fixed.a, ...fixed.b].reduce((n, x) => n + x.lost, 0)}.`,
    "",
    `Scraping /metrics every ${o.scrapeMs} ms under full load (counting server, ${scrape.a.length} pairs, scraped vs not): QPS ${Math.round(median(scrape.a.map((x) => x.qps))).toLocaleString("en")} vs ${Math.round(median(scrape.b.map((x) => x.qps))).toLocaleString("en")}, ratio ${median(scrape.qpsRatios).toFixed(3)} (${iqr(scrape.qpsRatios)}); ${scr.length} scrapes, ${scr.length - scrOk.length} failed, median ${median(scrOk.map((s) => s.ms)).toFixed(1)} ms, max ${Math.max(...scrOk.map((s) => s.ms)).toFixed(1)} ms, ${scrOk[0]?.bytes ?? "?"} bytes each.`,
    "",
    `Counted: the counting server's hadns_queries_total sums to ${result.counted.toLocaleString("en")} (every query of every run, plus readiness probes, over the rounds); the other's to ${result.offCounted}. In-process: ${mi.counted.toLocaleString("en")} counted vs ${mi.offCounted} with the switch.`,
  ].join("\n");
  fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify({ options: o, micro: mi, ...result }, null, 2));
  fs.writeFileSync(path.join(OUT, "table.md"), table + "\n");
  console.log(table);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
