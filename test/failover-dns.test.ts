// Failover pools over DNS (issue 3): real HTTPS endpoints on 127.0.0.2-5 refuse, hang, answer 503,
// send the wrong body or a bad certificate, and come back; the answers over UDP and TCP follow, exactly
// (records, TTL with degraded_ttl, AA, rcode). Listed order and explicit priority groups (all healthy
// endpoints of the first group that has any). A CNAME and an MX elsewhere in the zone that name the
// pool follow it. No wrong first answers; one probe per (check, address) however many pools share it.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeCerts, startEndpoints, type EndpointMode, type TestCerts } from "./support/http-endpoints.js";
import { startPoolServer, TRANSPORTS, values, waitForAnswer, type PoolServer, type View } from "./support/instance.js";

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
alias         CNAME app
mx            MX    10 app
`;

/**
 * Fast settings with low thresholds and no flap damping (each outage costs the same). The timeout is
 * 250 ms, not the 50-100 ms an HTTP check can use: a TLS handshake with a server in this same
 * process, on a loaded two-core machine, can take 100 ms (the first ones, cold, most).
 */
const checkYaml = (port: number, caFile: string) => `checks:
  web:
    type: https
    port: ${port}
    path: /health
    ca_file: ${caFile}
    expect: { body: "ok" }
    interval: 300ms
    timeout: 250ms
    fast_interval: 50ms
    fall: 2
    rise: 2
    flap_window: 0
`;

const A = (name: string, ttl: number, ...addrs: string[]) => addrs.map((a) => `${name} ${ttl} A ${a}`);
const SOA = "example.test. 120 SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 120";

let certs: TestCerts;
let eps: Awaited<ReturnType<typeof startEndpoints>>;
let srv: PoolServer;

beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs?.cleanup());

const ep = (addr: string) => eps.endpoints.find((e) => e.address === addr)!;

/** The same reply over UDP and TCP (up to the rotation of records); returns the UDP one. */
async function both(name: string, type = "A", edns: boolean = true): Promise<View> {
  const [u, t] = await Promise.all(TRANSPORTS.map((transport) => srv.ask(name, type, { transport, edns })));
  const sorted = (v: View) => ({ ...v, answer: [...v.answer].sort(), additional: [...v.additional].sort() });
  expect(sorted(t!)).toEqual(sorted(u!));
  return u!;
}

/** A pool answer: NOERROR, AA, exactly these records, nothing else but an OPT without EDE. */
function expectAnswer(v: View, answer: string[], opts: { sorted?: boolean } = {}): void {
  expect(v.rcode).toBe("NOERROR");
  expect(v.aa).toBe(true);
  expect(opts.sorted ? [...v.answer].sort() : v.answer).toEqual(opts.sorted ? [...answer].sort() : answer);
  expect(v.authority).toEqual([]);
  expect(v.additional).toEqual([]);
  expect(v.ede).toEqual([]);
}

describe("start-up and shared probes", () => {
  it("no wrong first answers: an endpoint down at start-up is left out of the very first answer", { timeout: 15_000 }, async () => {
    const e = await startEndpoints(2, certs, { firstAddress: 6 }); // 127.0.0.6, 127.0.0.7
    await e.endpoints[0]!.set("refuse");
    const s = await startPoolServer({
      files: { "example.test.zone": ZONE },
      config: `zones: [example.test.zone]
${checkYaml(e.port, certs.caFile)}pools:
  - { name: app.example.test., type: A, ttl: 30, degraded_ttl: 5, check: web, endpoints: [127.0.0.6, 127.0.0.7] }
`,
    });
    try {
      // The first query of all, over each transport: already without 127.0.0.6.
      for (const transport of TRANSPORTS) {
        const v = await s.ask("app.example.test.", "A", { transport });
        expect(v).toMatchObject({ rcode: "NOERROR", aa: true, answer: A("app.example.test.", 5, "127.0.0.7"), ede: [] });
      }
      expect(s.logs.some((l) => String(l.msg).startsWith("first round of health checks done"))).toBe(true);
    } finally {
      await s.close();
      await e.close();
    }
  });

  it("two pools using the same (check, address) cause one probe of it", { timeout: 15_000 }, async () => {
    const e = await startEndpoints(2, certs, { firstAddress: 8 }); // 127.0.0.8, 127.0.0.9
    const s = await startPoolServer({
      files: { "example.test.zone": ZONE },
      config: `zones: [example.test.zone]
${checkYaml(e.port, certs.caFile)}pools:
  - { name: one.example.test., type: A, check: web, endpoints: [127.0.0.8, 127.0.0.9] }
  - { name: two.example.test., type: A, check: web, policy: multivalue, endpoints: [127.0.0.9, 127.0.0.8] }
  - { name: three.example.test., type: A, check: web, policy: weighted, endpoints: [127.0.0.8] }
