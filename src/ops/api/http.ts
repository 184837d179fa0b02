// What every resource of the admin API shares: the route and reply shapes, the error a handler
// throws for a bad request (turned into a 4xx with {"error": "…"} by admin-server.ts), and checks
// of JSON bodies and query strings that name the field that is wrong.

import type { Runtime } from "../../server/runtime.js";

export type Method = "GET" | "POST" | "DELETE";

/** A failed request: the status and one line for people, naming what is wrong. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra fields beside "error" in the JSON body. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface Reply {
  status?: number;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is, with `contentType`. */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RequestContext {
  rt: Runtime;
  method: string;
  url: URL;
  /** `:name` segments of the route's path. */
  params: Record<string, string>;
  /** The body parsed as JSON; undefined when there is none. Throws HttpError 400/413/415. */
  body(): Promise<unknown>;
}

export interface Route {
  method: Method;
  /** e.g. "/v1/overrides/:id". */
  path: string;
  handle(ctx: RequestContext): Reply | Promise<Reply>;
}

/** 400 naming the field: `address: expected a string`. */
export function fieldError(field: string, message: string): HttpError {
  return new HttpError(400, `${field}: ${message}`);
}

/** The body as an object with only `allowed` keys (400 otherwise). */
export function bodyObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === undefined) throw new HttpError(400, `expected a JSON object with ${allowed.join(", ")}; the body is empty`);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, `expected a JSON object, got ${Array.isArray(body) ? "an array" : body === null ? "null" : typeof body}`);
  }
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw fieldError(k, allowed.length > 0 ? `unknown field (expected ${allowed.join(", ")})` : "unknown field (this request takes none)");
  }
  return o;
}

/** The query parameters as single strings; unknown or repeated ones are a 400. */
export function queryParams(url: URL, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) {
    if (!allowed.includes(k)) throw fieldError(k, `unknown query parameter (expected ${allowed.join(", ")})`);
    if (k in out) throw fieldError(k, "given more than once");
    out[k] = v;
  }
  return out;
}

export function optionalString(o: Record<string, unknown>, field: string, opts: { maxLength?: number } = {}): string | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw fieldError(field, `expected a string, got ${describe(v)}`);
  const t = v.trim();
  if (t === "") throw fieldError(field, "must not be empty");
  if (opts.maxLength !== undefined && t.length > opts.maxLength) throw fieldError(field, `longer than ${opts.maxLength} characters`);
  return t;
}

export function requiredString(o: Record<string, unknown>, field: string, opts: { maxLength?: number; hint?: string } = {}): string {
  const v = optionalString(o, field, opts);
  if (v === undefined) throw fieldError(field, `missing${opts.hint ? ` (${opts.hint})` : ""}`);
  return v;
}

export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}
