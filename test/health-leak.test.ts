// Thousands of probes against servers that accept and never answer: every probe ends at its timeout
// and leaves no socket, timer or connection behind (client side and server side).

import { afterAll, beforeAll, expect, it } from "vitest";
import { loadCa, runProbe } from "../src/health/probe.js";
import type { CheckSpec } from "../src/health/types.js";
import { makeCerts, startEndpoints, testCheck, type TestCerts } from "./support/http-endpoints.js";

let certs: TestCerts;
let plain: Awaited<ReturnType<typeof startEndpoints>>;
let tls: Awaited<ReturnType<typeof startEndpoints>>;

beforeAll(async () => {
  certs = makeCerts();
  plain = await startEndpoints(1, undefined, { firstAddress: 20 });
  tls = await startEndpoints(1, certs, { firstAddress: 21 });
  await plain.endpoints[0]!.set("hang");
  await tls.endpoints[0]!.set("hang");
});

afterAll(async () => {
  await plain.close();
  await tls.close();
  certs.cleanup();
});

function handles(kind: string): number {
  return process.getActiveResourcesInfo().filter((r) => r === kind).length;
}

async function many(spec: CheckSpec, address: string, total: number, concurrency: number, ca?: Buffer): Promise<string[]> {
  const reasons = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      next++;
      const r = await runProbe(spec, address, ca ? { ca } : {});
      reasons.add(r.reason.replace(/ \(.*\)$/, ""));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return [...reasons];
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20 && (handles("TCPSocketWrap") > 0 || plain.endpoints[0]!.openSockets + tls.endpoints[0]!.openSockets > 0); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

it("3000 http probes against a hanging server leak nothing", { timeout: 60_000 }, async () => {
  const before = { sockets: handles("TCPSocketWrap"), timers: handles("Timeout") };
  const spec = testCheck({ port: plain.port, timeoutMs: 25, intervalMs: 1000 });
  const reasons = await many(spec, "127.0.0.20", 3000, 50);
  expect(reasons).toEqual(["timeout after 25 ms"]);
  await settle();
  expect(handles("TCPSocketWrap")).toBeLessThanOrEqual(before.sockets);
  expect(handles("Timeout")).toBeLessThanOrEqual(before.timers + 2);
  expect(plain.endpoints[0]!.openSockets).toBe(0);
  expect(plain.endpoints[0]!.connections).toBeGreaterThan(0);
});

it("1000 https probes against a server hanging after the handshake leak nothing", { timeout: 60_000 }, async () => {
  const before = { sockets: handles("TCPSocketWrap"), timers: handles("Timeout") };
  const spec = testCheck({ type: "https", port: tls.port, host: "app.example.test", timeoutMs: 40, caFile: certs.caFile });
  const reasons = await many(spec, "127.0.0.21", 1000, 25, loadCa(certs.caFile));
  expect(reasons).toEqual(["timeout after 40 ms"]);
  await settle();
  expect(handles("TCPSocketWrap")).toBeLessThanOrEqual(before.sockets);
  expect(handles("Timeout")).toBeLessThanOrEqual(before.timers + 2);
  expect(tls.endpoints[0]!.openSockets).toBe(0);
});

it("memory stays bounded over many probes", { timeout: 60_000 }, async () => {
  const spec = testCheck({ port: plain.port, timeoutMs: 10 });
  await many(spec, "127.0.0.20", 500, 50);
  global.gc?.();
  const base = process.memoryUsage().heapUsed;
  await many(spec, "127.0.0.20", 2000, 50);
  global.gc?.();
  // Generous: without gc exposed the heap may hold garbage; a leak of ~KBs per probe would exceed this.
  expect(process.memoryUsage().heapUsed - base).toBeLessThan(64 * 1024 * 1024);
});
