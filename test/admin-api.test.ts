// The admin API over real sockets (issue 4): every endpoint — status, overrides, explain, reload,
// metrics, the status page — against hadns in-process with real HTTP endpoints on 127.0.0.40-42;
// the token rules (401 with WWW-Authenticate, constant-time compare, refusal to start on a
// non-loopback address without one); every kind of bad request (404, 405, 400 naming the field, 413,
// 415, 403 for DNS rebinding and cross-origin writes); an override changing the DNS answer at once,
// expiring by itself, surviving a reload; a rejected reload keeping the old config.

import net from "node:net";
import os from "node:os";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminBindingProblem, BODY_LIMIT, isLoopbackHost, startAdminServer, tokenChecker } from "../src/ops/admin-server.js";
import { startEndpoints } from "./support/http-endpoints.js";
import { values } from "./support/instance.js";
import { call, startWithAdmin, until, type AdminHarness } from "./support/admin.js";
import { freePort } from "./support/ports.js";

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 7 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
alias         CNAME app
`;

const config = (port: number, extra = "") => `zones: [example.test.zone]
checks:
  web: { type: http, port: ${port}, path: /health, interval: 500ms, timeout: 400ms, fast_interval: 50ms, fall: 3, rise: 2, flap_window: 0 }
pools:
  - { name: app.example.test., type: A, ttl: 30, degraded_ttl: 5, check: web, endpoints: [127.0.0.40, 127.0.0.41] }
  - { name: multi.example.test., type: A, ttl: 30, policy: multivalue, check: web, endpoints: [127.0.0.40, 127.0.0.41, 127.0.0.42] }
