// The operations sections of the config (issue 4): the admin listener and its token, webhooks, the
// warm-start state file, watching files for changes, and the number of worker processes answering
// queries (issue 5). Every mistake names file, line and key.

import { isIP } from "node:net";
import { isAbsolute, join } from "node:path";
import { parseDurationMs } from "../zone/ttl.js";
import type { ListenAddress } from "../server/server.js";
import { expandEnvText } from "./env.js";
import type { SourceReader } from "./source.js";

type Path = Array<string | number>;

export interface AdminSettings {
  /** null: no admin listener. Default 127.0.0.1:8053. */
  listen: ListenAddress | null;
  /** Bearer token; required when the listener is not on loopback. */
  token?: string;
}

export type WebhookFormat = "generic" | "slack" | "pagerduty";
export type WebhookEvent = "transition" | "pool" | "fail_open" | "reload" | "override";
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = ["transition", "pool", "fail_open", "reload", "override"];

export interface WebhookSettings {
  name: string;
  url: string;
  format: WebhookFormat;
  /** PagerDuty Events v2 routing key. */
  routingKey?: string;
  events: WebhookEvent[];
  headers: Record<string, string>;
  timeoutMs: number;
  retries: number;
}

export interface StateSettings {
  file: string;
  /** A state file older than this is ignored at start-up (cold start). */
  maxAgeMs: number;
}

export interface OpsSettings {
  admin: AdminSettings;
  webhooks: WebhookSettings[];
  state?: StateSettings;
  /** Reload when the config or a zone file changes. */
  watch: boolean;
  /** Processes answering queries (`workers:`, or --workers over it); undefined: 1, one process. */
  workers?: Workers;
}

/** A number of worker processes, or "auto": one per CPU the process may use (os.availableParallelism()). */
export type Workers = number | "auto";

export const MAX_WORKERS = 256;

/** `--workers` and `workers:`: a whole number from 1 to 256, or auto. Throws an Error saying what is wrong. */
export function parseWorkers(text: string): Workers {
  const t = text.trim().toLowerCase();
  if (t === "auto") return "auto";
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new Error(`expected a whole number of worker processes from 1 to ${MAX_WORKERS}, or auto (one per CPU), got ${JSON.stringify(text)}`);
  }
  return n;
}

export const DEFAULT_ADMIN: AdminSettings = { listen: { host: "127.0.0.1", port: 8053 } };

export function defaultOps(): OpsSettings {
  return { admin: { ...DEFAULT_ADMIN }, webhooks: [], watch: false };
}

function text(r: SourceReader, path: Path, env: NodeJS.ProcessEnv, opts: { required?: boolean } = {}): string | undefined {
  const s = r.string(path, { nonEmpty: true, ...opts });
  if (s === undefined) return undefined;
  const x = expandEnvText(s, env);
  if ("error" in x) return r.error(path, x.error);
  return x.value;
}

function duration(r: SourceReader, path: Path, def: number): number {
  const ms = r.parsed(path, (t) => {
    const v = parseDurationMs(t);
    if (v <= 0) throw new Error(`must be more than 0, got ${t}`);
    return v;
  });
  return ms ?? def;
}

export function readAdmin(r: SourceReader, ops: OpsSettings, env: NodeJS.ProcessEnv, parseListen: (t: string) => ListenAddress): void {
  const node = r.at(["admin"]);
  if (!node) return;
  if (node.kind === "scalar" && (node.value === false || node.value === "off")) {
    ops.admin = { listen: null };
    return;
  }
  if (!r.map(["admin"], ["listen", "token", "token_env"])) return;
  const listenText = r.string(["admin", "listen"], { nonEmpty: true });
  let listen: ListenAddress | null = DEFAULT_ADMIN.listen;
  if (listenText === "off") listen = null;
  else if (listenText !== undefined) listen = r.parsed(["admin", "listen"], parseListen) ?? listen;
  const admin: AdminSettings = { listen };
  const token = text(r, ["admin", "token"], env);
  const tokenEnv = r.string(["admin", "token_env"], { nonEmpty: true });
  if (token !== undefined && tokenEnv !== undefined) r.error(["admin", "token_env"], "give token or token_env, not both");
  if (token !== undefined) admin.token = token;
  if (tokenEnv !== undefined) {
    const v = env[tokenEnv];
    if (v === undefined || v === "") r.error(["admin", "token_env"], `environment variable ${tokenEnv} is not set`);
    else admin.token = v;
  }
  if (admin.token !== undefined && admin.token.length < 16) r.error(["admin", admin.token === env[tokenEnv ?? ""] ? "token_env" : "token"], "the token is shorter than 16 characters; use a long random one (openssl rand -hex 32)");
  if (listen && !isLoopback(listen.host) && admin.token === undefined) {
    r.error(["admin", "listen"], `${listen.host} is not a loopback address: the admin API then needs a bearer token (admin.token or admin.token_env)`);
  }
  ops.admin = admin;
}

