// Inputs for bench/pool-flips.mjs: 100 failover pools (`flipN.bench.test. A`, primary then
// secondary), a hadns config whose HTTP check probes each endpoint on its own loopback address, and
// a dnsperf query file that is mostly those pool names plus some static names. Deterministic.
//
// Endpoint i of the pools:
//   primary   answers 10.100.x.y, probed as http://127.0.1.(i+1):PORT/health   (its health flips)
//   secondary answers 10.200.x.y, probed as http://127.0.2.(i+1):PORT/health   (always healthy)
// Every 127.0.0.0/8 address is loopback on Linux, so each endpoint is a distinct probe target (one
// HTTP listener per address in the bench process) without any network set-up.

import fs from "node:fs";
import path from "node:path";
import { ORIGIN, rng, writeZone } from "./zonegen.mjs";

export const FLIP_POOL_PREFIX = "flip";

const octets = (i) => `${(i >> 8) & 255}.${(i & 255)}`;

/** The pools: name, answered addresses, probed addresses. */
export function flipPools(count) {
  if (count > 250) throw new Error("at most 250 pools (one loopback /24 each for primaries and secondaries)");
  const pools = [];
  for (let i = 0; i < count; i++) {
    pools.push({
      index: i,
      name: `${FLIP_POOL_PREFIX}${i}.${ORIGIN}.`,
      primary: `10.100.${octets(i)}`,
      secondary: `10.200.${octets(i)}`,
      primaryProbe: `127.0.1.${i + 1}`,
      secondaryProbe: `127.0.2.${i + 1}`,
    });
  }
  return pools;
}

/**
 * The zone (bench/lib/zonegen.mjs's, without its own ten pool names) and the config. Check settings:
 * `fall 1`, `rise 1`, no flap damping, so hadns follows a health flip at its next probe, at most one
 * `interval` (±10 %) after it; with interval < 1 s every flip of a 1 s period is seen. The
 * secondaries' check (`steady`) probes as often but needs 3 failures to go down.
 */
export function writeFlipInputs(dir, { hosts, pools, checkPort, adminPort, intervalMs, timeoutMs }) {
  const zone = writeZone(dir, { hosts });
  const check = (name, { fall, fastInterval = false, flapWindow0 = false }) => [
    `  ${name}:`,
    "    type: http",
    `    port: ${checkPort}`,
    "    path: /health",
    '    expect: { status: ["200"], body: "ok" }',
    `    interval: ${intervalMs}ms`,
    `    timeout: ${timeoutMs}ms`,
    ...(fastInterval ? [`    fast_interval: ${intervalMs}ms`] : []),
    `    fall: ${fall}`,
    "    rise: 1",
    ...(flapWindow0 ? ["    flap_window: 0"] : []),
  ];
  const lines = [
    `zones: [{ file: ${path.basename(zone.hadnsZone)}, origin: ${ORIGIN}. }]`,
    `admin: { listen: "127.0.0.1:${adminPort}" }`,
    "checks:",
    ...check("flip", { fall: 1, fastInterval: true, flapWindow0: true }),
    // The secondaries never flip on purpose: three failures in a row to go down, so a probe that times
    // out while hadns's core is saturated does not fail the pool open.
    ...check("steady", { fall: 3 }),
    "pools:",
  ];
  for (const p of pools) {
    lines.push(
      `  - name: ${p.name}`,
      "    type: A",
      "    ttl: 60",
      "    degraded_ttl: 10",
      "    policy: failover",
      "    check: flip",
      "    endpoints:",
      `      - { address: ${p.primary}, check_address: ${p.primaryProbe} }`,
      `      - { address: ${p.secondary}, check_address: ${p.secondaryProbe}, check: steady }`,
    );
  }
  const config = path.join(dir, "hadns-flips.yaml");
  fs.writeFileSync(config, lines.join("\n") + "\n");
  return { zone, config };
}

function mixCase(name, rand) {
  let out = "";
  for (const c of name) out += c >= "a" && c <= "z" && rand() < 0.5 ? c.toUpperCase() : c;
  return out;
}

/** `count` dnsperf lines: `poolShare` A queries for the pool names, the rest A/AAAA for static hosts. */
export function writeFlipQueries(dir, { pools, hosts, count = 20000, poolShare = 0.8, seed = 5 }) {
  const rand = rng(seed);
  const out = [];
  for (let k = 0; k < count; k++) {
    if (rand() < poolShare) {
      out.push(`${mixCase(pools[Math.floor(rand() * pools.length)].name.slice(0, -1), rand)} A`);
    } else {
      const h = `host${String(Math.floor(rand() * hosts)).padStart(6, "0")}.${ORIGIN}`;
      out.push(`${mixCase(h, rand)} ${rand() < 0.5 ? "A" : "AAAA"}`);
    }
  }
  const file = path.join(dir, "queries-flips.txt");
  fs.writeFileSync(file, out.join("\n") + "\n");
  return file;
}