${extra}`;

const TOKEN = "s3cret-token-for-tests-0123456789";
const silent = pino({ level: "silent" });

let eps: Awaited<ReturnType<typeof startEndpoints>>;
let h: AdminHarness;

beforeAll(async () => {
  eps = await startEndpoints(3, undefined, { firstAddress: 40 });
  h = await startWithAdmin({ config: config(eps.port), files: { "example.test.zone": ZONE } });
  await h.allUp();
});
afterAll(async () => {
  await h?.close();
  await eps?.close();
});

const get = (path: string) => call(h.url, "GET", path);
const post = (path: string, body?: unknown, headers?: Record<string, string>) => call(h.url, "POST", path, { body, ...(headers ? { headers } : {}) });
const appAnswer = async () => values(await h.ask("app.example.test.", "A"));

describe("GET /v1/status", () => {
  it("zones, pools with every endpoint's state, reason, last probe and override, and each pool's answer", async () => {
    const r = await get("/v1/status");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(r.headers["cache-control"]).toBe("no-store");
    const s = r.json;
    expect(Math.abs(s.now - Date.now())).toBeLessThan(5000);
    expect(s.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(s.zones).toEqual([{ origin: "example.test.", serial: 7, records: 4, file: expect.stringMatching(/example\.test\.zone$/) }]);
    expect(s.pools.map((p: any) => `${p.name} ${p.type} ${p.policy}`)).toEqual(["app.example.test. A failover", "multi.example.test. A multivalue"]);
    const app = s.pools[0];
    expect(app.answer).toMatchObject({ rcode: "noerror", ttl: 30, variants: [["127.0.0.40"]], failOpen: false });
    expect(app.endpoints).toHaveLength(2);
    for (const ep of app.endpoints) {
      expect(ep).toMatchObject({ check: "web", probedState: "up", state: "up", override: null });
      expect(ep.lastProbe).toMatchObject({ ok: true, reason: "HTTP 200" });
      expect(typeof ep.lastProbe.latencyMs).toBe("number");
      expect(typeof ep.since).toBe("number");
    }
    expect(s.overrides).toEqual([]);
    expect(Array.isArray(s.recentTransitions)).toBe(true);
  });

  it("HEAD answers like GET, without a body", async () => {
    const r = await call(h.url, "HEAD", "/v1/status");
    expect(r.status).toBe(200);
    expect(r.text).toBe("");
  });
});

describe("overrides", () => {
  it("drain for 1s: the answer changes at once, status shows it, and it expires by itself", async () => {
    expect(await appAnswer()).toEqual(["127.0.0.40"]);
    const set = await post("/v1/overrides", { pool: "app.example.test.", address: "127.0.0.40", action: "drain", reason: "kernel update", for: "1s" });
    expect(set.status).toBe(201);
    expect(set.json).toMatchObject({ pool: "app.example.test.", address: "127.0.0.40", action: "drain", reason: "kernel update" });
    expect(set.json.expiresAt - set.json.createdAt).toBe(1000);
    expect(set.headers.location).toBe(`/v1/overrides/${set.json.id}`);
    // No probe needed: the very next query has the other endpoint.
    expect(await appAnswer()).toEqual(["127.0.0.41"]);

    const list = await get("/v1/overrides");
    expect(list.json.overrides).toEqual([set.json]);
    expect((await get(`/v1/overrides/${set.json.id}`)).json).toEqual(set.json);
    const st = (await get("/v1/status")).json;
    const ep = st.pools[0].endpoints.find((e: any) => e.address === "127.0.0.40");
    expect(ep).toMatchObject({ state: "down", probedState: "up", override: { id: set.json.id, action: "drain" } });
    // The override names one pool: the multivalue pool still answers 127.0.0.40.
    expect(values(await h.ask("multi.example.test.", "A")).sort()).toEqual(["127.0.0.40", "127.0.0.41", "127.0.0.42"]);

    await until(async () => (await appAnswer())[0] === "127.0.0.40", 5000, "the answer to return after expiry");
    expect((await get("/v1/overrides")).json.overrides).toEqual([]);
    expect((await get(`/v1/overrides/${set.json.id}`)).status).toBe(404);
  });

  it("--address alone: every pool's endpoint at that address; DELETE ends it early", async () => {
    const set = await post("/v1/overrides", { address: "127.0.0.40", action: "down", reason: "rack power", for: "30m" });
    expect(set.status).toBe(201);
    expect(set.json.pool).toBeUndefined();
    expect(await appAnswer()).toEqual(["127.0.0.41"]);
    expect(values(await h.ask("multi.example.test.", "A")).sort()).toEqual(["127.0.0.41", "127.0.0.42"]);

    const del = await call(h.url, "DELETE", `/v1/overrides/${set.json.id}`);
    expect(del.status).toBe(200);
    expect(del.json).toEqual(set.json);
    expect(await appAnswer()).toEqual(["127.0.0.40"]);
    expect((await call(h.url, "DELETE", `/v1/overrides/${set.json.id}`)).status).toBe(404);
  });

  it("up keeps an endpoint in service whatever its probes say; a second override for the same endpoint replaces the first", async () => {
    await eps.endpoints[0]!.set("503");
    try {
      await until(async () => (await appAnswer())[0] === "127.0.0.41", 8000, "failover to 127.0.0.41");
      const a = await post("/v1/overrides", { pool: "APP.example.test", address: "127.0.0.40", action: "up", reason: "false alarm", for: 60 });
      expect(a.status).toBe(201);
      expect(a.json.pool).toBe("app.example.test."); // as the pool is named
      expect(await appAnswer()).toEqual(["127.0.0.40"]);
      const b = await post("/v1/overrides", { pool: "app.example.test. A", address: "127.0.0.40", action: "drain", reason: "changed my mind", for: "5m" });
      expect(b.status).toBe(201);
      expect((await get("/v1/overrides")).json.overrides.map((o: any) => o.id)).toEqual([b.json.id]);
      expect(await appAnswer()).toEqual(["127.0.0.41"]);
      await call(h.url, "DELETE", `/v1/overrides/${b.json.id}`);
    } finally {
      await eps.endpoints[0]!.set("ok");
    }
    await until(async () => (await appAnswer())[0] === "127.0.0.40", 8000, "recovery");
  });

  it("an override survives a reload, and a rejected reload keeps the old config serving", async () => {
    const set = await post("/v1/overrides", { pool: "app.example.test.", address: "127.0.0.40", action: "drain", reason: "survive a reload", for: "1h" });
    expect(set.status).toBe(201);
    try {
      const ok = await post("/v1/reload");
      expect(ok.status).toBe(200);
      expect(ok.json).toMatchObject({ ok: true, errors: [], trigger: "admin API" });
      expect(typeof ok.json.ms).toBe("number");
      expect((await get("/v1/overrides")).json.overrides).toEqual([set.json]);
      expect(await appAnswer()).toEqual(["127.0.0.41"]);
      expect((await get("/v1/status")).json.lastReload).toMatchObject({ ok: true, trigger: "admin API" });

      h.setConfig(config(eps.port).replace("ttl: 30, degraded_ttl: 5", "ttl: 30, degraded_ttl: 5, polcy: failover"));
      const bad = await post("/v1/reload", {});
      expect(bad.status).toBe(422);
      expect(bad.json.error).toMatch(/^reload rejected \(1 error\); still serving the previous config$/);
      expect(bad.json.ok).toBe(false);
      expect(bad.json.errors).toHaveLength(1);
      expect(bad.json.errors[0]).toMatch(/hadns\.yaml:5: .*polcy/);
      expect(await appAnswer()).toEqual(["127.0.0.41"]);
      expect((await get("/v1/overrides")).json.overrides).toEqual([set.json]);
    } finally {
      h.setConfig(config(eps.port));
      await call(h.url, "DELETE", `/v1/overrides/${set.json.id}`);
    }
    expect((await post("/v1/reload")).status).toBe(200);
    expect(await appAnswer()).toEqual(["127.0.0.40"]);
  });

  it("a reload that drops the pool keeps the override (it applies again when the pool is back)", async () => {
    const set = await post("/v1/overrides", { pool: "app.example.test.", address: "127.0.0.40", action: "drain", reason: "across configs", for: "1h" });
    try {
      h.setConfig(config(eps.port).replace(/ {2}- \{ name: app[^\n]*\n/, ""));
      expect((await post("/v1/reload")).status).toBe(200);
      expect((await get("/v1/status")).json.pools.map((p: any) => p.name)).toEqual(["multi.example.test."]);
      expect((await get("/v1/overrides")).json.overrides).toEqual([set.json]);
      h.setConfig(config(eps.port));
      expect((await post("/v1/reload")).status).toBe(200);
      expect(await appAnswer()).toEqual(["127.0.0.41"]);
    } finally {
      await call(h.url, "DELETE", `/v1/overrides/${set.json.id}`);
    }
  });
});

describe("GET /v1/explain", () => {
  it("a pool name: zone, pool, policy, each endpoint's state, override and place in the answer, and the records", async () => {
    const set = await post("/v1/overrides", { pool: "app.example.test.", address: "127.0.0.40", action: "drain", reason: "explain me", for: "10m" });
    try {
      const r = await get("/v1/explain?name=app.example.test&type=a");
      expect(r.status).toBe(200);
      const x = r.json;
      expect(x).toMatchObject({ name: "app.example.test.", type: "A", zone: { origin: "example.test.", serial: 7 }, failOpen: false });
      expect(x.pool).toMatchObject({ name: "app.example.test.", type: "A", policy: "failover", failOpen: false, reason: expect.stringMatching(/failover/) });
      expect(x.pool.endpoints.map((e: any) => [e.address, e.state, e.probedState, e.override?.action ?? null, e.inAnswer])).toEqual([
        ["127.0.0.40", "down", "up", "drain", false],
        ["127.0.0.41", "up", "up", null, true],
      ]);
      expect(x.response).toEqual({ rcode: "NOERROR", aa: true, answer: ["app.example.test. 5 IN A 127.0.0.41"], authority: [], additional: [] });
      expect(x.summary).toMatch(/^app\.example\.test\. A \(failover\) answers 127\.0\.0\.41: /);
    } finally {
      await call(h.url, "DELETE", `/v1/overrides/${set.json.id}`);
    }
  });

  it("a CNAME to a pool: the chain's records and the pool it leads to", async () => {
    const x = (await get("/v1/explain?name=alias.example.test.&type=A")).json;
    expect(x.response.answer).toEqual(["alias.example.test. 300 IN CNAME app.example.test.", "app.example.test. 30 IN A 127.0.0.40"]);
    expect(x.pools.map((p: any) => p.label)).toEqual(["app.example.test. A"]);
  });

  it("every endpoint down: fail-open says so", async () => {
    const ids: string[] = [];
    for (const a of ["127.0.0.40", "127.0.0.41"]) ids.push((await post("/v1/overrides", { pool: "app.example.test.", address: a, action: "down", reason: "all out", for: "10m" })).json.id);
    try {
      const x = (await get("/v1/explain?name=app.example.test.")).json;
      expect(x.type).toBe("A");
      expect(x.failOpen).toBe(true);
      expect(x.pool.reason).toMatch(/fail-open/);
      expect(x.summary).toMatch(/FAILING OPEN/);
      expect(x.response.answer.sort()).toEqual(["app.example.test. 5 IN A 127.0.0.40", "app.example.test. 5 IN A 127.0.0.41"]);
    } finally {
      for (const id of ids) await call(h.url, "DELETE", `/v1/overrides/${id}`);
    }
  });

  it("a name with no pool, a missing type, and a name outside every zone", async () => {
    const ns = (await get("/v1/explain?name=ns1.example.test.&type=A")).json;
    expect(ns).toMatchObject({ pool: null, pools: [], failOpen: false, response: { rcode: "NOERROR", answer: ["ns1.example.test. 300 IN A 192.0.2.53"] } });
    expect(ns.summary).toMatch(/no pool involved/);
    const nx = (await get("/v1/explain?name=nope.example.test.&type=A")).json;
    expect(nx.response.rcode).toBe("NXDOMAIN");
    expect(nx.response.authority[0]).toMatch(/^example\.test\. 120 IN SOA /);
    const out = (await get("/v1/explain?name=example.org.&type=A")).json;
    expect(out).toMatchObject({ zone: null, response: { rcode: "REFUSED", aa: false } });
  });
});

describe("GET /metrics, GET /", () => {
  it("/metrics is Prometheus text (metrics.ts renders it)", async () => {
    const r = await get("/metrics");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toMatch(/^hadns_endpoint_up\{.*address="127\.0\.0\.40".*\} 1$/m);
  });

  it("/ is the status page: HTML with a strict Content-Security-Policy", async () => {
    const r = await get("/");
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(r.headers["content-security-policy"]).toMatch(/default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; connect-src 'self'/);
    expect(r.text).toContain("<title>hadns status</title>");
    expect(r.text.length).toBeLessThan(20_000);
  });
});

describe("bad requests: 4xx with a JSON error that says what is wrong", () => {
  const overrideOk = { pool: "app.example.test.", address: "127.0.0.40", action: "drain", reason: "r", for: "1m" };
  const cases: Array<[string, () => Promise<{ status: number; json: any; headers?: any }>, number, RegExp]> = [
    ["unknown route", () => get("/v1/nope"), 404, /^no such route: GET \/v1\/nope/],
    ["wrong method", () => call(h.url, "PUT", "/v1/status"), 405, /^PUT is not allowed on \/v1\/status \(allowed: GET, HEAD\)$/],
    ["wrong method on a collection", () => call(h.url, "DELETE", "/v1/overrides"), 405, /allowed: GET, HEAD, POST/],
    ["bad JSON", () => post("/v1/overrides", "{pool: nope", { "content-type": "application/json" }), 400, /^the body is not valid JSON: /],
    ["not JSON at all", () => post("/v1/overrides", "pool=app", { "content-type": "application/x-www-form-urlencoded" }), 415, /Content-Type: application\/json \(got application\/x-www-form-urlencoded\)/],
    ["a JSON array", () => post("/v1/overrides", [overrideOk]), 400, /^expected a JSON object, got an array$/],
    ["an empty body", () => post("/v1/overrides"), 400, /the body is empty/],
    ["missing address", () => post("/v1/overrides", { ...overrideOk, address: undefined }), 400, /^address: missing/],
    ["missing action", () => post("/v1/overrides", { ...overrideOk, action: undefined }), 400, /^action: missing \(down, up, drain\)$/],
    ["bad action", () => post("/v1/overrides", { ...overrideOk, action: "off" }), 400, /^action: expected one of down, up, drain, got "off"$/],
    ["missing reason", () => post("/v1/overrides", { ...overrideOk, reason: " " }), 400, /^reason: must not be empty$/],
    ["missing for", () => post("/v1/overrides", { ...overrideOk, for: undefined }), 400, /^for: missing/],
    ["bad for", () => post("/v1/overrides", { ...overrideOk, for: "30 minutes" }), 400, /^for: bad duration "30 minutes"/],
    ["for: 0", () => post("/v1/overrides", { ...overrideOk, for: "0s" }), 400, /^for: must be more than 0$/],
    ["for too long", () => post("/v1/overrides", { ...overrideOk, for: "90d" }), 400, /^for: at most 30d/],
    ["a number for address", () => post("/v1/overrides", { ...overrideOk, address: 127 }), 400, /^address: expected a string, got number 127$/],
    ["unknown field", () => post("/v1/overrides", { ...overrideOk, ttl: 5 }), 400, /^ttl: unknown field \(expected pool, address, action, reason, for\)$/],
    ["unknown pool", () => post("/v1/overrides", { ...overrideOk, pool: "ap.example.test." }), 400, /^pool: no pool is named ap\.example\.test\. \(pools: app\.example\.test\., multi\.example\.test\.\)$/],
    ["address not in the pool", () => post("/v1/overrides", { ...overrideOk, address: "127.0.0.42" }), 400, /^address: 127\.0\.0\.42 is not an endpoint of pool app\.example\.test\. \(endpoints: 127\.0\.0\.40, 127\.0\.0\.41\)$/],
    ["address in no pool", () => post("/v1/overrides", { ...overrideOk, pool: undefined, address: "192.0.2.1" }), 400, /^address: 192\.0\.2\.1 is not an endpoint of any pool/],
    ["unknown override id", () => call(h.url, "DELETE", "/v1/overrides/0000"), 404, /^no override with id "0000"/],
    ["explain without a name", () => get("/v1/explain?type=A"), 400, /^name: missing/],
    ["explain with a bad type", () => get("/v1/explain?name=app.example.test.&type=AXX"), 400, /^type: unknown record type "AXX"$/],
    ["explain with AXFR", () => get("/v1/explain?name=example.test.&type=AXFR"), 400, /^type: AXFR is not answered/],
    ["explain with a bad name", () => get("/v1/explain?name=a..b"), 400, /^name: /],
    ["explain with an unknown parameter", () => get("/v1/explain?name=app.example.test.&qtype=A"), 400, /^qtype: unknown query parameter/],
    ["reload with fields", () => post("/v1/reload", { force: true }), 400, /^force: unknown field \(this request takes none\)$/],
    ["a body over the limit (Content-Length)", () => post("/v1/overrides", { ...overrideOk, reason: "x".repeat(BODY_LIMIT) }), 413, /over the limit of 16384 bytes/],
    [
      "a chunked body over the limit",
      () => call(h.url, "POST", "/v1/overrides", { body: JSON.stringify({ ...overrideOk, reason: "x".repeat(BODY_LIMIT) }), headers: { "content-type": "application/json", "transfer-encoding": "chunked" } }),
      413,
      /over the limit of 16384 bytes/,
    ],
    ["a reason too long", () => post("/v1/overrides", { ...overrideOk, reason: "x".repeat(600) }), 400, /^reason: longer than 500 characters$/],
    ["a rebound DNS name in Host (no token)", () => call(h.url, "GET", "/v1/status", { headers: { host: "evil.example:8053" } }), 403, /^Host "evil\.example:8053" is not a loopback address/],
    ["a cross-origin POST", () => post("/v1/reload", undefined, { origin: "http://evil.example" }), 403, /^cross-origin POST from http:\/\/evil\.example refused$/],
  ];
  for (const [what, run, status, message] of cases) {
    it(`${what}: ${status}`, async () => {
      const r = await run();
      expect(r.status).toBe(status);
      expect(r.json).toEqual({ error: expect.stringMatching(message) });
      if (status === 405) expect(r.headers!.allow).toMatch(/GET/);
    });
  }

  it("none of them changed anything", async () => {
    expect((await get("/v1/overrides")).json.overrides).toEqual([]);
    expect(await appAnswer()).toEqual(["127.0.0.40"]);
  });

  it("a same-origin POST (what a browser sends from the status page) is fine", async () => {
    const host = new URL(h.url).host;
    const r = await post("/v1/reload", undefined, { origin: `http://${host}` });
    expect(r.status).toBe(200);
  });
});

