// Validation of the `checks:` and `pools:` config sections: defaults, every documented key, and a
// message with file, line and key path for every mistake.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateHealthConfig } from "../src/config/health.js";
import { parseConfigSource, SourceReader, toPlain } from "../src/config/source.js";
import { formatSourceError } from "../src/zone/rr.js";

const dir = mkdtempSync(join(tmpdir(), "hadns-cfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function validate(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const file = join(dir, "hadns.yaml");
  const parsed = parseConfigSource(yaml, file);
  expect(parsed.errors).toEqual([]);
  const r = new SourceReader(parsed.source);
  const out = validateHealthConfig({ checks: toPlain(r.at(["checks"])), pools: toPlain(r.at(["pools"])) }, r.where, env);
  return { ...out, messages: out.errors.map((e) => formatSourceError({ ...e, file: "hadns.yaml" })) };
}

const ISSUE_EXAMPLE = `
checks:
  web:
    type: https          # http | https | tcp
    port: 443
    path: /health
    host: app.example.test   # Host header and TLS SNI
    headers: { Authorization: "Bearer \${HEALTH_TOKEN}" }
    expect: { status: ["200-299"], body: "ok" }
    interval: 1s
    timeout: 500ms
pools:
  - name: app.example.test.
    type: A
    ttl: 30
    policy: failover
    check: web
    endpoints:
      - address: 192.0.2.10
      - address: 198.51.100.10
        check_address: 10.0.0.7
    when_all_down: serve-all
`;

describe("valid configs", () => {
  it("accepts the issue's example and fills defaults", () => {
    const { checks, pools, errors } = validate(ISSUE_EXAMPLE, { HEALTH_TOKEN: "s3cret" });
    expect(errors).toEqual([]);
    expect(checks.get("web")).toEqual({
      name: "web",
      type: "https",
      port: 443,
      path: "/health",
      method: "GET",
      host: "app.example.test",
      headers: { Authorization: "Bearer s3cret" },
      expectStatus: [[200, 299]],
      expectBody: { substring: "ok" },
      bodyLimit: 4096,
      followRedirects: false,
      tlsVerify: true,
      intervalMs: 1000,
      timeoutMs: 500,
      rise: 3,
      fall: 6,
      decay: 1,
      fastIntervalMs: 250,
      flapWindowMs: 600_000,
    });
    expect(pools).toEqual([
      {
        name: "app.example.test.",
        type: "A",
        ttl: 30,
        policy: "failover",
        check: "web",
        whenAllDown: "serve-all",
        endpoints: [{ address: "192.0.2.10" }, { address: "198.51.100.10", checkAddress: "10.0.0.7" }],
        file: join(dir, "hadns.yaml"),
        line: 13,
      },
    ]);
  });

  it("accepts the short forms and every other key", () => {
    writeFileSync(join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    const { checks, pools, errors } = validate(`
checks:
  tcp443: { type: tcp, port: 443, interval: 2s }
  api:
    type: https
    ca_file: ca.pem
    method: head
    expect: { status: [200, "3xx", "401-403"] }
    follow_redirects: true
    rise: 2
    fall: 4
    decay: 0.5
    fast_interval: 100ms
    flap_window: 0
    body_limit: 512
  text:
    type: http
    port: 8080
    expect: { body: { regex: "^ok$" } }
    headers: { X-Literal: "$\${NOT_EXPANDED}", X-Num: 5 }
pools:
  - name: WWW.Example.Test
    type: aaaa
    policy: multivalue
    max_answers: 2
    degraded_ttl: 5
    ttl: 1m
    check: tcp443
    endpoints: ["2001:db8::1", "2001:db8::2", { address: "2001:db8::3", check: api }]
  - name: cdn.example.test.
    type: CNAME
    policy: weighted
    endpoints:
      - { address: lb1.cdn.example, weight: 3, check: text, check_address: 127.0.0.2 }
      - { address: lb2.cdn.example., weight: 1 }
    when_all_down: nodata
`);
    expect(errors).toEqual([]);
    expect(checks.get("tcp443")).toMatchObject({ type: "tcp", port: 443, intervalMs: 2000, timeoutMs: 500, fastIntervalMs: 500 });
    expect(checks.get("api")).toMatchObject({
      port: 443,
      method: "HEAD",
      caFile: join(dir, "ca.pem"),
      expectStatus: [[200, 200], [300, 399], [401, 403]],
      followRedirects: true,
      rise: 2,
      fall: 4,
      decay: 0.5,
      fastIntervalMs: 100,
      flapWindowMs: 0,
      bodyLimit: 512,
    });
    expect(checks.get("text")).toMatchObject({ port: 8080, expectBody: { regex: /^ok$/ }, headers: { "X-Literal": "${NOT_EXPANDED}", "X-Num": "5" } });
    expect(pools[0]).toMatchObject({ name: "www.example.test.", type: "AAAA", ttl: 60, degradedTtl: 5, maxAnswers: 2 });
    expect(pools[0]!.endpoints[2]).toEqual({ address: "2001:db8::3", check: "api" });
    expect(pools[1]).toMatchObject({ type: "CNAME", whenAllDown: "nodata", endpoints: [{ address: "lb1.cdn.example.", weight: 3, check: "text", checkAddress: "127.0.0.2" }, { address: "lb2.cdn.example.", weight: 1 }] });
  });

  it("a short interval lowers the default timeout to half of it", () => {
    const { checks, errors } = validate(`checks:\n  fast: { type: http, interval: 200ms }\n`);
    expect(errors).toEqual([]);
    expect(checks.get("fast")).toMatchObject({ intervalMs: 200, timeoutMs: 100, fastIntervalMs: 50 });
  });
});

describe("mistakes, each with file:line and key path", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["unknown key with suggestion", `checks:\n  web:\n    type: http\n    intervall: 1s\n`, /^hadns\.yaml:4: checks\.web\.intervall: unknown key "intervall" \(did you mean "interval"\?\)/],
    ["bad duration", `checks:\n  web:\n    type: http\n    interval: 1 second\n`, /^hadns\.yaml:4: checks\.web\.interval: bad duration "1 second": write a number with a unit, e\.g\. "500ms"/],
    ["timeout ≥ interval", `checks:\n  web:\n    type: http\n    interval: 1s\n    timeout: 1s\n`, /^hadns\.yaml:5: checks\.web\.timeout: timeout 1s must be shorter than interval 1s/],
    ["missing type", `checks:\n  web:\n    port: 80\n`, /^hadns\.yaml:2: checks\.web\.type: required: one of http, https, tcp/],
    ["bad type", `checks:\n  web:\n    type: htps\n`, /checks\.web\.type: expected one of http, https, tcp, got "htps" \(did you mean "https"\?\)/],
    ["tcp without port", `checks:\n  t:\n    type: tcp\n`, /checks\.t\.port: a tcp check needs a port/],
    ["http key on tcp", `checks:\n  t:\n    type: tcp\n    port: 22\n    path: /x\n`, /^hadns\.yaml:5: checks\.t\.path: applies only to http and https checks, not tcp/],
    ["tls key on http", `checks:\n  t:\n    type: http\n    tls_verify: false\n`, /checks\.t\.tls_verify: applies only to https checks, not http/],
    ["bad status range", `checks:\n  web:\n    type: http\n    expect:\n      status: ["299-200"]\n`, /^hadns\.yaml:5: checks\.web\.expect\.status\[0\]: bad status range "299-200": 299 is above 200/],
    ["bad status", `checks:\n  web:\n    type: http\n    expect: { status: [700] }\n`, /checks\.web\.expect\.status\[0\]: bad status 700/],
    ["missing env var", `checks:\n  web:\n    type: http\n    headers:\n      Authorization: "Bearer \${HEALTH_TOKEN}"\n`, /^hadns\.yaml:5: checks\.web\.headers\.Authorization: \$\{HEALTH_TOKEN\} is not set in the environment/],
    ["Host header", `checks:\n  web:\n    type: http\n    headers: { Host: x }\n`, /checks\.web\.headers\.Host: set the Host header with the check's "host" key/],
    ["bad regex", `checks:\n  web:\n    type: http\n    expect: { body: { regex: "(" } }\n`, /checks\.web\.expect\.body\.regex: bad regular expression/],
    ["HEAD with body", `checks:\n  web:\n    type: http\n    method: HEAD\n    expect: { body: ok }\n`, /checks\.web\.expect\.body: a HEAD request has no body to match/],
    ["ca_file missing", `checks:\n  web:\n    type: https\n    ca_file: nope.pem\n`, /checks\.web\.ca_file: file not found: .*nope\.pem/],
    ["unknown check", `checks:\n  web: { type: http }\npools:\n  - name: a.example.test.\n    type: A\n    check: wbe\n    endpoints: [192.0.2.1]\n`, /^hadns\.yaml:6: pools\[0\]\.check: unknown check "wbe" \(did you mean "web"\?\); defined checks: web/],
    ["IPv6 in an A pool", `pools:\n  - name: a.example.test.\n    type: A\n    endpoints:\n      - 192.0.2.1\n      - "2001:db8::1"\n`, /^hadns\.yaml:6: pools\[0\]\.endpoints\[1\]\.address: an A pool needs IPv4 addresses, got "2001:db8::1" \(IPv6: use a type AAAA pool\)/],
    ["IPv4 in an AAAA pool", `pools:\n  - name: a.example.test.\n    type: AAAA\n    endpoints: [192.0.2.1]\n`, /pools\[0\]\.endpoints\[0\]\.address: an AAAA pool needs IPv6 addresses, got "192\.0\.2\.1" \(IPv4: use a type A pool\)/],
    ["address in a CNAME pool", `pools:\n  - name: a.example.test.\n    type: CNAME\n    endpoints: [192.0.2.1]\n`, /pools\[0\]\.endpoints\[0\]\.address: a CNAME pool needs target names, got the address "192\.0\.2\.1"/],
    ["bad policy", `pools:\n  - name: a.example.test.\n    type: A\n    policy: round-robin\n    endpoints: [192.0.2.1]\n`, /^hadns\.yaml:4: pools\[0\]\.policy: expected one of failover, multivalue, weighted, got "round-robin"/],
    ["bad when_all_down", `pools:\n  - name: a.example.test.\n    type: A\n    when_all_down: serve_all\n    endpoints: [192.0.2.1]\n`, /pools\[0\]\.when_all_down: expected one of serve-all, serve-first, nodata, servfail, got "serve_all" \(did you mean "serve-all"\?\)/],
    ["weight not a positive integer", `pools:\n  - name: a.example.test.\n    type: A\n    policy: weighted\n    endpoints:\n      - { address: 192.0.2.1, weight: 0 }\n      - { address: 192.0.2.2, weight: 1.5 }\n`, /^hadns\.yaml:6: pools\[0\]\.endpoints\[0\]\.weight: weight must be a positive integer \(1 to 1000000\), got 0/],
    ["weight on failover", `pools:\n  - name: a.example.test.\n    type: A\n    endpoints:\n      - { address: 192.0.2.1, weight: 2 }\n`, /pools\[0\]\.endpoints\[0\]\.weight: weight applies only to policy weighted, not failover/],
    ["partial priorities", `pools:\n  - name: a.example.test.\n    type: A\n    endpoints:\n      - { address: 192.0.2.1, priority: 1 }\n      - 192.0.2.2\n`, /pools\[0\]\.endpoints: give priority to every endpoint or to none \(1 of 2 have one\)/],
    ["duplicate address", `pools:\n  - name: a.example.test.\n    type: A\n    endpoints: [192.0.2.1, 192.0.2.1]\n`, /pools\[0\]\.endpoints\[1\]\.address: 192\.0\.2\.1 is already endpoint 0 of this pool/],
    ["no endpoints", `pools:\n  - name: a.example.test.\n    type: A\n    endpoints: []\n`, /pools\[0\]\.endpoints: empty list; a pool needs at least one endpoint/],
    ["missing name", `pools:\n  - type: A\n    endpoints: [192.0.2.1]\n`, /pools\[0\]\.name: every pool needs a name/],
    ["bad ttl", `pools:\n  - name: a.example.test.\n    type: A\n    ttl: 1.5s\n    endpoints: [192.0.2.1]\n`, /pools\[0\]\.ttl: bad TTL "1\.5s"/],
    ["degraded_ttl > ttl", `pools:\n  - name: a.example.test.\n    type: A\n    ttl: 10\n    degraded_ttl: 60\n    endpoints: [192.0.2.1]\n`, /pools\[0\]\.degraded_ttl: degraded_ttl 60 is longer than ttl 10/],
    ["max_answers on CNAME", `pools:\n  - name: a.example.test.\n    type: CNAME\n    max_answers: 2\n    endpoints: [x.example.]\n`, /pools\[0\]\.max_answers: a CNAME pool answers exactly one target name/],
    ["check_address without check", `pools:\n  - name: a.example.test.\n    type: A\n    endpoints:\n      - { address: 192.0.2.1, check_address: 10.0.0.1 }\n`, /pools\[0\]\.endpoints\[0\]\.check_address: no check applies to this endpoint/],
    ["duplicate pool", `pools:\n  - { name: a.example.test., type: A, endpoints: [192.0.2.1] }\n  - { name: A.example.test, type: A, endpoints: [192.0.2.2] }\n`, /^hadns\.yaml:3: pools\[1\]\.name: A pool a\.example\.test\. is already defined by pools\[0\]/],
    ["CNAME beside another pool", `pools:\n  - { name: a.example.test., type: A, endpoints: [192.0.2.1] }\n  - { name: a.example.test., type: CNAME, endpoints: [b.example.] }\n`, /pools\[1\]\.name: a CNAME pool cannot share its name with another pool/],
    ["unknown pool key", `pools:\n  - name: a.example.test.\n    type: A\n    endpoint: [192.0.2.1]\n`, /pools\[0\]\.endpoint: unknown key "endpoint" \(did you mean "endpoints"\?\)/],
    ["checks not a map", `checks: [web]\n`, /checks: expected a map from check name to check, got a list/],
    ["pools not a list", `pools: { name: x }\n`, /pools: expected a list of pools, got a map/],
  ];
  for (const [what, yaml, re] of cases) {
    it(what, () => {
      const { messages } = validate(yaml);
      expect(messages.some((m) => re.test(m)), `got:\n${messages.join("\n")}`).toBe(true);
    });
  }

  it("reports every mistake, not only the first", () => {
    const { messages, pools } = validate(`
checks:
  web: { type: http, interval: 1x, timeout: 2s }
pools:
  - name: a.example.test.
    type: A
    check: nope
    endpoints: ["::1", 192.0.2.1]
`);
    expect(messages.length).toBeGreaterThanOrEqual(3);
    expect(pools).toEqual([]);
  });
});
