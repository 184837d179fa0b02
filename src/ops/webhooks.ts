// Webhooks (issue 4): every endpoint transition, pool change, fail-open, reload and override becomes a
// notice; each webhook that asked for its kind gets it in its shape (webhook-shapes.ts), from its
// own bounded queue, sent with undici through its own Agent. Retries with exponential backoff and
// jitter on network errors, timeouts, 5xx and 429 (Retry-After honoured), then give up. The event
// path only builds the body and pushes it: nothing is awaited there, so a slow or dead receiver
// never delays a probe or an answer. Every delivery, failure and drop is logged (one line) and counted.

import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { Agent, request } from "undici";
import type { WebhookEvent, WebhookSettings } from "../config/ops.js";
import type { Transition } from "../health/types.js";
import type { PoolChange } from "../pool/live.js";
import { endpointKeyOf } from "../pool/targets.js";
import type { ReloadResult, Runtime, RuntimeEvents } from "../server/runtime.js";
import { metricsFor, type MetricsRegistry } from "./metrics.js";
import { answerView, poolTrouble, shapeNotice, summaryOf, type Notice, type PoolNotice, type ShapeContext } from "./webhook-shapes.js";

export interface WebhookOptions {
  /** Notices waiting per webhook; when full, the oldest is dropped (and counted). Default 256. */
  queueSize?: number;
  /** First retry after about this long, doubling each time (with jitter). Default 1 s. */
  retryBaseMs?: number;
  /** Longest wait between two attempts from backoff. Default 60 s. */
  retryMaxMs?: number;
  /** Longest Retry-After honoured. Default 5 min. */
  retryAfterMaxMs?: number;
  /** On close: how long queued notices may still go out (without retries). Default 2 s. */
  closeGraceMs?: number;
  /** Host name in notices. Default os.hostname(). */
  host?: string;
  /** For tests: jitter source. */
  random?: () => number;
}

interface Delivery {
  event: Notice["event"];
  summary: string;
  body: string;
}

const USER_AGENT = "hadns-webhook/1";

/** The wait before retry `attempt` (0-based): base·2^attempt, capped, the upper half jittered. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const d = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(d / 2 + (random() * d) / 2);
}

/** Retry-After (RFC 9110 §10.2.3): seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === "") return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

type Outcome = { kind: "delivered"; status: number } | { kind: "retry"; error: string; after?: number } | { kind: "fail"; error: string };

/** One webhook: its queue, its connection pool, its delivery loop. */
export class WebhookSender {
  private readonly waiting: Delivery[] = [];
  private inflight: Delivery | undefined;
  private loop: Promise<void> | undefined;
  private closing = false;
  private readonly stop = new AbortController();
  private readonly agent: Agent;
  private readonly o: Required<Omit<WebhookOptions, "host">>;

  constructor(
    readonly hook: WebhookSettings,
    private readonly log: Logger,
    private readonly reg: MetricsRegistry,
    opts: WebhookOptions,
  ) {
    this.o = {
      queueSize: opts.queueSize ?? 256,
      retryBaseMs: opts.retryBaseMs ?? 1000,
      retryMaxMs: opts.retryMaxMs ?? 60_000,
      retryAfterMaxMs: opts.retryAfterMaxMs ?? 300_000,
      closeGraceMs: opts.closeGraceMs ?? 2000,
      random: opts.random ?? Math.random,
    };
    this.agent = new Agent({
      connectTimeout: hook.timeoutMs,
      headersTimeout: hook.timeoutMs,
      bodyTimeout: hook.timeoutMs,
      keepAliveTimeout: 10_000,
      connections: 2,
    });
    reg.webhookRegistered(hook.name);
  }

  get name(): string {
    return this.hook.name;
  }

  /** Waiting plus the one being sent. */
  get length(): number {
    return this.waiting.length + (this.inflight ? 1 : 0);
  }

  /** Queue a notice; never waits. */
  enqueue(d: Delivery): void {
    if (this.closing) {
      this.dropped(d, "stopping");
      return;
    }
    if (this.waiting.length >= this.o.queueSize) this.dropped(this.waiting.shift()!, `queue full (${this.o.queueSize})`);
    this.waiting.push(d);
    this.kick();
  }

  /** Resolves when nothing is waiting or being sent (for tests and close). */
  async idle(): Promise<void> {
    while (this.loop) await this.loop;
  }

  private kick(): void {
    this.loop ??= this.run().finally(() => {
      this.loop = undefined;
      if (this.waiting.length > 0 && !this.stop.signal.aborted) this.kick();
    });
  }