`,
    });
    try {
      const before = e.endpoints.map((x) => x.requests.length);
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 2000));
      const elapsed = Date.now() - t0;
      const probes = e.endpoints.map((x, i) => x.requests.length - before[i]!);
      // One probe loop per address: about elapsed / 300 ms (±10 % jitter) each, never one per pool.
      const perLoop = elapsed / 300;
      for (const n of probes) {
        expect(n).toBeGreaterThan(perLoop * 0.5);
        expect(n).toBeLessThan(perLoop * 1.5);
      }
      expect(s.instance.monitor.snapshot().map((x) => x.key).sort()).toEqual(["web|127.0.0.8", "web|127.0.0.9"]);
    } finally {
      await s.close();
      await e.close();
    }
  });
});

// The rest share one server, started after the start-up tests (so those start the first hadns of the process).
describe("one server, endpoints on 127.0.0.2-5", () => {
  beforeAll(async () => {
    eps = await startEndpoints(4, certs); // 127.0.0.2 … 127.0.0.5
    srv = await startPoolServer({
      files: { "example.test.zone": ZONE },
      config: `zones: [example.test.zone]
${checkYaml(eps.port, certs.caFile)}pools:
  - name: app.example.test.
    type: A
    ttl: 30
    degraded_ttl: 5
    policy: failover
    check: web
    endpoints: [127.0.0.2, 127.0.0.3]
  - name: grouped.example.test.
    type: A
    ttl: 60
    degraded_ttl: 10
    check: web
    endpoints:
      - { address: 127.0.0.2, priority: 10 }
      - { address: 127.0.0.3, priority: 10 }
      - { address: 127.0.0.4, priority: 20 }
      - { address: 127.0.0.5, priority: 20 }
