// Probes against real HTTP, HTTPS and TCP servers on 127.0.0.2/3: every outcome and its reason.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCa, runProbe } from "../src/health/probe.js";
import { makeCerts, startEndpoints, testCheck, type TestCerts, type TestEndpoint } from "./support/http-endpoints.js";

let certs: TestCerts;
let http: Awaited<ReturnType<typeof startEndpoints>>;
let https: Awaited<ReturnType<typeof startEndpoints>>;
let h2: TestEndpoint;
let s2: TestEndpoint;

beforeAll(async () => {
  certs = makeCerts(["app.example.test"]);
  http = await startEndpoints(2);
  https = await startEndpoints(2, certs);
  h2 = http.endpoints[0]!;
  s2 = https.endpoints[0]!;
});

afterAll(async () => {
  await http.close();
  await https.close();
  certs.cleanup();
});

const web = () => testCheck({ port: http.port, path: "/health", host: "app.example.test" });
const tls = () => testCheck({ type: "https", port: https.port, path: "/health", host: "app.example.test", caFile: certs.caFile });

describe("http probe", () => {
  it("succeeds on 200 and sends Host, user-agent and configured headers", async () => {
    await h2.set("ok");
    const r = await runProbe({ ...web(), headers: { Authorization: "Bearer t0k" } }, "127.0.0.2");
    expect(r).toMatchObject({ ok: true, reason: "HTTP 200", status: 200 });
    const req = h2.requests.at(-1)!;
    expect(req.headers.host).toBe(`app.example.test:${http.port}`);
    expect(req.headers.authorization).toBe("Bearer t0k");
    expect(req.headers["user-agent"]).toMatch(/^hadns-health/);
    expect(req.url).toBe("/health");
  });

  it("opens a connection per probe and closes it once the answer is read", async () => {
    await h2.set("ok");
    const before = h2.connections;
    for (let i = 0; i < 3; i++) expect(await runProbe(web(), "127.0.0.2")).toMatchObject({ ok: true });
    expect(h2.connections - before).toBe(3);
    // Closed by the probe (no Connection: close: undici's notice of it cost CPU), none left open.
    const deadline = Date.now() + 2000;
    while (h2.openSockets > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(h2.openSockets).toBe(0);
  });

  it("uses the probed address as Host when no host is set", async () => {
    const spec = web();
    delete spec.host;
    await runProbe(spec, "127.0.0.2");
    expect(h2.requests.at(-1)!.headers.host).toBe(`127.0.0.2:${http.port}`);
  });

  it("fails with the status on 503", async () => {
    await h2.set("503");
    expect(await runProbe(web(), "127.0.0.2")).toMatchObject({ ok: false, reason: "HTTP 503", status: 503 });
    expect(await runProbe({ ...web(), expectStatus: [[200, 299], [503, 503]] }, "127.0.0.2")).toMatchObject({ ok: true });
    await h2.set("ok");
  });

  it("reports connection refused", async () => {
    await h2.set("refuse");
    const r = await runProbe(web(), "127.0.0.2");
    expect(r).toMatchObject({ ok: false, reason: "connection refused" });
    await h2.set("ok");
  });

  it("times out on a server that accepts and never answers, within the timeout", async () => {
    await h2.set("hang");
    const t0 = Date.now();
    const r = await runProbe({ ...web(), timeoutMs: 300 }, "127.0.0.2");
    const took = Date.now() - t0;
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^timeout after 300 ms/);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
    await h2.set("ok");
  });

  it("checks the body by substring and regex, reading at most body_limit bytes", async () => {
    await h2.set("ok");
    expect(await runProbe({ ...web(), expectBody: { substring: "ok" } }, "127.0.0.2")).toMatchObject({ ok: true, reason: "HTTP 200, body ok" });
    expect(await runProbe({ ...web(), expectBody: { regex: /^status: (ok|fine)$/m } }, "127.0.0.2")).toMatchObject({ ok: true });
    await h2.set("wrong-body");
    expect(await runProbe({ ...web(), expectBody: { substring: "ok" } }, "127.0.0.2")).toMatchObject({
      ok: false,
      reason: 'body did not contain "ok"',
    });
    expect((await runProbe({ ...web(), expectBody: { regex: /^ok/ } }, "127.0.0.2")).reason).toBe("body did not match /^ok/");
    await h2.set("ok");
    h2.okBody = "x".repeat(100_000) + "ok";
    const r = await runProbe({ ...web(), expectBody: { substring: "ok" }, bodyLimit: 1000 }, "127.0.0.2");
    expect(r).toMatchObject({ ok: false, reason: 'body did not contain "ok" (first 1000 bytes)' });
    h2.okBody = "status: ok\n";
  });

  it("does not follow redirects unless asked, and follows same-host ones when asked", async () => {
    await h2.set("redirect");
    expect(await runProbe(web(), "127.0.0.2")).toMatchObject({ ok: false, reason: "HTTP 302" });
    const follow = { ...web(), followRedirects: true, expectBody: { substring: "moved: ok" } };
    const r = await runProbe(follow, "127.0.0.2");
    expect(r.ok, r.reason).toBe(true);
    expect(h2.requests.at(-1)!.url).toBe("/health-moved");
    expect(h2.requests.at(-1)!.headers.host).toBe(`app.example.test:${http.port}`);
    h2.redirectTo = "http://elsewhere.example/x";
    expect((await runProbe(follow, "127.0.0.2")).reason).toMatch(/redirect to http:\/\/elsewhere\.example not followed/);
    h2.redirectTo = "/health-moved";
    await h2.set("ok");
  });

  it("sends HEAD when asked", async () => {
    await h2.set("ok");
    expect(await runProbe({ ...web(), method: "HEAD" }, "127.0.0.2")).toMatchObject({ ok: true });
    expect(h2.requests.at(-1)!.method).toBe("HEAD");
  });
});

