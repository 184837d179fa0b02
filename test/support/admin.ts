// hadns in-process with its admin API, for the admin API, CLI and status page tests: a config (YAML
// text) and zone files go through the same loaders as `hadns check` (support/instance.ts), the
// instance answers DNS on an ephemeral loopback port, and the admin listener is on another. A reload
// reads `config` again (change it with setConfig). `call` is a raw node:http client: every header,
// Host and Origin included, is sent as given.

import http from "node:http";
import { pino } from "pino";
import { startAdminServer, type AdminServer } from "../../src/ops/admin-server.js";
import type { AdminSettings } from "../../src/config/ops.js";
import { startInstance, type Instance } from "../../src/server/instance.js";
import type { Inputs } from "../../src/server/runtime.js";
import { ask, checkConfig, type AskOptions, type View } from "./instance.js";

export interface AdminHarness {
  instance: Instance;
  admin: AdminServer;
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  dns: { host: string; port: number };
  ask(name: string, type: string, opts?: AskOptions): Promise<View>;
  /** The config the next reload reads (YAML text; the zone files stay). */
  setConfig(text: string): void;
  /** Resolves once every probed endpoint is up (a loaded machine can fail a first probe). */
  allUp(deadlineMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  config: string;
  files: Record<string, string>;
  admin?: Partial<AdminSettings>;
  metrics?: (rt: Instance) => string;
}

export async function startWithAdmin(opts: HarnessOptions): Promise<AdminHarness> {
  let configText = opts.config;
  const cleanups: Array<() => void> = [];
  const load = (): Inputs => {
    const c = checkConfig({ config: configText, files: opts.files });
    cleanups.push(c.cleanup);
    return { zones: c.zones, checks: c.config.checks, pools: c.config.pools, errors: c.errors };
  };
  const first = load();
  if (first.errors.length > 0) throw new Error(`config does not check: ${JSON.stringify(first.errors)}`);
  const logger = pino({ level: process.env.HADNS_TEST_LOG ?? "silent" });
  const instance = await startInstance({
    zones: first.zones,
    checks: first.checks,
    pools: first.pools,
    listen: [{ host: "127.0.0.1", port: 0 }],
    logger,
    reload: load,
  });
  let admin: AdminServer;
  try {
    admin = await startAdminServer(
      instance,
      { listen: { host: "127.0.0.1", port: 0 }, ...opts.admin },
      logger,
      opts.metrics ? { metrics: opts.metrics } : {},
    );
  } catch (e) {
    await instance.close();
    throw e;
  }
  const dns = { host: "127.0.0.1", port: instance.server.listening[0]!.port };
  return {
    instance,
    admin,
    url: admin.url,
    dns,
    ask: (name, type, o) => ask(dns.host, dns.port, name, type, o),
    setConfig: (t) => void (configText = t),
    async allUp(deadlineMs = 8000) {
      const end = Date.now() + deadlineMs;
      for (;;) {
        const snap = instance.monitor.snapshot();
        if (snap.every((e) => e.status === "up")) return;
        if (Date.now() > end) throw new Error(`not every endpoint came up: ${snap.map((e) => `${e.key} ${e.status} (${e.reason})`).join(", ")}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await admin.close();
      await instance.close();
      for (const c of cleanups) c();
    },
  };
}

export interface CallResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: any;
}

export interface CallOptions {
  /** An object is sent as JSON (Content-Type: application/json); a string or Buffer as is. */
  body?: unknown;
  headers?: Record<string, string>;
  token?: string;
}

export function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
  const u = new URL(path, base);
  const headers: Record<string, string> = { ...opts.headers };
  let payload: Buffer | undefined;
  if (opts.body !== undefined) {
    if (typeof opts.body === "string" || Buffer.isBuffer(opts.body)) payload = Buffer.from(opts.body as string | Buffer);
    else {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers["content-type"] ??= "application/json";
    }
  }
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port, method, path: u.pathname + u.search, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        if (text !== "" && (res.headers["content-type"] ?? "").startsWith("application/json")) json = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** Polls `pred` every 20 ms until it holds or `ms` passes (generous: about what happens, not how fast). */
export async function until(pred: () => boolean | Promise<boolean>, ms = 8000, what = "condition"): Promise<void> {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > ms) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