`,
    });
    await srv.allUp();
  }, 20_000);

  afterAll(async () => {
    await srv?.close();
    await eps?.close();
  });

  describe("failover in listed order", () => {
    it("answers the first endpoint while all are healthy, over UDP and TCP", async () => {
      expectAnswer(await both("app.example.test."), A("app.example.test.", 30, "127.0.0.2"));
      expectAnswer(await both("app.example.test.", "A", false), A("app.example.test.", 30, "127.0.0.2"));
      expect((await both("app.example.test.", "A", false)).edns).toBe(false);
    });

    it("NODATA for other types at the pool's name", async () => {
      const v = await both("app.example.test.", "AAAA");
      expect(v).toMatchObject({ rcode: "NOERROR", aa: true, answer: [], authority: [SOA], ede: [] });
    });

    const modes: EndpointMode[] = ["refuse", "hang", "503", "wrong-body", "bad-cert"];
    for (const mode of modes) {
      it(`fails over when the first endpoint goes ${mode}, with degraded_ttl, and comes back with ttl`, { timeout: 15_000 }, async () => {
        await ep("127.0.0.2").set(mode);
        await waitForAnswer(srv, "app.example.test.", "A", (v) => values(v).join() === "127.0.0.3");
        expectAnswer(await both("app.example.test."), A("app.example.test.", 5, "127.0.0.3"));
        // No EDE: failing over is not failing open.
        expectAnswer(await both("app.example.test.", "A", false), A("app.example.test.", 5, "127.0.0.3"));

        await ep("127.0.0.2").set("ok");
        await waitForAnswer(srv, "app.example.test.", "A", (v) => values(v).join() === "127.0.0.2");
        expectAnswer(await both("app.example.test."), A("app.example.test.", 30, "127.0.0.2"));
      });
    }

    it("says why: a hanging endpoint timed out waiting for the response, not while connecting", { timeout: 15_000 }, async () => {
      const from = srv.logs.length;
      await ep("127.0.0.2").set("hang");
      await waitForAnswer(srv, "app.example.test.", "A", (v) => values(v).join() === "127.0.0.3");
      const down = srv.logs.slice(from).find((l) => l.msg === "endpoint down" && l.address === "127.0.0.2");
      expect(down?.reason).toBe("timeout after 250 ms (waiting for response)");
      await ep("127.0.0.2").set("ok");
      await waitForAnswer(srv, "app.example.test.", "A", (v) => values(v).join() === "127.0.0.2");
    });

    it("a failing second endpoint changes nothing but the TTL", { timeout: 15_000 }, async () => {
      await ep("127.0.0.3").set("503");
      await waitForAnswer(srv, "app.example.test.", "A", (v) => v.answer[0]?.split(" ")[1] === "5");
      expectAnswer(await both("app.example.test."), A("app.example.test.", 5, "127.0.0.2"));
      await ep("127.0.0.3").set("ok");
      await waitForAnswer(srv, "app.example.test.", "A", (v) => v.answer[0]?.split(" ")[1] === "30");
      expectAnswer(await both("app.example.test."), A("app.example.test.", 30, "127.0.0.2"));
    });

    it("logs one line per transition and one per pool change", { timeout: 15_000 }, async () => {
      const from = srv.logs.length;
      await ep("127.0.0.2").set("refuse");
      await waitForAnswer(srv, "app.example.test.", "A", (v) => values(v).join() === "127.0.0.3");
      await ep("127.0.0.2").set("ok");
      await waitForAnswer(srv, "app.example.test.", "A", (v) => values(v).join() === "127.0.0.2");
      const lines = srv.logs.slice(from);
      const transitions = lines.filter((l) => l.address === "127.0.0.2" && (l.msg === "endpoint down" || l.msg === "endpoint up"));
      expect(transitions.map((l) => [l.from, l.to, l.reason])).toEqual([
        ["up", "down", "connection refused"],
        ["down", "up", "HTTP 200, body ok"],
      ]);
      const appChanges = lines.filter((l) => l.pool === "app.example.test. A");
      expect(appChanges.map((l) => [l.answer, l.ttl, l.msg])).toEqual([
        [["127.0.0.3"], 5, "pool app.example.test. A now answers: failover to 127.0.0.3 (1/2 up); degraded ttl 5"],
        [["127.0.0.2"], 30, "pool app.example.test. A now answers: primary 127.0.0.2 healthy (2/2 up)"],
      ]);
    });
  });

  describe("failover with priority groups", () => {
    it("answers every healthy endpoint of the first group, rotating", async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) {
        for (const transport of TRANSPORTS) {
          const v = await srv.ask("grouped.example.test.", "A", { transport });
          expectAnswer(v, A("grouped.example.test.", 60, "127.0.0.2", "127.0.0.3"), { sorted: true });
          seen.add(values(v).join());
        }
      }
      expect([...seen].sort()).toEqual(["127.0.0.2,127.0.0.3", "127.0.0.3,127.0.0.2"]);
    });

    it("one member down: the rest of the group; the whole group down: all of the next group", { timeout: 15_000 }, async () => {
      await ep("127.0.0.2").set("refuse");
      await waitForAnswer(srv, "grouped.example.test.", "A", (v) => values(v).join() === "127.0.0.3");
      expectAnswer(await both("grouped.example.test."), A("grouped.example.test.", 10, "127.0.0.3"));

      await ep("127.0.0.3").set("hang");
      await waitForAnswer(srv, "grouped.example.test.", "A", (v) => values(v).includes("127.0.0.4"));
      expectAnswer(await both("grouped.example.test."), A("grouped.example.test.", 10, "127.0.0.4", "127.0.0.5"), { sorted: true });
      // Meanwhile app (both its endpoints down) fails open; when-all-down-dns.test.ts covers that.

      await ep("127.0.0.3").set("ok");
      await waitForAnswer(srv, "grouped.example.test.", "A", (v) => values(v).join() === "127.0.0.3");
      expectAnswer(await both("grouped.example.test."), A("grouped.example.test.", 10, "127.0.0.3"));
      await ep("127.0.0.2").set("ok");
      await waitForAnswer(srv, "grouped.example.test.", "A", (v) => v.answer.length === 2 && v.answer[0]!.includes(" 60 "));
      expectAnswer(await both("grouped.example.test."), A("grouped.example.test.", 60, "127.0.0.2", "127.0.0.3"), { sorted: true });
    });
  });

  describe("names that lead to the pool", () => {
    it("a CNAME elsewhere in the zone follows the pool", { timeout: 15_000 }, async () => {
      const cname = "alias.example.test. 300 CNAME app.example.test.";
      expectAnswer(await both("alias.example.test."), [cname, ...A("app.example.test.", 30, "127.0.0.2")]);
      await ep("127.0.0.2").set("503");
      await waitForAnswer(srv, "alias.example.test.", "A", (v) => values(v).includes("127.0.0.3"));
      expectAnswer(await both("alias.example.test."), [cname, ...A("app.example.test.", 5, "127.0.0.3")]);
      await ep("127.0.0.2").set("ok");
      await waitForAnswer(srv, "alias.example.test.", "A", (v) => values(v).includes("127.0.0.2"));
      expectAnswer(await both("alias.example.test."), [cname, ...A("app.example.test.", 30, "127.0.0.2")]);
    });

    it("an MX whose target is the pool's name gets the pool's current address in additional", { timeout: 15_000 }, async () => {
      const mx = (add: string[]) => ({ rcode: "NOERROR", aa: true, answer: ["mx.example.test. 300 MX 10 app.example.test."], authority: [], additional: add, ede: [] });
      expect(await both("mx.example.test.", "MX")).toMatchObject(mx(A("app.example.test.", 30, "127.0.0.2")));
      await ep("127.0.0.2").set("refuse");
      await waitForAnswer(srv, "mx.example.test.", "MX", (v) => v.additional.some((l) => l.endsWith("127.0.0.3")));
      expect(await both("mx.example.test.", "MX")).toMatchObject(mx(A("app.example.test.", 5, "127.0.0.3")));
      await ep("127.0.0.2").set("ok");
      await waitForAnswer(srv, "mx.example.test.", "MX", (v) => v.additional.some((l) => l.endsWith("127.0.0.2")));
      expect(await both("mx.example.test.", "MX")).toMatchObject(mx(A("app.example.test.", 30, "127.0.0.2")));
    });
  });

});
