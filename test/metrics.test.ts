// Prometheus metrics (issue 4): after known queries and a real failover of a pool served by hadns,
// /metrics shows exactly the expected lines; the whole exposition obeys the text format 0.0.4 (HELP
// and TYPE once per family before its samples, families contiguous, label escaping, histogram
// buckets cumulative with +Inf = count, no duplicate series), checked by the small parser below.

import http from "node:http";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metricsFor, probeFailureReason, renderMetrics, startMetrics } from "../src/ops/metrics.js";
import { buildQuery, send } from "./support/client.js";
import { startEndpoints } from "./support/http-endpoints.js";
import { startPoolServer, webCheck, values, waitForAnswer, type PoolServer } from "./support/instance.js";

// ---- a parser of the text exposition format, strict about the rules ---------------------------

interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  series: Series[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The family a sample belongs to: histogram samples carry _bucket/_sum/_count after the family name. */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.get(base) === "histogram" || types.get(base) === "summary") return base;
    }
  }
  return name;
}

function parseValue(t: string): number {
  if (t === "NaN") return NaN;
  if (t === "+Inf") return Infinity;
  if (t === "-Inf") return -Infinity;
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) throw new Error(`bad value ${JSON.stringify(t)}`);
  return Number(t);
}

/** Parses labels `{a="x",b="y\"z"}` starting at s[i] === "{"; returns them and the index after "}". */
function parseLabels(s: string, i: number): [Record<string, string>, number] {
  const out: Record<string, string> = {};
  i++;
  while (s[i] !== "}") {
    const eq = s.indexOf("=", i);
    const name = s.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`bad label name ${JSON.stringify(name)}`);
    if (name in out) throw new Error(`label ${name} twice`);
    if (s[eq + 1] !== '"') throw new Error(`label value not quoted at ${eq + 1}`);
    let v = "";
    let j = eq + 2;
    for (;;) {
      const c = s[j];
      if (c === undefined) throw new Error("unterminated label value");
      if (c === '"') break;
      if (c === "\n") throw new Error("raw newline in label value");
      if (c === "\\") {
        const n = s[j + 1];
        if (n === "\\") v += "\\";
        else if (n === '"') v += '"';
        else if (n === "n") v += "\n";
        else throw new Error(`bad escape \\${n}`);
        j += 2;
        continue;
      }
      v += c;
      j++;
    }
    out[name] = v;
    i = j + 1;
    if (s[i] === ",") i++;
    else if (s[i] !== "}") throw new Error(`expected , or } at ${i} in ${s}`);
  }
  return [out, i + 1];
}

function parseExposition(text: string): Exposition {
  expect(text.endsWith("\n")).toBe(true);
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const series: Series[] = [];
  const done = new Set<string>(); // families whose samples are over
  const seen = new Set<string>();
  let current = "";
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
      const [, kind, name, ...rest] = line.split(" ");
      if (!NAME.test(name!)) throw new Error(`bad metric name in ${line}`);
      const map = kind === "HELP" ? help : types;
      if (map.has(name!)) throw new Error(`second ${kind} for ${name}`);
      if (done.has(name!) || (current === name && kind === "TYPE" && series.some((s) => familyOf(s.name, types) === name))) {
        throw new Error(`${kind} for ${name} after its samples`);
      }
      if (kind === "TYPE" && !["counter", "gauge", "histogram", "summary", "untyped"].includes(rest[0]!)) throw new Error(`bad type ${line}`);
      map.set(name!, rest.join(" "));
      if (current !== name) {
        if (current) done.add(current);
        current = name!;
      }
      continue;
    }
    if (line.startsWith("#") || line === "") throw new Error(`unexpected line ${JSON.stringify(line)}`);
    const brace = line.indexOf("{");
    const space = line.indexOf(" ");
    const nameEnd = brace !== -1 && brace < space ? brace : space;
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`bad metric name in ${line}`);
    let labels: Record<string, string> = {};
    let rest = nameEnd;
    if (line[nameEnd] === "{") [labels, rest] = parseLabels(line, nameEnd);
    if (line[rest] !== " ") throw new Error(`no space before the value in ${line}`);
    const value = parseValue(line.slice(rest + 1));
    const family = familyOf(name, types);
    if (!types.has(family)) throw new Error(`sample of ${name} before its TYPE`);
    if (family !== current) throw new Error(`samples of ${family} not contiguous (at ${line})`);
    if (types.get(family) === "counter" && !name.endsWith("_total")) throw new Error(`counter ${name} without _total`);
    const id = name + JSON.stringify(Object.entries(labels).sort());
    if (seen.has(id)) throw new Error(`duplicate series ${line}`);
    seen.add(id);
    series.push({ name, labels, value });
  }
  // Histograms: buckets cumulative, ending in +Inf equal to _count.
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const groups = new Map<string, Series[]>();
    for (const s of series.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels;
      expect(le).toBeDefined();
      const k = JSON.stringify(rest);
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    for (const [k, buckets] of groups) {
      const les = buckets.map((b) => parseValue(b.labels.le!));
      expect([...les].sort((a, b) => a - b)).toEqual(les);
      expect(les.at(-1)).toBe(Infinity);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
      const count = series.find((s) => s.name === `${family}_count` && JSON.stringify(s.labels) === k);
      expect(count?.value).toBe(buckets.at(-1)!.value);
      expect(series.some((s) => s.name === `${family}_sum` && JSON.stringify(s.labels) === k)).toBe(true);
    }
  }
  return { types, help, series };
}

