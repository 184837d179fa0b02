#!/usr/bin/env node
// Reload under load: hadns serves a generated ~100,000-record zone (through its CLI, pinned to one
// core) while dnsperf offers a fixed rate from another core, and the zone file is changed and hadns
// told to reload (SIGHUP, or POST /v1/reload) every second. Reports dnsperf's "Queries lost" (the
// point: 0), the reloads done and their durations (from hadns's own log lines), QPS and latency
// during the reloads, beside the same load with no reloads, and beside Knot DNS (knotd reloaded by
// SIGHUP) in the same run. A timing here is never a test assertion; see bench/RELOAD.md.
// Usage: node bench/reload-under-load.mjs [--hosts N] [--rate Q] [--duration S] [--every S] [--via sighup|api] [--no-knot]

import { execFileSync, spawn } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { parseSummary } from "./lib/dnsperf.mjs";
import { pinSelf, processMemory } from "./lib/proc.mjs";
import { REPO, freePort, knotVersion, snapshotDist, startKnot } from "./lib/servers.mjs";
import { ORIGIN, writeQueries, writeZone } from "./lib/zonegen.mjs";

const OUT = path.join(REPO, "bench/out/reload");

const DEFAULTS = {
  hosts: 42600, // 100,124 records (A + AAAA per host, MX on every 4th, a CNAME for every 10th)
  rate: 20000, // dnsperf -Q
  duration: 20, // dnsperf -l, seconds
  every: 1, // seconds between reloads
  via: "sighup", // or "api": POST /v1/reload on the admin listener
  serverCore: 1,
  clientCore: 0,
  clients: 4,
  outstanding: 200,
  knot: true,
  pace: "clock", // "clock": a reload every `every` s; "after": `every` s after the previous one finished
};

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      console.log(`node bench/reload-under-load.mjs [options]
  --hosts N        hosts in the generated zone (${DEFAULTS.hosts} ≈ 100k records)
  --rate Q         dnsperf -Q, offered queries per second (${DEFAULTS.rate})
  --duration S     dnsperf -l (${DEFAULTS.duration})
  --every S        seconds between reloads (${DEFAULTS.every})
  --via sighup|api how hadns is told to reload (${DEFAULTS.via})
  --pace clock|after  a reload every S seconds by the clock, or S seconds after the last one ended (${DEFAULTS.pace})
  --outstanding N  dnsperf -q (${DEFAULTS.outstanding}); a stalled server makes dnsperf hold queries back
                   once N are outstanding: the "held back" column counts them
  --server-core N  (${DEFAULTS.serverCore})   --client-core N (${DEFAULTS.clientCore})
  --no-knot        skip the Knot DNS peer run
Needs dnsperf, taskset, knotd (apt-get install dnsperf knot) and a built hadns (npm run build).`);
      process.exit(0);
    }
    if (a === "--no-knot") {
      o.knot = false;
      continue;
    }
    const key = a.replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!a.startsWith("--") || !(key in DEFAULTS) || key === "knot") fail(`unknown option ${a}`);
    const v = argv[++i];
    if (v === undefined) fail(`${a} needs a value`);
    o[key] = typeof DEFAULTS[key] === "number" ? Number(v) : v;
    if (typeof DEFAULTS[key] === "number" && !(o[key] >= 0)) fail(`${a}: not a number: ${v}`);
  }
  if (!["sighup", "api"].includes(o.via)) fail(`--via is sighup or api, got ${o.via}`);
  if (!["clock", "after"].includes(o.pace)) fail(`--pace is clock or after, got ${o.pace}`);
  return o;
}

function fail(msg, code = 2) {
  console.error(`reload-under-load: ${msg}`);
  process.exit(code);
}

function need(cmd, args = ["--help"]) {
  try {
    execFileSync(cmd, args, { stdio: "ignore" });
  } catch (e) {
    if (e.code === "ENOENT") fail(`${cmd} is missing: apt-get install dnsperf knot util-linux`);
  }
}

/** dnsperf at a fixed rate with -v, pinned; its summary plus latency p50/p99/p99.9/max from the per-query lines. */
function dnsperf(o, port, queries) {
  const argv = ["-c", String(o.clientCore), "dnsperf", "-s", "127.0.0.1", "-p", String(port), "-d", queries, "-l", String(o.duration),
    "-c", String(o.clients), "-q", String(o.outstanding), "-Q", String(o.rate), "-v"];
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", argv, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    let stderr = "";
    const lat = [];
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.startsWith("> ")) lat.push(Number(line.slice(line.lastIndexOf(" ") + 1)));
      else text += line + "\n";
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`dnsperf exited ${code}: ${stderr || text}`));
      const r = parseSummary(text);
      const a = Float64Array.from(lat.filter(Number.isFinite)).sort();
      const at = (p) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);
      resolve({ ...r, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: a.length ? a[a.length - 1] : NaN, heldBack: Math.max(0, o.rate * o.duration - r.sent), command: `taskset ${argv.join(" ")}` });
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Two versions of the zone that differ in the SOA serial and one A record: every reload changes something. */
function zoneVariants(zone) {
  const text = fs.readFileSync(zone.file, "utf8");
  const variants = [1, 2].map((n) => {
    const t = text.replace(/ SOA ns1 hostmaster 2026112501 /, ` SOA ns1 hostmaster ${2026112500 + n} `).replace(/^host000000 A .*$/m, `host000000 A 192.0.2.${n}`);
    const f = path.join(OUT, `variant-${n}.zone`);
    fs.writeFileSync(f, t);
    return f;
  });
  return variants;
}