  private async run(): Promise<void> {
    // Let the event that queued this finish first: the loop never runs inside an emit.
    await Promise.resolve();
    for (let d = this.waiting.shift(); d; d = this.waiting.shift()) {
      this.inflight = d;
      try {
        await this.deliver(d);
      } catch (e) {
        this.log.error({ webhook: this.name, err: e }, `webhook ${this.name}: delivery loop error`);
      } finally {
        this.inflight = undefined;
      }
      if (this.stop.signal.aborted) break;
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    const t0 = Date.now();
    for (let attempt = 1; ; attempt++) {
      const out = await this.attempt(d);
      if (this.stop.signal.aborted) return this.dropped(d, "stopping");
      if (out.kind === "delivered") {
        this.reg.webhookDelivery(this.name, "delivered");
        this.log.info(
          { webhook: this.name, event: d.event, status: out.status, attempts: attempt, ms: Date.now() - t0 },
          `webhook ${this.name}: delivered ${d.event} (HTTP ${out.status}, attempt ${attempt})`,
        );
        return;
      }
      if (out.kind === "fail" || attempt > this.hook.retries || this.closing) {
        this.reg.webhookDelivery(this.name, "failed");
        this.log.warn(
          { webhook: this.name, event: d.event, attempts: attempt, error: out.error, ms: Date.now() - t0, summary: d.summary },
          `webhook ${this.name}: gave up on ${d.event} after ${attempt} attempt${attempt === 1 ? "" : "s"}: ${out.error}`,
        );
        return;
      }
      const wait = out.after !== undefined ? Math.min(out.after, this.o.retryAfterMaxMs) : backoffMs(attempt - 1, this.o.retryBaseMs, this.o.retryMaxMs, this.o.random);
      this.reg.webhookRetry(this.name);
      this.log.debug({ webhook: this.name, event: d.event, attempt, error: out.error, retryInMs: wait }, `webhook ${this.name}: attempt ${attempt} failed (${out.error}); retrying in ${wait} ms`);
      try {
        await sleep(wait, undefined, { signal: this.stop.signal, ref: false });
      } catch {
        return this.dropped(d, "stopping");
      }
    }
  }

  private async attempt(d: Delivery): Promise<Outcome> {
    try {
      const res = await request(this.hook.url, {
        method: "POST",
        dispatcher: this.agent,
        headers: { "content-type": "application/json", "user-agent": USER_AGENT, ...this.hook.headers },
        body: d.body,
        signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.hook.timeoutMs)]),
      });
      const status = res.statusCode;
      if (status >= 200 && status < 300) {
        await res.body.dump().catch(() => {});
        return { kind: "delivered", status };
      }
      const text = await snippet(res.body);
      const error = `HTTP ${status}${text ? `: ${text}` : ""}`;
      if (status === 429 || status === 408 || status >= 500) {
        const after = retryAfterMs(res.headers["retry-after"]);
        return after !== undefined ? { kind: "retry", error, after } : { kind: "retry", error };
      }
      return { kind: "fail", error };
    } catch (e) {
      return { kind: "retry", error: describe(e, this.hook.timeoutMs) };
    }
  }

  private dropped(d: Delivery, why: string): void {
    this.reg.webhookDelivery(this.name, "dropped");
    this.log.warn({ webhook: this.name, event: d.event, summary: d.summary }, `webhook ${this.name}: dropped ${d.event}: ${why}`);
  }

  /** Stop: queued notices get closeGraceMs to go out (no more retries), then the rest is dropped. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.loop) {
      const grace = sleep(this.o.closeGraceMs, undefined, { ref: false });
      await Promise.race([this.idle(), grace]);
    }
    this.stop.abort();
    await this.idle();
    for (const d of this.waiting.splice(0)) this.dropped(d, "stopping");
    await this.agent.destroy().catch(() => {});
  }
}

async function snippet(body: AsyncIterable<Buffer | string> & { destroy?: () => void }): Promise<string> {
  let s = "";
  try {
    for await (const c of body) {
      s += c.toString();
      if (s.length > 200) break;
    }
  } catch {
    // the text is only for the log line
  }
  body.destroy?.();
  s = s.replace(/\s+/g, " ").trim();
  return s.length > 200 ? s.slice(0, 199) + "…" : s;
}

function describe(e: unknown, timeoutMs: number): string {
  const err = e as (Error & { code?: string; cause?: { code?: string; message?: string } }) | undefined;
  const code = err?.code ?? err?.cause?.code;
  if (err?.name === "TimeoutError" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    return `timeout after ${timeoutMs} ms`;
  }
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ECONNRESET" || code === "UND_ERR_SOCKET") return "connection reset";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return `cannot resolve the host (${code})`;
  return code ? `${code}: ${err?.message ?? ""}` : (err?.message ?? String(e));
}

export interface Webhooks {
  name: string;
  senders: WebhookSender[];
  /** Resolves when every queue is empty and nothing is being sent. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The ops part: subscribes to the Runtime and sends to every configured webhook. */
