// The admin verbs as an operator runs them: the built bin (dist/cli/main.js) against a running
// `hadns serve --admin-listen 127.0.0.1:0` in a child process, with real HTTP endpoints on
// 127.0.0.46/47. `hadns status` (tables and --json), `hadns override set|list|rm` changing the DNS
// answer and back, `hadns explain`, `hadns reload` (taken, and rejected with file:line errors), the
// token from --token or HADNS_ADMIN_TOKEN, and the errors: unreachable API, refused token, bad
// fields (exit 1 with the server's message), bad command lines (exit 2).

import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEndpoints } from "./support/http-endpoints.js";
import { ask, values } from "./support/instance.js";
import { until } from "./support/admin.js";
import { BIN, buildIfStale, startServe, type ServeProcess } from "./support/serve-process.js";

const TOKEN = "cli-test-token-0123456789abcdef";
const tmp = mkdtempSync(join(tmpdir(), "hadns-cli-admin-"));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a verb; HADNS_ADMIN_URL/TOKEN come only from `env`, never from the test's own environment. */
function hadns(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const base = { ...process.env };
  delete base.HADNS_ADMIN_URL;
  delete base.HADNS_ADMIN_TOKEN;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 3 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
`;

const config = (port: number, extra = "") => `zones: [example.test.zone]
checks:
  web: { type: http, port: ${port}, path: /health, interval: 500ms, timeout: 400ms, fast_interval: 50ms, fall: 3, rise: 2, flap_window: 0 }
pools:
  - { name: app.example.test., type: A, ttl: 30, degraded_ttl: 5, check: web, endpoints: [127.0.0.46, 127.0.0.47] }
  - { name: multi.example.test., type: A, ttl: 30, policy: multivalue, check: web, endpoints: [127.0.0.46, 127.0.0.47] }
${extra}`;

interface Served {
  proc: ServeProcess;
  dnsPort: number;
  admin: string;
  stop(): Promise<unknown>;
}

/** `hadns serve` until it logs where its admin API is. */
async function serve(args: string[]): Promise<Served> {
  const proc = await startServe(["--listen", "127.0.0.1:0", ...args]);
  const line = await proc.waitForLine((l) => l.msg.startsWith("admin API and status page on ")).catch(async (e: unknown) => {
    await proc.stop();
    throw e;
  });
  return { proc, dnsPort: proc.port, admin: line.url as string, stop: () => proc.stop() };
}

let eps: Awaited<ReturnType<typeof startEndpoints>>;
let srv: Served;
let configFile: string;

beforeAll(async () => {
  buildIfStale();
  eps = await startEndpoints(2, undefined, { firstAddress: 46 });
  writeFileSync(join(tmp, "example.test.zone"), ZONE);
  configFile = join(tmp, "hadns.yaml");
  writeFileSync(configFile, config(eps.port));
  srv = await serve(["--config", configFile, "--admin-listen", "127.0.0.1:0"]);
  // A loaded machine can fail a first probe: start every test from both endpoints up.
  await until(async () => {
    const s = (await (await fetch(`${srv.admin}/v1/status`)).json()) as { pools: Array<{ endpoints: Array<{ probedState: string }> }> };
    return s.pools.every((p) => p.endpoints.every((e) => e.probedState === "up"));
  }, 10_000, "every endpoint up");
}, 180_000);

afterAll(async () => {
  await srv?.stop();
  await eps?.close();
  rmSync(tmp, { recursive: true, force: true });
});

// A test that fails half-way leaves no override behind for the next one.
afterEach(async () => {
  const { overrides } = (await (await fetch(`${srv.admin}/v1/overrides`)).json()) as { overrides: Array<{ id: string }> };
  for (const o of overrides) await fetch(`${srv.admin}/v1/overrides/${o.id}`, { method: "DELETE" });
});

const admin = () => ["--admin", srv.admin];
const appAnswer = async () => values(await ask("127.0.0.1", srv.dnsPort, "app.example.test.", "A"));

describe("hadns status", () => {
  it("a readable table: zones, each pool with its answer and endpoints, overrides, recent transitions", async () => {
    const r = await hadns(["status", ...admin()]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(new RegExp(`^hadns \\d+\\.\\d+\\.\\d+\\S* at ${srv.admin.replace(/\./g, "\\.")}: up \\d+s\\n`));
    expect(out).toMatch(/^ZONE +SERIAL +RECORDS +FILE\nexample\.test\. +3 +3 +\S+example\.test\.zone$/m);
    expect(out).toMatch(/^POOL app\.example\.test\. A {2}failover {2}answers 127\.0\.0\.46 \(ttl 30\)\n {2}primary 127\.0\.0\.46 healthy/m);
    expect(out).toMatch(/^POOL multi\.example\.test\. A {2}multivalue {2}answers 127\.0\.0\.46, 127\.0\.0\.47 \(rotating\) \(ttl 30\)$/m);
    expect(out).toMatch(/^ {2}ENDPOINT +STATE +PROBED +SINCE +REASON +LAST PROBE +OVERRIDE$/m);
    expect(out).toMatch(/^ {2}127\.0\.0\.46 +up +up +\d+s ago +(first probe: )?HTTP 200 +ok: HTTP 200, \d+ ms, \d+s ago +-$/m);
    expect(out).toMatch(/^OVERRIDES\n {2}none$/m);
    expect(out).toMatch(/^RECENT TRANSITIONS\n {2}WHEN +ENDPOINT +CHECK +CHANGE +REASON\n {2}\d+s ago +127\.0\.0\.4[67] +web +(unknown|down) -> up +(first probe: )?HTTP 200$/m);
  });

  it("--json prints the API's answer", async () => {
    const r = await hadns(["status", "--json", ...admin()]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.pools.map((p: any) => p.name)).toEqual(["app.example.test.", "multi.example.test."]);
  });
});

describe("hadns override", () => {
  it("set → the answer changes; list, status and explain show it; rm by a short id → the answer returns", async () => {
    expect(await appAnswer()).toEqual(["127.0.0.46"]);
    const set = await hadns(["override", "set", "--pool", "app.example.test.", "--address", "127.0.0.46", "--action", "drain", "--for", "30m", "--reason", "maintenance", ...admin()]);
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    const m = /^override ([0-9a-f-]{36}) set: drain app\.example\.test\. 127\.0\.0\.46 for 30m, until \S+Z \(maintenance\)\n {2}app\.example\.test\. A now answers 127\.0\.0\.47: failover to 127\.0\.0\.47/.exec(set.stdout);
    expect(m, set.stdout).not.toBeNull();
    const id = m![1]!;
    expect(await appAnswer()).toEqual(["127.0.0.47"]);

    const list = await hadns(["override", "list", ...admin()]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^ID +ACTION +POOL +ADDRESS +EXPIRES +REASON\\n${id.slice(0, 8)} +drain +app\\.example\\.test\\. +127\\.0\\.0\\.46 +in (30m|29m \\d+s) +maintenance\\n$`));

    const status = await hadns(["status", ...admin()]);
    expect(status.stdout).toMatch(new RegExp(`^ {2}127\\.0\\.0\\.46 +drain +up .* drain for (30m|29m \\d+s) more \\[${id.slice(0, 8)}\\]$`, "m"));

    const ex = await hadns(["explain", "app.example.test", ...admin()]);
    expect(ex.code).toBe(0);
    expect(ex.stdout).toMatch(/^app\.example\.test\. A: app\.example\.test\. A \(failover\) answers 127\.0\.0\.47: failover to 127\.0\.0\.47/);
    expect(ex.stdout).toMatch(/^zone {4}example\.test\. \(serial 3, /m);
    expect(ex.stdout).toMatch(/^pool {4}app\.example\.test\. A {2}policy failover {2}ttl 30 {2}when all down: serve-all$/m);
    expect(ex.stdout).toMatch(/^ {8}127\.0\.0\.46 +no +drain +up +.*drain: maintenance \((30m|29m \d+s) more\)/m);
    expect(ex.stdout).toMatch(/^ {8}127\.0\.0\.47 +yes +up +up /m);
    expect(ex.stdout).toMatch(/^response NOERROR, authoritative\n {2};; answer\n {2}app\.example\.test\. 5 IN A 127\.0\.0\.47\n$/m);

    const rm = await hadns(["override", "rm", id.slice(0, 6), ...admin()]);
    expect(rm.stderr).toBe("");
    expect(rm.code).toBe(0);
    expect(rm.stdout).toBe(`removed override ${id}: drain app.example.test. 127.0.0.46 (maintenance)\n`);
    expect(await appAnswer()).toEqual(["127.0.0.46"]);
    expect((await hadns(["override", "ls", ...admin()])).stdout).toBe("no active overrides\n");
  });

  it("--address alone: every pool; --for 1s expires by itself", async () => {
    const set = await hadns(["override", "set", "--address", "127.0.0.46", "--action", "down", "--for", "1s", "--reason", "reboot", ...admin()]);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^override \S+ set: down \(every pool\) 127\.0\.0\.46 for 1s, /);
    expect(set.stdout).toMatch(/^ {2}app\.example\.test\. A now answers 127\.0\.0\.47/m);
    expect(set.stdout).toMatch(/^ {2}multi\.example\.test\. A now answers 127\.0\.0\.47/m);
    await until(async () => (await appAnswer())[0] === "127.0.0.46", 5000, "expiry");
  });

  it("the server's own message for a bad field, exit 1", async () => {
    const r = await hadns(["override", "set", "--pool", "nope.example.test.", "--address", "127.0.0.46", "--action", "drain", "--for", "30m", "--reason", "x", ...admin()]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("hadns: POST /v1/overrides: pool: no pool is named nope.example.test. (pools: app.example.test., multi.example.test.) (HTTP 400)\n");
    const d = await hadns(["override", "set", "--address", "127.0.0.46", "--action", "drain", "--for", "soon", "--reason", "x", ...admin()]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/^hadns: POST \/v1\/overrides: for: bad duration "soon"/);
    const rm = await hadns(["override", "rm", "abcd", ...admin()]);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toBe("hadns: no active override with id abcd; hadns override list shows them\n");
  });

  it("a bad command line: exit 2", async () => {
    const noReason = await hadns(["override", "set", "--address", "127.0.0.46", "--action", "drain", "--for", "30m", ...admin()]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/required option '--reason <text>' not specified/);
    const badAction = await hadns(["override", "set", "--address", "127.0.0.46", "--action", "off", "--for", "30m", "--reason", "x", ...admin()]);
    expect(badAction.code).toBe(2);
    expect(badAction.stderr).toMatch(/argument 'off' is invalid. Allowed choices are down, up, drain/);
    expect((await hadns(["explain", ...admin()])).code).toBe(2);
  });
});

