#!/usr/bin/env node
// Zone size (issue 5): for generated zones of 10k, 100k and 1M records (mixed types, wildcards,
// delegations), hadns and Knot DNS each: time from spawn until the zone's SOA is answered
// authoritatively, VmRSS once ready (and the peak VmHWM), and dnsperf QPS on random names of that
// zone. The servers run one at a time on one core; dnsperf and this script on another.
// Usage: node bench/zone-size.mjs [--sizes 10000,100000,1000000] [--duration 10] [--only hadns|knot]

import { spawn, execFileSync } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runDnsperf } from "./lib/dnsperf.mjs";
import { pinSelf, processMemory } from "./lib/proc.mjs";
import { REPO, freePort, knotVersion, snapshotDist, KNOTD } from "./lib/servers.mjs";
import { writeSizedQueries, writeSizedZone } from "./lib/zonegen.mjs";

const OUT = path.join(REPO, "bench/out/zone-size");
const DEFAULTS = { sizes: "10000,100000,1000000", duration: 10, warmup: 1, clients: 4, outstanding: 100, serverCore: 1, clientCore: 0, timeout: 180, only: "" };

const HELP = `bench/zone-size.mjs: load time, RSS and QPS of hadns and Knot DNS by zone size

  --sizes a,b,c       records per generated zone (${DEFAULTS.sizes})
  --duration S        seconds of dnsperf per server and size (${DEFAULTS.duration})
  --warmup S          unrecorded seconds of load first (${DEFAULTS.warmup})
  --server-core N     core for the server (${DEFAULTS.serverCore}); --client-core N for dnsperf (${DEFAULTS.clientCore})
  --timeout S         most seconds a server may take to answer (${DEFAULTS.timeout})
  --only hadns|knot   one server only
Needs dnsperf, knotd, taskset and a built hadns (npm run build). Writes to bench/out/zone-size/.`;

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      console.log(HELP);
      process.exit(0);
    }
    const key = a.replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!a.startsWith("--") || !(key in o) || argv[i + 1] === undefined) {
      console.error(`${a}: unknown option or missing value\n\n${HELP}`);
      process.exit(2);
    }
    o[key] = typeof DEFAULTS[key] === "number" ? Number(argv[++i]) : argv[++i];
  }
  o.sizes = String(o.sizes).split(",").map(Number);
  return o;
}

function have(cmd) {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function soaQuery(origin, id) {
  const parts = [Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of origin.replace(/\.$/, "").split(".")) parts.push(Buffer.from([l.length]), Buffer.from(l, "ascii"));
  parts.push(Buffer.from([0, 0, 6, 0, 1]));
  return Buffer.concat(parts);
}

/** True when the server answers the SOA with NOERROR, AA and an answer (Knot says SERVFAIL while loading). */
function answersSoa(port, origin, timeoutMs = 200) {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const id = Math.floor(Math.random() * 65536);
    const done = (ok) => {
      clearTimeout(t);
      s.close();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.on("error", () => done(false));
    s.on("message", (m) => {
      if (m.length >= 12 && m.readUInt16BE(0) === id) done((m[3] & 0x0f) === 0 && (m[2] & 0x04) !== 0 && m.readUInt16BE(6) > 0);
    });
    s.send(soaQuery(origin, id), port, "127.0.0.1");
  });
}

