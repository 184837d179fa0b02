// Prometheus metrics for `GET /metrics`, in the text exposition format 0.0.4 (prometheus.io/docs/
// instrumenting/exposition_formats). Our own writer, not prom-client: the query counters already
// live in one Float64Array on the query path (src/answer/stats.ts) and most other values are read
// from the Runtime's state at scrape time, so all a library would add is a second copy of them.
//
// Three kinds of numbers:
// - read at scrape time from state: query counters, TCP connections, endpoint and pool state, zones,
//   process figures (with workers, the counters are the sum of what each worker last reported, at
//   most a second old, and the process figures are the primary's own);
// - counted from events by a MetricsRegistry that subscribes to the Runtime (which outlives reloads):
//   transitions, probe durations and failures, config reloads, webhook deliveries;
// - nothing is counted on the query path here; that is one array increment in the engine.

import { readdirSync } from "node:fs";
import { monitorEventLoopDelay, performance, type IntervalHistogram } from "node:perf_hooks";
import type { ProbeEvent, Transition } from "../health/types.js";
import { endpointCheck, endpointKeyOf } from "../pool/targets.js";
import type { ReloadResult, Runtime } from "../server/runtime.js";
import { nameToText } from "../wire/name.js";
import { xfrMetricFamilies } from "../xfr/metrics.js";

/** Response codes by number (RFC 6895 §2.3), as the `rcode` label shows them; 16 is BADVERS (EDNS). */
const RCODE_NAMES = [
  "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
  "NOTZONE", "DSOTYPENI", "RCODE12", "RCODE13", "RCODE14", "RCODE15", "BADVERS", "BADKEY", "BADTIME", "BADMODE",
  "BADNAME", "BADALG", "BADTRUNC", "BADCOOKIE",
];

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** Upper bounds (seconds) of the probe duration histogram: 1 ms to 10 s, about 2.5× apart. */
export const PROBE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The `reason` label of probe failures: a fixed, small set, never the free text of the probe. */
export type ProbeFailureReason = "timeout" | "refused" | "status" | "body" | "tls" | "dns" | "other";

/** Maps a probe's one-line reason (src/health/probe.ts) onto the fixed set above. */
export function probeFailureReason(reason: string): ProbeFailureReason {
  if (/^timeout\b/i.test(reason)) return "timeout";
  if (/connection refused/i.test(reason)) return "refused";
  if (/^(HTTP \d{3}|bad HTTP response|not an HTTP response)/.test(reason)) return "status";
  if (/^body did not/.test(reason)) return "body";
  if (/^TLS:/.test(reason)) return "tls";
  if (/^DNS:/.test(reason)) return "dns";
  return "other";
}

export type WebhookResult = "delivered" | "failed" | "dropped";
export const WEBHOOK_RESULTS: readonly WebhookResult[] = ["delivered", "failed", "dropped"];

type Labels = Record<string, string>;

/** Counters by label values; the label names are fixed per vector. */
class CounterVec {
  private readonly series = new Map<string, { labels: Labels; value: number }>();

  inc(labels: Labels, by = 1): void {
    const key = Object.values(labels).join("\u0000");
    const s = this.series.get(key);
    if (s) s.value += by;
    else this.series.set(key, { labels, value: by });
  }

  get(labels: Labels): number {
    return this.series.get(Object.values(labels).join("\u0000"))?.value ?? 0;
  }

  *samples(): Generator<[Labels, number]> {
    for (const s of this.series.values()) yield [s.labels, s.value];
  }
}

class Histogram {
  readonly counts = new Float64Array(PROBE_BUCKETS.length);
  sum = 0;
  count = 0;

  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < PROBE_BUCKETS.length; i++) {
      if (v <= PROBE_BUCKETS[i]!) {
        this.counts[i]!++;
        break;
      }
    }
  }
}

/** Queue lengths of the webhooks, asked for at scrape time. */
export type QueueSource = () => Array<{ webhook: string; length: number }>;

/**
 * What is counted from events. Subscribes to the Runtime and its health monitor, both of which
 * persist across reloads, so a reload loses no count.
 */
