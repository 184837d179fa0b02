// when_all_down over DNS (issue 3): every endpoint of a pool down, each setting answers as documented —
// serve-all and serve-first fail open (and say so with an RFC 8914 Extended DNS Error "Other" when the
// query had EDNS), nodata answers an empty NOERROR, servfail SERVFAIL (with the EDE too). Real HTTP
// endpoints on 127.0.0.2/3 refuse and hang; then one comes back and every pool answers it alone.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEndpoints } from "./support/http-endpoints.js";
import { startPoolServer, webCheck, TRANSPORTS, waitForAnswer, type PoolServer, type View } from "./support/instance.js";

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
alias         CNAME servfail
`;
const SOA = "example.test. 120 SOA ns1.example.test. hostmaster.example.test. 1 3600 900 604800 120";

let eps: Awaited<ReturnType<typeof startEndpoints>>;
let srv: PoolServer;

const pool = (name: string, extra: string) => `  - name: ${name}.example.test.
    type: A
    ttl: 30
    degraded_ttl: 5
    check: web
    endpoints: [127.0.0.2, 127.0.0.3]
${extra}`;

beforeAll(async () => {
  eps = await startEndpoints(2); // 127.0.0.2, 127.0.0.3, HTTP
  srv = await startPoolServer({
    files: { "example.test.zone": ZONE },
    config: `zones: [example.test.zone]
