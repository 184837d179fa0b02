// TSIG (RFC 8945) sign and verify: round trips, each error in the order of §5.2 (BADKEY, BADSIG,
// BADTIME, BADTRUNC, FORMERR for a MAC under the floor), multi-message chains (§5.3.1), and interop
// with two independent implementations: Knot's kdig and BIND's dig sign queries that hadns verifies,
// and verify the answers hadns signs (a deliberately broken MAC shows they do check).

import { execFile } from "node:child_process";
import dgram from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildQuery } from "./support/client.js";
import { dig } from "./support/dig.js";
import { nameFromText } from "../src/wire/name.js";
import { parseMessage } from "../src/xfr/message.js";
import { findTsig, nowSeconds, signMessage, TsigError, TsigStream, unsignedForm, verifyMessage, type TsigAlgorithm, type TsigKey } from "../src/xfr/tsig.js";

const SECRET = "dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IG9mIDMyIGJ5dGVzIQ==";
const key = (algorithm: TsigAlgorithm = "hmac-sha256", name = "test-key."): TsigKey => ({ name: nameFromText(name), algorithm, secret: Buffer.from(SECRET, "base64") });

function kdig(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile(process.env.KDIG ?? "kdig", args, { timeout: 10_000 }, (_e, out, err) => resolve(out + err)));
}

function tsigOf(msg: Buffer) {
  return findTsig(msg, parseMessage(msg))!;
}

describe("sign and verify", () => {
  const q = buildQuery({ id: 0x1234, name: "example.test", type: "AXFR" });

  it("a signed request verifies; the TSIG is the last record; the unsigned form is the original", () => {
    const { message, mac } = signMessage(q, key(), { time: 1_700_000_000 });
    expect(message.readUInt16BE(10)).toBe(1);
    const t = tsigOf(message);
    expect(t.keyName.key).toBe(nameFromText("test-key.").key);
    expect(t.mac.equals(mac)).toBe(true);
    expect(t.mac.length).toBe(32);
    expect(t.fudge).toBe(300);
    expect(t.originalId).toBe(0x1234);
    expect(unsignedForm(message, t).equals(q)).toBe(true);
    expect(verifyMessage(message, t, key(), { now: 1_700_000_100 })).toMatchObject({ ok: true });
  });

  it("the key name compares without case", () => {
    const { message } = signMessage(q, key("hmac-sha256", "Test-KEY."), { time: 1_700_000_000 });
    expect(verifyMessage(message, tsigOf(message), key(), { now: 1_700_000_000 }).ok).toBe(true);
  });

  it("survives a changed message ID (a forwarder's), as §4.3.2 asks", () => {
    const { message } = signMessage(q, key(), { time: 1_700_000_000 });
    message.writeUInt16BE(0x9999, 0);
    expect(verifyMessage(message, tsigOf(message), key(), { now: 1_700_000_000 }).ok).toBe(true);
  });

  it.each(["hmac-sha1", "hmac-sha224", "hmac-sha384", "hmac-sha512"] as const)("%s round-trips", (alg) => {
    const { message } = signMessage(q, key(alg), { time: 1_700_000_000 });
    expect(verifyMessage(message, tsigOf(message), key(alg), { now: 1_700_000_000 }).ok).toBe(true);
  });

  it("BADKEY: no such key, or the key with another algorithm", () => {
    const { message } = signMessage(q, key(), { time: 1_700_000_000 });
    expect(verifyMessage(message, tsigOf(message), undefined, { now: 1_700_000_000 })).toMatchObject({ ok: false, error: TsigError.BADKEY });
    expect(verifyMessage(message, tsigOf(message), key("hmac-sha512"), { now: 1_700_000_000 })).toMatchObject({ ok: false, error: TsigError.BADKEY });
  });

  it("BADSIG: one byte changed, or another secret", () => {
    const { message } = signMessage(q, key(), { time: 1_700_000_000 });
    const bent = Buffer.from(message);
    bent[14] ^= 1;
    expect(verifyMessage(bent, tsigOf(bent), key(), { now: 1_700_000_000 })).toMatchObject({ ok: false, error: TsigError.BADSIG });
    const other = { ...key(), secret: Buffer.alloc(32, 7) };
    expect(verifyMessage(message, tsigOf(message), other, { now: 1_700_000_000 })).toMatchObject({ ok: false, error: TsigError.BADSIG });
  });

  it("BADTIME: outside the fudge, checked after the MAC", () => {
    const { message } = signMessage(q, key(), { time: 1_700_000_000 });
    expect(verifyMessage(message, tsigOf(message), key(), { now: 1_700_000_301 })).toMatchObject({ ok: false, error: TsigError.BADTIME });
    expect(verifyMessage(message, tsigOf(message), key(), { now: 1_699_999_700 }).ok).toBe(true);
  });

  it("a truncated MAC: BADTRUNC when it verifies but is short, FORMERR under max(10, half) octets", () => {
    const { message } = signMessage(q, key(), { time: 1_700_000_000 });
    const cut = (n: number) => {
      const t = tsigOf(message);
      const m = parseMessage(message);
      const rr = m.additional.at(-1)!;
      const algLen = nameFromText("hmac-sha256.").wire.length;
      const macAt = rr.rdataStart + algLen + 10;
      const out = Buffer.concat([message.subarray(0, macAt - 2), Buffer.from([0, n]), t.mac.subarray(0, n), message.subarray(macAt + 32)]);
      out.writeUInt16BE(rr.end - rr.rdataStart - (32 - n), rr.rdataStart - 2);
      return out;
    };
    const half = cut(16);
    expect(verifyMessage(half, tsigOf(half), key(), { now: 1_700_000_000 })).toMatchObject({ ok: false, error: TsigError.BADTRUNC });
    const tiny = cut(8);
    expect(verifyMessage(tiny, tsigOf(tiny), key(), { now: 1_700_000_000 })).toMatchObject({ ok: false, formerr: true });
  });

  it("a response covers the request's MAC; a chain covers each prior MAC and the timers (§5.3.1)", () => {
    const req = signMessage(q, key(), { time: 1_700_000_000 });
    const stream = new TsigStream(key(), req.mac, () => 1_700_000_001);
    const parts = [0, 1, 2].map((i) => {
      const r = Buffer.from(q);
      r.writeUInt16BE(0x8400 | i, 2);
      return stream.sign(r);
    });
    let prior: Buffer | undefined;
    for (const [i, msg] of parts.entries()) {
      const t = tsigOf(msg);
      const v = verifyMessage(msg, t, key(), i === 0 ? { now: 1_700_000_001, requestMac: req.mac } : { now: 1_700_000_001, priorMac: prior! });
      expect(v.ok).toBe(true);
      // the same message checked as a first one (or against the wrong MAC) does not verify
      if (i > 0) expect(verifyMessage(msg, t, key(), { now: 1_700_000_001, requestMac: req.mac }).ok).toBe(false);
      prior = t.mac;
    }
  });
});

