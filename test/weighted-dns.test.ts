// Weighted pools over DNS (issue 3): answer i is chosen with probability weight_i / Σ weight among the
// healthy endpoints; with max_answers n > 1 the first record follows the weights and the next n−1
// healthy endpoints follow in listed order. Checked over 2000 queries (UDP and TCP) within generous
// bounds, before, during and after an endpoint's outage.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, sendTcpMany, sendUdp } from "./support/client.js";
import { startEndpoints } from "./support/http-endpoints.js";
import { startPoolServer, webCheck, view, waitForAnswer, type PoolServer, type View } from "./support/instance.js";

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
`;

let eps: Awaited<ReturnType<typeof startEndpoints>>;
let srv: PoolServer;

beforeAll(async () => {
  eps = await startEndpoints(3); // 127.0.0.2 … 127.0.0.4, HTTP
  srv = await startPoolServer({
    files: { "example.test.zone": ZONE },
    config: `zones: [example.test.zone]
${webCheck(eps.port)}pools:
  - name: w.example.test.
    type: A
    ttl: 20
    degraded_ttl: 4
    policy: weighted
    check: web
    endpoints:
      - { address: 127.0.0.2, weight: 1 }
      - { address: 127.0.0.3, weight: 3 }
      - { address: 127.0.0.4, weight: 6 }
  - name: w2.example.test.
    type: A
    ttl: 20
    policy: weighted
    max_answers: 2
    check: web
    endpoints:
      - { address: 127.0.0.2, weight: 1 }
      - { address: 127.0.0.3, weight: 3 }
      - { address: 127.0.0.4, weight: 6 }
`,
  });
  await srv.allUp();
}, 20_000);

afterAll(async () => {
  await srv?.close();
  await eps?.close();
});

const N = 2000;

/** N queries: half over UDP (50 in flight), half pipelined over TCP connections of 100. */
async function askMany(name: string): Promise<View[]> {
  const out: View[] = [];
  const q = () => buildQuery({ name, type: "A", edns: true });
  for (let i = 0; i < N / 2; i += 50) {
    const replies = await Promise.all(Array.from({ length: 50 }, () => sendUdp(srv.host, srv.port, q(), { timeoutMs: 3000 })));
    for (const r of replies) {
      if (!r) throw new Error("a UDP query got no reply");
      out.push(view(r));
    }
  }
  for (let i = 0; i < N / 2; i += 100) {
    const r = await sendTcpMany(srv.host, srv.port, Array.from({ length: 100 }, q), { timeoutMs: 5000 });
    if (r.responses.length !== 100) throw new Error(`TCP: ${r.responses.length} replies to 100 queries`);
    out.push(...r.responses.map(view));
  }
  return out;
}

/** How often each record came first, as a fraction of all answers; checks every reply's form. */
function firstShares(views: View[], name: string, ttl: number, perAnswer: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of views) {
    expect(v).toMatchObject({ rcode: "NOERROR", aa: true, authority: [], additional: [], ede: [] });
    expect(v.answer).toHaveLength(perAnswer);
    for (const l of v.answer) expect(l).toMatch(new RegExp(`^${name.replace(/\./g, "\\.")} ${ttl} A 127\\.0\\.0\\.[234]$`));
    const first = v.answer[0]!.split(" ")[3]!;
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  return new Map([...counts].map(([k, n]) => [k, n / views.length]));
}

/** Within ±0.05 of the expected share: at N = 2000 that is more than 4 standard deviations for any p. */
function expectShares(got: Map<string, number>, want: Record<string, number>): void {
  expect([...got.keys()].sort()).toEqual(Object.keys(want).sort());
  for (const [addr, p] of Object.entries(want)) {
    expect(got.get(addr), `${addr}: ${got.get(addr)} vs ${p}`).toBeGreaterThan(p - 0.05);
    expect(got.get(addr), `${addr}: ${got.get(addr)} vs ${p}`).toBeLessThan(p + 0.05);
  }
}

/** The record after the first, for max_answers 2: the next healthy endpoint in listed order, wrapping. */
function expectFollowers(views: View[], next: Record<string, string>): void {
  for (const v of views) {
    const [a, b] = v.answer.map((l) => l.split(" ")[3]!);
    expect(b).toBe(next[a!]);
  }
}

describe("weighted", () => {
  it("one record, first chosen by weight 1:3:6", { timeout: 15_000 }, async () => {
    expectShares(firstShares(await askMany("w.example.test."), "w.example.test.", 20, 1), { "127.0.0.2": 0.1, "127.0.0.3": 0.3, "127.0.0.4": 0.6 });
  });

  it("max_answers 2: the first by weight, then the next endpoint in listed order", { timeout: 15_000 }, async () => {
    const views = await askMany("w2.example.test.");
    expectShares(firstShares(views, "w2.example.test.", 20, 2), { "127.0.0.2": 0.1, "127.0.0.3": 0.3, "127.0.0.4": 0.6 });
    expectFollowers(views, { "127.0.0.2": "127.0.0.3", "127.0.0.3": "127.0.0.4", "127.0.0.4": "127.0.0.2" });
  });

  it("the heaviest endpoint down: the rest share by their weights (1:3), degraded_ttl; then back", { timeout: 15_000 }, async () => {
    const heavy = eps.endpoints.find((e) => e.address === "127.0.0.4")!;
    await heavy.set("503");
    await waitForAnswer(srv, "w.example.test.", "A", (v) => v.answer[0]?.split(" ")[1] === "4");
    const views = await askMany("w.example.test.");
    expectShares(firstShares(views, "w.example.test.", 4, 1), { "127.0.0.2": 0.25, "127.0.0.3": 0.75 });
    const views2 = await askMany("w2.example.test.");
    expectShares(firstShares(views2, "w2.example.test.", 20, 2), { "127.0.0.2": 0.25, "127.0.0.3": 0.75 });
    expectFollowers(views2, { "127.0.0.2": "127.0.0.3", "127.0.0.3": "127.0.0.2" });

    await heavy.set("ok");
    await waitForAnswer(srv, "w.example.test.", "A", (v) => v.answer[0]?.split(" ")[1] === "20");
    expectShares(firstShares(await askMany("w.example.test."), "w.example.test.", 20, 1), { "127.0.0.2": 0.1, "127.0.0.3": 0.3, "127.0.0.4": 0.6 });
  });
});
