// What `hadns check` says about pools and checks (issue 3): every mistake with file, line and key —
// a pool outside every zone, static data of the pool's type at its name, a CNAME pool beside other
// data, a pool at or below a delegation (or below a DNAME), and the config errors: unknown key, bad
// duration, timeout ≥ interval, unknown check, address of the wrong family. Run through the same loaders
// as `hadns check`: loadConfig, loadZones, checkPoolsAgainstZones.

import { describe, expect, it } from "vitest";
import { checkConfig } from "./support/instance.js";

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
www           A     192.0.2.80
mail          MX    10 ns1
alias         CNAME www
sub           NS    ns.sub
ns.sub        A     192.0.2.70
old           DNAME new
`;

/** The messages `hadns check` would print for this config (beside example.test.zone), in line order. */
function check(config: string): string[] {
  const c = checkConfig({ files: { "example.test.zone": ZONE }, config: `zones: [example.test.zone]\n${config}` });
  try {
    return [...c.errors]
      .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line)
      .map((e) => `${e.file}:${e.line}: ${e.message}`);
  } finally {
    c.cleanup();
  }
}

const CHECK = `checks:
  web:
    type: http
    port: 8080
`;

describe("pools against the zones", () => {
  it("a correct config has no errors", () => {
    expect(
      check(`${CHECK}pools:
  - name: app.example.test.
    type: A
    check: web
    endpoints: [192.0.2.10, 192.0.2.11]
  - { name: app.example.test., type: AAAA, check: web, endpoints: ["2001:db8::10"] }
  - { name: cdn.example.test., type: CNAME, check: web, endpoints: [{ address: edge.example.net., check_address: 192.0.2.12 }] }
  - { name: deep.name.example.test., type: A, endpoints: [192.0.2.13] }
`),
    ).toEqual([]);
  });

  it("a pool outside every zone", () => {
    expect(check(`pools:\n  - { name: app.other.test., type: A, endpoints: [192.0.2.1] }\n`)).toEqual([
      "hadns.yaml:3: pool app.other.test. A: the name is outside every zone served (example.test.); a pool answers inside a zone hadns serves",
    ]);
  });

  it("static data of the pool's type at its name", () => {
    expect(check(`pools:\n  - name: www.example.test.\n    type: A\n    endpoints: [192.0.2.1]\n`)).toEqual([
      "hadns.yaml:3: pool www.example.test. A: example.test.zone also has A records at www.example.test.: remove them from the zone file, the pool answers that type",
    ]);
    // Other types at that name are fine beside an address pool.
    expect(check(`pools:\n  - { name: mail.example.test., type: A, endpoints: [192.0.2.1] }\n`)).toEqual([]);
  });

  it("a CNAME pool beside other data, and an address pool beside a CNAME (RFC 1034 §3.6.2)", () => {
    expect(
      check(`pools:
  - { name: mail.example.test., type: CNAME, endpoints: [www.example.net.] }
  - { name: example.test., type: CNAME, endpoints: [www.example.net.] }
  - { name: alias.example.test., type: A, endpoints: [192.0.2.1] }
`),
    ).toEqual([
      "hadns.yaml:3: pool mail.example.test. CNAME: a CNAME pool cannot stand beside other data, and example.test.zone has data at mail.example.test. (RFC 1034 §3.6.2)",
      "hadns.yaml:4: pool example.test. CNAME: a CNAME pool cannot stand beside other data, and example.test.zone has data at example.test. (RFC 1034 §3.6.2)",
      "hadns.yaml:5: pool alias.example.test. A: example.test.zone has a CNAME at alias.example.test.; an A pool cannot stand beside it (RFC 1034 §3.6.2)",
    ]);
  });

  it("a pool below a delegation, at one, or below a DNAME", () => {
    expect(
      check(`pools:
  - { name: host.sub.example.test., type: A, endpoints: [192.0.2.1] }
  - { name: sub.example.test., type: AAAA, endpoints: ["2001:db8::1"] }
  - { name: x.old.example.test., type: A, endpoints: [192.0.2.1] }
