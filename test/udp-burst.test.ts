// UDP answers leave in bursts: at the end of a loop turn on the node:dgram path (src/server/udp.ts),
// in one sendmmsg per batch of up to 64 on the native path (src/server/udp-native.ts). Many queries
// arriving at once, from several client sockets, must each get their own answer: right ID, right
// question, right address, to the socket that asked. Both paths, whichever the suite runs on.

import dgram from "node:dgram";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Answerer } from "../src/server/answerer.js";
import { listenUdp } from "../src/server/udp.js";
import { loadUdpBatch } from "../src/server/udp-native.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";
import dnsPacket from "dns-packet";
import { buildQuery } from "./support/client.js";

const ZONE = `$ORIGIN burst.test.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.53
${Array.from({ length: 64 }, (_, i) => `h${i} A 198.51.100.${i}`).join("\n")}
`;

const native = loadUdpBatch() !== null;

/** Run `fn` with HADNS_UDP set to `mode` (undefined: unset), then put it back. */
async function withUdpMode<T>(mode: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.HADNS_UDP;
  if (mode === undefined) delete process.env.HADNS_UDP;
  else process.env.HADNS_UDP = mode;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.HADNS_UDP;
    else process.env.HADNS_UDP = before;
  }
}

function client(): Promise<dgram.Socket> {
  const s = dgram.createSocket("udp4");
  return new Promise((res) => s.bind(0, "127.0.0.1", () => res(s)));
}

describe.each([
  { path: "native", mode: undefined, skip: !native },
  { path: "dgram", mode: "dgram", skip: false },
])("UDP answers sent in bursts ($path)", ({ path, mode, skip }) => {
  let h: HadnsHandle;
  beforeAll(async () => {
    if (!skip) h = await withUdpMode(mode, () => startHadns([{ text: ZONE, origin: "burst.test." }]));
  });
  afterAll(async () => {
    await h?.close();
  });

  it.skipIf(skip)(`listenUdp takes the ${path} path`, async () => {
    const log = pino({ level: "silent" });
    const l = await withUdpMode(mode, () => listenUdp("127.0.0.1", 0, new Answerer(h.server.engine, log), log));
    try {
      if (path === "native") expect(l.socket).toBeUndefined();
      else expect(l.socket).toBeDefined();
      expect(l.port).toBeGreaterThan(0);
    } finally {
      await l.close();
    }
  });

  it.skipIf(skip)("400 queries sent back to back from 4 sockets: every one answered once, to its own socket, with its own ID and name", async () => {
    const sockets = await Promise.all([0, 1, 2, 3].map(() => client()));
    const got = sockets.map(() => new Map<number, string>());
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`answers missing: ${got.map((g) => g.size).join(", ")} of 100 each`)), 10_000);
      sockets.forEach((s, si) =>
        s.on("message", (m) => {
          const p = dnsPacket.decode(m);
          const id = p.id ?? -1;
          if (got[si]!.has(id)) reject(new Error(`socket ${si} got ID ${id} twice`));
          got[si]!.set(id, `${p.questions![0]!.name} ${p.answers!.map((rr) => String(rr.data)).join(";")}`);
          if (got.every((g) => g.size === 100)) {
            clearTimeout(timer);
            resolve();
          }
        }),
      );
    });
    for (let i = 0; i < 100; i++) {
      sockets.forEach((s, si) => {
        const k = (i + si * 7) % 64;
        s.send(buildQuery({ id: si * 1000 + i, name: `H${k}.Burst.Test`, type: "A" }), h.port, "127.0.0.1");
      });
    }
    await done;
    sockets.forEach((s, si) => {
      for (let i = 0; i < 100; i++) {
        const k = (i + si * 7) % 64;
        expect(got[si]!.get(si * 1000 + i)).toBe(`H${k}.Burst.Test 198.51.100.${k}`);
      }
      s.close();
    });
  });
});