/** One UDP SOA query: resolves true when answered NOERROR with an answer. */
function soaAnswers(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const labels = ORIGIN.split(".");
    const q = Buffer.concat([Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels.flatMap((l) => [Buffer.from([l.length]), Buffer.from(l)]), Buffer.from([0, 0, 6, 0, 1])]);
    const t = setTimeout(() => done(false), 300);
    const done = (ok) => {
      clearTimeout(t);
      s.close();
      resolve(ok);
    };
    s.on("message", (m) => done((m[3] & 0x0f) === 0 && m.readUInt16BE(6) > 0));
    s.on("error", () => done(false));
    s.send(q, port, "127.0.0.1");
  });
}

async function startHadnsCli(o, cli, zoneFile) {
  const port = await freePort();
  const adminPort = o.via === "api" ? await freePort() : 0;
  const config = path.join(OUT, "hadns.yaml");
  fs.writeFileSync(
    config,
    [`listen: ["127.0.0.1:${port}"]`, o.via === "api" ? `admin: { listen: "127.0.0.1:${adminPort}" }` : "admin: off", "zones:", `  - file: ${zoneFile}`, "log:", "  level: info", ""].join("\n"),
  );
  const logFile = path.join(OUT, "hadns.log");
  const log = fs.openSync(logFile, "w");
  const argv = ["-c", String(o.serverCore), process.execPath, cli, "serve", "--config", config, "--log-format", "json"];
  const child = spawn("taskset", argv, { stdio: ["ignore", log, log], env: { ...process.env, NODE_ENV: "production" } });
  fs.closeSync(log);
  let exited = null;
  const exit = new Promise((r) => child.on("exit", (code, signal) => r((exited = { code, signal }))));
  const t0 = Date.now();
  while (!(await soaAnswers(port))) {
    if (exited) fail(`hadns exited during start-up: ${JSON.stringify(exited)}\n${fs.readFileSync(logFile, "utf8")}`, 1);
    if (Date.now() - t0 > 120_000) fail("hadns did not answer within 120 s", 1);
    await sleep(50);
  }
  const rel = (p) => path.relative(REPO, p);
  return {
    pid: child.pid,
    port,
    adminPort,
    readyMs: Date.now() - t0,
    command: `taskset ${argv.map((a) => (a.startsWith(REPO) ? rel(a) : a === process.execPath ? "node" : a)).join(" ")}`,
    lines: () =>
      fs
        .readFileSync(logFile, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l)),
    async stop() {
      if (exited) return exited;
      child.kill("SIGTERM");
      const k = setTimeout(() => child.kill("SIGKILL"), 15_000);
      const r = await exit;
      clearTimeout(k);
      return r;
    },
  };
}

