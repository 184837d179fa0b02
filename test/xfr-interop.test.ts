// hadns as the hidden primary of REAL secondaries: Debian's Knot DNS (knotd) and NSD, on loopback
// ports, transferring with TSIG and taking hadns's signed NOTIFY. A failover pool over two real HTTP
// endpoints: take the primary endpoint down and both secondaries must answer the failed-over address
// (polled with UDP queries, the time it took printed), then bring it back and they must fail back.
// IXFR must have been used (hadns's counters and Knot's log), and an unsigned or wrongly signed
// transfer must be refused.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEndpoints } from "./support/http-endpoints.js";
import { kdig, kdigKey, startPrimary, type Primary } from "./support/xfr.js";
// @ts-expect-error: plain JavaScript module shared with bench/xfr-propagation.mjs
import { available, freePort, KNOTD, NSD, startKnotSecondary, startNsdSecondary } from "./support/secondaries.mjs";

interface Secondary {
  kind: string;
  host: string;
  port: number;
  log(): string;
  close(): Promise<void>;
  waitSerial(zone: string, serial?: number, deadlineMs?: number): Promise<number>;
  query(name: string, type: string, timeoutMs?: number): Promise<{ rcode: string; answers: Array<{ type: string; data: unknown; ttl: number }> } | null>;
}

