// The batched UDP socket (native/udp-batch.c, built by scripts/build-native.mjs into
// dist/native/udp-batch.node): one recvmmsg, one JS call and one sendmmsg per batch of up to 64
// datagrams, where node:dgram costs a recvmsg, a callback with a new Buffer and address object, and
// a sendmsg per datagram (bench/README.md, "Profile": 64 % of the CPU under load). Optional: without
// the addon (no compiler at build time, not Linux) loadUdpBatch returns null and udp.ts uses dgram.
//
// The addon shares one ArrayBuffer with JS: input slots, output slots, then the input and output
// lengths (int32). The batch callback answers slot i into output slot i and sets its length (0: no
// answer); the addon sends every answer once the callback returns. Input length 0 means "ignore"
// (source port 0, or bigger than a slot: truncated, malformed).

import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import type { Answerer } from "./answerer.js";

/** What native/udp-batch.c exports. */
export interface UdpBatchBinding {
  open(host: string, port: number, ipv6: boolean, onBatch: (count: number, droppedSends: number, lastErrno: number) => void, reusePort?: boolean): NativeUdpSocket;
  peer(handle: unknown, slot: number): string;
  close(handle: unknown): void;
  stats(handle: unknown): Record<string, number>;
}

interface NativeUdpSocket {
  handle: unknown;
  buffer: ArrayBuffer;
  port: number;
  slots: number;
  slotSize: number;
}

/** Same place relative to src/server/ (tests) and dist/server/ (the build): <repo>/dist/native. */
export const UDP_BATCH_ADDON = new URL("../../dist/native/udp-batch.node", import.meta.url);

const cache = new Map<string, UdpBatchBinding | null>();

/** The addon, or null when it is absent or does not load here (the reason is kept for the log). */
export function loadUdpBatch(file: URL | string = UDP_BATCH_ADDON): UdpBatchBinding | null {
  const key = String(file);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let binding: UdpBatchBinding | null = null;
  if (process.platform === "linux") {
    try {
      const m = createRequire(import.meta.url)(file instanceof URL ? fileURLToPath(file) : file) as Partial<UdpBatchBinding>;
      if (typeof m.open === "function" && typeof m.close === "function" && typeof m.peer === "function") binding = m as UdpBatchBinding;
      else loadError = `${key}: not the udp-batch addon`;
    } catch (e) {
      loadError = (e as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND" ? `${key} not built` : `${key}: ${(e as Error).message}`;
    }
  } else {
    loadError = `recvmmsg needs Linux (this is ${process.platform})`;
  }
  cache.set(key, binding);
  return binding;
}

/** Why the last loadUdpBatch returned null. */
export let loadError = "";

export interface NativeUdpListener {
  socket?: undefined;
  port: number;
  /** The addon's counters: batches, datagrams, truncated, port0, sent, dropped, tooBig, lastErrno. */
  stats(): Record<string, number>;
  close(): Promise<void>;
}

/**
 * Throws as dgram's bind would (err.code EADDRINUSE, EACCES…); EINVAL: not an IP literal the addon
 * can bind. reusePort: SO_REUSEPORT, for the workers of --workers N, each with its own socket.
 */
export function listenNative(binding: UdpBatchBinding, host: string, port: number, answerer: Answerer, log: Logger, reusePort = false): NativeUdpListener {
  const ipv6 = host.includes(":");
  let closed = false;
  // Views of the shared area, made once open() returns (onBatch runs only from a later loop turn).
  let handle: unknown = null;
  let input: Buffer = Buffer.alloc(0);
  let output: Uint8Array = new Uint8Array(0);
  let lens: Int32Array = new Int32Array(0);
  let slots = 0;
  let slotSize = 0;
  const onBatch = (count: number, droppedSends: number, lastErrno: number): void => {
    if (droppedSends > 0) answerer.sendFailed(new Error(`${droppedSends} UDP answers not sent (errno ${lastErrno}) on ${host}:${port}/udp`));
    for (let i = 0; i < count; i++) {
      const len = lens[i]!;
      if (len <= 0) continue;
      const at = i * slotSize;
      let msg = input.subarray(at, at + len);
      let remote = "";
      if (answerer.needsRemote(msg)) {
        // Transfers and NOTIFY: the client's address for ACLs, and a copy the handler may keep.
        msg = Buffer.from(msg);
        remote = binding.peer(handle, i);
      }
      const out = answerer.answer(msg, "udp", remote);
      if (out === null) continue;
      // Over UDP one message at most (a transfer answer that needs more is for TCP).
      const res = Array.isArray(out) ? out[0] : out;
      if (res === undefined) continue;
      if (res.length > slotSize) {
        answerer.sendFailed(new Error(`UDP answer of ${res.length} bytes is over the ${slotSize}-byte slot; not sent`));
        continue;
      }
      output.set(res, at);
      lens[slots + i] = res.length;
    }
  };
  const sock = binding.open(host, port, ipv6, onBatch, reusePort);
  handle = sock.handle;
  slots = sock.slots;
  slotSize = sock.slotSize;
  input = Buffer.from(sock.buffer, 0, slots * slotSize);
  output = new Uint8Array(sock.buffer, slots * slotSize, slots * slotSize);
  lens = new Int32Array(sock.buffer, 2 * slots * slotSize, 2 * slots);
  log.trace({ listener: `${host}:${sock.port}/udp` }, "UDP: native batched socket bound");
  return {
    port: sock.port,
    stats: () => binding.stats(handle),
    close() {
      if (!closed) {
        closed = true;
        binding.close(handle);
      }
      return Promise.resolve();
    },
  };
}
