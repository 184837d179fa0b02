// Multivalue pools over DNS (issue 3): every healthy endpoint, up to max_answers, the order rotating
// from one query to the next (variant i starts at the i-th healthy endpoint, listed order, wrapping).
// Real HTTP endpoints on 127.0.0.2-4 answer 503, refuse, send the wrong body and come back; the answers
// over UDP and TCP follow exactly, with degraded_ttl while any endpoint is down.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEndpoints } from "./support/http-endpoints.js";
import { startPoolServer, webCheck, TRANSPORTS, waitForAnswer, type PoolServer, type View } from "./support/instance.js";

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
${webCheck(eps.port, { body: "ok" })}pools:
  - name: multi.example.test.
    type: A
    ttl: 30
    degraded_ttl: 5
    policy: multivalue
    check: web
    endpoints: [127.0.0.2, 127.0.0.3, 127.0.0.4]
  - name: capped.example.test.
    type: A
    ttl: 40
    policy: multivalue
    max_answers: 2
    check: web
    endpoints: [127.0.0.2, 127.0.0.3, 127.0.0.4]
`,
  });
  await srv.allUp();
}, 20_000);

afterAll(async () => {
  await srv?.close();
  await eps?.close();
});

const ep = (addr: string) => eps.endpoints.find((e) => e.address === addr)!;
const A = (name: string, ttl: number, addrs: string[]) => addrs.map((a) => `${name} ${ttl} A ${a}`);

/** The rotations of `addrs` taking `k` each: what the variants of a multivalue pool are. */
function rotations(addrs: string[], k = addrs.length): string[][] {
  return addrs.map((_, i) => Array.from({ length: Math.min(k, addrs.length) }, (_, j) => addrs[(i + j) % addrs.length]!));
}

/**
 * Asks `n` times in a row, alternating UDP and TCP, and checks every reply is NOERROR/AA with no EDE and
 * that the records are exactly the expected rotations, taken one after the other (the first one
 * wherever the pool's counter happens to be).
 */
async function expectRotation(name: string, ttl: number, variants: string[][], n = 2 * variants.length + 1): Promise<void> {
  const got: View[] = [];
  for (let i = 0; i < n; i++) got.push(await srv.ask(name, "A", { transport: TRANSPORTS[i % 2]! }));
  for (const v of got) expect(v).toMatchObject({ rcode: "NOERROR", aa: true, authority: [], additional: [], ede: [] });
  const answers = got.map((v) => v.answer);
  const start = variants.findIndex((x) => JSON.stringify(A(name, ttl, x)) === JSON.stringify(answers[0]));
  expect(start, `first answer ${JSON.stringify(answers[0])} is not one of the rotations`).toBeGreaterThanOrEqual(0);
  const expected = answers.map((_, i) => A(name, ttl, variants[(start + i) % variants.length]!));
  expect(answers).toEqual(expected);
}

const hasTtl = (ttl: number) => (v: View) => v.answer.length > 0 && v.answer.every((l) => l.split(" ")[1] === String(ttl));
const addrsOf = (v: View) => v.answer.map((l) => l.split(" ")[3]).sort().join();

describe("multivalue", () => {
  it("answers every healthy endpoint, rotating across queries over UDP and TCP", async () => {
    await expectRotation("multi.example.test.", 30, rotations(["127.0.0.2", "127.0.0.3", "127.0.0.4"]));
  });

  it("max_answers caps the records per answer; the rotation goes through all endpoints", async () => {
    await expectRotation("capped.example.test.", 40, rotations(["127.0.0.2", "127.0.0.3", "127.0.0.4"], 2));
  });

  it("leaves out an endpoint answering 503 (with degraded_ttl), and takes it back", { timeout: 15_000 }, async () => {
    await ep("127.0.0.3").set("503");
    await waitForAnswer(srv, "multi.example.test.", "A", (v) => addrsOf(v) === "127.0.0.2,127.0.0.4");
    await expectRotation("multi.example.test.", 5, rotations(["127.0.0.2", "127.0.0.4"]));
    // No degraded_ttl on this pool: its TTL stays; two healthy endpoints fill max_answers 2.
    await expectRotation("capped.example.test.", 40, rotations(["127.0.0.2", "127.0.0.4"], 2));

    await ep("127.0.0.3").set("ok");
    await waitForAnswer(srv, "multi.example.test.", "A", hasTtl(30));
    await expectRotation("multi.example.test.", 30, rotations(["127.0.0.2", "127.0.0.3", "127.0.0.4"]));
    await expectRotation("capped.example.test.", 40, rotations(["127.0.0.2", "127.0.0.3", "127.0.0.4"], 2));
  });

  it("two down (refused, wrong body): one record, the same every time; then both back", { timeout: 15_000 }, async () => {
    await ep("127.0.0.2").set("refuse");
    await ep("127.0.0.4").set("wrong-body");
    await waitForAnswer(srv, "multi.example.test.", "A", (v) => addrsOf(v) === "127.0.0.3");
    for (const transport of TRANSPORTS) {
      for (let i = 0; i < 3; i++) {
        expect(await srv.ask("multi.example.test.", "A", { transport })).toMatchObject({
          rcode: "NOERROR", aa: true, answer: A("multi.example.test.", 5, ["127.0.0.3"]), ede: [],
        });
        expect(await srv.ask("capped.example.test.", "A", { transport })).toMatchObject({
          rcode: "NOERROR", aa: true, answer: A("capped.example.test.", 40, ["127.0.0.3"]), ede: [],
        });
      }
    }
    await ep("127.0.0.2").set("ok");
    await ep("127.0.0.4").set("ok");
    await waitForAnswer(srv, "multi.example.test.", "A", hasTtl(30));
    await waitForAnswer(srv, "capped.example.test.", "A", (v) => v.answer.length === 2);
    await expectRotation("multi.example.test.", 30, rotations(["127.0.0.2", "127.0.0.3", "127.0.0.4"]));
  });
});