describe("https probe", () => {
  it("verifies the certificate against the CA file and sends SNI = host", async () => {
    await s2.set("ok");
    const spec = tls();
    const r = await runProbe(spec, "127.0.0.2", { ca: loadCa(spec.caFile!) });
    expect(r).toMatchObject({ ok: true, reason: "HTTP 200" });
    expect(s2.requests.at(-1)!.servername).toBe("app.example.test");
    expect(s2.requests.at(-1)!.headers.host).toBe(`app.example.test:${https.port}`);
  });

  it("rejects a certificate from an unknown CA by default (system store only)", async () => {
    const spec = { ...tls() };
    delete spec.caFile;
    const r = await runProbe(spec, "127.0.0.2");
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^TLS: /);
  });

  it("rejects a self-signed certificate, unless verification is off", async () => {
    await s2.set("bad-cert");
    const spec = tls();
    const r = await runProbe(spec, "127.0.0.2", { ca: loadCa(spec.caFile!) });
    expect(r).toMatchObject({ ok: false, reason: "TLS: self-signed certificate" });
    expect(await runProbe({ ...spec, tlsVerify: false }, "127.0.0.2")).toMatchObject({ ok: true });
    await s2.set("ok");
  });

  it("rejects a certificate for another name", async () => {
    const spec = { ...tls(), host: "other.example.test" };
    const r = await runProbe(spec, "127.0.0.2", { ca: loadCa(spec.caFile!) });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^TLS: certificate name mismatch/);
  });

  it("times out on a TLS server that hangs after the handshake", async () => {
    await s2.set("hang");
    const spec = { ...tls(), timeoutMs: 300 };
    const r = await runProbe(spec, "127.0.0.2", { ca: loadCa(spec.caFile!) });
    expect(r.reason).toMatch(/^timeout after 300 ms/);
    await s2.set("ok");
  });
});

describe("tcp probe", () => {
  it("connects, and is refused when nothing listens", async () => {
    const t = testCheck({ type: "tcp", port: http.port });
    await h2.set("ok");
    expect(await runProbe(t, "127.0.0.2")).toMatchObject({ ok: true, reason: "TCP connect ok" });
    await h2.set("refuse");
    expect(await runProbe(t, "127.0.0.2")).toMatchObject({ ok: false, reason: "connection refused" });
    await h2.set("ok");
  });

  it("resolves host names per probe", async () => {
    const t = testCheck({ type: "tcp", port: http.port, timeoutMs: 300 });
    const r = await runProbe(t, "name.invalid");
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/^(DNS: |timeout)/);
  });
});

describe("IPv6", () => {
  it("probes an IPv6 address over http and tcp", async () => {
    const { TestEndpoint } = await import("./support/http-endpoints.js");
    const ep = new TestEndpoint("::1", 0, undefined);
    await ep.listen();
    try {
      expect(await runProbe(testCheck({ port: ep.port }), "::1")).toMatchObject({ ok: true, reason: "HTTP 200" });
      expect(ep.requests.at(-1)!.headers.host).toBe(`[::1]:${ep.port}`);
      expect(await runProbe(testCheck({ type: "tcp", port: ep.port }), "::1")).toMatchObject({ ok: true });
    } finally {
      await ep.close();
    }
  });
});
