// The `transfers:` config section: what a correct one gives, and every mistake reported with file,
// line and key, through the same loader `hadns check` and `hadns serve` use.

import { describe, expect, it } from "vitest";
import { checkConfig } from "./support/instance.js";
import { nameToText } from "../src/wire/name.js";

const ZONE = "$ORIGIN example.test.\n@ 3600 SOA ns1 hostmaster 1 3600 900 604800 120\n@ NS ns1\nns1 A 192.0.2.53\n";
const SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAxMjM=";

function check(transfers: string, env: NodeJS.ProcessEnv = {}) {
  const c = checkConfig({ config: `zones: [example.test.zone]\n${transfers}`, files: { "example.test.zone": ZONE }, env });
  c.cleanup();
  return c;
}

describe("a correct transfers section", () => {
  it("reads keys (${VAR} secrets), allow, key, notify targets, and per-zone overrides over the defaults", () => {
    const c = check(
      `transfers:
  keys:
    xfr.example.:
      algorithm: hmac-sha512
      secret: "\${XFR_SECRET}"
  allow: [127.0.0.1, "10.0.0.0/8", "2001:db8::/32"]
  key: xfr.example
  notify: [192.0.2.53, "192.0.2.54:5353", "[2001:db8::53]:5300"]
  serial: unixtime
  notify_delay: 50ms
  zones:
    example.test.: { journal_depth: 5 }
`,
      { XFR_SECRET: SECRET },
    );
    expect(c.messages).toEqual([]);
    const t = c.config.transfers!;
    expect([...t.keys.values()].map((k) => [nameToText(k.name), k.algorithm, k.secret.length])).toEqual([["xfr.example.", "hmac-sha512", 32]]);
    const z = t.zones!.values().next().value!;
    expect(nameToText(z.origin)).toBe("example.test.");
    expect(z.settings).toMatchObject({ journalDepth: 5, serial: "unixtime", notifyDelayMs: 50 });
    expect(z.settings.allow.map((a) => a.text)).toEqual(["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"]);
    expect(z.settings.notify).toEqual([
      { host: "192.0.2.53", port: 53, text: "192.0.2.53" },
      { host: "192.0.2.54", port: 5353, text: "192.0.2.54:5353" },
      { host: "2001:db8::53", port: 5300, text: "[2001:db8::53]:5300" },
    ]);
    expect(nameToText(z.settings.key!.name)).toBe("xfr.example.");
  });

  it("defaults: every zone, journal_depth 20, serial increment, notify_delay 200ms, no key", () => {
    const c = check("transfers:\n  allow: 127.0.0.1\n");
    expect(c.messages).toEqual([]);
    expect(c.config.transfers!.zones).toBeNull();
    expect(c.config.transfers!.defaults).toMatchObject({ journalDepth: 20, serial: "increment", notifyDelayMs: 200, notify: [] });
    expect(c.config.transfers!.defaults.key).toBeUndefined();
  });

  it("no transfers section: no transfers", () => {
    expect(check("").config.transfers).toBeUndefined();
  });
});

