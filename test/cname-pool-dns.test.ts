// CNAME pools over DNS (issue 3): a pool of target names answers exactly one CNAME, chosen by the same
// policies (failover, multivalue rotation, weighted), and the lookup goes on at the target as for any
// CNAME (RFC 1034 §4.3.2): in-zone targets bring their records, out-of-zone ones end the answer. The
// targets are probed at fixed addresses (check_address) on real HTTP endpoints 127.0.0.2/3.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEndpoints } from "./support/http-endpoints.js";
import { startPoolServer, webCheck, TRANSPORTS, waitForAnswer, type PoolServer, type View } from "./support/instance.js";

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
a.backend     A     192.0.2.10
a.backend     AAAA  2001:db8::10
b.backend     A     192.0.2.11
go            CNAME www
`;
const SOA = "example.test. 120 SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 120";

let eps: Awaited<ReturnType<typeof startEndpoints>>;
let srv: PoolServer;

beforeAll(async () => {
  eps = await startEndpoints(2); // 127.0.0.2, 127.0.0.3, HTTP
  const targets = (a: string, b: string) => `
      - { address: ${a}, check_address: 127.0.0.2 }
      - { address: ${b}, check_address: 127.0.0.3 }`;
  srv = await startPoolServer({
    files: { "example.test.zone": ZONE },
    config: `zones: [example.test.zone]
${webCheck(eps.port)}pools:
  - name: www.example.test.
    type: CNAME
    ttl: 60
    degraded_ttl: 6
    check: web
    endpoints: ${targets("a.backend.example.test.", "b.backend.example.test.")}
  - name: cdn.example.test.
    type: CNAME
    ttl: 60
    policy: multivalue
    when_all_down: serve-first
    check: web
    endpoints: ${targets("edge1.cdn.example.net.", "edge2.cdn.example.net.")}
  - name: split.example.test.
    type: CNAME
    ttl: 60
    policy: weighted
    check: web
    endpoints:
      - { address: a.backend.example.test., check_address: 127.0.0.2, weight: 1 }
      - { address: b.backend.example.test., check_address: 127.0.0.3, weight: 4 }