async function postReload(port) {
  const res = await fetch(`http://127.0.0.1:${port}/v1/reload`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  await res.arrayBuffer();
  return res.status;
}

/**
 * dnsperf at the fixed rate for `duration` s; meanwhile, if `reload` is given, copy the next zone
 * variant over the served file and call `reload` every `every` s (first after 2 s, none in the
 * last 2 s, so every reload happens under load).
 */
async function loadRun(o, port, queries, servedZone, variants, reload) {
  const perf = dnsperf(o, port, queries);
  let sent = 0;
  if (reload) {
    await sleep(2000);
    const end = Date.now() + (o.duration - 4) * 1000;
    let next = Date.now();
    while (Date.now() < end) {
      fs.copyFileSync(variants[sent % 2], servedZone);
      // reload() resolves when the reload is done ("after") or once it is asked for ("clock").
      await reload();
      sent++;
      next = o.pace === "after" ? Date.now() + o.every * 1000 : next + o.every * 1000;
      await sleep(Math.max(0, next - Date.now()));
    }
  }
  const r = await perf;
  return { ...r, reloadsAsked: sent };
}

const isReloadLine = (l) => l.msg === "reloaded config and zones" || String(l.msg).startsWith("reload rejected");
const ms = (s) => (Number.isFinite(s) ? (s * 1000).toFixed(2) : "–");
const median = (a) => (a.length ? [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] : NaN);

async function main() {
  const o = parseArgs(process.argv.slice(2));
  need("dnsperf", ["-h"]);
  need("taskset", ["-V"]);
  if (o.knot) need("knotd", ["--version"]);
  if (!fs.existsSync(path.join(REPO, "dist/cli/main.js"))) fail("dist/ is missing: run npm run build first");
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  pinSelf(o.clientCore);
  const cli = snapshotDist(OUT);

  const zone = writeZone(OUT, { hosts: o.hosts });
  const queries = writeQueries(OUT, "mixed", zone);
  const variants = zoneVariants(zone);
  console.log(`zone: ${zone.records} records (${(fs.statSync(zone.file).size / 1e6).toFixed(1)} MB); dnsperf -Q ${o.rate} -l ${o.duration} -q ${o.outstanding}; a reload every ${o.every} s (${o.pace === "after" ? "after the last one ended" : "by the clock"}) via ${o.via}`);

  const rows = [];
  // ---- hadns
  const h = await startHadnsCli(o, cli, zone.file);
  console.log(`hadns ready in ${(h.readyMs / 1000).toFixed(1)} s: ${h.command}`);
  const base = await loadRun(o, h.port, queries, zone.file, variants, null);
  rows.push({ server: "hadns", reloads: 0, ...base });
  const mark = h.lines().length;
  const reloadFn = async () => {
    const n = h.lines().length;
    if (o.via === "api") await postReload(h.adminPort);
    else process.kill(h.pid, "SIGHUP");
    if (o.pace === "after") while (!h.lines().slice(n).some(isReloadLine)) await sleep(20);
  };
  const during = await loadRun(o, h.port, queries, zone.file, variants, reloadFn);
  await sleep(3000); // the last reload's log line
  const reloadLines = h.lines().slice(mark).filter(isReloadLine);
  const okMs = reloadLines.filter((l) => l.msg === "reloaded config and zones").map((l) => l.ms);
  const rejected = reloadLines.length - okMs.length;
  const mem = processMemory(h.pid);
  const stopped = await h.stop();
  rows.push({ server: "hadns", ...during, reloads: okMs.length, rejected, reloadMs: okMs, rssKiB: mem.rssKiB });

  // ---- Knot DNS, the same zone, load and reload cadence (knotd reloads changed zone files on SIGHUP)
  if (o.knot) {
    const k = await startKnot({ zoneFile: zone.file, origin: `${ORIGIN}.`, core: o.serverCore, outDir: OUT });
    const kb = await loadRun(o, k.port, queries, zone.file, variants, null);
    rows.push({ server: "knot", reloads: 0, ...kb });
    const kd = await loadRun(o, k.port, queries, zone.file, variants, async () => {
      try {
        process.kill(k.pid, "SIGHUP");
      } catch (e) {
        throw new Error(`knotd (pid ${k.pid}) is gone (${e.code}); its log:\n${k.log()}`);
      }
    });
    const knotLog = k.log();
    await k.stop();
    rows.push({ server: "knot", ...kd, reloads: kd.reloadsAsked, reloadMs: [], knotLogWarnings: knotLog.split("\n").filter((l) => /error|warning/i.test(l)).slice(0, 5) });
  }

  // ---- report
  const table = [
    "| server | reloads during the run | reload ms (median / max) | queries sent | held back | lost | QPS | p50 ms | p99 ms | p99.9 ms | max ms |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.server} | ${r.reloads}${r.rejected ? ` (+${r.rejected} rejected)` : ""} | ${r.reloadMs?.length ? `${median(r.reloadMs)} / ${Math.max(...r.reloadMs)}` : "–"} | ${r.sent} | ${r.heldBack} | ${r.lost} | ${r.qps.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.p999)} | ${ms(r.max)} |`,
    ),
  ].join("\n");
  console.log("\n" + table + "\n");
  const hadnsDuring = rows[1];
  console.log(`hadns: ${hadnsDuring.reloads} reloads of ${zone.records} records in ${o.duration} s of -Q ${o.rate}: ${hadnsDuring.lost} queries lost; reload ms ${JSON.stringify(hadnsDuring.reloadMs)}; exit ${JSON.stringify(stopped)}`);
  console.log(`dnsperf: ${hadnsDuring.command}`);
  console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(" ")} (${os.cpus().length} cores)`);
  const results = { date: new Date().toISOString(), loadavg: os.loadavg(), node: process.version, knot: o.knot ? knotVersion() : null, options: o, records: zone.records, hadnsCommand: h.command, rows };
  fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify(results, null, 2) + "\n");
  fs.writeFileSync(path.join(OUT, "table.md"), table + "\n");
  console.log(`results: ${path.relative(REPO, path.join(OUT, "results.json"))}`);
  process.exit(hadnsDuring.lost === 0 ? 0 : 1);
}

main().catch((e) => fail(e.stack ?? String(e), 1));
