// The native batched UDP socket (native/udp-batch.c via src/server/udp-native.ts): the loader falls
// back to node:dgram when the addon is absent; what the addon reads but must not answer (datagrams
// bigger than its 4096-byte slots: truncated, malformed) never stops it; IPv6; a closed socket frees
// its port at once. Skipped where the addon is not built (no compiler): udp.ts then uses dgram.

import dgram from "node:dgram";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Answerer } from "../src/server/answerer.js";
import { listenNative, loadUdpBatch, UDP_BATCH_ADDON } from "../src/server/udp-native.js";
import * as udpNative from "../src/server/udp-native.js";
import dnsPacket from "dns-packet";
import { buildQuery, sendUdp } from "./support/client.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

const ZONE = `$ORIGIN native.test.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.80
www AAAA 2001:db8::80
`;

const binding = loadUdpBatch();

describe("udp-native loader", () => {
  it("returns null, with a reason, when the addon file is absent", () => {
    const missing = new URL("./no-such-dir/udp-batch.node", UDP_BATCH_ADDON);
    expect(loadUdpBatch(missing)).toBeNull();
    expect(udpNative.loadError).toMatch(/not built/);
    // And again from the cache, without a second attempt.
    expect(loadUdpBatch(missing)).toBeNull();
  });

  it("returns null for a file that is not the addon", () => {
    expect(loadUdpBatch(new URL("../../package.json", UDP_BATCH_ADDON))).toBeNull();
  });
});

describe.skipIf(binding === null)("native UDP socket", () => {
  let h: HadnsHandle;
  beforeAll(async () => {
    h = await startHadns([{ text: ZONE, origin: "native.test." }]);
  });
  afterAll(async () => {
    await h.close();
  });

  it("drops datagrams bigger than a slot (truncated) and answers the next query", async () => {
    const log = pino({ level: "silent" });
    const l = listenNative(binding!, "127.0.0.1", 0, new Answerer(h.server.engine, log), log);
    try {
      const big = Buffer.concat([buildQuery({ id: 7, name: "www.native.test", type: "A" }), Buffer.alloc(5000, 0xab)]);
      expect(await sendUdp("127.0.0.1", l.port, big, { timeoutMs: 300 })).toBeNull();
      const res = await sendUdp("127.0.0.1", l.port, buildQuery({ id: 8, name: "www.native.test", type: "A" }));
      expect(res).not.toBeNull();
      const p = dnsPacket.decode(res!);
      expect(p.id).toBe(8);
      expect(p.answers!.map((a) => a.data)).toEqual(["192.0.2.80"]);
      expect(l.stats().truncated).toBe(1);
      expect(l.stats().sent).toBe(1);
    } finally {
      await l.close();
    }
  });

  it("answers over IPv6", async () => {
    const log = pino({ level: "silent" });
    let l;
    try {
      l = listenNative(binding!, "::1", 0, new Answerer(h.server.engine, log), log);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EADDRNOTAVAIL" || (e as NodeJS.ErrnoException).code === "EAFNOSUPPORT") return; // no IPv6 here
      throw e;
    }
    try {
      const res = await sendUdp("::1", l.port, buildQuery({ id: 9, name: "www.native.test", type: "AAAA" }));
      expect(dnsPacket.decode(res!).answers!.map((a) => a.data)).toEqual(["2001:db8::80"]);
    } finally {
      await l.close();
    }
  });

  it("frees its port as soon as close() returns, and gives EADDRINUSE like dgram", async () => {
    const log = pino({ level: "silent" });
    const answerer = new Answerer(h.server.engine, log);
    const a = listenNative(binding!, "127.0.0.1", 0, answerer, log);
    expect(() => listenNative(binding!, "127.0.0.1", a.port, answerer, log)).toThrow(expect.objectContaining({ code: "EADDRINUSE" }));
    await a.close();
    const b = listenNative(binding!, "127.0.0.1", a.port, answerer, log);
    expect(b.port).toBe(a.port);
    await b.close();
  });

  it("a host name is not for the addon (EINVAL): listenUdp's fallback", () => {
    const log = pino({ level: "silent" });
    expect(() => listenNative(binding!, "localhost", 0, new Answerer(h.server.engine, log), log)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });

  it("each answer goes to the socket that asked, across batches", async () => {
    // 300 answers can land before the client reads one: room for them (the default 208 KiB is not).
    const sock = dgram.createSocket({ type: "udp4", recvBufferSize: 4 << 20 });
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
    const ids = new Set<number>();
    const done = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${ids.size} of 300 answers`)), 10_000);
      sock.on("message", (m) => {
        ids.add(dnsPacket.decode(m).id!);
        if (ids.size === 300) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    for (let i = 0; i < 300; i++) sock.send(buildQuery({ id: i, name: "www.native.test", type: "A" }), h.port, "127.0.0.1");
    await done;
    sock.close();
  });
});
