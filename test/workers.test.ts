// `hadns serve --workers 2` as an operator runs it (issue 5): the built bin in a child process, a pool
// over two real HTTP endpoints on 127.0.0.60/61 that go down and up, queries over UDP (each from its
// own source port) and TCP (several connections, which the primary hands to the workers in turn).
// Every answer is the same bytes whichever worker sends it, and all of them change together once both
// workers have been told; the endpoints see the probes of one checker, not two; a worker killed with
// SIGKILL is restarted with the current state; SIGHUP reloads every worker; SIGTERM exits 0 and leaves
// no worker behind. Plus the command-line and config errors of --workers.

import { execFile } from "node:child_process";
import dgram from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, sendTcpMany, sendUdp } from "./support/client.js";
import { startEndpoints } from "./support/http-endpoints.js";
import { values, view } from "./support/instance.js";
import { call, until } from "./support/admin.js";
import { BIN, buildIfStale, startServe, type LogLine, type ServeProcess } from "./support/serve-process.js";

const zone = (serial: number, extra = ""): string => `$ORIGIN workers.test.
$TTL 300
@     3600 SOA  ns1 hostmaster ${serial} 3600 900 604800 120
@     3600 NS   ns1
ns1        A    192.0.2.53
www        A    192.0.2.80
${extra}`;

/** Probe every 500 ms (fast 100 ms while in doubt); down after 2 failures, up after 2 successes. */
const INTERVAL_MS = 500;
const config = (port: number): string => `listen: ["127.0.0.1:0"]
admin: { listen: "127.0.0.1:0" }
zones: [workers.test.zone]
checks:
  web: { type: http, port: ${port}, path: /health, interval: ${INTERVAL_MS}ms, timeout: 300ms, fast_interval: 100ms, fall: 2, rise: 2, flap_window: 0 }
pools:
  - { name: app.workers.test., type: A, ttl: 30, degraded_ttl: 5, check: web, endpoints: [127.0.0.60, 127.0.0.61] }
`;

const POOL = "app.workers.test. A";
const tmp = mkdtempSync(join(tmpdir(), "hadns-workers-"));
let eps: Awaited<ReturnType<typeof startEndpoints>>;
let srv: ServeProcess;
let admin: string;

beforeAll(async () => {
  buildIfStale();
  eps = await startEndpoints(2, undefined, { firstAddress: 60 });
  writeFileSync(join(tmp, "workers.test.zone"), zone(1));
  writeFileSync(join(tmp, "hadns.yaml"), config(eps.port));
  srv = await startServe(["--config", join(tmp, "hadns.yaml"), "--workers", "2", "--log-level", "debug"]);
  admin = (await srv.waitForLine((l) => l.msg.startsWith("admin API and status page on "))).url as string;
}, 60_000);

