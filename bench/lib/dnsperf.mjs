// Runs dnsperf (pinned to its own core) and parses its summary. With `latency`, runs it with -v and
// computes percentiles from the per-query lines ("> NOERROR name type 0.000123"), since dnsperf 2.10
// prints no histogram. Those lines go to a file, read after dnsperf exits: reading them from a pipe
// while it runs would take CPU from dnsperf's own core (100k+ lines a second at the higher rates).

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * @param {object} o
 * @param {number} o.port
 * @param {string} o.queries  query file
 * @param {number} o.seconds  -l
 * @param {number} [o.rate]   -Q (fixed offered load); omitted: as fast as it can
 * @param {number} [o.clients=4] -c
 * @param {number} [o.outstanding=100] -q
 * @param {boolean} [o.latency] -v, and percentiles
 * @param {string} [o.core="0"] taskset core list for dnsperf
 * @param {"udp"|"tcp"} [o.mode="udp"] -m; over TCP dnsperf keeps each client's connection open and
 *   sends all its queries on it, several outstanding at once (RFC 7766 pipelining)
 */
export function runDnsperf(o) {
  const args = ["-s", o.host ?? "127.0.0.1", "-p", String(o.port), "-d", o.queries, "-l", String(o.seconds),
    "-c", String(o.clients ?? 4), "-q", String(o.outstanding ?? 100)];
  if (o.rate) args.push("-Q", String(o.rate));
  if (o.mode === "tcp") args.push("-m", "tcp");
  if (o.latency) args.push("-v");
  const argv = ["-c", o.core ?? "0", "dnsperf", ...args];
  const outFile = path.join(os.tmpdir(), `hadns-bench-dnsperf-${process.pid}-${Date.now()}.txt`);
  return new Promise((resolve, reject) => {
    const out = fs.openSync(outFile, "w");
    const child = spawn("taskset", argv, { stdio: ["ignore", out, "pipe"] });
    fs.closeSync(out);
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      let text = "";
      const lat = [];
      try {
        for (const line of fs.readFileSync(outFile, "utf8").split("\n")) {
          if (line.startsWith("> ")) {
            const v = Number(line.slice(line.lastIndexOf(" ") + 1));
            if (Number.isFinite(v)) lat.push(v);
          } else text += line + "\n";
        }
      } finally {
        fs.rmSync(outFile, { force: true });
      }
      if (code !== 0) return reject(new Error(`dnsperf exited ${code}: ${stderr || text}`));
      try {
        const r = parseSummary(text);
        r.command = `taskset ${argv.join(" ")}`;
        // "Response codes: NOERROR …" is not a warning; dnsperf's own start with [Warning], [Timeout], Error.
        r.warnings = (stderr + text).split("\n").filter((l) => /^\s*(\[(warning|timeout|error)\]|warning:|error:)/i.test(l)).slice(0, 5);
        if (o.latency) Object.assign(r, percentiles(lat));
        resolve(r);
      } catch (e) {
        reject(e);
      }
    });
  });
}

function num(text, re) {
  const m = text.match(re);
  if (!m) throw new Error(`dnsperf output without ${re}:\n${text}`);
  return Number(m[1]);
}

export function parseSummary(text) {
  const codes = {};
  const cl = text.match(/Response codes:\s+(.*)/);
  if (cl) for (const m of cl[1].matchAll(/([A-Z]+) (\d+)/g)) codes[m[1]] = Number(m[2]);
  return {
    sent: num(text, /Queries sent:\s+(\d+)/),
    completed: num(text, /Queries completed:\s+(\d+)/),
    lost: num(text, /Queries lost:\s+(\d+)/),
    qps: num(text, /Queries per second:\s+([\d.]+)/),
    runTime: num(text, /Run time \(s\):\s+([\d.]+)/),
    avgLatency: num(text, /Average Latency \(s\):\s+([\d.]+)/),
    codes,
  };
}

function percentiles(lat) {
  if (lat.length === 0) return { p50: NaN, p99: NaN, samples: 0 };
  const a = Float64Array.from(lat).sort();
  const at = (p) => a[Math.min(a.length - 1, Math.floor(p * a.length))];
  return { p50: at(0.5), p99: at(0.99), samples: a.length };
}