${webCheck(eps.port)}pools:
${pool("default", "")}${pool("serveall", "    when_all_down: serve-all\n")}${pool("first", "    when_all_down: serve-first\n")}${pool("nodata", "    when_all_down: nodata\n")}${pool("servfail", "    when_all_down: servfail\n")}${pool("multi", "    policy: multivalue\n    when_all_down: serve-first\n")}${pool("grouped", "    when_all_down: serve-first\n    endpoints: [{ address: 127.0.0.3, priority: 2 }, { address: 127.0.0.2, priority: 1 }]\n").replace("    endpoints: [127.0.0.2, 127.0.0.3]\n", "")}`,
  });
  await srv.allUp();
}, 20_000);

afterAll(async () => {
  await srv?.close();
  await eps?.close();
});

const A = (name: string, ttl: number, ...addrs: string[]) => addrs.map((a) => `${name}.example.test. ${ttl} A ${a}`);
const EDE_OTHER = 0;
const ede = (name: string, reason: string) => [{ code: EDE_OTHER, text: `${name}.example.test. A: ${reason}` }];

/** Over UDP and TCP, with and without EDNS: the same reply, the EDE only with EDNS. Returns the EDNS one. */
async function both(name: string): Promise<View> {
  const out: View[] = [];
  for (const transport of TRANSPORTS) {
    const withEdns = await srv.ask(`${name}.example.test.`, "A", { transport });
    const plain = await srv.ask(`${name}.example.test.`, "A", { transport, edns: false });
    expect(withEdns.edns).toBe(true);
    expect(plain).toEqual({ ...withEdns, answer: plain.answer, edns: false, ede: [] });
    expect([...plain.answer].sort()).toEqual([...withEdns.answer].sort());
    out.push(withEdns);
  }
  expect({ ...out[1]!, answer: [...out[1]!.answer].sort() }).toEqual({ ...out[0]!, answer: [...out[0]!.answer].sort() });
  return out[0]!;
}

const ALL = ["default", "serveall", "first", "nodata", "servfail", "multi", "grouped"];

describe("when_all_down", () => {
  it("while healthy: plain answers, no EDE", async () => {
    for (const name of ["default", "serveall", "first", "nodata", "servfail"]) {
      expect(await both(name)).toMatchObject({ rcode: "NOERROR", aa: true, answer: A(name, 30, "127.0.0.2"), authority: [], ede: [] });
    }
    expect((await both("grouped")).answer).toEqual(A("grouped", 30, "127.0.0.2"));
  });

  it("all down: each setting answers as documented, fail-open and SERVFAIL with an EDE", { timeout: 15_000 }, async () => {
    await eps.endpoints[0]!.set("refuse");
    await eps.endpoints[1]!.set("hang");
    for (const name of ALL) {
      await waitForAnswer(srv, `${name}.example.test.`, "A", (v) => v.ede.length > 0 || v.rcode !== "NOERROR" || v.answer.length === 0);
    }

    // serve-all (also the default): the failover pool as one group, every address, rotating.
    for (const name of ["default", "serveall"]) {
      const v = await both(name);
      expect(v).toMatchObject({ rcode: "NOERROR", aa: true, authority: [], additional: [] });
      expect([...v.answer].sort()).toEqual(A(name, 5, "127.0.0.2", "127.0.0.3"));
      expect(v.ede).toEqual(ede(name, "all down: serving all (fail-open); degraded ttl 5"));
      const orders = new Set<string>();
      for (let i = 0; i < 4; i++) orders.add((await srv.ask(`${name}.example.test.`, "A")).answer.join());
      expect([...orders].sort()).toEqual([A(name, 5, "127.0.0.2", "127.0.0.3").join(), A(name, 5, "127.0.0.3", "127.0.0.2").join()]);
    }

    // serve-first: the first endpoint (failover: the first of the lowest priority group).
    for (const [name, first] of [["first", "127.0.0.2"], ["multi", "127.0.0.2"], ["grouped", "127.0.0.2"]] as const) {
      expect(await both(name)).toEqual({
        rcode: "NOERROR", aa: true, tc: false, answer: A(name, 5, first), authority: [], additional: [], edns: true,
        ede: ede(name, `all down: serving first ${first} (fail-open); degraded ttl 5`),
      });
    }

    // nodata: an empty NOERROR answer with the SOA, like any NODATA; not failing open, so no EDE.
    expect(await both("nodata")).toEqual({ rcode: "NOERROR", aa: true, tc: false, answer: [], authority: [SOA], additional: [], edns: true, ede: [] });

    // servfail: SERVFAIL, nothing else, and the EDE says why.
    const sf = await both("servfail");
    expect(sf).toMatchObject({ rcode: "SERVFAIL", aa: false, answer: [], authority: [], additional: [], edns: true, ede: ede("servfail", "all down: SERVFAIL") });

    // A CNAME to the SERVFAIL pool: the CNAME, then SERVFAIL for its target.
    const viaAlias = await srv.ask("alias.example.test.", "A");
    expect(viaAlias).toMatchObject({ rcode: "SERVFAIL", answer: ["alias.example.test. 300 CNAME servfail.example.test."], ede: ede("servfail", "all down: SERVFAIL") });
  });

  it("one endpoint back: every pool answers it alone, without EDE", { timeout: 15_000 }, async () => {
    await eps.endpoints[1]!.set("ok"); // 127.0.0.3
    for (const name of ALL) {
      await waitForAnswer(srv, `${name}.example.test.`, "A", (v) => v.answer.join() === A(name, 5, "127.0.0.3").join() && v.ede.length === 0);
    }
    for (const name of ALL) {
      expect(await both(name)).toEqual({ rcode: "NOERROR", aa: true, tc: false, answer: A(name, 5, "127.0.0.3"), authority: [], additional: [], edns: true, ede: [] });
    }
    await eps.endpoints[0]!.set("ok");
    for (const name of ALL) await waitForAnswer(srv, `${name}.example.test.`, "A", (v) => v.answer[0]?.split(" ")[1] === "30");
    expect(await both("servfail")).toMatchObject({ rcode: "NOERROR", aa: true, answer: A("servfail", 30, "127.0.0.2"), ede: [] });
  });

  it("logs the fail-open and SERVFAIL answers at warn", () => {
    const warned = srv.logs.filter((l) => l.level === 40 && typeof l.pool === "string").map((l) => `${l.pool}: ${l.msg}`);
    expect(warned).toContain("default.example.test. A: pool default.example.test. A now answers: all down: serving all (fail-open); degraded ttl 5");
    expect(warned).toContain("first.example.test. A: pool first.example.test. A now answers: all down: serving first 127.0.0.2 (fail-open); degraded ttl 5");
    expect(warned).toContain("servfail.example.test. A: pool servfail.example.test. A now answers: all down: SERVFAIL");
  });
});