export class MetricsRegistry {
  readonly transitions = new CounterVec();
  readonly probeFailures = new CounterVec();
  readonly probeDurations = new Map<string, Histogram>();
  readonly reloads = { ok: 0, error: 0 };
  readonly webhookDeliveries = new CounterVec();
  readonly webhookRetries = new CounterVec();
  private readonly queueSources = new Set<QueueSource>();
  readonly eventLoop: IntervalHistogram;
  private readonly off: Array<() => void> = [];

  constructor(readonly rt: Runtime) {
    const onTransition = (t: Transition): void => this.transitions.inc({ check: t.check, address: t.address, to: t.to });
    const onProbe = (p: ProbeEvent): void => {
      let h = this.probeDurations.get(p.check);
      if (!h) this.probeDurations.set(p.check, (h = new Histogram()));
      h.observe(p.latencyMs / 1000);
      if (!p.ok) this.probeFailures.inc({ check: p.check, reason: probeFailureReason(p.reason) });
    };
    const onReload = (r: ReloadResult): void => void (r.ok ? this.reloads.ok++ : this.reloads.error++);
    rt.on("transition", onTransition);
    rt.on("reload", onReload);
    rt.monitor.on("probe", onProbe);
    this.off.push(
      () => rt.off("transition", onTransition),
      () => rt.off("reload", onReload),
      () => rt.monitor.off("probe", onProbe),
    );
    this.eventLoop = monitorEventLoopDelay({ resolution: 10 });
    this.eventLoop.enable();
  }

  /** A webhook exists: its delivery counters show as 0 from the start (rate() needs a first sample). */
  webhookRegistered(webhook: string): void {
    for (const result of WEBHOOK_RESULTS) this.webhookDeliveries.inc({ webhook, result }, 0);
    this.webhookRetries.inc({ webhook }, 0);
  }

  webhookDelivery(webhook: string, result: WebhookResult): void {
    this.webhookDeliveries.inc({ webhook, result });
  }

  webhookRetry(webhook: string): void {
    this.webhookRetries.inc({ webhook });
  }

  /** Adds a source of queue lengths; returns the function that removes it. */
  addQueueSource(fn: QueueSource): () => void {
    this.queueSources.add(fn);
    return () => this.queueSources.delete(fn);
  }

  queueLengths(): Array<{ webhook: string; length: number }> {
    return [...this.queueSources].flatMap((f) => f());
  }

  close(): void {
    for (const f of this.off.splice(0)) f();
    this.eventLoop.disable();
    if (registries.get(this.rt) === this) registries.delete(this.rt);
  }
}

const registries = new WeakMap<Runtime, MetricsRegistry>();

/** The registry of a Runtime, created (and subscribed) on first use. */
export function metricsFor(rt: Runtime): MetricsRegistry {
  let r = registries.get(rt);
  if (!r) registries.set(rt, (r = new MetricsRegistry(rt)));
  return r;
}

/** The ops part (src/ops/start.ts): subscribes at start-up, so counts begin before the first scrape. */
export function startMetrics(rt: Runtime): { name: string; close(): void } {
  const r = metricsFor(rt);
  return { name: "metrics", close: () => r.close() };
}

// ---- the exposition format ---------------------------------------------------------------------

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(labels: Labels | undefined): string {
  if (!labels) return "";
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
}

type Sample = [Labels | undefined, number];

class Writer {
  private readonly lines: string[] = [];

  /** A counter when the name ends in _total (the naming rule), else a gauge. */
  family(name: string, help: string, samples: Iterable<Sample>): void {
    const type = name.endsWith("_total") ? "counter" : "gauge";
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    const seen = new Set<string>();
    for (const [labels, value] of samples) {
      const l = labelText(labels);
      if (seen.has(l)) continue; // never a duplicate series, whatever the state holds
      seen.add(l);
      this.lines.push(`${name}${l} ${formatValue(value)}`);
    }
  }

