// Reads what the kernel says about a process and the CPUs (Linux /proc): CPU time of a process (all
// its threads), its resident memory, and per-core busy time (to see load from other processes).

import fs from "node:fs";
import { execFileSync } from "node:child_process";

let clkTck;
/** Clock ticks per second for /proc/PID/stat times (almost always 100). */
export function clockTicks() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of the process (the kernel sums its threads), in seconds. */
export function processCpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // f[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(f[11]) + Number(f[12])) / clockTicks();
}

/** The process and all its descendants (cluster workers), from the parent links in /proc. */
export function processTree(pid) {
  const children = new Map();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const walk = (p) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** utime + stime of the process and its descendants (hadns --workers), in seconds. */
export function treeCpuSeconds(pid) {
  let s = 0;
  for (const p of processTree(pid)) {
    try {
      s += processCpuSeconds(p);
    } catch {
      // exited between the listing and the read
    }
  }
  return s;
}

/** RSS summed over the process and its descendants, and the largest peak among them, in KiB. */
export function treeMemory(pid) {
  let rssKiB = 0;
  let hwmKiB = 0;
  for (const p of processTree(pid)) {
    try {
      const m = processMemory(p);
      rssKiB += m.rssKiB;
      hwmKiB = Math.max(hwmKiB, m.hwmKiB);
    } catch {
      // exited
    }
  }
  return { rssKiB, hwmKiB };
}

/**
 * Pins every thread of the process and its descendants to `cores` (a taskset list such as "1" or
 * "0-1"), and returns the distinct CPU lists the threads then have. Needed because Knot sets its UDP
 * worker's affinity itself at start (to core 0 on this machine), whatever taskset it was started under.
 */
export function pinTree(pid, cores) {
  const lists = new Set();
  for (const p of processTree(pid)) {
    try {
      execFileSync("taskset", ["-a", "-p", "-c", String(cores), String(p)], { stdio: "ignore" });
      for (const t of fs.readdirSync(`/proc/${p}/task`)) {
        const st = fs.readFileSync(`/proc/${p}/task/${t}/status`, "utf8");
        lists.add((st.match(/^Cpus_allowed_list:\s*(\S+)/m) ?? [])[1] ?? "?");
      }
    } catch {
      // exited
    }
  }
  return [...lists];
}

/** VmRSS and VmHWM (peak) in KiB. */
export function processMemory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key) => Number((status.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m")) ?? [])[1] ?? NaN);
  return { rssKiB: kib("VmRSS"), hwmKiB: kib("VmHWM") };
}

/** Per-core { busy, steal } seconds since boot, from /proc/stat. */
export function coreTimes() {
  const out = {};
  for (const line of fs.readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = line.match(/^cpu(\d+)\s+(.*)$/);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].split(/\s+/).map(Number);
    out[m[1]] = { busy: (user + nice + system + irq + softirq) / clockTicks(), steal: (steal ?? 0) / clockTicks() };
  }
  return out;
}

/** Pins this process (every thread) to one core, so the orchestrator never runs on the server's core. */
export function pinSelf(core) {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", String(core), String(process.pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits (up to maxMs) until every listed core was less than `threshold` busy over a short window, so
 * a run does not start in the middle of someone else's burst. Returns how long it waited and the
 * last busy shares seen.
 */
export async function waitForQuiet({ cores, threshold = 0.25, windowMs = 500, maxMs = 10000 }) {
  const start = Date.now();
  for (;;) {
    const a = coreTimes();
    await new Promise((r) => setTimeout(r, windowMs));
    const b = coreTimes();
    const busy = cores.map((c) => (a[c] && b[c] ? (b[c].busy - a[c].busy) / (windowMs / 1000) : 0));
    const waited = Date.now() - start;
    if (busy.every((x) => x < threshold) || waited >= maxMs) return { waitedMs: waited, busy, quiet: busy.every((x) => x < threshold) };
  }
}
