// The cost of one pool change inside hadns, in-process, from a dist/ tree: the same zone and 100
// pools as bench/pool-flips.mjs, the engine built with the pools' first answers, and LivePools wired
// the way src/server/runtime.ts wires them (status = override, else probed state; an override
// change refreshes every pool, a health transition the pools that probe that target). Times:
//   updatePool      QueryEngine.updatePool alone (refill the lanes that read the pool: after the
//                   warm-up every pool is back in a state seen before, so this is the reused fill)
//   health flip     LivePools.endpointChanged after one primary's probed state flips
//   override flip   OverrideStore.add of a down/up override (→ LivePools.refresh of every pool)
//   override, targeted  the same, LivePools.overrideChanged (only the pools at that address), if present
//   no-op refresh   LivePools.refresh when nothing changed (the scan an override change pays for)

import path from "node:path";
import { pathToFileURL } from "node:url";

export async function poolChangeCost({ dist, zoneFile, origin, pools, ops = 3000 }) {
  const load = (m) => import(pathToFileURL(path.join(dist, m)).href);
  const { loadZones } = await load("zone/load.js");
  const { buildEngine } = await load("answer/engine.js");
  const { renderPool } = await load("answer/pools.js");
  const { LivePools } = await load("pool/live.js");
  const { endpointKeyOf } = await load("pool/targets.js");
  const { OverrideStore } = await load("ops/overrides.js");
  const { createLogger } = await load("log.js");
  const { nameFromText } = await load("wire/name.js");
  const { RRType } = await load("wire/constants.js");

  const loaded = loadZones([{ file: zoneFile, origin }]);
  if (loaded.errors.length) throw new Error(`zone: ${JSON.stringify(loaded.errors[0])}`);
  const specs = pools.map((p) => ({
    name: p.name,
    type: "A",
    ttl: 60,
    degradedTtl: 10,
    policy: "failover",
    check: "flip",
    whenAllDown: "serve-all",
    endpoints: [
      { address: p.primary, checkAddress: p.primaryProbe },
      { address: p.secondary, checkAddress: p.secondaryProbe },
    ],
  }));
  const probed = new Map();
  for (const s of specs) for (let i = 0; i < s.endpoints.length; i++) probed.set(endpointKeyOf(s, i), "up");
  const store = new OverrideStore();
  // As Runtime.makePools does it (LivePools passes the endpoint's target key; an older dist/ does not).
  const statusOf = (spec, i, key = endpointKeyOf(spec, i)) => OverrideStore.apply(store.find(spec.name, spec.endpoints[i].address), probed.get(key));
  const logger = createLogger({ level: "warn", format: "json" });
  let changes = 0;
  const live = new LivePools(specs, statusOf, logger, () => changes++);
  const engine = buildEngine(loaded.zones, { pools: live.renders() });
  live.attach(engine);
  // As Runtime does on an override change: refresh every pool (or, with `targeted`, only the pools the
  // override names, through LivePools.overrideChanged where this dist/ has it).
  let targeted = false;
  store.onChange((c) => {
    const cause = `override ${c.kind}: ${c.override.action} ${c.override.address}`;
    if (targeted) live.overrideChanged(c.override, cause);
    else live.refresh(cause);
  });

  const timeEach = (n, fn) => {
    const t = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const a = performance.now();
      fn(k);
      t[k] = (performance.now() - a) * 1000;
    }
    t.sort();
    return { medianUs: t[n >> 1], p99Us: t[Math.floor(n * 0.99)], meanUs: t.reduce((x, y) => x + y, 0) / n };
  };
  const n = pools.length;

  // 1. updatePool alone, alternating each pool between its primary and its secondary.
  const renders = pools.map((p) => {
    const name = nameFromText(p.name);
    const mk = (addr) => renderPool(name, RRType.A, { rcode: "noerror", ttl: 10, selection: "fixed", variants: [[addr]], failOpen: false, reason: "bench" }, `${p.name} A`);
    return { name, up: mk(p.primary), down: mk(p.secondary) };
  });
  let lanes = 0;
  const upd = (k) => {
    const r = renders[k % n];
    lanes += engine.updatePool(r.name, RRType.A, Math.floor(k / n) % 2 === 0 ? r.down : r.up);
  };
  timeEach(ops, upd); // warm-up
  lanes = 0;
  const updatePool = timeEach(ops, upd);
  const lanesPerUpdate = lanes / ops;
  // Back to every pool answering its primary.
  for (const r of renders) engine.updatePool(r.name, RRType.A, r.up);

  // 2. A health transition of one primary: endpointChanged.
  const flipHealth = (k) => {
    const s = specs[k % n];
    const key = endpointKeyOf(s, 0);
    probed.set(key, probed.get(key) === "up" ? "down" : "up");
    live.endpointChanged(key, "bench");
  };
  timeEach(ops, flipHealth);
  changes = 0;
  const health = timeEach(ops, flipHealth);
  const healthChanges = changes;
  for (const s of specs) probed.set(endpointKeyOf(s, 0), "up");
  live.refresh("bench reset");

  // 3. An operator override of one primary, down then up (100 overrides active after one round).
  const flipOverride = (k) => {
    const p = pools[k % n];
    store.add({ pool: p.name, address: p.primary, action: Math.floor(k / n) % 2 === 0 ? "down" : "up", reason: "bench", forMs: 3600_000 });
  };
  timeEach(ops, flipOverride);
  changes = 0;
  const override = timeEach(ops, flipOverride);
  const overrideChanges = changes;

  // 3b. The same through overrideChanged (only the pools at that address), when LivePools has it.
  let overrideTargeted;
  if (typeof live.overrideChanged === "function") {
    targeted = true;
    timeEach(ops, flipOverride);
    changes = 0;
    overrideTargeted = { ...timeEach(ops, flipOverride), changesPerOp: changes / ops };
    targeted = false;
  }

  // 4. The scan alone: refresh every pool when nothing changed (100 overrides active).
  const activeOverrides = store.list().length;
  const noop = timeEach(Math.min(ops, 1000), () => live.refresh("bench no-op"));
  store.close();

  return {
    pools: n,
    ops,
    updatePool: { ...updatePool, lanesPerUpdate },
    health: { ...health, changesPerOp: healthChanges / ops },
    override: { ...override, changesPerOp: overrideChanges / ops, activeOverrides },
    ...(overrideTargeted ? { overrideTargeted } : {}),
    noopRefresh: noop,
  };
}
