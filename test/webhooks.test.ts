// Webhooks (issue 4) against a real local HTTP receiver, around a pool served by hadns that really
// fails over: the generic, Slack and PagerDuty shapes (trigger on losing the primary and on
// fail-open, resolve on recovery); a receiver that hangs (DNS answers and probes go on meanwhile),
// one that is down (retries with backoff, then give up, counted), one that answers 500 then 200
// (retried, delivered once), 429 with Retry-After, a 4xx (not retried), and a full queue.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { pino, type Logger } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WebhookSettings } from "../src/config/ops.js";
import { metricsFor, renderMetrics } from "../src/ops/metrics.js";
import { backoffMs, retryAfterMs, startWebhooks, type WebhookOptions, type Webhooks } from "../src/ops/webhooks.js";
import { startEndpoints } from "./support/http-endpoints.js";
import { startPoolServer, webCheck, values, waitForAnswer, type PoolServer } from "./support/instance.js";

// ---- the receiver ------------------------------------------------------------------------------

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  at: number;
}

type Reply = (res: http.ServerResponse, r: Received, n: number) => void;

class Receiver {
  readonly got: Received[] = [];
  /** How to answer, by path; default 200 "ok". `n` counts requests to that path, from 1. */
  replies = new Map<string, Reply>();
  private readonly hanging = new Set<http.ServerResponse>();
  private readonly server = http.createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (text += d));
    req.on("end", () => {
      const r: Received = { path: req.url ?? "", headers: req.headers, body: JSON.parse(text || "null"), at: Date.now() };
      this.got.push(r);
      const n = this.got.filter((g) => g.path === r.path).length;
      (this.replies.get(r.path) ?? ok)(res, r, n);
    });
  });
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  at(path: string): Received[] {
    return this.got.filter((g) => g.path === path);
  }

  /** A reply that never comes until release(). */
  hang: Reply = (res) => {
    this.hanging.add(res);
  };

  release(): void {
    for (const res of this.hanging) res.writeHead(200).end("late ok");
    this.hanging.clear();
  }

  get hangingCount(): number {
    return this.hanging.size;
  }

  reset(): void {
    this.release();
    this.got.length = 0;
    this.replies.clear();
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const ok: Reply = (res) => void res.writeHead(200, { "content-type": "text/plain" }).end("ok");

/** A port nothing listens on: connections to it are refused. */
async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A pino logger at debug that keeps every line. */
function recordingLogger(): { logger: Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  const logger = pino({ level: "debug" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { logger, lines };
}

// ---- hadns with a failover pool over two real endpoints --------------------------------------------

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
`;
const [PRIMARY, SECONDARY] = ["127.0.0.50", "127.0.0.51"];
const POOL = "app.example.test.";

let eps: Awaited<ReturnType<typeof startEndpoints>>;
let srv: PoolServer;
const recv = new Receiver();
let hooks: Webhooks | undefined;
const ep = (a: string) => eps.endpoints.find((e) => e.address === a)!;

beforeAll(async () => {
  await recv.start();
  eps = await startEndpoints(2, undefined, { firstAddress: 50 });
  srv = await startPoolServer({
    files: { "example.test.zone": ZONE },
    env: { ...process.env, RECEIVER: `http://127.0.0.1:${recv.port}`, PD_KEY: "0123456789abcdef0123456789abcdef" },
    config: `zones: [example.test.zone]
${webCheck(eps.port)}pools:
  - name: ${POOL}
    type: A
    ttl: 30
    check: web
    endpoints: [${PRIMARY}, ${SECONDARY}]
webhooks:
  - name: generic
    url: \${RECEIVER}/generic
    headers: { authorization: "Bearer s3cret" }
  - name: slack
    format: slack
    url: \${RECEIVER}/slack
    events: [transition, fail_open]
  - name: pagerduty
    format: pagerduty
    url: \${RECEIVER}/pd
    routing_key: \${PD_KEY}
`,
  });
}, 30_000);