`,
  });
  await srv.allUp();
}, 20_000);

afterAll(async () => {
  await srv?.close();
  await eps?.close();
});

const CN = (owner: string, ttl: number, target: string) => `${owner}.example.test. ${ttl} CNAME ${target}`;

/** Same reply over UDP and TCP; returns it. */
async function both(name: string, type = "A"): Promise<View> {
  const [u, t] = await Promise.all(TRANSPORTS.map((transport) => srv.ask(name, type, { transport })));
  expect(t).toEqual(u);
  return u!;
}

const ok = { rcode: "NOERROR", aa: true, tc: false, additional: [], edns: true, ede: [] };

describe("CNAME pools", () => {
  it("failover: the first target, and the lookup goes on at it, for A, AAAA and CNAME queries", async () => {
    expect(await both("www.example.test.")).toEqual({
      ...ok, answer: [CN("www", 60, "a.backend.example.test."), "a.backend.example.test. 300 A 192.0.2.10"], authority: [],
    });
    expect(await both("www.example.test.", "AAAA")).toEqual({
      ...ok, answer: [CN("www", 60, "a.backend.example.test."), "a.backend.example.test. 300 AAAA 2001:db8::10"], authority: [],
    });
    expect(await both("www.example.test.", "CNAME")).toEqual({ ...ok, answer: [CN("www", 60, "a.backend.example.test.")], authority: [] });
    // A CNAME in the zone file that leads to the pool.
    expect(await both("go.example.test.")).toEqual({
      ...ok,
      answer: ["go.example.test. 300 CNAME www.example.test.", CN("www", 60, "a.backend.example.test."), "a.backend.example.test. 300 A 192.0.2.10"],
      authority: [],
    });
  });

  it("failover: the first target's endpoint down → the second target, with degraded_ttl; then back", { timeout: 15_000 }, async () => {
    await eps.endpoints[0]!.set("503");
    await waitForAnswer(srv, "www.example.test.", "CNAME", (v) => v.answer[0]?.endsWith("b.backend.example.test.") ?? false);
    expect(await both("www.example.test.")).toEqual({
      ...ok, answer: [CN("www", 6, "b.backend.example.test."), "b.backend.example.test. 300 A 192.0.2.11"], authority: [],
    });
    // b.backend has no AAAA: NODATA at the end of the chain.
    expect(await both("www.example.test.", "AAAA")).toEqual({ ...ok, answer: [CN("www", 6, "b.backend.example.test.")], authority: [SOA] });
    expect(await both("go.example.test.")).toEqual({
      ...ok,
      answer: ["go.example.test. 300 CNAME www.example.test.", CN("www", 6, "b.backend.example.test."), "b.backend.example.test. 300 A 192.0.2.11"],
      authority: [],
    });
    // Multivalue: one target left, the same every time.
    for (let i = 0; i < 3; i++) expect(await both("cdn.example.test.")).toEqual({ ...ok, answer: [CN("cdn", 60, "edge2.cdn.example.net.")], authority: [] });

    await eps.endpoints[0]!.set("ok");
    await waitForAnswer(srv, "www.example.test.", "CNAME", (v) => v.answer[0] === CN("www", 60, "a.backend.example.test."));
    expect(await both("www.example.test.")).toEqual({
      ...ok, answer: [CN("www", 60, "a.backend.example.test."), "a.backend.example.test. 300 A 192.0.2.10"], authority: [],
    });
  });

  it("multivalue: one target per answer, rotating; out-of-zone targets end the answer", async () => {
    const got: string[] = [];
    for (let i = 0; i < 6; i++) {
      const v = await srv.ask("cdn.example.test.", "A", { transport: TRANSPORTS[i % 2]! });
      expect(v).toMatchObject({ ...ok, authority: [] });
      expect(v.answer).toHaveLength(1);
      got.push(v.answer[0]!);
    }
    const e1 = CN("cdn", 60, "edge1.cdn.example.net.");
    const e2 = CN("cdn", 60, "edge2.cdn.example.net.");
    expect(got).toEqual(got[0] === e1 ? [e1, e2, e1, e2, e1, e2] : [e2, e1, e2, e1, e2, e1]);
  });

  it("weighted: one target, chosen 1:4 over 1000 queries", { timeout: 15_000 }, async () => {
    let b = 0;
    const n = 1000;
    for (let i = 0; i < n; i += 50) {
      const vs = await Promise.all(Array.from({ length: 50 }, (_, j) => srv.ask("split.example.test.", "A", { transport: TRANSPORTS[j % 2]! })));
      for (const v of vs) {
        expect(v).toMatchObject({ ...ok, authority: [] });
        expect(v.answer).toHaveLength(2);
        if (v.answer[0] === CN("split", 60, "b.backend.example.test.")) {
          expect(v.answer[1]).toBe("b.backend.example.test. 300 A 192.0.2.11");
          b++;
        } else expect(v.answer).toEqual([CN("split", 60, "a.backend.example.test."), "a.backend.example.test. 300 A 192.0.2.10"]);
      }
    }
    // Expected share 0.8; ±0.06 is almost five standard deviations at n = 1000.
    expect(b / n).toBeGreaterThan(0.74);
    expect(b / n).toBeLessThan(0.86);
  });

  it("all down: serve-first answers the first target, with an EDE; the default (serve-all) rotates over all", { timeout: 15_000 }, async () => {
    await eps.endpoints[0]!.set("refuse");
    await eps.endpoints[1]!.set("refuse");
    await waitForAnswer(srv, "cdn.example.test.", "A", (v) => v.ede.length > 0);
    await waitForAnswer(srv, "www.example.test.", "A", (v) => v.ede.length > 0);
    for (let i = 0; i < 3; i++) {
      expect(await both("cdn.example.test.")).toEqual({
        ...ok, answer: [CN("cdn", 60, "edge1.cdn.example.net.")], authority: [],
        ede: [{ code: 0, text: "cdn.example.test. CNAME: all down: serving first edge1.cdn.example.net. (fail-open)" }],
      });
    }
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const v = await srv.ask("www.example.test.", "CNAME", { transport: TRANSPORTS[i % 2]! });
      expect(v.ede).toEqual([{ code: 0, text: "www.example.test. CNAME: all down: serving all (fail-open); degraded ttl 6" }]);
      seen.add(v.answer.join());
    }
    expect([...seen].sort()).toEqual([CN("www", 6, "a.backend.example.test."), CN("www", 6, "b.backend.example.test.")]);

    await eps.endpoints[0]!.set("ok");
    await eps.endpoints[1]!.set("ok");
    await waitForAnswer(srv, "www.example.test.", "CNAME", (v) => v.answer[0] === CN("www", 60, "a.backend.example.test.") && v.ede.length === 0);
    await waitForAnswer(srv, "cdn.example.test.", "A", (v) => v.ede.length === 0);
  });
});
