// Warm start (issue 4): the state file holds the last known endpoint states and the overrides, is
// written atomically after each change (at most twice a second) and on a clean stop, and is read at
// start-up: a restart answers from it at once, before any probe has finished, while the first probe
// round confirms it. A stale, corrupt or foreign file is ignored with one log line: a cold start.

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resolveInputs } from "../src/cli/inputs.js";
import { loadServedZones } from "../src/cli/zones.js";
import { loadWarmState, readStateFile, startStateWriter, writeStateFile, type StateFileContent } from "../src/ops/state-file.js";
import { startInstance, type Instance } from "../src/server/instance.js";
import { startEndpoints, type TestEndpoint } from "./support/http-endpoints.js";
import { ask, values } from "./support/instance.js";
import { buildIfStale, startServe, type ServeProcess } from "./support/serve-process.js";

const ZONE = `$ORIGIN warm.test.
$TTL 300
@    SOA ns1 hostmaster 1 3600 900 604800 120
@    NS  ns1
ns1  A   192.0.2.1
`;

let eps: Awaited<ReturnType<typeof startEndpoints>>;
const dirs: string[] = [];
const ep = (a: string): TestEndpoint => eps.endpoints.find((e) => e.address === a)!;

beforeAll(async () => {
  buildIfStale();
  eps = await startEndpoints(2);
}, 180_000);
afterAll(async () => {
  await eps?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A temp dir with warm.test.zone and hadns.yaml: a failover pool over 127.0.0.2 and .3, a state file. */
function setup(opts: { interval?: string; timeout?: string; maxAge?: string } = {}): { dir: string; config: string; stateFile: string } {
  const dir = mkdtempSync(join(tmpdir(), "hadns-warm-"));
  dirs.push(dir);
  writeFileSync(join(dir, "warm.test.zone"), ZONE);
  const config = join(dir, "hadns.yaml");
  writeFileSync(
    config,
    `listen: ["127.0.0.1:0"]
admin: off
zones:
  - file: warm.test.zone
state:
  file: state/hadns-state.json
  max_age: ${opts.maxAge ?? "10m"}
checks:
  web:
    type: http
    port: ${eps.port}
    path: /health
    interval: ${opts.interval ?? "1h"}
    timeout: ${opts.timeout ?? "500ms"}
    rise: 1
    fall: 1
pools:
  - name: app.warm.test.
    type: A
    check: web
    policy: failover
    endpoints: [127.0.0.2, 127.0.0.3]
`,
  );
  return { dir, config, stateFile: join(dir, "state", "hadns-state.json") };
}

const readState = (file: string) => JSON.parse(readFileSync(file, "utf8")) as StateFileContent;

async function waitFor<T>(what: string, f: () => T | undefined, ms = 5000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    try {
      const v = f();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** hadns in process, from the same loaders and state-file calls `serve` uses. */
async function startInProcess(config: string, logs: Array<Record<string, unknown>> = []): Promise<Instance> {
  const { settings, errors } = resolveInputs({ config });
  expect(errors).toEqual([]);
  const loaded = loadServedZones(settings);
  const logger = pino({ level: "info" }, { write: (l: string) => void logs.push(JSON.parse(l) as Record<string, unknown>) });
  const warm = await loadWarmState(settings.ops.state, logger);
  return startInstance({
    zones: loaded.zones,
    listen: [{ host: "127.0.0.1", port: 0 }],
    logger,
    checks: settings.checks,
    pools: settings.pools,
    ...(warm ? { warm } : {}),
  });
}

describe("writing the state file", () => {
  let rt: Instance | undefined;
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
  });

  it("holds every endpoint's state and the overrides, rewritten after each change at most twice a second", async () => {
    const { config, stateFile } = setup();
    await ep("127.0.0.2").set("503");
    await ep("127.0.0.3").set("ok");
    rt = await startInProcess(config);
    const t0 = Date.now();
    const { settings } = resolveInputs({ config });
    const writer = startStateWriter(rt, settings.ops.state!, pino({ level: "silent" }));
    // Written at once, creating the directory.
    const first = await waitFor("the state file", () => readState(stateFile));
    expect(first.version).toBe(1);
    expect(first.savedAt).toBeGreaterThanOrEqual(t0);
    expect(first.overrides).toEqual([]);
    const byAddress = Object.fromEntries(first.endpoints.map((e) => [e.address, e]));
    expect(Object.keys(byAddress).sort()).toEqual(["127.0.0.2", "127.0.0.3"]);
    expect(byAddress["127.0.0.2"]).toEqual({ check: "web", address: "127.0.0.2", status: "down", since: expect.any(Number), reason: "first probe: HTTP 503" });
    expect(byAddress["127.0.0.3"]).toMatchObject({ check: "web", status: "up", reason: "first probe: HTTP 200" });
    const snap = rt.monitor.snapshot().find((s) => s.address === "127.0.0.2")!;
    expect(byAddress["127.0.0.2"]!.since).toBe(snap.since);

    // 30 override changes in a burst: written together, not 30 times. Every rename is a new inode.
    await new Promise((r) => setTimeout(r, 600));
    const inodes = new Set<number>([statSync(stateFile).ino]);
    const poll = setInterval(() => {
      try {
        inodes.add(statSync(stateFile).ino);
      } catch {
        // between unlink and rename there is no such moment: rename replaces atomically
      }
    }, 2);
    for (let i = 0; i < 30; i++) rt.overrides.add({ address: `192.0.2.${i + 1}`, action: "drain", reason: `maintenance ${i}`, forMs: 600_000 });
    await new Promise((r) => setTimeout(r, 1200));
    clearInterval(poll);
    expect(inodes.size - 1).toBeGreaterThanOrEqual(1);
    expect(inodes.size - 1).toBeLessThanOrEqual(3);
    const after = readState(stateFile);
    expect(after.overrides.map((o) => o.reason)).toEqual(Array.from({ length: 30 }, (_, i) => `maintenance ${i}`));
    expect(after.overrides[0]).toEqual(rt.overrides.list()[0]);

    // No temp file is left behind; close writes the final state.
    const o = rt.overrides.add({ address: "127.0.0.3", action: "down", reason: "last one", forMs: 60_000 });
    await writer.close();
    expect(readState(stateFile).overrides.at(-1)).toEqual(o);
    expect(readdirSync(join(stateFile, "..")).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("is replaced atomically: a reader never sees half a file", async () => {
    const { stateFile } = setup();
    mkdirSync(join(stateFile, ".."), { recursive: true });
    const content = (n: number): StateFileContent => ({
      version: 1,
      savedAt: Date.now(),
      endpoints: Array.from({ length: 2000 }, (_, i) => ({ check: "web", address: `10.0.${i >> 8}.${i & 255}`, status: i % 2 ? "up" : "down", since: n, reason: "x".repeat(40) })),
      overrides: [],
    });
    let reads = 0;
    let bad = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        try {
          const s = readState(stateFile);
          if (s.endpoints.length !== 2000) bad++;
          reads++;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "ENOENT") bad++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let n = 0; n < 100; n++) await writeStateFile(stateFile, content(n));
    writing = false;
    await reader;
    expect(bad).toBe(0);
    expect(reads).toBeGreaterThan(10);
    expect(readState(stateFile).endpoints[0]!.since).toBe(99);
  });
});

describe("reading the state file", () => {
  it("ignores a missing, corrupt, foreign-version, stale or malformed file, saying why", async () => {
    const { stateFile } = setup();
    const settings = { file: stateFile, maxAgeMs: 600_000 };
    const now = Date.now();
    expect(await readStateFile(settings, now)).toEqual({ ignored: "no state file yet" });
    mkdirSync(join(stateFile, ".."), { recursive: true });
    const good: StateFileContent = {
      version: 1,
      savedAt: now - 5000,
      endpoints: [{ check: "web", address: "127.0.0.2", status: "down", since: now - 60_000, reason: "HTTP 503" }],
      overrides: [{ id: "a", address: "127.0.0.3", action: "drain", reason: "r", createdAt: now - 1000, expiresAt: now + 60_000 }],
    };
    const cases: Array<[string, string | RegExp]> = [
      ["{ nope", /^not valid JSON \(/],
      ["[]", "not a JSON object"],
      [JSON.stringify({ ...good, version: 2 }), "version 2, this hadns reads version 1"],
      [JSON.stringify({ ...good, savedAt: now - 11 * 60_000 }), "saved 11 min ago, older than max_age 10 min"],
      [JSON.stringify({ ...good, endpoints: [{ check: "web", address: "127.0.0.2", status: "sideways", since: 1, reason: "" }] }), "endpoints[0] is malformed"],
      [JSON.stringify({ ...good, overrides: [{ id: "a" }] }), "overrides[0] is malformed"],
    ];
    for (const [text, why] of cases) {
      writeFileSync(stateFile, text);
      const r = await readStateFile(settings, now);
      expect("ignored" in r ? r.ignored : r).toMatch(why);
    }
    writeFileSync(stateFile, JSON.stringify(good));
    expect(await readStateFile(settings, now)).toEqual({ warm: { endpoints: good.endpoints, overrides: good.overrides }, savedAt: good.savedAt });
  });

  it("overrides survive a restart (and an expired one does not)", async () => {
    const { config, stateFile } = setup();
    await ep("127.0.0.2").set("ok");
    await ep("127.0.0.3").set("ok");
    const rt1 = await startInProcess(config);
    const { settings } = resolveInputs({ config });
    const writer = startStateWriter(rt1, settings.ops.state!, pino({ level: "silent" }));
    const kept = rt1.overrides.add({ address: "127.0.0.2", action: "drain", reason: "disk swap", forMs: 30 * 60_000 });
    rt1.overrides.add({ address: "192.0.2.77", action: "down", reason: "brief", forMs: 300 });
    expect(values(await ask("127.0.0.1", rt1.server.listening[0]!.port, "app.warm.test.", "A"))).toEqual(["127.0.0.3"]);
    await writer.close();
    await rt1.close();
    expect(readState(stateFile).overrides).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 400));

    const logs: Array<Record<string, unknown>> = [];
    const rt2 = await startInProcess(config, logs);
    try {
      expect(rt2.overrides.list()).toEqual([kept]);
      expect(values(await ask("127.0.0.1", rt2.server.listening[0]!.port, "app.warm.test.", "A"))).toEqual(["127.0.0.3"]);
      expect(logs.find((l) => String(l.msg).startsWith("warm start from the state file"))).toMatchObject({ overrides: 2, endpoints: 2, down: 0 });
    } finally {
      await rt2.close();
    }
  });
});

describe("hadns serve across a restart", () => {
  let srv: ServeProcess | undefined;
  afterEach(async () => {
    await srv?.stop("SIGKILL");
    srv = undefined;
  });

  it("answers from the saved state at once, before any probe has finished", async () => {
    // Probes that take 3 s to fail: a cold start would not answer for 3 s, then with both down.
    const { config, stateFile } = setup({ interval: "10s", timeout: "3s" });
    await ep("127.0.0.2").set("503");
    await ep("127.0.0.3").set("ok");
    srv = await startServe(["--config", config]);
    expect(values(await ask("127.0.0.1", srv.port, "app.warm.test.", "A"))).toEqual(["127.0.0.3"]);
    expect(await srv.stop("SIGTERM")).toBe(0);
    const saved = readState(stateFile);
    expect(saved.endpoints.map((e) => [e.address, e.status]).sort()).toEqual([["127.0.0.2", "down"], ["127.0.0.3", "up"]]);

    // Now 127.0.0.2 is healthy again, but every probe hangs: only the saved state can answer.
    await ep("127.0.0.2").set("hang");
    await ep("127.0.0.3").set("hang");
    srv = await startServe(["--config", config]);
    const answer = values(await ask("127.0.0.1", srv.port, "app.warm.test.", "A"));
    const msgs = srv.lines().map((l) => l.msg);
    expect(answer).toEqual(["127.0.0.3"]);
    expect(msgs.find((m) => m.startsWith("warm start from the state file"))).toMatch(/: 2 endpoints \(1 down\), 0 overrides$/);
    expect(msgs).toContain("warm start: answering from the saved health state while the first round confirms it");
    // No probe had a result yet when that answer came: no transition, no first-round line.
    expect(msgs.filter((m) => m.startsWith("endpoint ") || m.startsWith("first round"))).toEqual([]);
    // The first probe is decisive: 127.0.0.3 hangs, so it goes down after its timeout.
    await srv.waitForLine((l) => l.msg === "endpoint down" && l.address === "127.0.0.3", 8000);
    await ep("127.0.0.2").set("ok");
    await ep("127.0.0.3").set("ok");
  });

  it.each([
    ["stale", (now: number) => JSON.stringify({ version: 1, savedAt: now - 3 * 60_000, endpoints: [], overrides: [] }), /^state file ignored: saved 3 min ago, older than max_age 2 min; cold start/],
    ["corrupt", () => '{"version": 1, "savedAt": ', /^state file ignored: not valid JSON \(.*\); cold start/],
  ])("a %s state file is ignored with one log line, and the first round of probes decides", async (_kind, text, line) => {
    const { config, stateFile } = setup({ maxAge: "2m" });
    await ep("127.0.0.2").set("503");
    await ep("127.0.0.3").set("ok");
    mkdirSync(join(stateFile, ".."), { recursive: true });
    writeFileSync(stateFile, text(Date.now()));
    srv = await startServe(["--config", config]);
    const msgs = srv.lines().map((l) => l.msg);
    expect(msgs.filter((m) => m.startsWith("state file ignored"))).toEqual([expect.stringMatching(line)]);
    expect(msgs.some((m) => m.startsWith("first round of health checks done"))).toBe(true);
    expect(msgs.some((m) => m.startsWith("warm start"))).toBe(false);
    expect(values(await ask("127.0.0.1", srv.port, "app.warm.test.", "A"))).toEqual(["127.0.0.3"]);
    // And the file is rewritten with the state the probes found.
    const saved = await waitFor("a fresh state file", () => {
      const s = readState(stateFile);
      return s.endpoints.length === 2 ? s : undefined;
    });
    expect(saved.endpoints.find((e) => e.address === "127.0.0.2")!.status).toBe("down");
    expect(await srv.stop("SIGTERM")).toBe(0);
  });
});