afterEach(async () => {
  await hooks?.close();
  hooks = undefined;
  recv.reset();
  await Promise.all(eps.endpoints.map((e) => e.set("ok")));
  await waitForAnswer(srv, POOL, "A", (v) => values(v).join() === PRIMARY, { deadlineMs: 10_000 });
  // Both endpoints up again before the next test starts counting.
  await until(() => srv.instance.monitor.snapshot().every((s) => s.status === "up"));
});

afterAll(async () => {
  await hooks?.close();
  await srv?.close();
  await eps?.close();
  await recv.close();
});

const fast: WebhookOptions = { host: "test-host", retryBaseMs: 50, retryMaxMs: 400 };

function hook(over: Partial<WebhookSettings> & { name: string; url: string }): WebhookSettings {
  return { format: "generic", events: ["transition", "pool", "fail_open", "reload", "override"], headers: {}, timeoutMs: 2000, retries: 3, ...over };
}

function metric(line: string): number | undefined {
  const text = renderMetrics(srv.instance);
  const l = text.split("\n").find((x) => x.startsWith(line + " "));
  return l === undefined ? undefined : Number(l.slice(line.length + 1));
}

describe("the three shapes through a real failover", () => {
  it("generic, Slack and PagerDuty: lose the primary, fail open, recover", { timeout: 40_000 }, async () => {
    expect(srv.config.ops.webhooks.map((h) => [h.name, h.format, h.events])).toEqual([
      ["generic", "generic", ["transition", "pool", "fail_open", "reload", "override"]],
      ["slack", "slack", ["transition", "fail_open"]],
      ["pagerduty", "pagerduty", ["pool", "fail_open"]],
    ]);
    hooks = startWebhooks(srv.instance, srv.config.ops.webhooks, pino({ level: "silent" }), fast);

    // 1. The primary answers 503: down, the pool fails over to the secondary.
    await ep(PRIMARY).set("503");
    await waitForAnswer(srv, POOL, "A", (v) => values(v).join() === SECONDARY);
    await hooks.idle();
    // 2. The secondary refuses connections: every endpoint down, fail-open (serve-all).
    await ep(SECONDARY).set("refuse");
    await waitForAnswer(srv, POOL, "A", (v) => values(v).length === 2);
    await hooks.idle();
    // 3. The primary comes back: fail-open over, primary answered again.
    await ep(PRIMARY).set("ok");
    await waitForAnswer(srv, POOL, "A", (v) => values(v).join() === PRIMARY);
    await hooks.idle();

    // Generic: every transition and every pool change, in order, with the whole story.
    const generic = recv.at("/generic");
    expect(generic.every((g) => g.headers.authorization === "Bearer s3cret" && g.headers["content-type"] === "application/json")).toBe(true);
    expect(generic.map((g) => [g.body.event, g.body.endpoint?.address ?? g.body.pool?.name, g.body.to ?? g.body.after.records.join(",")])).toEqual([
      ["transition", PRIMARY, "down"],
      ["pool", POOL, SECONDARY],
      ["transition", SECONDARY, "down"],
      ["fail_open", POOL, `${PRIMARY},${SECONDARY}`],
      ["transition", PRIMARY, "up"],
      ["fail_open", POOL, PRIMARY],
    ]);
    const [down, failover, , failOpen] = generic.map((g) => g.body);
    expect(down).toMatchObject({
      version: 1,
      event: "transition",
      host: "test-host",
      endpoint: { check: "web", address: PRIMARY },
      from: "up",
      to: "down",
      reason: "HTTP 503",
      pools: [`${POOL} A`],
    });
    expect(Date.parse(down.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(failover).toMatchObject({
      event: "pool",
      pool: { name: POOL, type: "A", policy: "failover" },
      before: { rcode: "noerror", records: [PRIMARY], failOpen: false },
      after: { rcode: "noerror", records: [SECONDARY], failOpen: false },
      failOpen: false,
      primaryUp: false,
      primaryWasUp: true,
    });
    expect(failover.cause).toContain(PRIMARY);
    expect(failOpen).toMatchObject({ event: "fail_open", failOpen: true, after: { failOpen: true } });
    expect(failOpen.summary).toContain("FAIL-OPEN");

    // Slack: transitions and fail-open only (as configured), text plus a coloured attachment.
    const slack = recv.at("/slack").map((s) => s.body);
    expect(slack.map((s) => s.attachments[0].color)).toEqual(["#d40e0d", "#d40e0d", "#d40e0d", "#2eb67d", "#2eb67d"]);
    expect(slack[0].text).toBe(`hadns@test-host: endpoint ${PRIMARY} (check web) up → down: HTTP 503 [${POOL} A]`);
    expect(slack[2].text).toMatch(/^hadns@test-host: pool app\.example\.test\. A FAIL-OPEN: every endpoint down, answering 127\.0\.0\.50, 127\.0\.0\.51 anyway/);
    expect(slack[2].attachments[0].fields).toContainEqual({ title: "Fail-open", value: "yes", short: true });
    expect(slack[4].text).toMatch(/fail-open over: answers 127\.0\.0\.50/);

    // PagerDuty: trigger (warning) on losing the primary, trigger again (critical) on fail-open, resolve.
    const pd = recv.at("/pd").map((p) => p.body);
    expect(pd.map((p) => [p.event_action, p.payload?.severity, p.payload?.class])).toEqual([
      ["trigger", "warning", "failover"],
      ["trigger", "critical", "fail_open"],
      ["resolve", undefined, undefined],
    ]);
    for (const p of pd) expect(p).toMatchObject({ routing_key: "0123456789abcdef0123456789abcdef", dedup_key: "hadns:app.example.test./A" });
    expect(pd[0].payload).toMatchObject({ source: "test-host", component: `${POOL} A`, group: "hadns", custom_details: { event: "pool", primaryUp: false } });
    expect(pd[0].payload.summary).toContain(`now answers ${SECONDARY} (was ${PRIMARY})`);
    expect(Object.keys(pd[2]).sort()).toEqual(["dedup_key", "event_action", "routing_key"]);

    expect(metric('hadns_webhook_deliveries_total{webhook="generic",result="delivered"}')).toBe(6);
    expect(metric('hadns_webhook_deliveries_total{webhook="slack",result="delivered"}')).toBe(5);
    expect(metric('hadns_webhook_deliveries_total{webhook="pagerduty",result="delivered"}')).toBe(3);
    expect(metric('hadns_webhook_deliveries_total{webhook="pagerduty",result="failed"}')).toBe(0);
    expect(metric('hadns_webhook_queue_length{webhook="generic"}')).toBe(0);
  });

  it("PagerDuty at start-up: a pool already without its primary is triggered at once", { timeout: 20_000 }, async () => {
    await ep(PRIMARY).set("503");
    await waitForAnswer(srv, POOL, "A", (v) => values(v).join() === SECONDARY);
    hooks = startWebhooks(srv.instance, srv.config.ops.webhooks, pino({ level: "silent" }), fast);
    await hooks.idle();
    expect(recv.at("/generic")).toEqual([]); // nothing new happened: only PagerDuty hears of the standing incident
    expect(recv.at("/pd").map((p) => [p.body.event_action, p.body.dedup_key, p.body.payload.severity])).toEqual([
      ["trigger", "hadns:app.example.test./A", "warning"],
    ]);
    expect(recv.at("/pd")[0]!.body.payload.summary).toContain("at start-up");
  });

  it("reloads and overrides reach the generic hook; a rejected reload triggers PagerDuty if asked", async () => {
    const pd = hook({ name: "pd-reload", format: "pagerduty", routingKey: "k".repeat(32), url: recv.url("/pd"), events: ["reload"] });
    hooks = startWebhooks(srv.instance, [hook({ name: "all", url: recv.url("/all") }), pd], pino({ level: "silent" }), fast);
    const o = srv.instance.overrides.add({ pool: POOL, address: SECONDARY, action: "drain", reason: "kernel upgrade", forMs: 60_000 });
    srv.instance.overrides.remove(o.id);
    await srv.instance.reload("test"); // rejected: this instance has no config to read again
    await hooks.idle();
    const all = recv.at("/all").map((r) => r.body);
    expect(all.map((b) => [b.event, b.change ?? b.ok])).toEqual([
      ["override", "set"],
      ["override", "removed"],
      ["reload", false],
    ]);
    expect(all[0].override).toMatchObject({ pool: POOL, address: SECONDARY, action: "drain", reason: "kernel upgrade" });
    expect(all[0].summary).toContain("override drain 127.0.0.51 in app.example.test. until");
    expect(all[2].errors).toEqual(["this server was started without a config to reload"]);
    expect(recv.at("/pd").map((r) => [r.body.event_action, r.body.dedup_key, r.body.payload.class])).toEqual([
      ["trigger", "hadns:reload:test-host", "reload_rejected"],
    ]);
  });
});

describe("a receiver that misbehaves", () => {
  it("hangs: DNS answers stay prompt and probes go on (the pool fails over and back) while a delivery waits", { timeout: 30_000 }, async () => {
    recv.replies.set("/slow", recv.hang);
    hooks = startWebhooks(srv.instance, [hook({ name: "slow", url: recv.url("/slow"), timeoutMs: 20_000, events: ["transition"] })], pino({ level: "silent" }), fast);
    await ep(PRIMARY).set("503");
    await waitForAnswer(srv, POOL, "A", (v) => values(v).join() === SECONDARY);
    await until(() => recv.hangingCount === 1);

    // The delivery hangs. Queries are answered at once, and health keeps moving: the primary recovers.
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await srv.ask(POOL, "A", { timeoutMs: 1000 });
      expect(performance.now() - t0).toBeLessThan(250);
    }
    await ep(PRIMARY).set("ok");
    await waitForAnswer(srv, POOL, "A", (v) => values(v).join() === PRIMARY);
    expect(recv.hangingCount).toBe(1);
    expect(metric('hadns_webhook_queue_length{webhook="slow"}')).toBe(2); // the hanging one and "up"

    recv.replies.set("/slow", ok);
    recv.release();
    await hooks.idle();
    expect(recv.at("/slow").map((r) => r.body.to)).toEqual(["down", "up"]);
    expect(metric('hadns_webhook_deliveries_total{webhook="slow",result="delivered"}')).toBe(2);
  });

  it("is down: retried with growing backoff, then given up, logged and counted", async () => {
    const { logger, lines } = recordingLogger();
    const url = `http://127.0.0.1:${await deadPort()}/hook`;
    hooks = startWebhooks(srv.instance, [hook({ name: "down", url, retries: 3, events: ["override"] })], logger, { ...fast, retryBaseMs: 100, retryMaxMs: 1000 });
    const t0 = Date.now();
    srv.instance.overrides.add({ address: SECONDARY, action: "drain", reason: "test", forMs: 60_000 });
    // The event path did not wait for any of it.
    expect(Date.now() - t0).toBeLessThan(50);
    await hooks.idle();
    for (const o of srv.instance.overrides.list()) srv.instance.overrides.remove(o.id);

    const retries = lines.filter((l) => l.webhook === "down" && l.retryInMs !== undefined);
    expect(retries.map((l) => l.error)).toEqual(["connection refused", "connection refused", "connection refused"]);
    // Backoff: 100·2^i ms, the upper half jittered.
    retries.forEach((l, i) => {
      expect(l.retryInMs).toBeGreaterThanOrEqual(50 * 2 ** i);
      expect(l.retryInMs).toBeLessThanOrEqual(100 * 2 ** i);
    });
    const gaveUp = lines.filter((l) => l.webhook === "down" && l.level === 40);
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]).toMatchObject({ event: "override", attempts: 4, error: "connection refused" });
    expect(gaveUp[0]!.msg).toBe("webhook down: gave up on override after 4 attempts: connection refused");
    expect(gaveUp[0]!.ms).toBeGreaterThanOrEqual(50 + 100 + 200);
    expect(metric('hadns_webhook_deliveries_total{webhook="down",result="failed"}')).toBe(1);
    expect(metric('hadns_webhook_deliveries_total{webhook="down",result="delivered"}')).toBe(0);
    expect(metric('hadns_webhook_retries_total{webhook="down"}')).toBe(3);
  });

  it("answers 500 then 200: retried, delivered once", async () => {
    const { logger, lines } = recordingLogger();
    recv.replies.set("/flaky", (res, _r, n) => void (n === 1 ? res.writeHead(500).end("busy") : res.writeHead(200).end("ok")));
    hooks = startWebhooks(srv.instance, [hook({ name: "flaky", url: recv.url("/flaky"), events: ["override"] })], logger, fast);
    srv.instance.overrides.add({ address: SECONDARY, action: "drain", reason: "test", forMs: 60_000 });
    await hooks.idle();
    for (const o of srv.instance.overrides.list()) srv.instance.overrides.remove(o.id);
    const got = recv.at("/flaky");
    expect(got).toHaveLength(2);
    expect(got[1]!.body).toEqual(got[0]!.body);
    expect(lines.filter((l) => l.webhook === "flaky" && l.retryInMs !== undefined).map((l) => l.error)).toEqual(["HTTP 500: busy"]);
    const delivered = lines.filter((l) => l.webhook === "flaky" && l.level === 30);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ event: "override", status: 200, attempts: 2 });
    expect(metric('hadns_webhook_deliveries_total{webhook="flaky",result="delivered"}')).toBe(1);
    expect(metric('hadns_webhook_retries_total{webhook="flaky"}')).toBe(1);
  });

  it("answers after the hook's timeout: the attempt is abandoned and retried", async () => {
    const { logger, lines } = recordingLogger();
    recv.replies.set("/late", (res, r, n) => (n === 1 ? recv.hang(res, r, n) : ok(res, r, n)));
    hooks = startWebhooks(srv.instance, [hook({ name: "late", url: recv.url("/late"), timeoutMs: 300, events: ["override"] })], logger, fast);
    srv.instance.overrides.add({ address: SECONDARY, action: "drain", reason: "test", forMs: 60_000 });
    await hooks.idle();
    for (const o of srv.instance.overrides.list()) srv.instance.overrides.remove(o.id);
    expect(recv.at("/late")).toHaveLength(2);
    expect(lines.filter((l) => l.webhook === "late" && l.retryInMs !== undefined).map((l) => l.error)).toEqual(["timeout after 300 ms"]);
    expect(lines.find((l) => l.webhook === "late" && l.level === 30)).toMatchObject({ status: 200, attempts: 2 });
  });

  it("answers 429 with Retry-After: waits as told before the retry", async () => {
    recv.replies.set("/limited", (res, _r, n) => void (n === 1 ? res.writeHead(429, { "retry-after": "1" }).end() : res.writeHead(202).end()));
    hooks = startWebhooks(srv.instance, [hook({ name: "limited", url: recv.url("/limited"), events: ["override"] })], pino({ level: "silent" }), fast);
    srv.instance.overrides.add({ address: SECONDARY, action: "drain", reason: "test", forMs: 60_000 });
    await hooks.idle();
    for (const o of srv.instance.overrides.list()) srv.instance.overrides.remove(o.id);
    const got = recv.at("/limited");
    expect(got).toHaveLength(2);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("answers 400: not retried, failed, with the receiver's words in the log", async () => {
    const { logger, lines } = recordingLogger();
    recv.replies.set("/bad", (res) => void res.writeHead(400, { "content-type": "application/json" }).end('{"message":"Invalid routing key"}'));
    hooks = startWebhooks(srv.instance, [hook({ name: "bad", url: recv.url("/bad"), events: ["override"] })], logger, fast);
    srv.instance.overrides.add({ address: SECONDARY, action: "drain", reason: "test", forMs: 60_000 });
    await hooks.idle();
    for (const o of srv.instance.overrides.list()) srv.instance.overrides.remove(o.id);
    expect(recv.at("/bad")).toHaveLength(1);
    expect(lines.find((l) => l.webhook === "bad" && l.level === 40)?.msg).toBe('webhook bad: gave up on override after 1 attempt: HTTP 400: {"message":"Invalid routing key"}');
    expect(metric('hadns_webhook_deliveries_total{webhook="bad",result="failed"}')).toBe(1);
  });

  it("cannot keep up: the queue keeps the newest, drops the oldest and counts them", async () => {
    const { logger, lines } = recordingLogger();
    recv.replies.set("/full", recv.hang);
    hooks = startWebhooks(srv.instance, [hook({ name: "full", url: recv.url("/full"), timeoutMs: 20_000, events: ["override"] })], logger, { ...fast, queueSize: 2 });
    for (let i = 1; i <= 5; i++) srv.instance.overrides.add({ address: `192.0.2.${i}`, action: "down", reason: `r${i}`, forMs: 60_000 });
    expect(metric('hadns_webhook_deliveries_total{webhook="full",result="dropped"}')).toBe(3);
    expect(lines.filter((l) => l.webhook === "full" && l.msg.includes("dropped")).map((l) => l.msg)).toEqual(
      Array(3).fill("webhook full: dropped override: queue full (2)"),
    );
    await until(() => recv.hangingCount === 1);
    recv.replies.set("/full", ok);
    recv.release();
    await hooks.idle();
    for (const o of srv.instance.overrides.list()) srv.instance.overrides.remove(o.id);
    expect(recv.at("/full").map((r) => r.body.override.reason)).toEqual(["r4", "r5"]);
  });

  it("close: a hanging delivery is abandoned after the grace period and counted as dropped", async () => {
    recv.replies.set("/stuck", recv.hang);
    hooks = startWebhooks(srv.instance, [hook({ name: "stuck", url: recv.url("/stuck"), timeoutMs: 20_000, events: ["override"] })], pino({ level: "silent" }), { ...fast, closeGraceMs: 200 });
    srv.instance.overrides.add({ address: SECONDARY, action: "drain", reason: "a", forMs: 60_000 });
    srv.instance.overrides.add({ address: PRIMARY, action: "drain", reason: "b", forMs: 60_000 });
    await until(() => recv.hangingCount === 1);
    const t0 = Date.now();
    await hooks.close();
    hooks = undefined;
    expect(Date.now() - t0).toBeLessThan(2000);
    for (const o of srv.instance.overrides.list()) srv.instance.overrides.remove(o.id);
    const reg = metricsFor(srv.instance);
    expect(reg.webhookDeliveries.get({ webhook: "stuck", result: "dropped" })).toBe(2);
  });
});

describe("backoff and Retry-After", () => {
  it("doubles up to the cap, jittered in the upper half", () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 1000, 60_000, () => 0))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 1000, 60_000, () => 1))).toEqual([1000, 2000, 4000, 8000, 60_000]);
  });

  it("reads seconds and HTTP dates", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    expect(retryAfterMs("3", now)).toBe(3000);
    expect(retryAfterMs("Wed, 01 Jan 2025 00:00:10 GMT", now)).toBe(10_000);
    expect(retryAfterMs("Tue, 31 Dec 2024 00:00:10 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