afterAll(async () => {
  if (srv) await srv.stop("SIGKILL");
  await eps?.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface WorkerInfo {
  worker: number;
  pid: number | null;
  state: string;
  restarts: number;
  queries: number;
}

async function workers(): Promise<WorkerInfo[]> {
  return (await call(admin, "GET", "/v1/status")).json.workers as WorkerInfo[];
}

const BATCH = 30 + 6 * 8;
/** Queries sent so far (all answered), minus those a killed worker counted but never reported. */
let sent = 0;

/**
 * The same query (same ID) 30 times over UDP, each from a new socket, and 8 times over each of 6 TCP
 * connections: every reply, whichever worker sent it.
 */
async function batch(name: string, type = "A"): Promise<Buffer[]> {
  const q = buildQuery({ id: 4242, name, type, edns: true });
  const udp = Array.from({ length: 30 }, () => sendUdp("127.0.0.1", srv.port, q, { timeoutMs: 3000 }));
  const tcp = Array.from({ length: 6 }, () => sendTcpMany("127.0.0.1", srv.port, Array.from({ length: 8 }, () => q), { timeoutMs: 3000 }));
  const replies = [...(await Promise.all(udp)), ...(await Promise.all(tcp)).flatMap((r) => r.responses)];
  expect(replies.length).toBe(BATCH);
  sent += BATCH;
  return replies.map((r) => {
    expect(r).not.toBeNull();
    return Buffer.from(r!);
  });
}

/** Every reply is the same bytes; returns the answer's values. */
function sameEverywhere(replies: Buffer[]): string[] {
  const first = replies[0]!;
  const differing = replies.filter((r) => !r.equals(first));
  expect(differing.map((r) => values(view(r)))).toEqual([]);
  return values(view(first));
}

/** The log position now, to wait for lines that come after it. */
const mark = (): number => srv.lines().length;

/** Waits until the primary and both workers have logged the pool's new answer (after `from`). */
async function poolChangedEverywhere(from: number, answer: string): Promise<void> {
  const changed = (l: LogLine): boolean => l.pool === POOL && JSON.stringify(l.answer) === JSON.stringify([answer]);
  await srv.waitForLine((l) => changed(l) && l.worker === undefined, 15_000, from);
  for (const w of [1, 2]) await srv.waitForLine((l) => changed(l) && l.worker === w, 15_000, from);
}

const sum = (ws: WorkerInfo[]): number => ws.reduce((s, w) => s + w.queries, 0);

/** The workers once every query sent has been reported to the primary (each reports every second). */
async function allCounted(): Promise<WorkerInfo[]> {
  let now: WorkerInfo[] = [];
  await until(async () => sum((now = await workers())) === sent, 10_000, `all ${sent} queries counted`);
  return now;
}

describe("hadns serve --workers 2", () => {
  it("starts two workers that answer the same bytes, and counts the queries of both", async () => {
    const ws = await workers();
    expect(ws.map((w) => [w.worker, w.state])).toEqual([
      [1, "answering"],
      [2, "answering"],
    ]);
    expect(new Set(ws.map((w) => w.pid)).size).toBe(2);
    // Every endpoint probed up before the first answer.
    expect(sameEverywhere(await batch("app.workers.test."))).toEqual(["127.0.0.60"]);
    expect(sameEverywhere(await batch("www.workers.test."))).toEqual(["192.0.2.80"]);
    const after = await allCounted();
    // TCP connections alternate between the workers: both answered some.
    for (const w of after) expect(w.queries).toBeGreaterThan(0);
    const metrics = (await call(admin, "GET", "/metrics")).text;
    const counted = [...metrics.matchAll(/^hadns_queries_total\{zone="workers\.test\.",qtype="A",rcode="NOERROR",transport="(udp|tcp)"\} (\d+)$/gm)];
    expect(Object.fromEntries(counted.map((m) => [m[1], Number(m[2])]))).toEqual({ udp: 60, tcp: 96 });
    // `hadns status` shows them as a table.
    const text = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [BIN, "status", "--admin", admin], { timeout: 20_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    const rows = text.split("\n").slice(text.split("\n").indexOf("WORKERS") + 1, text.split("\n").indexOf("WORKERS") + 4).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => [r[0], r[2]])).toEqual([
      ["WORKER", "STATE"],
      ["1", "answering"],
      ["2", "answering"],
    ]);
  });

  it("spreads UDP clients over the workers: each binds its own socket to the port (SO_REUSEPORT)", async () => {
    const before = await allCounted();
    const q = buildQuery({ id: 77, name: "www.workers.test.", type: "A" });
    // 40 clients, each its own source port: the kernel hashes them over the two sockets.
    const replies = await Promise.all(Array.from({ length: 40 }, () => sendUdp("127.0.0.1", srv.port, q, { timeoutMs: 3000 })));
    expect(replies.filter((r) => r === null)).toEqual([]);
    sent += 40;
    const after = await allCounted();
    const udpOnly = after.map((w, i) => w.queries - before[i]!.queries);
    expect(udpOnly.reduce((a, b) => a + b, 0)).toBe(40);
    for (const n of udpOnly) expect(n).toBeGreaterThan(0);
  });

  it("probes each endpoint from one health checker, not one per worker", async () => {
    const ep = eps.endpoints[0]!;
    const n0 = ep.requests.length;
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    const probes = ep.requests.length - n0;
    const elapsed = Date.now() - t0;
    // One checker probes at most once per 0.9 interval (jitter ±10 %); two would probe about twice that.
    expect(probes).toBeGreaterThan(0);
    expect(probes).toBeLessThanOrEqual(Math.floor(elapsed / (0.9 * INTERVAL_MS)) + 1);
  });

  it("flips every answer together when the endpoint goes down, and back when it comes up", async () => {
    let from = mark();
    await eps.endpoints[0]!.set("refuse");
    await poolChangedEverywhere(from, "127.0.0.61");
    expect(sameEverywhere(await batch("app.workers.test."))).toEqual(["127.0.0.61"]);

    from = mark();
    await eps.endpoints[0]!.set("ok");
    await poolChangedEverywhere(from, "127.0.0.60");
    expect(sameEverywhere(await batch("app.workers.test."))).toEqual(["127.0.0.60"]);
  });

  it("restarts a worker killed with SIGKILL, with the current state (an override set while it was down)", async () => {
    // Every count reported first, so the killed worker takes none with it.
    const before = await allCounted();
    const victim = before[0]!;
    const from = mark();
    process.kill(victim.pid!, "SIGKILL");
    const set = await call(admin, "POST", "/v1/overrides", { body: { pool: "app.workers.test.", address: "127.0.0.60", action: "drain", reason: "test", for: "10m" } });
    expect(set.status).toBe(201);
    await srv.waitForLine((l) => l.msg.startsWith("worker 1 (pid ") && l.msg.includes("died (killed by SIGKILL)"), 10_000, from);
    await srv.waitForLine((l) => l.msg.startsWith("worker 1 (pid ") && l.msg.endsWith(" answering") && l.workerPid !== victim.pid, 15_000, from);
    // The other worker was told; the new one started from the state (or was told, if it was quicker).
    await srv.waitForLine((l) => l.pool === POOL && l.worker === 2 && JSON.stringify(l.answer) === '["127.0.0.61"]', 10_000, from);
    const ws = await workers();
    expect(ws[0]!.pid).not.toBe(victim.pid);
    expect(ws[0]!.restarts).toBe(1);
    expect(ws[0]!.state).toBe("answering");

    expect(sameEverywhere(await batch("app.workers.test."))).toEqual(["127.0.0.61"]);
    const after = await allCounted();
    expect(after[0]!.queries).toBeGreaterThan(ws[0]!.queries); // the restarted worker answered some of them

    const off = mark();
    expect((await call(admin, "DELETE", `/v1/overrides/${set.json.id as string}`)).status).toBe(200);
    await poolChangedEverywhere(off, "127.0.0.60");
    expect(sameEverywhere(await batch("app.workers.test."))).toEqual(["127.0.0.60"]);
  });

  it("reloads every worker on SIGHUP", async () => {
    writeFileSync(join(tmp, "workers.test.zone"), zone(2, "new        A    192.0.2.99\n"));
    const from = mark();
    srv.signal("SIGHUP");
    await srv.waitForLine((l) => l.msg === "reloaded config and zones", 15_000, from);
    for (const w of [1, 2]) await srv.waitForLine((l) => l.msg === `worker ${w} reloaded config and zones`, 15_000, from);
    const ws = await allCounted();
    expect(sameEverywhere(await batch("new.workers.test."))).toEqual(["192.0.2.99"]);
    const after = await allCounted();
    for (let i = 0; i < 2; i++) expect(after[i]!.queries).toBeGreaterThan(ws[i]!.queries);
    // A rejected reload changes nothing anywhere.
    writeFileSync(join(tmp, "workers.test.zone"), zone(3, "broken     A    192.0.2.300\n"));
    const r = await call(admin, "POST", "/v1/reload", { body: {} });
    expect(r.status).toBe(422);
    expect(sameEverywhere(await batch("new.workers.test."))).toEqual(["192.0.2.99"]);
  });

  it("stops on SIGTERM with exit status 0, and its workers with it", async () => {
    const pids = (await workers()).map((w) => w.pid!);
    const from = mark();
    expect(await srv.stop("SIGTERM")).toBe(0);
    expect(srv.lines().slice(from).some((l) => l.msg === "stopped")).toBe(true);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe("--workers and workers: errors", () => {
  const run = (args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
      });
    });

  it("rejects a bad --workers on the command line (exit 2)", async () => {
    for (const bad of ["0", "two", "-1", "1000"]) {
      const r = await run(["serve", "--zone", join(tmp, "workers.test.zone"), "--workers", bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--workers");
      expect(r.stderr).toContain("from 1 to 256, or auto");
    }
  });

  it("names the key of a bad workers: in the config", async () => {
    writeFileSync(join(tmp, "workers.test.zone"), zone(4));
    const file = join(tmp, "bad-workers.yaml");
    writeFileSync(file, `zones: [workers.test.zone]\nworkers: lots\n`);
    const r = await run(["check", "--config", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:2: workers: expected a whole number of worker processes from 1 to 256, or auto`);
  });

  it("does not start when the workers cannot bind (exit 1, as one process)", async () => {
    const taken = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => taken.bind({ address: "127.0.0.1", port: 0, exclusive: true }, resolve));
    const port = taken.address().port;
    try {
      const r = await run(["serve", "--zone", join(tmp, "workers.test.zone"), "--listen", `127.0.0.1:${port}`, "--admin-listen", "off", "--log-format", "json", "--workers", "2"]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`cannot start: bind EADDRINUSE 127.0.0.1:${port}`);
    } finally {
      taken.close();
    }
  });

  it("refuses zone transfers with more than one worker, naming transfers", async () => {
    const file = join(tmp, "xfr-workers.yaml");
    writeFileSync(file, `zones: [workers.test.zone]\nworkers: 2\ntransfers:\n  allow: [127.0.0.1]\n`);
    const checked = await run(["check", "--config", file]);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toMatch(new RegExp(`${file}:3: transfers: zone transfers .* cannot be combined with workers: 2`));

    const flagged = join(tmp, "xfr.yaml");
    writeFileSync(flagged, `listen: ["127.0.0.1:0"]\nadmin: off\nzones: [workers.test.zone]\ntransfers:\n  allow: [127.0.0.1]\n`);
    const served = await run(["serve", "--config", flagged, "--workers", "2"]);
    expect(served.code).toBe(1);
    expect(served.stderr).toContain("transfers: zone transfers (AXFR/IXFR/NOTIFY) are served by a single process and cannot be combined with --workers 2");
  });
});