export function startWebhooks(rt: Runtime, hooks: WebhookSettings[], logger: Logger, opts: WebhookOptions = {}): Webhooks {
  const log = logger.child({ part: "webhooks" });
  const reg = metricsFor(rt);
  const senders = hooks.map((h) => new WebhookSender(h, log, reg, opts));
  const ctx = (h: WebhookSettings): ShapeContext => ({ host: opts.host ?? hostname(), ...(h.routingKey !== undefined ? { routingKey: h.routingKey } : {}) });
  const removeQueues = reg.addQueueSource(() => senders.map((s) => ({ webhook: s.name, length: s.length })));

  /** Whether a hook gets a notice: its kind asked for; a fail-open change also goes to hooks that asked for pool changes. */
  const wants = (h: WebhookSettings, n: Notice): boolean =>
    h.events.includes(n.event as WebhookEvent) || (n.event === "fail_open" && h.events.includes("pool")) || (n.event === "pool" && n.startup === true && h.events.includes("fail_open"));

  const send = (n: Notice, only?: (h: WebhookSettings) => boolean): void => {
    for (const s of senders) {
      if (!wants(s.hook, n) || (only && !only(s.hook))) continue;
      try {
        const c = ctx(s.hook);
        const body = shapeNotice(s.hook.format, n, c);
        if (body === null) continue;
        const shaped = JSON.stringify(body);
        s.enqueue({ event: n.event, summary: summaryOf(n, c.host), body: shaped });
      } catch (e) {
        // A bug here must never reach the emitter: that would break the probe or reload that emitted.
        log.error({ webhook: s.name, err: e }, `webhook ${s.name}: could not build the ${n.event} notice`);
      }
    }
  };

  let previousReloadOk = rt.lastReload?.ok ?? true;
  const handlers: { [K in keyof RuntimeEvents]: (...a: RuntimeEvents[K]) => void } = {
    transition: (t: Transition) => {
      const pools = rt.pools.pools.filter((p) => p.spec.endpoints.some((_, i) => endpointKeyOf(p.spec, i) === t.key)).map((p) => p.label);
      send({ event: "transition", at: t.at, check: t.check, address: t.address, from: t.from, to: t.to, reason: t.reason, pools });
    },
    pool: (c: PoolChange) => send(poolNotice(c)),
    reload: (r: ReloadResult) => {
      send({ event: "reload", at: Date.now(), ok: r.ok, errors: r.errors, ms: r.ms, trigger: r.trigger, previousOk: previousReloadOk });
      previousReloadOk = r.ok;
    },
    override: (c) => send({ event: "override", at: Date.now(), change: c.kind, override: c.override }),
  };
  if (senders.length > 0) {
    for (const [ev, fn] of Object.entries(handlers)) rt.on(ev as keyof RuntimeEvents, fn as never);
    // A pool already in trouble at start-up: PagerDuty gets a trigger (idempotent by dedup_key), so a
    // restart during an outage does not leave it unreported; the others got their notice before.
    for (const p of rt.pools.pools) {
      const after = answerView(p.answer);
      const pool = { name: p.spec.name, type: p.spec.type, policy: p.spec.policy };
      if (poolTrouble(pool, after, p.primaryUp) === null) continue;
      const n: PoolNotice = { event: "pool", at: Date.now(), pool, before: after, after, primaryUp: p.primaryUp, primaryWasUp: p.primaryUp, cause: "start-up", startup: true };
      send(n, (h) => h.format === "pagerduty");
    }
    log.info({ webhooks: senders.map((s) => ({ name: s.name, format: s.hook.format, events: s.hook.events })) }, `webhooks: ${senders.map((s) => s.name).join(", ")}`);
  }

  return {
    name: "webhooks",
    senders,
    async idle() {
      await Promise.all(senders.map((s) => s.idle()));
    },
    async close() {
      for (const [ev, fn] of Object.entries(handlers)) rt.off(ev as keyof RuntimeEvents, fn as never);
      removeQueues();
      await Promise.all(senders.map((s) => s.close()));
    },
  };
}

function poolNotice(c: PoolChange): PoolNotice {
  const before = answerView(c.before);
  const after = answerView(c.after);
  return {
    event: before.failOpen !== after.failOpen ? "fail_open" : "pool",
    at: Date.now(),
    pool: { name: c.spec.name, type: c.spec.type, policy: c.spec.policy },
    before,
    after,
    primaryUp: c.primaryUp,
    primaryWasUp: c.primaryWasUp,
    cause: c.cause,
  };
}