describe("mistakes, with file, line and key", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["missing allow", "transfers:\n  notify: [192.0.2.1]\n", /^hadns\.yaml:2: transfers: missing allow: list the addresses/],
    ["unknown key, with a suggestion", "transfers:\n  allow: 127.0.0.1\n  notfy: [192.0.2.1]\n", /^hadns\.yaml:4: transfers\.notfy: unknown key; did you mean "notify"\?/],
    ["a network with host bits", "transfers:\n  allow: [10.0.0.1/8]\n", /^hadns\.yaml:3: transfers\.allow\[0\]: "10\.0\.0\.1\/8" has host bits set beyond \/8/],
    ["a prefix too long", "transfers:\n  allow: [10.0.0.0/33]\n", /transfers\.allow\[0\]: "10\.0\.0\.0\/33": the prefix length must be a number from 0 to 32/],
    ["a host name in allow", "transfers:\n  allow: [ns2.example.net]\n", /transfers\.allow\[0\]: "ns2\.example\.net" is not an IP address or network/],
    ["an empty allow list", "transfers:\n  allow: []\n", /transfers\.allow: empty list: nobody could transfer/],
    ["a key nobody defined", "transfers:\n  allow: 127.0.0.1\n  key: nope\n", /^hadns\.yaml:4: transfers\.key: no key "nope" under transfers\.keys/],
    ["an unknown algorithm", `transfers:\n  allow: 127.0.0.1\n  keys:\n    k: { algorithm: hmac-sha265, secret: "${SECRET}" }\n`, /^hadns\.yaml:5: transfers\.keys\.k\.algorithm: "hmac-sha265" is not one of .*did you mean "hmac-sha256"\?/],
    ["a secret that is not base64", "transfers:\n  allow: 127.0.0.1\n  keys:\n    k: { secret: \"not base64!\" }\n", /transfers\.keys\.k\.secret: the secret is not base64/],
    ["a short secret", "transfers:\n  allow: 127.0.0.1\n  keys:\n    k: { secret: \"c2hvcnQ=\" }\n", /transfers\.keys\.k\.secret: the secret is 5 octets; use at least 16/],
    ["an unset variable", "transfers:\n  allow: 127.0.0.1\n  keys:\n    k: { secret: \"${NOPE}\" }\n", /transfers\.keys\.k\.secret: \$\{NOPE\} is not set in the environment/],
    ["a missing secret", "transfers:\n  allow: 127.0.0.1\n  keys:\n    k: { algorithm: hmac-sha256 }\n", /^hadns\.yaml:5: transfers\.keys\.k\.secret: missing; a value is required/],
    ["a bad notify port", "transfers:\n  allow: 127.0.0.1\n  notify: [\"192.0.2.1:70000\"]\n", /^hadns\.yaml:4: transfers\.notify\[0\]: port 70000 in "192\.0\.2\.1:70000" is not from 1 to 65535/],
    ["a notify host name", "transfers:\n  allow: 127.0.0.1\n  notify: [ns2.example.net]\n", /transfers\.notify\[0\]: "ns2\.example\.net" is not an IP address with an optional port/],
    ["a serial policy typo", "transfers:\n  allow: 127.0.0.1\n  serial: incremnt\n", /^hadns\.yaml:4: transfers\.serial: "incremnt" is not one of increment, unixtime; did you mean "increment"\?/],
    ["a journal depth below 0", "transfers:\n  allow: 127.0.0.1\n  journal_depth: -1\n", /transfers\.journal_depth: expected a whole number from 0 to 10000/],
    ["a bad delay", "transfers:\n  allow: 127.0.0.1\n  notify_delay: soon\n", /^hadns\.yaml:4: transfers\.notify_delay: /],
    ["a delay over a minute", "transfers:\n  allow: 127.0.0.1\n  notify_delay: 2m\n", /transfers\.notify_delay: over 60s/],
    ["a zone that is not a name", "transfers:\n  allow: 127.0.0.1\n  zones:\n    \"a..b\": {}\n", /^hadns\.yaml:5: transfers\.zones\.a\.\.b: "a\.\.b" is not a domain name/],
    ["a zone without any allow", "transfers:\n  zones:\n    example.test.: { notify: [192.0.2.1] }\n", /^hadns\.yaml:4: transfers\.zones\.example\.test\.: no allow list for this zone/],
    ["an unknown key in a zone", "transfers:\n  allow: 127.0.0.1\n  zones:\n    example.test.: { alow: [127.0.0.1] }\n", /transfers\.zones\.example\.test\.\.alow: unknown key; did you mean "allow"\?/],
  ];
  it.each(cases)("%s", (_what, yaml, expected) => {
    const c = check(yaml);
    expect(c.messages.some((m) => expected.test(m)), c.messages.join("\n")).toBe(true);
  });
});
