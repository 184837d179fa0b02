// Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function, highest first.

import fs from "node:fs";
import path from "node:path";

/**
 * @returns {{ totalMs: number, idleMs: number, top: {fn: string, where: string, selfMs: number, pct: number}[] }}
 *   pct is the share of non-idle time; byGroup sums it by where the code lives.
 */
export function topSelfTime(file, { repo, limit = 10 } = {}) {
  const prof = JSON.parse(fs.readFileSync(file, "utf8"));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  // timeDeltas[i] is the time before sample i; attribute it to the sample it precedes the next one.
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i + 1] ?? 0;
    const id = prof.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const agg = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id).callFrame;
    total += us;
    if (cf.functionName === "(idle)") {
      idle += us;
      continue;
    }
    let url = cf.url.replace(/^file:\/\//, "");
    if (repo && url.startsWith(repo + path.sep)) url = path.relative(repo, url);
    const where = url ? `${url}:${cf.lineNumber + 1}` : "";
    const fn = cf.functionName || "(anonymous)";
    const key = `${fn}\u0000${where}`;
    agg.set(key, (agg.get(key) ?? 0) + us);
  }
  const busy = total - idle;
  // Where the non-idle time goes: hadns's own code, Node's JS internals, or native (syscalls, GC).
  const groups = {};
  for (const [key, us] of agg) {
    const where = key.split("\u0000")[1];
    const g = where.startsWith("node:") ? "Node internals (node:*)" : where === "" ? "native ((program), GC, builtins)" : where.includes("node_modules") ? "dependencies" : "hadns (dist/)";
    groups[g] = (groups[g] ?? 0) + us;
  }
  const byGroup = Object.entries(groups).sort((a, b) => b[1] - a[1]).map(([group, us]) => ({ group, pct: (100 * us) / busy }));
  const top = [...agg.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, us]) => {
      const [fn, where] = key.split("\u0000");
      return { fn, where, selfMs: us / 1000, pct: (100 * us) / busy };
    });
  return { totalMs: total / 1000, idleMs: idle / 1000, top, byGroup };
}