`),
    ).toEqual([
      "hadns.yaml:3: pool host.sub.example.test. A: the name is below the delegation sub.example.test. in example.test.zone; the child zone's servers answer for it",
      "hadns.yaml:4: pool sub.example.test. AAAA: the name is a delegation point in example.test.zone",
      "hadns.yaml:5: pool x.old.example.test. A: the name is below the DNAME at old.example.test. in example.test.zone, which redirects it",
    ]);
  });
});

describe("config errors of checks and pools", () => {
  it("unknown key, with the closest known one", () => {
    expect(
      check(`checks:
  web:
    type: http
    intervall: 1s
pools:
  - name: app.example.test.
    type: A
    ttll: 5
    endpoints: [192.0.2.1]
`),
    ).toEqual([
      'hadns.yaml:5: checks.web.intervall: unknown key "intervall" (did you mean "interval"?); known keys: type, port, path, method, host, headers, expect, body_limit, follow_redirects, tls_verify, ca_file, interval, timeout, rise, fall, decay, fast_interval, flap_window',
      'hadns.yaml:9: pools[0].ttll: unknown key "ttll" (did you mean "ttl"?); known keys: name, type, ttl, degraded_ttl, policy, check, max_answers, when_all_down, endpoints',
    ]);
  });

  it("bad duration", () => {
    expect(check(`checks:\n  web:\n    type: http\n    interval: 1 second\n`)).toEqual([
      'hadns.yaml:5: checks.web.interval: bad duration "1 second": write a number with a unit, e.g. "500ms", "1s", "2m", "1m30s"',
    ]);
  });

  it("timeout ≥ interval", () => {
    expect(
      check(`checks:
  web:
    type: http
    interval: 1s
    timeout: 1s
  tcp:
    type: tcp
    port: 22
    interval: 200ms
    timeout: 300ms
`),
    ).toEqual([
      "hadns.yaml:6: checks.web.timeout: timeout 1s must be shorter than interval 1s",
      "hadns.yaml:11: checks.tcp.timeout: timeout 300ms must be shorter than interval 200ms",
    ]);
  });

  it("unknown check, on a pool and on an endpoint", () => {
    expect(
      check(`${CHECK}pools:
  - name: app.example.test.
    type: A
    check: webb
    endpoints:
      - address: 192.0.2.1
      - { address: 192.0.2.2, check: tcp }
`),
    ).toEqual([
      'hadns.yaml:9: pools[0].check: unknown check "webb" (did you mean "web"?); defined checks: web',
      'hadns.yaml:12: pools[0].endpoints[1].check: unknown check "tcp"; defined checks: web',
    ]);
  });

  it("address of the wrong family, and an address in a CNAME pool", () => {
    expect(
      check(`pools:
  - name: app.example.test.
    type: A
    endpoints: [192.0.2.1, "2001:db8::1"]
  - name: app.example.test.
    type: AAAA
    endpoints:
      - 192.0.2.1
  - name: cdn.example.test.
    type: CNAME
    endpoints: [192.0.2.1]
`),
    ).toEqual([
      'hadns.yaml:5: pools[0].endpoints[1].address: an A pool needs IPv4 addresses, got "2001:db8::1" (IPv6: use a type AAAA pool)',
      'hadns.yaml:9: pools[1].endpoints[0].address: an AAAA pool needs IPv6 addresses, got "192.0.2.1" (IPv4: use a type A pool)',
      'hadns.yaml:12: pools[2].endpoints[0].address: a CNAME pool needs target names, got the address "192.0.2.1" (use a type A or AAAA pool)',
    ]);
  });

  it("every mistake at once, each on its own line", () => {
    const msgs = check(`checks:
  web:
    type: http
    port: 8080
    intervall: 1s
    timeout: 1 second
  slow:
    type: tcp
    port: 80
    interval: 1s
    timeout: 1s
pools:
  - name: app.example.test.
    type: A
    check: webb
    endpoints: [192.0.2.1, "2001:db8::1"]
`);
    expect(msgs.map((m) => m.split(": ")[0] + ": " + m.split(": ")[1])).toEqual([
      "hadns.yaml:6: checks.web.intervall",
      "hadns.yaml:7: checks.web.timeout",
      "hadns.yaml:12: checks.slow.timeout",
      "hadns.yaml:16: pools[0].check",
      "hadns.yaml:17: pools[0].endpoints[1].address",
    ]);
  });
});