function valueOf(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  return e.series.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()))?.value;
}

function linesOf(text: string, name: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(name + "{") || l.startsWith(name + " "));
}

// ---- the server under test -----------------------------------------------------------------------

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 2024010203 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
${Array.from({ length: 20 }, (_, i) => `big TXT "${"x".repeat(60)} ${i}"`).join("\n")}
`;

let eps: Awaited<ReturnType<typeof startEndpoints>>;
let srv: PoolServer;
const [PRIMARY, SECONDARY] = ["127.0.0.40", "127.0.0.41"];
const ep = (a: string) => eps.endpoints.find((e) => e.address === a)!;

beforeAll(async () => {
  eps = await startEndpoints(2, undefined, { firstAddress: 40 });
  srv = await startPoolServer({
    files: { "example.test.zone": ZONE },
    config: `zones: [example.test.zone]
${webCheck(eps.port)}pools:
  - name: app.example.test.
    type: A
    ttl: 30
    check: web
    endpoints: [${PRIMARY}, ${SECONDARY}]
  - name: static.example.test.
    type: A
    endpoints: [192.0.2.7]
`,
  });
  startMetrics(srv.instance);
}, 30_000);

afterAll(async () => {
  metricsFor(srv.instance).close();
  await srv?.close();
  await eps?.close();
});

describe("metrics after known queries", () => {
  it("counts queries by zone, qtype, rcode name and transport, truncation and TCP connections, exactly", async () => {
    for (let i = 0; i < 3; i++) await srv.ask("app.example.test.", "A");
    await srv.ask("app.example.test.", "A", { transport: "tcp" });
    await srv.ask("nope.example.test.", "AAAA");
    await srv.ask("app.example.test.", "MX"); // NODATA: NOERROR
    await srv.ask("www.elsewhere.test.", "A"); // outside every zone: REFUSED, zone ""
    await srv.ask("example.test.", "TYPE999"); // a type without its own label
    const tc = await srv.ask("big.example.test.", "TXT", { edns: false }); // > 512 bytes without EDNS
    expect(tc.tc).toBe(true);

    const text = renderMetrics(srv.instance);
    expect(linesOf(text, "hadns_queries_total").sort()).toEqual(
      [
        'hadns_queries_total{zone="example.test.",qtype="A",rcode="NOERROR",transport="udp"} 3',
        'hadns_queries_total{zone="example.test.",qtype="A",rcode="NOERROR",transport="tcp"} 1',
        'hadns_queries_total{zone="example.test.",qtype="AAAA",rcode="NXDOMAIN",transport="udp"} 1',
        'hadns_queries_total{zone="example.test.",qtype="MX",rcode="NOERROR",transport="udp"} 1',
        'hadns_queries_total{zone="",qtype="A",rcode="REFUSED",transport="udp"} 1',
        'hadns_queries_total{zone="example.test.",qtype="other",rcode="NOERROR",transport="udp"} 1',
        'hadns_queries_total{zone="example.test.",qtype="TXT",rcode="NOERROR",transport="udp"} 1',
      ].sort(),
    );
    expect(linesOf(text, "hadns_responses_truncated_total")).toEqual(["hadns_responses_truncated_total 1"]);
    // One TCP connection in this test file so far; the client closed it (the close may take a moment).
    expect(linesOf(text, "hadns_tcp_connections_total")).toEqual(["hadns_tcp_connections_total 1"]);
    await until(() => linesOf(renderMetrics(srv.instance), "hadns_tcp_connections")[0] === "hadns_tcp_connections 0");

    expect(linesOf(text, "hadns_zone_serial")).toEqual(['hadns_zone_serial{zone="example.test."} 2024010203']);
    expect(linesOf(text, "hadns_zone_records")).toEqual(['hadns_zone_records{zone="example.test."} 23']);
    parseExposition(text);
  });

  it("a BADVERS answer (EDNS version 1) counts with its extended rcode name", async () => {
    const q = buildQuery({ name: "app.example.test.", type: "A", edns: { version: 1 } });
    expect(await send("udp", srv.host, srv.port, q, { timeoutMs: 2000 })).not.toBeNull();
    expect(linesOf(renderMetrics(srv.instance), "hadns_queries_total").filter((l) => l.includes("BADVERS"))).toEqual([
      'hadns_queries_total{zone="",qtype="A",rcode="BADVERS",transport="udp"} 1',
    ]);
  });
});

describe("metrics through a failover", () => {
  it("endpoint gauges, transitions, probe failures by reason and fail-open follow a real outage and recovery", { timeout: 30_000 }, async () => {
    let e = parseExposition(renderMetrics(srv.instance));
    const labels = (address: string) => ({ pool: "app.example.test.", type: "A", address, check: "web" });
    expect(valueOf(e, "hadns_endpoint_up", labels(PRIMARY))).toBe(1);
    expect(valueOf(e, "hadns_endpoint_up", labels(SECONDARY))).toBe(1);
    expect(valueOf(e, "hadns_endpoint_up", { pool: "static.example.test.", type: "A", address: "192.0.2.7", check: "" })).toBe(1);
    expect(valueOf(e, "hadns_pool_fail_open", { pool: "app.example.test.", type: "A" })).toBe(0);
    expect(valueOf(e, "hadns_pool_primary_up", { pool: "app.example.test.", type: "A" })).toBe(1);
    expect(valueOf(e, "hadns_pool_answer_records", { pool: "app.example.test.", type: "A" })).toBe(1);
    // The first round's unknown→up happened before the registry subscribed: no transition counted yet.
    expect(linesOf(renderMetrics(srv.instance), "hadns_endpoint_transitions_total")).toEqual([]);
    const probes = valueOf(e, "hadns_probe_duration_seconds_count", { check: "web" }) ?? 0;

    // The primary answers 503: it goes down, the pool fails over.
    await ep(PRIMARY).set("503");
    await waitForAnswer(srv, "app.example.test.", "A", (v) => values(v).join() === SECONDARY);
    const text = renderMetrics(srv.instance);
    e = parseExposition(text);
    expect(valueOf(e, "hadns_endpoint_up", labels(PRIMARY))).toBe(0);
    expect(valueOf(e, "hadns_endpoint_up", labels(SECONDARY))).toBe(1);
    expect(linesOf(text, "hadns_endpoint_transitions_total")).toEqual([`hadns_endpoint_transitions_total{check="web",address="${PRIMARY}",to="down"} 1`]);
    expect(valueOf(e, "hadns_pool_primary_up", { pool: "app.example.test.", type: "A" })).toBe(0);
    expect(valueOf(e, "hadns_probe_failures_total", { check: "web", reason: "status" })).toBeGreaterThanOrEqual(2);
    expect(valueOf(e, "hadns_probe_duration_seconds_count", { check: "web" })).toBeGreaterThan(probes);

    // The secondary refuses connections too: every endpoint down, the pool fails open (serve-all).
    await ep(SECONDARY).set("refuse");
    await waitForAnswer(srv, "app.example.test.", "A", (v) => values(v).length === 2);
    e = parseExposition(renderMetrics(srv.instance));
    expect(valueOf(e, "hadns_pool_fail_open", { pool: "app.example.test.", type: "A" })).toBe(1);
    expect(valueOf(e, "hadns_pool_answer_records", { pool: "app.example.test.", type: "A" })).toBe(2);
    expect(valueOf(e, "hadns_probe_failures_total", { check: "web", reason: "refused" })).toBeGreaterThanOrEqual(2);
    for (const s of e.series.filter((x) => x.name === "hadns_probe_failures_total")) {
      expect(["timeout", "refused", "status", "body", "tls", "dns", "other"]).toContain(s.labels.reason);
    }

    // Both back: the pool answers the primary again, fail-open over; each endpoint went down and up once.
    await Promise.all([ep(PRIMARY).set("ok"), ep(SECONDARY).set("ok")]);
    await waitForAnswer(srv, "app.example.test.", "A", (v) => values(v).join() === PRIMARY);
    await until(() => valueOf(parseExposition(renderMetrics(srv.instance)), "hadns_endpoint_up", labels(SECONDARY)) === 1);
    const after = renderMetrics(srv.instance);
    e = parseExposition(after);
    expect(valueOf(e, "hadns_pool_fail_open", { pool: "app.example.test.", type: "A" })).toBe(0);
    expect(linesOf(after, "hadns_endpoint_transitions_total").sort()).toEqual(
      [
        `hadns_endpoint_transitions_total{check="web",address="${PRIMARY}",to="down"} 1`,
        `hadns_endpoint_transitions_total{check="web",address="${PRIMARY}",to="up"} 1`,
        `hadns_endpoint_transitions_total{check="web",address="${SECONDARY}",to="down"} 1`,
        `hadns_endpoint_transitions_total{check="web",address="${SECONDARY}",to="up"} 1`,
      ].sort(),
    );
  });

  it("an override shows beside the probed state, which it does not change", async () => {
    const o = srv.instance.overrides.add({ pool: "app.example.test.", address: PRIMARY, action: "drain", reason: "maintenance", forMs: 60_000 });
    try {
      const e = parseExposition(renderMetrics(srv.instance));
      expect(valueOf(e, "hadns_endpoint_override", { pool: "app.example.test.", type: "A", address: PRIMARY, action: "drain" })).toBe(1);
      expect(valueOf(e, "hadns_endpoint_up", { pool: "app.example.test.", type: "A", address: PRIMARY, check: "web" })).toBe(1);
    } finally {
      srv.instance.overrides.remove(o.id);
    }
    expect(linesOf(renderMetrics(srv.instance), "hadns_endpoint_override")).toEqual([]);
  });
});

describe("reloads, webhooks, process", () => {
  it("a rejected reload counts as an error and clears last_reload_successful", async () => {
    const r = await srv.instance.reload("test");
    expect(r.ok).toBe(false); // started without a config to read again
    const text = renderMetrics(srv.instance);
    expect(linesOf(text, "hadns_config_reloads_total")).toEqual(['hadns_config_reloads_total{result="ok"} 0', 'hadns_config_reloads_total{result="error"} 1']);
    expect(linesOf(text, "hadns_config_last_reload_successful")).toEqual(["hadns_config_last_reload_successful 0"]);
  });

  it("escapes label values (a webhook name is free text) and parses back to the same value", () => {
    const name = 'on-call "primary" \\ team\nsecond line';
    const reg = metricsFor(srv.instance);
    reg.webhookRegistered(name);
    reg.webhookDelivery(name, "delivered");
    const off = reg.addQueueSource(() => [{ webhook: name, length: 3 }]);
    try {
      const text = renderMetrics(srv.instance);
      expect(linesOf(text, "hadns_webhook_deliveries_total")).toContain(
        'hadns_webhook_deliveries_total{webhook="on-call \\"primary\\" \\\\ team\\nsecond line",result="delivered"} 1',
      );
      const e = parseExposition(text);
      expect(valueOf(e, "hadns_webhook_deliveries_total", { webhook: name, result: "delivered" })).toBe(1);
      expect(valueOf(e, "hadns_webhook_deliveries_total", { webhook: name, result: "dropped" })).toBe(0);
      expect(valueOf(e, "hadns_webhook_queue_length", { webhook: name })).toBe(3);
    } finally {
      off();
    }
  });

  it("process metrics are there and plausible", () => {
    const e = parseExposition(renderMetrics(srv.instance));
    expect(e.types.get("process_cpu_seconds_total")).toBe("counter");
    expect(valueOf(e, "process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(valueOf(e, "process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
    const start = valueOf(e, "process_start_time_seconds")!;
    expect(start).toBeLessThanOrEqual(Date.now() / 1000);
    expect(start).toBeGreaterThan(Date.now() / 1000 - 3600);
    expect(valueOf(e, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(valueOf(e, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(e.types.get("hadns_probe_duration_seconds")).toBe("histogram");
    // Histogram buckets from 1 ms to 10 s.
    const les = e.series.filter((s) => s.name === "hadns_probe_duration_seconds_bucket" && s.labels.check === "web").map((s) => s.labels.le);
    expect(les[0]).toBe("0.001");
    expect(les.at(-2)).toBe("10");
  });

  it("probe failure reasons map onto a fixed small set", () => {
    expect(probeFailureReason("timeout after 500 ms (waiting for response)")).toBe("timeout");
    expect(probeFailureReason("connection refused")).toBe("refused");
    expect(probeFailureReason("HTTP 503")).toBe("status");
    expect(probeFailureReason("HTTP 302: redirect to https://x not followed (other host)")).toBe("status");
    expect(probeFailureReason('body did not contain "ok"')).toBe("body");
    expect(probeFailureReason("TLS: self-signed certificate")).toBe("tls");
    expect(probeFailureReason("DNS: no address for app.example.test")).toBe("dns");
    expect(probeFailureReason("connection reset")).toBe("other");
  });
});

describe("GET /metrics on the admin listener", () => {
  it("serves the same exposition over HTTP with the 0.0.4 content type", async () => {
    const { startAdminServer } = await import("../src/ops/admin-server.js");
    const admin = await startAdminServer(srv.instance, { listen: { host: "127.0.0.1", port: 0 } }, pino({ level: "silent" }), { metrics: renderMetrics });
    try {
      await srv.ask("app.example.test.", "AAAA");
      const res = await get(`${admin.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
      const e = parseExposition(res.body);
      expect(valueOf(e, "hadns_queries_total", { zone: "example.test.", qtype: "AAAA", rcode: "NOERROR", transport: "udp" })).toBe(1);
      expect(e.types.size).toBeGreaterThan(25);
    } finally {
      await admin.close();
    }
  });
});

function get(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on("error", reject);
  });
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the format checker itself", () => {
  it("rejects what the format forbids", () => {
    const ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 1\n";
    expect(() => parseExposition(ok)).not.toThrow();
    expect(() => parseExposition(ok + 'a_total{x="1"} 2\n')).toThrow(/duplicate/);
    expect(() => parseExposition(ok.replace('"1"', '"\\q"'))).toThrow(/escape/);
    expect(() => parseExposition(ok + "# HELP b B.\n# TYPE b gauge\nb 1\na_total 3\n")).toThrow(/contiguous/);
    expect(() => parseExposition("a_total 1\n")).toThrow(/before its TYPE/);
    expect(() => parseExposition(ok + "# TYPE a_total counter\n")).toThrow(/second TYPE/);
    expect(() => parseExposition("# TYPE c counter\nc 1\n")).toThrow(/without _total/);
  });
});
