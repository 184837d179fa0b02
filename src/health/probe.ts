// One health probe: HTTP/HTTPS (RFC 9110 request/response, via undici) or a TCP connect, against one
// address, bounded as a whole by the check's timeout. Every probe opens its own connection and
// destroys it before it returns, so a hanging server can hold nothing after the deadline.

import { Resolver } from "node:dns/promises";
import { readFileSync } from "node:fs";
import { isIP, Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { createSecureContext, type SecureContext } from "node:tls";
import { Client } from "undici";
import type { CheckSpec, ProbeResult } from "./types.js";

const USER_AGENT = "hadns-health/0.1";

/**
 * Why each probe's client is destroyed: one error made once. Without it undici makes a
 * ClientDestroyedError per probe, and the stack trace of that (or of the "reset" notice a
 * `Connection: close` request ends with) cost ~90 µs of a ~600 µs probe. So probes send no
 * `Connection: close`; the connection is closed from our side once the answer is read.
 */
const PROBE_DONE = new Error("health probe finished");
const MAX_REDIRECTS = 5;

/** What a probe needs besides the check: the CA bundle read once when the target was set up. */
export interface ProbeOptions {
  ca?: Buffer;
  /** Aborts the probe early (monitor stop); counts as a failure with reason "cancelled". */
  signal?: AbortSignal;
}

const caCache = new Map<string, Buffer>();

/** Reads (once per file) the CA bundle of a check. Throws with a readable message when it cannot. */
export function loadCa(file: string): Buffer {
  let ca = caCache.get(file);
  if (!ca) {
    try {
      ca = readFileSync(file);
    } catch (e) {
      throw new Error(`cannot read ca_file ${file}: ${(e as Error).message}`);
    }
    caCache.set(file, ca);
  }
  return ca;
}

let defaultContext: SecureContext | undefined;
const caContexts = new WeakMap<Buffer, SecureContext>();

/** One TLS context per CA bundle (and one for the system store), built once: not per probe. */
function secureContextFor(ca: Buffer | undefined): SecureContext {
  if (!ca) return (defaultContext ??= createSecureContext());
  let ctx = caContexts.get(ca);
  if (!ctx) {
    ctx = createSecureContext({ ca });
    caContexts.set(ca, ctx);
  }
  return ctx;
}

class ProbeTimeout extends Error {
  constructor(readonly phase: string) {
    super("probe timeout");
  }
}

/** Runs one probe of `spec` against `address` (an IP, or a host name resolved per probe). Never throws. */
export async function runProbe(spec: CheckSpec, address: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const t0 = performance.now();
  const ac = new AbortController();
  const phase = { now: "resolving" };
  const timer = setTimeout(() => ac.abort(new ProbeTimeout(phase.now)), spec.timeoutMs);
  const onOuterAbort = (): void => ac.abort(new Error("cancelled"));
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const done = (ok: boolean, reason: string, status?: number): ProbeResult => {
    const r: ProbeResult = { ok, reason, latencyMs: Math.round((performance.now() - t0) * 10) / 10 };
    if (status !== undefined) r.status = status;
    return r;
  };
  try {
    if (opts.signal?.aborted) return done(false, "cancelled");
    const ip = isIP(address) ? address : await resolveName(address, ac.signal, spec.timeoutMs);
    if (spec.type === "tcp") {
      phase.now = "connecting";
      await tcpConnect(ip, spec.port, ac.signal);
      return done(true, "TCP connect ok");
    }
    const r = await httpProbe(spec, ip, opts.ca, ac.signal, phase);
    return done(r.ok, r.reason, r.status);
  } catch (e) {
    const reason = ac.signal.aborted ? abortReason(ac.signal.reason, spec.timeoutMs) : describeError(e);
    return done(false, reason);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
}

function abortReason(reason: unknown, timeoutMs: number): string {
  if (reason instanceof ProbeTimeout) return `timeout after ${timeoutMs} ms (${reason.phase})`;
  return "cancelled";
}

async function resolveName(name: string, signal: AbortSignal, timeoutMs: number): Promise<string> {
  const host = name.endsWith(".") ? name.slice(0, -1) : name;
  const resolver = new Resolver({ timeout: Math.max(1, timeoutMs), tries: 1 });
  const cancel = (): void => resolver.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  try {
    for (const family of [4, 6] as const) {
      try {
        const addrs = family === 4 ? await resolver.resolve4(host) : await resolver.resolve6(host);
        if (addrs.length > 0) return addrs[0]!;
      } catch (e) {
        if (signal.aborted) throw e;
        if (family === 6) throw new Error(`DNS: cannot resolve ${host} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
      }
    }
    throw new Error(`DNS: no address for ${host}`);
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}

function tcpConnect(ip: string, port: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    const finish = (err?: unknown): void => {
      signal.removeEventListener("abort", onAbort);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = (): void => finish(signal.reason);
    if (signal.aborted) return finish(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    sock.once("connect", () => finish());
    sock.once("error", (e) => finish(e));
    sock.connect({ host: ip, port });
  });
}

interface HttpOutcome {
  ok: boolean;
  reason: string;
  status?: number;
}

async function httpProbe(
  spec: CheckSpec,
  ip: string,
  ca: Buffer | undefined,
  signal: AbortSignal,
  phase: { now: string },
): Promise<HttpOutcome> {
  let scheme: "http" | "https" = spec.type === "https" ? "https" : "http";
  let port = spec.port;
  let path = spec.path;
  const hostName = spec.host ?? ip;
  for (let hop = 0; ; hop++) {
    const hostPort = (isIP(ip) === 6 ? `[${ip}]` : ip) + `:${port}`;
    const sni = spec.host !== undefined && isIP(spec.host) === 0 ? spec.host : undefined;
    const client = new Client(`${scheme}://${hostPort}`, {
      connect: {
        timeout: spec.timeoutMs,
        ...(scheme === "https"
          ? { rejectUnauthorized: spec.tlsVerify, secureContext: secureContextFor(ca), ...(sni ? { servername: sni } : {}) }
          : {}),
        maxCachedSessions: 0,
      },
      headersTimeout: spec.timeoutMs,
      bodyTimeout: spec.timeoutMs,
      keepAliveTimeout: 1,
      pipelining: 1,
    });
    // Once the connection (and TLS) is up, a timeout is the server not answering, not a connect failure.
    client.on("connect", () => {
      phase.now = "waiting for response";
    });
    try {
      phase.now = "connecting";
      const headers: Record<string, string> = { "user-agent": USER_AGENT, ...spec.headers };
      const defaultPort = scheme === "https" ? 443 : 80;
      if (spec.host !== undefined) headers["host"] = port === defaultPort ? spec.host : `${spec.host}:${port}`;
      const res = await client.request({ path, method: spec.method, headers, signal });
      phase.now = "reading body";
      const status = res.statusCode;
      const location = res.headers["location"];
      if (spec.followRedirects && status >= 300 && status < 400 && typeof location === "string") {
        await drain(res.body, spec.bodyLimit, signal);
        if (hop >= MAX_REDIRECTS) return { ok: false, reason: `HTTP ${status}: more than ${MAX_REDIRECTS} redirects`, status };
        let next: URL;
        try {
          next = new URL(location, `${scheme}://${hostName.includes(":") ? `[${hostName}]` : hostName}:${port}${path}`);
        } catch {
          return { ok: false, reason: `HTTP ${status}: bad Location ${JSON.stringify(location)}`, status };
        }
        const nextHost = next.hostname.replace(/^\[|\]$/g, "");
        if (nextHost.toLowerCase() !== hostName.toLowerCase() || (next.protocol !== "http:" && next.protocol !== "https:")) {
          return { ok: false, reason: `HTTP ${status}: redirect to ${next.origin} not followed (other host)`, status };
        }
        scheme = next.protocol === "https:" ? "https" : "http";
        port = next.port ? Number(next.port) : scheme === "https" ? 443 : 80;
        path = next.pathname + next.search;
        continue;
      }
      if (!statusOk(status, spec.expectStatus)) {
        await drain(res.body, spec.bodyLimit, signal);
        return { ok: false, reason: `HTTP ${status}`, status };
      }
      if (!spec.expectBody || spec.method === "HEAD") {
        await drain(res.body, spec.bodyLimit, signal);
        return { ok: true, reason: `HTTP ${status}`, status };
      }
      const body = await readPrefix(res.body, spec.bodyLimit);
      const exp = spec.expectBody;
      if ("substring" in exp) {
        if (body.includes(exp.substring)) return { ok: true, reason: `HTTP ${status}, body ok`, status };
        return { ok: false, reason: `body did not contain ${JSON.stringify(exp.substring)}${clipNote(body, spec.bodyLimit)}`, status };
      }
      exp.regex.lastIndex = 0;
      if (exp.regex.test(body)) return { ok: true, reason: `HTTP ${status}, body ok`, status };
      return { ok: false, reason: `body did not match ${String(exp.regex)}${clipNote(body, spec.bodyLimit)}`, status };
    } finally {
      client.destroy(PROBE_DONE).catch(() => {});
    }
  }
}

interface Discardable {
  on(event: "error", fn: () => void): unknown;
  destroy(): unknown;
}

/**
 * Reads out a body we do not look at (at most `limit` bytes, then it is dropped), so the connection
 * ends cleanly: a body left unread is an error object in undici (RequestAbortedError), and making
 * its stack trace cost about a quarter of a probe's CPU. A failure here changes nothing: the
 * status decided the probe, and the connection is destroyed anyway.
 */
async function drain(body: Discardable & { dump(opts: { limit: number; signal: AbortSignal }): Promise<unknown> }, limit: number, signal: AbortSignal): Promise<void> {
  try {
    await body.dump({ limit, signal });
  } catch {
    discard(body);
  }
}

/** Stops reading a body; undici reports the early end as an error, which nobody needs to hear. */
function discard(body: Discardable): void {
  body.on("error", () => {});
  body.destroy();
}

function clipNote(body: string, limit: number): string {
  return Buffer.byteLength(body) >= limit ? ` (first ${limit} bytes)` : "";
}

/** Reads at most `limit` bytes of a body as UTF-8 (lossy at the cut), then stops reading. */
async function readPrefix(body: AsyncIterable<Buffer> & Discardable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      const c = chunk as Buffer;
      const take = Math.min(c.length, limit - n);
      chunks.push(take === c.length ? c : c.subarray(0, take));
      n += take;
      if (n >= limit) break;
    }
  } finally {
    discard(body);
  }
  return Buffer.concat(chunks, n).toString("utf8");
}

export function statusOk(status: number, ranges: Array<[number, number]>): boolean {
  for (const [lo, hi] of ranges) if (status >= lo && status <= hi) return true;
  return false;
}

const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate in chain",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unable to verify the certificate (unknown issuer)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unknown issuer",
  UNABLE_TO_GET_ISSUER_CERT: "unknown issuer",
  CERT_HAS_EXPIRED: "certificate expired",
  CERT_NOT_YET_VALID: "certificate not yet valid",
  ERR_TLS_CERT_ALTNAME_INVALID: "certificate name mismatch",
  CERT_REVOKED: "certificate revoked",
  EPROTO: "protocol error",
};

const NET_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EADDRNOTAVAIL: "address not available",
  UND_ERR_SOCKET: "connection closed by the server",
  UND_ERR_CLOSED: "connection closed",
  HPE_INVALID_CONSTANT: "not an HTTP response",
  UND_ERR_RESPONSE_EXCEEDED_MAX_SIZE: "response too large",
};

/** Turns a socket, TLS or undici error into one short line for people. */
export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { reason?: string };
  const code = err?.code ?? "";
  if (code in TLS_REASONS) {
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID" && err.reason) return `TLS: certificate name mismatch (${err.reason})`;
    return `TLS: ${TLS_REASONS[code]}`;
  }
  if (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") || /certificate|ssl|tls/i.test(err?.message ?? "")) {
    return `TLS: ${err.message}`;
  }
  if (code in NET_REASONS) return NET_REASONS[code]!;
  if (code.startsWith("HPE_")) return `bad HTTP response (${code})`;
  if (err?.message?.startsWith("DNS: ")) return err.message;
  return code ? `${code}: ${err.message}` : (err?.message ?? String(e));
}