export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

export function readWebhooks(r: SourceReader, ops: OpsSettings, env: NodeJS.ProcessEnv): void {
  const items = r.list(["webhooks"]);
  if (!items) return;
  const seen = new Set<string>();
  items.forEach(({ path }, i) => {
    if (!r.map(path, ["name", "url", "format", "routing_key", "events", "headers", "timeout", "retries"])) return;
    const url = text(r, [...path, "url"], env, { required: true });
    if (url !== undefined && !/^https?:\/\/[^\s]+$/.test(url)) r.error([...path, "url"], `expected an http:// or https:// URL, got ${JSON.stringify(url)}`);
    const format = r.oneOf([...path, "format"], ["generic", "slack", "pagerduty"] as const) ?? "generic";
    const name = r.string([...path, "name"], { nonEmpty: true }) ?? `webhook${i + 1}`;
    if (seen.has(name)) r.error([...path, "name"], `another webhook is already named ${JSON.stringify(name)}`);
    seen.add(name);
    const routingKey = text(r, [...path, "routing_key"], env);
    if (format === "pagerduty" && routingKey === undefined) r.error(path, "a pagerduty webhook needs routing_key (the integration key of a PagerDuty Events v2 service)");
    const events: WebhookEvent[] = [];
    const evItems = r.list([...path, "events"], { single: true });
    if (evItems) {
      for (const e of evItems) {
        const ev = r.oneOf(e.path, WEBHOOK_EVENTS);
        if (ev) events.push(ev);
      }
    }
    const headers: Record<string, string> = {};
    const hmap = r.at([...path, "headers"]);
    if (hmap) {
      if (hmap.kind !== "map") r.error([...path, "headers"], "expected a map of header name to value");
      else for (const key of hmap.entries.keys()) {
        const v = text(r, [...path, "headers", key], env);
        if (v !== undefined) headers[key] = v;
      }
    }
    if (url === undefined) return;
    const hook: WebhookSettings = {
      name,
      url,
      format,
      events: events.length > 0 ? events : format === "pagerduty" ? ["pool", "fail_open"] : [...WEBHOOK_EVENTS],
      headers,
      timeoutMs: duration(r, [...path, "timeout"], 5000),
      retries: r.int([...path, "retries"], { min: 0, max: 20 }) ?? 5,
    };
    if (routingKey !== undefined) hook.routingKey = routingKey;
    ops.webhooks.push(hook);
  });
}

export function readState(r: SourceReader, ops: OpsSettings, base: string): void {
  if (!r.at(["state"])) return;
  if (!r.map(["state"], ["file", "max_age"])) return;
  const file = r.string(["state", "file"], { nonEmpty: true, required: true });
  if (file === undefined) return;
  ops.state = { file: isAbsolute(file) ? file : join(base, file), maxAgeMs: duration(r, ["state", "max_age"], 10 * 60_000) };
}

export function readWatch(r: SourceReader, ops: OpsSettings): void {
  ops.watch = r.bool(["watch"]) ?? false;
}

export function readWorkers(r: SourceReader, ops: OpsSettings): void {
  const w = r.parsed(["workers"], parseWorkers);
  if (w !== undefined) ops.workers = w;
}
