#!/usr/bin/env node
// Zone size (issue 5): for generated zones of 10k, 100k and 1M records (mixed types, wildcards,
// delegations), hadns and Knot DNS each: time from spawn until the zone's SOA is answered
// authoritatively (and for hadns until it logs "all answers compiled"), VmRSS then (and the peak
// VmHWM), and dnsperf QPS on random names of that zone. The servers run one at a time on one core; dnsperf and this script on another.
// Usage: node bench/zone-size.mjs [--sizes 10000,100000,1000000] [--duration 10] [--only hadns|knot]

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseOptions } from "./lib/args.mjs";
import { runDnsperf } from "./lib/dnsperf.mjs";
import { pinSelf, processMemory } from "./lib/proc.mjs";
import { REPO, knotVersion, snapshotDist, startHadns, startKnot, KNOTD } from "./lib/servers.mjs";
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
  const o = parseOptions(argv, DEFAULTS, HELP);
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

/** hadns through its CLI (the copy of dist/ taken at the start) or Knot, pinned; see lib/servers.mjs. */
function start(o, name, zone, cli) {
  const common = { zoneFile: zone.file, origin: zone.origin, core: o.serverCore, outDir: OUT, timeoutMs: o.timeout * 1000 };
  return name === "hadns" ? startHadns({ ...common, cli, logLevel: "info" }) : startKnot(common);
}

async function measure(o, name, zone, queries, cli) {
  process.stderr.write(`${name} ${zone.records} records: starting… `);
  const h = await start(o, name, zone, cli);
  // hadns answers once the name table is built and compiles the answers in slices after that (each
  // name compiles on its first query if it comes first): memory and QPS are taken once it is done.
  const compiledSeconds = name === "hadns" ? await h.waitForLog("all answers compiled") : h.readySeconds;
  const mem = processMemory(h.pid);
  const compiled = name === "hadns" ? `, all compiled in ${compiledSeconds.toFixed(2)} s` : "";
  process.stderr.write(`answering in ${h.readySeconds.toFixed(2)} s${compiled}, RSS ${(mem.rssKiB / 1024).toFixed(0)} MiB; dnsperf… `);
  try {
    if (o.warmup > 0) await runDnsperf({ port: h.port, queries, seconds: o.warmup, core: String(o.clientCore) });
    const r = await runDnsperf({ port: h.port, queries, seconds: o.duration, clients: o.clients, outstanding: o.outstanding, core: String(o.clientCore) });
    const after = processMemory(h.pid);
    process.stderr.write(`${Math.round(r.qps)} q/s\n`);
    return { server: name, records: zone.records, readySeconds: h.readySeconds, compiledSeconds, rssKiB: mem.rssKiB, hwmKiB: after.hwmKiB, rssAfterKiB: after.rssKiB, qps: r.qps, lost: r.lost, codes: r.codes };
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
  pinSelf(o.clientCore);
  console.log(await zoneSizeReport(o));
}

/**
 * Runs every size for each server and returns the markdown table (also written to
 * bench/out/zone-size/). `o` is this script's options with `sizes` as numbers; bench/run.mjs calls
 * it too, so that one command prints both tables.
 */
export async function zoneSizeReport(o) {
  fs.mkdirSync(OUT, { recursive: true });
  const cli = snapshotDist(OUT);
  const rows = [];
  for (const records of o.sizes) {
    const zone = writeSizedZone(OUT, { records });
    const queries = writeSizedQueries(OUT, zone);
    const row = { records };
    if (o.only !== "knot") row.hadns = await measure(o, "hadns", zone, queries, cli);
    if (o.only !== "hadns") row.knot = await measure(o, "knot", zone, queries);
    rows.push(row);
  }
  const lines = [
    "| records | hadns answering | hadns all compiled | hadns RSS (peak) | hadns QPS | Knot ready | Knot RSS (peak) | Knot QPS |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    const h = r.hadns ?? {};
    const k = r.knot ?? {};
    const s = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} s` : "–");
    lines.push(`| ${num(r.records)} | ${s(h.readySeconds)} | ${s(h.compiledSeconds)} | ${mib(h.rssKiB)} (${mib(h.hwmKiB)}) | ${num(h.qps)} | ${s(k.readySeconds)} | ${mib(k.rssKiB)} (${mib(k.hwmKiB)}) | ${num(k.qps)} |`);
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
  fs.writeFileSync(path.join(OUT, "table.md"), text + "\n");
  fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify({ options: o, info, rows }, null, 2));
  return text;
}

export const ZONE_SIZE_DEFAULTS = DEFAULTS;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.stack ?? String(e));
    process.exit(1);
  });
}