/** Spawns argv under taskset; resolves with { pid, readySeconds, stop() } once the SOA answers. */
async function startServer({ name, argv, core, port, origin, logFile, timeoutS, env }) {
  const log = fs.openSync(logFile, "w");
  const started = process.hrtime.bigint();
  const child = spawn("taskset", ["-c", String(core), ...argv], { stdio: ["ignore", log, log], env: env ?? process.env });
  fs.closeSync(log);
  let exited = null;
  const exit = new Promise((res) => child.on("exit", (code, signal) => res((exited = { code, signal }))));
  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => exited || child.kill("SIGKILL"), 15000);
    await exit;
    clearTimeout(t);
  };
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    if (exited) throw new Error(`${name} exited during start-up (${JSON.stringify(exited)}):\n${fs.readFileSync(logFile, "utf8")}`);
    if (await answersSoa(port, origin)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not answer ${origin} SOA within ${timeoutS} s`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { pid: child.pid, readySeconds: Number(process.hrtime.bigint() - started) / 1e9, stop };
}

async function hadns(o, cli, zone) {
  const port = await freePort();
  const script = [cli, "serve", "--zone", zone.file, "--listen", `127.0.0.1:${port}`, "--log-level", "warn"];
  return startServer({
    name: "hadns",
    argv: [process.execPath, ...script],
    core: o.serverCore,
    port,
    origin: zone.origin,
    logFile: path.join(OUT, "hadns.log"),
    timeoutS: o.timeout,
    env: { ...process.env, NODE_ENV: "production" },
  }).then((h) => ({ ...h, port }));
}

async function knot(o, zone) {
  const port = await freePort();
  const dir = path.join(OUT, "knot");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "db"), { recursive: true });
  const conf = [
    "server:",
    `    rundir: "${dir}"`,
    `    listen: 127.0.0.1@${port}`,
    "    udp-workers: 1",
    "    tcp-workers: 1",
    "    background-workers: 1",
    "log:",
    "  - target: stderr",
    "    any: warning",
    "database:",
    `    storage: "${dir}/db"`,
    "template:",
    "  - id: default",
    `    storage: "${dir}"`,
    "    zonefile-sync: -1",
    "    journal-content: none",
    "zone:",
    `  - domain: ${zone.origin}`,
    `    file: "${zone.file}"`,
    "",
  ].join("\n");
  fs.writeFileSync(path.join(dir, "knot.conf"), conf);
  const h = await startServer({ name: "knot", argv: [KNOTD, "-c", path.join(dir, "knot.conf")], core: o.serverCore, port, origin: zone.origin, logFile: path.join(OUT, "knot.log"), timeoutS: o.timeout });
  // Knot sets its UDP worker's affinity itself when it starts: pin every thread again.
  execFileSync("taskset", ["-a", "-p", "-c", String(o.serverCore), String(h.pid)], { stdio: "ignore" });
  return { ...h, port };
}

async function measure(o, name, start, zone, queries) {
  process.stderr.write(`${name} ${zone.records} records: starting… `);
  const h = await start();
  const mem = processMemory(h.pid);
  process.stderr.write(`ready in ${h.readySeconds.toFixed(2)} s, RSS ${(mem.rssKiB / 1024).toFixed(0)} MiB; dnsperf… `);
  try {
    if (o.warmup > 0) await runDnsperf({ port: h.port, queries, seconds: o.warmup, core: String(o.clientCore) });
    const r = await runDnsperf({ port: h.port, queries, seconds: o.duration, clients: o.clients, outstanding: o.outstanding, core: String(o.clientCore) });
    const after = processMemory(h.pid);
    process.stderr.write(`${Math.round(r.qps)} q/s\n`);
    return { server: name, records: zone.records, readySeconds: h.readySeconds, rssKiB: mem.rssKiB, hwmKiB: after.hwmKiB, rssAfterKiB: after.rssKiB, qps: r.qps, lost: r.lost, codes: r.codes };
  } finally {
    await h.stop();
  }
}

const mib = (k) => (Number.isFinite(k) ? `${(k / 1024).toFixed(0)} MiB` : "–");
const num = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");

async function main() {
  const o = parseArgs(process.argv.slice(2));
  for (const c of ["dnsperf", "taskset", ...(o.only === "hadns" ? [] : [KNOTD])]) {
    if (!have(c)) {
      console.error(`${c} is missing: apt-get install dnsperf knot util-linux`);
      process.exit(2);
    }
  }
  if (!fs.existsSync(path.join(REPO, "dist/cli/main.js"))) {
    console.error("dist/ is missing: run npm run build first");
    process.exit(2);
  }
  fs.mkdirSync(OUT, { recursive: true });
  pinSelf(o.clientCore);
  const cli = snapshotDist(OUT);
  const rows = [];
  for (const records of o.sizes) {
    const zone = writeSizedZone(OUT, { records });
    const queries = writeSizedQueries(OUT, zone);
    const row = { records };
    if (o.only !== "knot") row.hadns = await measure(o, "hadns", () => hadns(o, cli, zone), zone, queries);
    if (o.only !== "hadns") row.knot = await measure(o, "knot", () => knot(o, zone), zone, queries);
    rows.push(row);
  }
  const lines = [
    "| records | hadns ready | hadns RSS (peak) | hadns QPS | Knot ready | Knot RSS (peak) | Knot QPS |",
    "|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    const h = r.hadns ?? {};
    const k = r.knot ?? {};
    const s = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} s` : "–");
    lines.push(`| ${num(r.records)} | ${s(h.readySeconds)} | ${mib(h.rssKiB)} (${mib(h.hwmKiB)}) | ${num(h.qps)} | ${s(k.readySeconds)} | ${mib(k.rssKiB)} (${mib(k.hwmKiB)}) | ${num(k.qps)} |`);
  }
  const withHadns = rows.filter((r) => r.hadns);
  if (withHadns.length >= 2) {
    const small = withHadns[0];
    const big = withHadns[withHadns.length - 1];
    lines.push("", `hadns QPS ${num(big.records)} vs ${num(small.records)} records: ${(big.hadns.qps / small.hadns.qps).toFixed(2)}×`);
  }
  const lost = rows.flatMap((r) => [r.hadns, r.knot]).filter((x) => x && x.lost > 0);
  for (const x of lost) lines.push(`note: ${x.server} lost ${x.lost} queries at ${num(x.records)} records`);
  const info = `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "?"}, Node ${process.version}, Knot ${knotVersion()}, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`;
  lines.push("", info);
  const text = lines.join("\n");
  console.log(text);
  fs.writeFileSync(path.join(OUT, "table.md"), text + "\n");
  fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify({ options: o, info, rows }, null, 2));
}

main().catch((e) => {
  console.error(e.stack ?? String(e));
  process.exit(1);
});