const KEY = { name: "hadns-xfr", algorithm: "hmac-sha256", secret: "aGFkbnMtaW50ZXJvcC1zZWNyZXQtMzItYnl0ZXMtbG9uZyE=" };
const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 2024010101 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
www           A     192.0.2.80
`;
const peers = available(KNOTD) && available(NSD);

let eps: Awaited<ReturnType<typeof startEndpoints>>;
let p: Primary;
let knot: Secondary;
let nsd: Secondary;
const timings: string[] = [];

/** Poll `s` for app.example.test A every 5 ms until it answers exactly `addr`; ms since `t0`. */
async function until(s: Secondary, addr: string, t0: number, deadlineMs = 15_000): Promise<number> {
  const end = t0 + deadlineMs;
  let last = "";
  for (;;) {
    const r = await s.query("app.example.test", "A", 300);
    const got = (r?.answers ?? []).filter((a) => a.type === "A").map((a) => String(a.data));
    last = got.join(",");
    if (got.length === 1 && got[0] === addr) return performance.now() - t0;
    if (performance.now() > end) throw new Error(`${s.kind} still answers [${last}], not ${addr}:\n${s.log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Poll hadns itself (its own detection): ms since `t0`. */
async function hadnsUntil(addr: string, t0: number): Promise<number> {
  for (;;) {
    const v = await p.srv.ask("app.example.test", "A");
    if (v.answer.length === 1 && v.answer[0]!.endsWith(` ${addr}`)) return performance.now() - t0;
    if (performance.now() - t0 > 15_000) throw new Error(`hadns still answers ${v.answer.join(", ")}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  if (!peers) return;
  eps = await startEndpoints(2, undefined, { firstAddress: 40 }); // 127.0.0.40, 127.0.0.41
  const [knotPort, nsdPort] = [await freePort(), await freePort()];
  p = await startPrimary({
    files: { "example.test.zone": ZONE },
    config: `zones: [example.test.zone]
checks:
  web: { type: http, port: ${eps.port}, path: /health, interval: 200ms, timeout: 150ms, fast_interval: 50ms, fall: 2, rise: 2, flap_window: 0 }
pools:
  - { name: app.example.test., type: A, ttl: 30, degraded_ttl: 5, policy: failover, check: web, endpoints: [127.0.0.40, 127.0.0.41] }
transfers:
  keys:
    ${KEY.name}: { algorithm: ${KEY.algorithm}, secret: "${KEY.secret}" }
  allow: [127.0.0.1]
  key: ${KEY.name}
  notify: ["127.0.0.1:${knotPort}", "127.0.0.1:${nsdPort}"]
  notify_delay: 50ms
`,
  });
  const primary = { host: p.srv.host, port: p.srv.port };
  [knot, nsd] = await Promise.all([
    startKnotSecondary({ primary, zones: ["example.test"], key: KEY, port: knotPort }),
    startNsdSecondary({ primary, zones: ["example.test"], key: KEY, port: nsdPort }),
  ]);
  const serial = p.xfr.status()[0]!.serial;
  await Promise.all([knot.waitSerial("example.test", serial), nsd.waitSerial("example.test", serial)]);
}, 30_000);

afterAll(async () => {
  if (timings.length) process.stdout.write(`\nxfr interop timings (endpoint change → secondary answers):\n${timings.map((t) => `  ${t}`).join("\n")}\n`);
  await Promise.all([knot?.close(), nsd?.close()]);
  await p?.close();
  await eps?.close();
});

describe.skipIf(!peers)("Knot DNS and NSD as secondaries of hadns", () => {
  it("both start from a full transfer of the rendered zone, signed", async () => {
    for (const s of [knot, nsd]) {
      const r = await s.query("app.example.test", "A");
      expect(r!.answers.map((a) => [a.data, a.ttl])).toEqual([["127.0.0.40", 30]]);
      const www = await s.query("www.example.test", "A");
      expect(www!.answers.map((a) => a.data)).toEqual(["192.0.2.80"]);
    }
    const st = p.xfr.status()[0]!;
    expect(st.transfers.axfr + st.transfers.ixfrFull).toBeGreaterThanOrEqual(2);
  });

  it("fail over: the primary endpoint goes down and both secondaries answer the other one", async () => {
    const serial0 = p.xfr.status()[0]!.serial;
    const ixfr0 = p.xfr.status()[0]!.transfers.ixfr;
    const t0 = performance.now();
    await eps.endpoints[0]!.set("refuse");
    const [own, k, n] = await Promise.all([hadnsUntil("127.0.0.41", t0), until(knot, "127.0.0.41", t0), until(nsd, "127.0.0.41", t0)]);
    timings.push(`failover: hadns ${own.toFixed(0)} ms, Knot ${k.toFixed(0)} ms (+${(k - own).toFixed(0)}), NSD ${n.toFixed(0)} ms (+${(n - own).toFixed(0)})`);
    const st = p.xfr.status()[0]!;
    expect(st.serial).toBe(serial0 + 1);
    // the degraded TTL travelled too
    expect((await knot.query("app.example.test", "A"))!.answers[0]!.ttl).toBe(5);
    // IXFR, not AXFR: one incremental transfer per secondary
    await Promise.all([knot.waitSerial("example.test", st.serial), nsd.waitSerial("example.test", st.serial)]);
    expect(p.xfr.status()[0]!.transfers.ixfr - ixfr0).toBeGreaterThanOrEqual(2);
    expect(knot.log()).toMatch(/IXFR, incoming, remote [^,]+, finished/);
    expect(knot.log()).not.toMatch(/fallback to AXFR/);
    expect(knot.log()).toMatch(new RegExp(`refresh, remote [^,]+, zone updated, [^,]+, serial ${serial0} -> ${serial0 + 1}`));
    // both acknowledged the NOTIFY
    for (const sec of p.xfr.status()[0]!.secondaries) expect(sec).toMatchObject({ ackedSerial: st.serial, lastError: null });
  });

  it("fail back: the endpoint returns and both secondaries answer it again", async () => {
    const t0 = performance.now();
    await eps.endpoints[0]!.set("ok");
    const [own, k, n] = await Promise.all([hadnsUntil("127.0.0.40", t0), until(knot, "127.0.0.40", t0), until(nsd, "127.0.0.40", t0)]);
    timings.push(`failback: hadns ${own.toFixed(0)} ms, Knot ${k.toFixed(0)} ms (+${(k - own).toFixed(0)}), NSD ${n.toFixed(0)} ms (+${(n - own).toFixed(0)})`);
    expect((await nsd.query("app.example.test", "A"))!.answers.map((a) => [a.data, a.ttl])).toEqual([["127.0.0.40", 30]]);
    const kinds = p.logs.filter((l) => l.type === "IXFR").map((l) => l.kind);
    expect(kinds.filter((k) => k === "incremental").length).toBeGreaterThanOrEqual(4);
  });

  it("refuses an unsigned transfer and a wrongly signed one, and says why", async () => {
    const at = ["@" + p.srv.host, "-p", String(p.srv.port), "+tcp", "example.test", "AXFR"];
    expect(await kdig(at)).toMatch(/REFUSED/);
    expect(await kdig([...at, "-y", `hmac-sha256:${KEY.name}:${Buffer.alloc(32, 1).toString("base64")}`])).toMatch(/BADSIG/);
    expect(await kdig([...at, "-y", kdigKey(KEY)])).toMatch(/app\.example\.test\.\s+30\s+IN\s+A\s+127\.0\.0\.40/);
    const reasons = p.logs.filter((l) => String(l.msg).includes("refused")).map((l) => String(l.reason));
    expect(reasons.some((r) => /unsigned; this zone requires TSIG key hadns-xfr\./.test(r))).toBe(true);
    expect(reasons.some((r) => /wrong MAC.*BADSIG/.test(r))).toBe(true);
  });
});