describe("the token", () => {
  let t: Awaited<ReturnType<typeof startAdminServer>>;
  beforeAll(async () => {
    t = await startAdminServer(h.instance, { listen: { host: "127.0.0.1", port: 0 }, token: TOKEN }, silent);
  });
  afterAll(async () => t?.close());

  it("no token: 401 with WWW-Authenticate: Bearer, on every API route and /metrics", async () => {
    for (const [m, p] of [["GET", "/v1/status"], ["GET", "/v1/overrides"], ["POST", "/v1/overrides"], ["DELETE", "/v1/overrides/x"], ["GET", "/v1/explain?name=a."], ["POST", "/v1/reload"], ["GET", "/metrics"]] as const) {
      const r = await call(t.url, m, p);
      expect(r.status, `${m} ${p}`).toBe(401);
      expect(r.headers["www-authenticate"]).toBe('Bearer realm="hadns"');
      expect(r.json).toEqual({ error: "this admin API needs a bearer token: send Authorization: Bearer <token>" });
    }
    // Another scheme is no token either.
    expect((await call(t.url, "GET", "/v1/status", { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` } })).status).toBe(401);
  });

  it("a wrong token, of any length: 401 invalid_token", async () => {
    for (const wrong of ["x", TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), "y".repeat(5000)]) {
      const r = await call(t.url, "GET", "/v1/status", { token: wrong });
      expect(r.status).toBe(401);
      expect(r.headers["www-authenticate"]).toBe('Bearer realm="hadns", error="invalid_token"');
      expect(r.json).toEqual({ error: "wrong bearer token" });
    }
  });

  it("the right token: 200 (the scheme's case does not matter); a token also lifts the Host rule", async () => {
    expect((await call(t.url, "GET", "/v1/status", { token: TOKEN })).status).toBe(200);
    expect((await call(t.url, "GET", "/v1/status", { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    expect((await call(t.url, "GET", "/v1/status", { token: TOKEN, headers: { host: "hadns.internal:8053" } })).status).toBe(200);
  });

  it("the status page's HTML needs none (it holds no data and asks for the token itself)", async () => {
    const r = await call(t.url, "GET", "/");
    expect(r.status).toBe(200);
    expect(r.text).toContain('id="login"');
  });

  it("the check itself: SHA-256 digests of both sides, then timingSafeEqual", () => {
    const check = tokenChecker(TOKEN);
    expect(check(`Bearer ${TOKEN}`)).toBe("ok");
    expect(check(undefined)).toBe("missing");
    expect(check("Bearer")).toBe("missing");
    expect(check(`Token ${TOKEN}`)).toBe("missing");
    expect(check("Bearer x")).toBe("wrong");
  });
});

describe("refusing to listen beyond loopback without a token", () => {
  it("the guard: loopback however written is fine; anything else needs a token", () => {
    for (const host of ["127.0.0.1", "127.8.9.10", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost", "[::1]"]) {
      expect(isLoopbackHost(host), host).toBe(true);
      expect(adminBindingProblem({ host, port: 8053 }, undefined)).toBeUndefined();
    }
    for (const host of ["0.0.0.0", "::", "192.0.2.10", "2001:db8::1", "::ffff:192.0.2.1", "admin.example"]) {
      expect(isLoopbackHost(host), host).toBe(false);
      expect(adminBindingProblem({ host, port: 8053 }, undefined)).toMatch(/will not listen on .* without a bearer token: that is not a loopback address/);
      expect(adminBindingProblem({ host, port: 8053 }, TOKEN)).toBeUndefined();
    }
  });

  it("0.0.0.0 (and this host's own non-loopback addresses) without a token: the server does not start, and binds nothing", async () => {
    const own = Object.values(os.networkInterfaces())
      .flat()
      .filter((i) => i && !i.internal && i.family === "IPv4")
      .map((i) => i!.address);
    for (const host of ["0.0.0.0", "::", ...own]) {
      const port = await freePort();
      await expect(startAdminServer(h.instance, { listen: { host, port } }, silent)).rejects.toThrow(/without a bearer token/);
      // Nothing holds the port: we can take it ourselves.
      await expect(canListen(host === "::" ? "::" : host, port)).resolves.toBe(true);
    }
  });

  it("0.0.0.0 with a token starts, and still wants the token (checked over loopback)", async () => {
    const a = await startAdminServer(h.instance, { listen: { host: "0.0.0.0", port: 0 }, token: TOKEN }, silent);
    try {
      const local = `http://127.0.0.1:${a.address.port}`;
      expect((await call(local, "GET", "/v1/status")).status).toBe(401);
      expect((await call(local, "GET", "/v1/status", { token: TOKEN })).status).toBe(200);
    } finally {
      await a.close();
    }
  });

  it("an address in use: a clear error naming it", async () => {
    const port = new URL(h.url).port;
    await expect(startAdminServer(h.instance, { listen: { host: "127.0.0.1", port: Number(port) } }, silent)).rejects.toThrow(
      `the admin API cannot listen on 127.0.0.1:${port}: the address is in use`,
    );
  });
});

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}