  histogram(name: string, help: string, series: Iterable<[Labels, Histogram]>): void {
    this.lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} histogram`);
    for (const [labels, h] of series) {
      let cumulative = 0;
      PROBE_BUCKETS.forEach((le, i) => {
        cumulative += h.counts[i]!;
        this.lines.push(`${name}_bucket${labelText({ ...labels, le: String(le) })} ${cumulative}`);
      });
      this.lines.push(`${name}_bucket${labelText({ ...labels, le: "+Inf" })} ${h.count}`);
      this.lines.push(`${name}_sum${labelText(labels)} ${formatValue(h.sum)}`);
      this.lines.push(`${name}_count${labelText(labels)} ${h.count}`);
    }
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}

/** The Content-Type of the text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const STATUS_VALUE = { up: 1, down: 0, unknown: -1 } as const;

/** Everything /metrics shows, now. */
export function renderMetrics(rt: Runtime): string {
  const reg = metricsFor(rt);
  const w = new Writer();

  // Queries (counted on the query path; with workers, summed over them).
  const counted = rt.counters();
  w.family(
    "hadns_queries_total",
    "Queries answered, by zone (empty: outside every zone), query type, response code and transport.",
    counted.queries.map(([zone, qtype, rcode, transport, value]): Sample => [{ zone, qtype, rcode: rcodeName(rcode), transport }, value]),
  );
  w.family("hadns_responses_truncated_total", "UDP responses sent truncated (TC set).", [[undefined, counted.truncated]]);
  w.family("hadns_tcp_connections", "TCP connections open now.", [[undefined, counted.tcp.open]]);
  w.family("hadns_tcp_connections_total", "TCP connections accepted.", [[undefined, counted.tcp.accepted]]);
  w.family("hadns_tcp_connections_refused_total", "TCP connections closed at once because the connection limit was reached.", [[undefined, counted.tcp.refused]]);

  // Zones.
  const zones = rt.inputs.zones.map((z) => ({ zone: nameToText(z.origin), serial: z.serial, records: z.recordCount }));
  w.family("hadns_zone_serial", "SOA serial of each zone served.", zones.map((z): Sample => [{ zone: z.zone }, z.serial]));
  w.family("hadns_zone_records", "Records in each zone served.", zones.map((z): Sample => [{ zone: z.zone }, z.records]));
  for (const f of xfrMetricFamilies(rt)) w.family(f.name, f.help, f.samples); // zone transfers (issue 6), when configured

  // Endpoints and pools, from the state the answers are built from.
  const snaps = new Map(rt.monitor.snapshot().map((s) => [s.key, s]));
  const up: Sample[] = [];
  const overridden: Sample[] = [];
  const failOpen: Sample[] = [];
  const primaryUp: Sample[] = [];
  const records: Sample[] = [];
  for (const p of rt.pools.pools) {
    const pool = { pool: p.spec.name, type: p.spec.type };
    p.spec.endpoints.forEach((ep, i) => {
      const key = endpointKeyOf(p.spec, i);
      const check = endpointCheck(p.spec, i) ?? "";
      const status = key === undefined ? "up" : (snaps.get(key)?.status ?? "unknown");
      up.push([{ ...pool, address: ep.address, check }, STATUS_VALUE[status]]);
      const o = rt.overrides.find(p.spec.name, ep.address);
      if (o) overridden.push([{ ...pool, address: ep.address, action: o.action }, 1]);
    });
    failOpen.push([pool, p.answer.failOpen ? 1 : 0]);
    if (p.spec.policy === "failover") primaryUp.push([pool, p.primaryUp ? 1 : 0]);
    records.push([pool, p.answer.rcode === "servfail" ? 0 : (p.answer.variants[0]?.length ?? 0)]);
  }
  w.family("hadns_endpoint_up", "Probed health of each pool endpoint: 1 up, 0 down, -1 unknown (not probed yet). Endpoints without a check are always 1 (check=\"\"). Overrides do not change it; see hadns_endpoint_override.", up);
  w.family("hadns_endpoint_override", "1 for each pool endpoint an operator override applies to, with its action (down, up, drain).", overridden);
  w.family("hadns_endpoint_transitions_total", "Health transitions of probed endpoints, by check, probed address and new state.", reg.transitions.samples());
  w.family("hadns_pool_fail_open", "1 while a pool answers although every endpoint is down (when_all_down serve-all or serve-first).", failOpen);
  w.family("hadns_pool_primary_up", "Failover pools only: 1 while the first endpoint (or first priority group) has an endpoint in service, 0 while the pool has failed over or is all down.", primaryUp);
  w.family("hadns_pool_answer_records", "Records the pool answers now (the first variant; 0 for NODATA or SERVFAIL).", records);

  // Probes.
  w.histogram(
    "hadns_probe_duration_seconds",
    "Health probe duration, from start to verdict (a timed-out probe counts its timeout).",
    [...reg.probeDurations].map(([check, h]): [Labels, Histogram] => [{ check }, h]),
  );
  w.family("hadns_probe_failures_total", "Failed health probes by check and reason: timeout, refused, status, body, tls, dns, other.", reg.probeFailures.samples());

  // Reloads.
  w.family("hadns_config_reloads_total", "Reloads of config and zones, by result (error: rejected, the previous config kept serving).", [
    [{ result: "ok" }, reg.reloads.ok],
    [{ result: "error" }, reg.reloads.error],
  ]);
  w.family("hadns_config_last_reload_successful", "0 when the last reload was rejected, else 1.", [[undefined, rt.lastReload && !rt.lastReload.ok ? 0 : 1]]);

  // Webhooks.
  w.family("hadns_webhook_deliveries_total", "Webhook notifications by result: delivered, failed (gave up after retries, or a 4xx), dropped (queue full or stopping).", reg.webhookDeliveries.samples());
  w.family("hadns_webhook_retries_total", "Webhook delivery attempts that were retried (network error, timeout, 5xx or 429).", reg.webhookRetries.samples());
  w.family(
    "hadns_webhook_queue_length",
    "Notifications waiting to be sent, per webhook (including the one being sent).",
    reg.queueLengths().map((q): Sample => [{ webhook: q.webhook }, q.length]),
  );

  processMetrics(w, reg.eventLoop);
  return w.text();
}

/** Process figures under the names Prometheus client libraries use, so stock dashboards work. */
function processMetrics(w: Writer, eld: IntervalHistogram): void {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  w.family("process_cpu_user_seconds_total", "User CPU time spent in seconds.", [[undefined, cpu.user / 1e6]]);
  w.family("process_cpu_system_seconds_total", "System CPU time spent in seconds.", [[undefined, cpu.system / 1e6]]);
  w.family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", [[undefined, (cpu.user + cpu.system) / 1e6]]);
  w.family("process_resident_memory_bytes", "Resident memory size in bytes.", [[undefined, mem.rss]]);
  w.family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", [[undefined, Math.round(performance.timeOrigin) / 1000]]);
  const fds = openFds();
  if (fds !== undefined) w.family("process_open_fds", "Number of open file descriptors.", [[undefined, fds]]);
  w.family("nodejs_heap_size_total_bytes", "V8 heap size in bytes.", [[undefined, mem.heapTotal]]);
  w.family("nodejs_heap_size_used_bytes", "V8 heap used in bytes.", [[undefined, mem.heapUsed]]);
  w.family("nodejs_external_memory_bytes", "Memory of C++ objects bound to JavaScript objects (buffers) in bytes.", [[undefined, mem.external]]);
  // monitorEventLoopDelay samples every 10 ms; each scrape reports the window since the previous one.
  const has = eld.count > 0;
  w.family("nodejs_eventloop_lag_seconds", "Mean event loop delay since the previous scrape, in seconds.", [[undefined, has ? eld.mean / 1e9 : 0]]);
  w.family("nodejs_eventloop_lag_p99_seconds", "99th percentile of the event loop delay since the previous scrape, in seconds.", [[undefined, has ? eld.percentile(99) / 1e9 : 0]]);
  w.family("nodejs_eventloop_lag_max_seconds", "Largest event loop delay since the previous scrape, in seconds.", [[undefined, has ? eld.max / 1e9 : 0]]);
  eld.reset();
  w.family("nodejs_version_info", "Node.js version.", [[{ version: process.version }, 1]]);
}

function openFds(): number | undefined {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return undefined;
  }
}