describe("hadns explain", () => {
  it("a name with no pool, with a type", async () => {
    const r = await hadns(["explain", "ns1.example.test.", "A", ...admin()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ns1\.example\.test\. A: ns1\.example\.test\. A: NOERROR with 1 record from zone example\.test\.; no pool involved\n/);
    expect(r.stdout).toMatch(/^pool {4}none$/m);
    expect(r.stdout).toMatch(/^ {2}ns1\.example\.test\. 300 IN A 192\.0\.2\.53$/m);
  });

  it("--json, and a bad type: exit 1 with the field named", async () => {
    const j = await hadns(["explain", "app.example.test.", "A", "--json", ...admin()]);
    expect(JSON.parse(j.stdout).pool.policy).toBe("failover");
    const bad = await hadns(["explain", "app.example.test.", "BOGUS", ...admin()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^hadns: GET \/v1\/explain\?name=app\.example\.test\.&type=BOGUS: type: unknown record type "BOGUS" \(HTTP 400\)\n$/);
  });
});

describe("hadns reload", () => {
  it("taken: exit 0; rejected: exit 1 with every error as file:line, the old config still serving", async () => {
    writeFileSync(configFile, config(eps.port).replace("ttl: 30, degraded_ttl: 5", "ttl: 60, degraded_ttl: 5"));
    const ok = await hadns(["reload", ...admin()]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^reloaded config and zones in \d+ ms\n$/);
    expect((await ask("127.0.0.1", srv.dnsPort, "app.example.test.", "A")).answer).toEqual(["app.example.test. 60 A 127.0.0.46"]);

    writeFileSync(configFile, config(eps.port).replace("policy: multivalue", "policy: multivalu"));
    try {
      const bad = await hadns(["reload", ...admin()]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toBe("");
      expect(bad.stderr).toMatch(/^hadns: reload rejected \(1 error\); still serving the previous config\n\S*hadns\.yaml:6: .*multivalu/);
      expect((await ask("127.0.0.1", srv.dnsPort, "app.example.test.", "A")).answer).toEqual(["app.example.test. 60 A 127.0.0.46"]);
    } finally {
      writeFileSync(configFile, config(eps.port));
    }
    expect((await hadns(["reload", ...admin()])).code).toBe(0);
  });
});

describe("where the API is, and its token", () => {
  it("nothing listening: one line saying so, exit 1", async () => {
    const r = await hadns(["status", "--admin", "http://127.0.0.1:1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("hadns: cannot reach the admin API at http://127.0.0.1:1: connection refused (is hadns serve running with admin.listen there? give --admin URL or set HADNS_ADMIN_URL)\n");
  });

  it("HADNS_ADMIN_URL instead of --admin", async () => {
    expect((await hadns(["override", "list"], { HADNS_ADMIN_URL: srv.admin })).stdout).toBe("no active overrides\n");
  });

  it("with a token in the config: none → told how to give it; --token or HADNS_ADMIN_TOKEN → served; a wrong one → refused", async () => {
    const file = join(tmp, "token.yaml");
    writeFileSync(file, config(eps.port, `admin: { token: ${TOKEN} }\n`));
    const t = await serve(["--config", file, "--admin-listen", "127.0.0.1:0"]);
    try {
      const none = await hadns(["status", "--admin", t.admin]);
      expect(none.code).toBe(1);
      expect(none.stderr).toBe("hadns: this admin API needs a bearer token: send Authorization: Bearer <token> (give --token or set HADNS_ADMIN_TOKEN)\n");
      expect((await hadns(["status", "--admin", t.admin, "--token", TOKEN])).code).toBe(0);
      expect((await hadns(["reload", "--admin", t.admin], { HADNS_ADMIN_TOKEN: TOKEN })).code).toBe(0);
      const wrong = await hadns(["status", "--admin", t.admin], { HADNS_ADMIN_TOKEN: "not-the-token-at-all" });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toBe("hadns: wrong bearer token (the token given was refused)\n");
    } finally {
      await t.stop();
    }
  });

  it("serve --admin-listen off: no admin API; a non-loopback --admin-listen without a token: a usage error", async () => {
    const off = spawn(process.execPath, [BIN, "serve", "--config", configFile, "--listen", "127.0.0.1:0", "--admin-listen", "off", "--log-format", "json"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    off.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => off.on("exit", r));
    try {
      await until(() => out.includes('"msg":"serving '), 15_000, "start-up line");
      await new Promise((r) => setTimeout(r, 300));
      expect(out).not.toContain("admin API");
    } finally {
      off.kill("SIGTERM");
      await exited;
    }
    const r = await hadns(["serve", "--config", configFile, "--listen", "127.0.0.1:0", "--admin-listen", "0.0.0.0:8053"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hadns: --admin-listen: the admin API will not listen on 0\.0\.0\.0:8053 without a bearer token/);
  });
});