describe("interop with kdig and dig", () => {
  let sock: dgram.Socket;
  let port = 0;
  let lastVerified: ReturnType<typeof verifyMessage> | undefined;
  let breakMac = false;
  let alg: TsigAlgorithm = "hmac-sha256";

  beforeAll(async () => {
    // A tiny signed server: verify the client's TSIG, answer NOERROR signed over its MAC.
    sock = dgram.createSocket("udp4");
    sock.on("message", (msg, rinfo) => {
      const m = parseMessage(msg);
      const t = findTsig(msg, m)!;
      lastVerified = verifyMessage(msg, t, key(alg), { now: nowSeconds() });
      const reply = Buffer.from(msg.subarray(0, m.question!.end));
      reply.writeUInt16BE(0x8400 | (reply.readUInt16BE(2) & 0x0100), 2);
      reply.writeUInt16BE(0, 10);
      const signed = signMessage(reply, key(alg), { time: nowSeconds(), requestMac: t.mac }).message;
      if (breakMac) signed[signed.length - 10] ^= 0xff;
      sock.send(signed, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    port = (sock.address() as { port: number }).port;
  });
  afterAll(() => sock?.close());

  it.each(["hmac-sha256", "hmac-sha512", "hmac-sha1"] as const)("kdig -y %s: hadns verifies kdig's request, kdig verifies hadns's answer", async (a) => {
    alg = a;
    breakMac = false;
    const out = await kdig(["@127.0.0.1", "-p", String(port), "+notcp", "+retry=0", "example.test", "SOA", "-y", `${a}:test-key:${SECRET}`]);
    expect(lastVerified).toMatchObject({ ok: true });
    expect(out).toMatch(/status: NOERROR/);
    expect(out).toMatch(/TSIG/);
    expect(out).not.toMatch(/;; (WARNING|ERROR)|failed/);
  });

  it("kdig notices a broken MAC in hadns's answer (so the check above means something)", async () => {
    alg = "hmac-sha256";
    breakMac = true;
    const out = await kdig(["@127.0.0.1", "-p", String(port), "+notcp", "+retry=0", "example.test", "SOA", "-y", `hmac-sha256:test-key:${SECRET}`]);
    breakMac = false;
    expect(out).toMatch(/;; WARNING: reply verification .*failed to verify TSIG/);
  });

  it("dig (BIND) -y hmac-sha512: each side verifies the other", async () => {
    alg = "hmac-sha512";
    breakMac = false;
    const out = await dig(["@127.0.0.1", "-p", String(port), "+time=2", "+tries=1", "example.test", "SOA", "-y", `hmac-sha512:test-key:${SECRET}`]);
    expect(lastVerified).toMatchObject({ ok: true });
    expect(out).toMatch(/status: NOERROR/);
    expect(out).toMatch(/TSIG.*NOERROR/);
    expect(out).not.toMatch(/tsig verify failure|expected a TSIG/i);
  });

  it("dig reports a broken MAC", async () => {
    alg = "hmac-sha512";
    breakMac = true;
    const out = await dig(["@127.0.0.1", "-p", String(port), "+time=2", "+tries=1", "example.test", "SOA", "-y", `hmac-sha512:test-key:${SECRET}`]);
    breakMac = false;
    expect(out).toMatch(/tsig verify failure|BADSIG|failure/i);
  });
});
