// Zone transfers over real sockets, checked with Knot's kdig and BIND's dig (independent decoders and
// TSIG implementations): AXFR of the rendered zone (pools as their current records, SOA first and last,
// several messages for a big zone, every one signed), IXFR differences after a pool flips, IXFR over
// UDP, the refusals (address, missing or wrong key, unknown key, AXFR over UDP) and how each is logged,
// NOTIFY sent to a secondary and retried until it answers, and hadns's own SOA following the serial.

import dgram from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery, sendUdp } from "./support/client.js";
import { digAt } from "./support/dig.js";
import { kdig, kdigKey, parseTransfer, startPrimary, type Primary } from "./support/xfr.js";
import { parseMessage } from "../src/xfr/message.js";
import { findTsig, nowSeconds, signMessage, verifyMessage, type TsigKey } from "../src/xfr/tsig.js";
import { nameFromText } from "../src/wire/name.js";
import { renderMetrics } from "../src/ops/metrics.js";
import { statusOf } from "../src/ops/api/status.js";

const KEY = { name: "xfr-key", algorithm: "hmac-sha256", secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTAxMjM=" };
const OTHER = { name: "other-key", algorithm: "hmac-sha256", secret: "b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMDE=" };
const tsigKey = (k: typeof KEY): TsigKey => ({ name: nameFromText(k.name + "."), algorithm: "hmac-sha256", secret: Buffer.from(k.secret, "base64") });

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 2024010101 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
www           A     192.0.2.80
alias         CNAME app
`;
const PLAIN = `$ORIGIN plain.test.
$TTL 300
@ SOA ns1 hostmaster 7 3600 900 604800 120
@ NS ns1
ns1 A 192.0.2.53
`;
const BIG = `$ORIGIN big.test.
$TTL 300
@ SOA ns1 hostmaster 1 3600 900 604800 120
@ NS ns1
ns1 A 192.0.2.53
${Array.from({ length: 3000 }, (_, i) => `h${i} TXT "record number ${i} with some padding to make the zone big enough for several messages"`).join("\n")}
`;

let p: Primary;
let notifyTarget: dgram.Socket;
const notifies: Array<{ msg: Buffer; at: number }> = [];
let answerNotify = true;

beforeAll(async () => {
  // A fake secondary: records NOTIFYs and (when told) answers them, signed, as a real one would.
  notifyTarget = dgram.createSocket("udp4");
  notifyTarget.on("message", (msg, rinfo) => {
    notifies.push({ msg, at: Date.now() });
    if (!answerNotify) return;
    const m = parseMessage(msg);
    const t = findTsig(msg, m)!;
    const reply = Buffer.from(msg.subarray(0, t.start));
    reply.writeUInt16BE(reply.readUInt16BE(2) | 0x8000, 2);
    reply.writeUInt16BE(0, 6); // no answer section
    const q = m.question!;
    const bare = Buffer.concat([reply.subarray(0, 12), msg.subarray(q.start, q.end)]);
    bare.writeUInt16BE(0, 10);
    const signed = signMessage(bare, tsigKey(KEY), { time: nowSeconds(), requestMac: t.mac }).message;
    notifyTarget.send(signed, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => notifyTarget.bind(0, "127.0.0.1", () => r()));
  const port = (notifyTarget.address() as { port: number }).port;
  p = await startPrimary({
    files: { "example.test.zone": ZONE, "plain.test.zone": PLAIN, "big.test.zone": BIG, "other.test.zone": PLAIN.replaceAll("plain.test", "other.test") },
    config: `zones: [example.test.zone, plain.test.zone, big.test.zone, other.test.zone]
pools:
  - { name: app.example.test., type: A, ttl: 30, degraded_ttl: 5, policy: failover, endpoints: [192.0.2.10, 192.0.2.11] }
  - { name: mv.example.test., type: A, ttl: 60, policy: multivalue, max_answers: 2, endpoints: [192.0.2.20, 192.0.2.21, 192.0.2.22] }
  - { name: wt.example.test., type: A, ttl: 60, policy: weighted, endpoints: [{ address: 192.0.2.30, weight: 3 }, { address: 192.0.2.31, weight: 1 }] }
  - { name: gone.example.test., type: A, ttl: 60, policy: failover, when_all_down: servfail, endpoints: [192.0.2.40] }
transfers:
  keys:
    xfr-key: { algorithm: hmac-sha256, secret: "${KEY.secret}" }
    other-key: { algorithm: hmac-sha256, secret: "${OTHER.secret}" }
  allow: [127.0.0.1]
  notify_delay: 50ms
  journal_depth: 3
  zones:
    example.test.: { key: xfr-key, notify: ["127.0.0.1:${port}"] }
    plain.test.:
    big.test.: { key: xfr-key }
`,
    notifyRetryMs: [100, 200, 400],
  });
});

afterAll(async () => {
  await p?.close();
  notifyTarget?.close();
});

const host = () => p.srv.host;
const port = () => String(p.srv.port);
const axfr = (zone: string, ...extra: string[]) => kdig([`@${host()}`, "-p", port(), "+tcp", zone, "AXFR", ...extra]);
const status = (zone: string) => p.xfr.status().find((s) => s.zone === zone)!;
const override = (pool: string, address: string, action: "down" | "up") =>
  p.srv.instance.overrides.add({ pool, address, action, reason: "test", forMs: 600_000 });

describe("AXFR", () => {
  it("sends the rendered zone, SOA first and last, signed, pools as the records they answer", async () => {
    const t = parseTransfer(await axfr("example.test", "-y", kdigKey(KEY)));
    expect(t.problems).toEqual([]);
    const soa = "example.test. 3600 SOA ns1.example.test. hostmaster.example.test. 2024010101 3600 900 604800 120";
    expect(t.records[0]).toBe(soa);
    expect(t.records.at(-1)).toBe(soa);
    expect(t.records.slice(1, -1).sort()).toEqual(
      [
        "example.test. 3600 NS ns1.example.test.",
        "ns1.example.test. 300 A 192.0.2.53",
        "www.example.test. 300 A 192.0.2.80",
        "alias.example.test. 300 CNAME app.example.test.",
        // failover: the first healthy group
        "app.example.test. 30 A 192.0.2.10",
        // multivalue, max_answers 2: the first two
        "mv.example.test. 60 A 192.0.2.20",
        "mv.example.test. 60 A 192.0.2.21",
        // weighted: every healthy endpoint
        "wt.example.test. 60 A 192.0.2.30",
        "wt.example.test. 60 A 192.0.2.31",
        // gone (one endpoint, up): answered
        "gone.example.test. 60 A 192.0.2.40",
      ].sort(),
    );
    expect(status("example.test.").transfers.axfr).toBeGreaterThanOrEqual(1);
  });

  it("dig agrees (BIND's TSIG and decoder)", async () => {
    const out = await digAt(host(), p.srv.port, ["example.test", "AXFR", "-y", `hmac-sha256:${KEY.name}:${KEY.secret}`]);
    expect(out).not.toMatch(/Transfer failed|tsig verify failure|failed/i);
    expect(out).toMatch(/app\.example\.test\.\s+30\s+IN\s+A\s+192\.0\.2\.10/);
    expect(out.match(/IN\s+SOA/g)?.length).toBe(2);
  });

  it("splits a big zone over several messages, each signed (kdig verifies every one)", async () => {
    const t = parseTransfer(await axfr("big.test", "-y", kdigKey(KEY)));
    expect(t.problems).toEqual([]);
    expect(t.records.length).toBe(3000 + 2 + 2);
    expect(t.messages).toBeGreaterThan(5);
    expect(t.tsigs.length).toBe(t.messages);
    expect(t.records[0]).toMatch(/^big\.test\. 300 SOA /);
    expect(t.records.at(-1)).toBe(t.records[0]);
  });

  it("serves a zone without a key to an allowed address, unsigned", async () => {
    const t = parseTransfer(await axfr("plain.test"));
    expect(t.problems).toEqual([]);
    expect(t.records.length).toBe(4);
  });

  it("AXFR over UDP gets NOTIMP (TCP only)", async () => {
    const r = await sendUdp(host(), p.srv.port, buildQuery({ name: "plain.test", type: "AXFR" }));
    expect(r![3]! & 0xf).toBe(4);
  });
});

describe("refusals, each logged with the client and the reason", () => {
  const lastRefusal = () => p.logs.filter((l) => String(l.msg).includes("refused")).at(-1);

  it("unsigned, for a zone that requires the key: REFUSED", async () => {
    const out = await axfr("example.test");
    expect(out).toMatch(/REFUSED/);
    expect(lastRefusal()).toMatchObject({ client: "127.0.0.1", zone: "example.test.", type: "AXFR" });
    expect(String(lastRefusal()!.reason)).toMatch(/unsigned; this zone requires TSIG key xfr-key\./);
  });

  it("signed with another known key: REFUSED", async () => {
    const out = await axfr("example.test", "-y", kdigKey(OTHER));
    expect(out).toMatch(/REFUSED/);
    expect(String(lastRefusal()!.reason)).toMatch(/signed with key other-key\., not xfr-key\./);
  });

  it("the right key name with a wrong secret: NOTAUTH, BADSIG", async () => {
    const out = await axfr("example.test", "-y", `hmac-sha256:${KEY.name}:${OTHER.secret}`);
    expect(out).toMatch(/BADSIG/);
    expect(String(lastRefusal()!.reason)).toMatch(/wrong MAC.*BADSIG/);
  });

  it("an unknown key: NOTAUTH, BADKEY", async () => {
    const out = await axfr("example.test", "-y", `hmac-sha256:nobody:${KEY.secret}`);
    expect(out).toMatch(/BADKEY/);
  });

  it("a clock five minutes off: NOTAUTH, BADTIME (a signed answer with our time)", async () => {
    const q = buildQuery({ id: 4242, name: "example.test", type: "AXFR" });
    const signed = signMessage(q, tsigKey(KEY), { time: nowSeconds() - 600 }).message;
    const { sendTcp } = await import("./support/client.js");
    const r = (await sendTcp(host(), p.srv.port, signed))!;
    const m = parseMessage(r);
    expect(m.rcode).toBe(9);
    const t = findTsig(r, m)!;
    expect(t.error).toBe(18);
    expect(Math.abs(t.other.readUIntBE(0, 6) - nowSeconds())).toBeLessThan(5);
    const v = verifyMessage(r, t, tsigKey(KEY), { now: nowSeconds() - 600, requestMac: findTsig(signed, parseMessage(signed))!.mac });
    expect(v.ok).toBe(true);
  });

  it("an address not in allow: REFUSED, whatever the key", async () => {
    const out = await axfr("example.test", "-y", kdigKey(KEY), "-b", "127.0.0.9");
    expect(out).toMatch(/REFUSED/);
    expect(lastRefusal()).toMatchObject({ client: "127.0.0.9" });
    expect(String(lastRefusal()!.reason)).toMatch(/address not in allow/);
  });

  it("a zone hadns serves but does not transfer: REFUSED (the engine's answer, as without transfers)", async () => {
    expect(await axfr("other.test")).toMatch(/REFUSED/);
  });

  it("an incoming NOTIFY: NOTAUTH (hadns is the primary)", async () => {
    const r = await sendUdp(host(), p.srv.port, buildQuery({ name: "plain.test", type: "SOA", opcode: 4 }));
    expect((r![2]! >> 3) & 0xf).toBe(4);
    expect(r![3]! & 0xf).toBe(9);
  });
});

describe("a pool flips: new serial, IXFR differences, NOTIFY, hadns's own SOA", () => {
  it("takes the failover endpoint down and back, through serials, IXFR and NOTIFY", async () => {
    const s0 = status("example.test.").serial;
    const before = notifies.length;
    override("app.example.test.", "192.0.2.10", "down");
    await p.xfr.flush();
    const s1 = status("example.test.").serial;
    expect(s1).toBe(s0 + 1);
    // hadns itself answers the new serial (a secondary asks for the SOA before transferring)
    const soa = await digAt(host(), p.srv.port, ["+short", "example.test", "SOA"]);
    expect(soa.trim().split(" ")[2]).toBe(String(s1));

    // NOTIFY: signed, the new SOA in the answer section, acknowledged
    expect(notifies.length).toBeGreaterThan(before);
    const n = notifies.at(-1)!.msg;
    const nm = parseMessage(n);
    expect(nm.opcode).toBe(4);
    expect(n.readUInt32BE(nm.answer[0]!.end - 20)).toBe(s1);
    expect(verifyMessage(n, findTsig(n, nm)!, tsigKey(KEY), { now: nowSeconds() }).ok).toBe(true);
    const sec = status("example.test.").secondaries[0]!;
    expect(sec).toMatchObject({ serial: s1, ackedSerial: s1, lastError: null });

    // IXFR from s0: one difference, deleting .10 (ttl 30) and adding .11 with the degraded TTL
    const t = parseTransfer(await kdig([`@${host()}`, "-p", port(), "+tcp", "example.test", `IXFR=${s0}`, "-y", kdigKey(KEY)]));
    expect(t.problems).toEqual([]);
    const soaOf = (serial: number) => `example.test. 3600 SOA ns1.example.test. hostmaster.example.test. ${serial} 3600 900 604800 120`;
    expect(t.records).toEqual([soaOf(s1), soaOf(s0), "app.example.test. 30 A 192.0.2.10", soaOf(s1), "app.example.test. 5 A 192.0.2.11", soaOf(s1)]);
    expect(status("example.test.").transfers.ixfr).toBe(1);

    // Up to date: the SOA alone
    const u = parseTransfer(await kdig([`@${host()}`, "-p", port(), "+tcp", "example.test", `IXFR=${s1}`, "-y", kdigKey(KEY)]));
    expect(u.records).toEqual([soaOf(s1)]);

    // Over UDP the difference fits in one message
    const udp = parseTransfer(await kdig([`@${host()}`, "-p", port(), "+notcp", "example.test", `IXFR=${s0}`, "-y", kdigKey(KEY)]));
    expect(udp.problems).toEqual([]);
    expect(udp.records.length).toBe(6);

    // Back: a second step; IXFR from s0 now has two differences
    override("app.example.test.", "192.0.2.10", "up");
    await p.xfr.flush();
    const s2 = status("example.test.").serial;
    expect(s2).toBe(s1 + 1);
    const t2 = parseTransfer(await kdig([`@${host()}`, "-p", port(), "+tcp", "example.test", `IXFR=${s0}`, "-y", kdigKey(KEY)]));
    expect(t2.records.filter((r) => r.includes(" SOA ")).length).toBe(2 * 2 + 2);
    expect(t2.records.at(-2)).toBe("app.example.test. 30 A 192.0.2.10");

    // A serial the journal never had: the whole zone
    const full = parseTransfer(await kdig([`@${host()}`, "-p", port(), "+tcp", "example.test", "IXFR=12345", "-y", kdigKey(KEY)]));
    expect(full.records.length).toBe(12);
    expect(status("example.test.").transfers.ixfrFull).toBe(1);
  });

  it("coalesces a burst of flips into one new serial", async () => {
    const s0 = status("example.test.").serial;
    // Quiet for longer than notify_delay: the first flip goes out at once …
    await new Promise((r) => setTimeout(r, 80));
    override("mv.example.test.", "192.0.2.20", "down");
    await new Promise((r) => setTimeout(r, 5));
    expect(status("example.test.").serial).toBe(s0 + 1);
    // … the next ones within notify_delay become one version
    override("mv.example.test.", "192.0.2.21", "down");
    override("wt.example.test.", "192.0.2.30", "down");
    override("gone.example.test.", "192.0.2.40", "down");
    expect(status("example.test.").serial).toBe(s0 + 1);
    await new Promise((r) => setTimeout(r, 120));
    expect(status("example.test.").serial).toBe(s0 + 2);
    const t = parseTransfer(await axfr("example.test", "-y", kdigKey(KEY)));
    // servfail pool: no records at all; weighted: the remaining endpoint
    expect(t.records.filter((r) => r.startsWith("gone."))).toEqual([]);
    expect(t.records.filter((r) => r.startsWith("wt."))).toEqual(["wt.example.test. 60 A 192.0.2.31"]);
    expect(t.records.filter((r) => r.startsWith("mv."))).toEqual(["mv.example.test. 60 A 192.0.2.22"]);
  });

  it("keeps journal_depth differences; an older client gets the whole zone", async () => {
    const st = status("example.test.");
    expect(st.journal.length).toBe(3 + 1);
    expect(st.journal.at(-1)).toBe(st.serial);
  });

  it("resends an unanswered NOTIFY with backoff, then gives up and says so", async () => {
    answerNotify = false;
    const before = notifies.length;
    override("app.example.test.", "192.0.2.11", "down");
    // The first send, three resends (after 100, 200, 400 ms), then giving up (400 ms later): wait for
    // that rather than a fixed time, as a loaded machine stretches timers.
    const end = Date.now() + 10_000;
    while (!/no answer after/.test(status("example.test.").secondaries[0]!.lastError ?? "") && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    answerNotify = true;
    expect(notifies.length - before).toBe(4);
    const sec = status("example.test.").secondaries[0]!;
    expect(sec.lastError).toMatch(/no answer after 4 tries/);
    expect(p.logs.some((l) => String(l.msg).includes("not acknowledged"))).toBe(true);
  });
});

describe("status and metrics", () => {
  it("/v1/status shows each transferred zone's serial, secondaries with their last NOTIFY and acknowledgement, and transfers", () => {
    const st = statusOf(p.srv.instance).transfers;
    expect(st.map((z) => z.zone).sort()).toEqual(["big.test.", "example.test.", "plain.test."]);
    const ex = st.find((z) => z.zone === "example.test.")!;
    expect(ex).toMatchObject({ serialPolicy: "increment", key: "xfr-key.", allow: ["127.0.0.1"] });
    expect(ex.serial).toBeGreaterThan(2024010101);
    expect(ex.secondaries[0]).toMatchObject({ target: expect.stringMatching(/^127\.0\.0\.1:\d+$/), serial: ex.serial });
    expect(ex.secondaries[0]!.ackedAt).toEqual(expect.any(Number));
    expect(ex.transfers.ixfr).toBeGreaterThanOrEqual(1);
  });

  it("/metrics has the serial, transfers by kind, refusals and NOTIFY acknowledgements", () => {
    const m = renderMetrics(p.srv.instance);
    const serial = status("example.test.").serial;
    expect(m).toContain(`hadns_xfr_serial{zone="example.test."} ${serial}`);
    // hadns's own SOA serial follows too
    expect(m).toContain(`hadns_zone_serial{zone="example.test."} ${serial}`);
    expect(m).toMatch(/hadns_xfr_transfers_total\{zone="example.test.",kind="ixfr"\} [1-9]/);
    expect(m).toMatch(/hadns_xfr_refused_total\{zone="example.test."\} [1-9]/);
    expect(m).toMatch(/hadns_xfr_notify_acked_serial\{zone="example.test.",secondary="127.0.0.1:\d+"\} \d+/);
    expect(m).toMatch(/# TYPE hadns_xfr_notify_failed_total counter/);
  });
});
