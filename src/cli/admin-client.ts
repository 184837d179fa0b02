// The client side of the admin API for the CLI verbs (status, override, explain, reload): where the
// API is (--admin URL, else $HADNS_ADMIN_URL, else http://127.0.0.1:8053), the bearer token (--token,
// else $HADNS_ADMIN_TOKEN — the variable keeps it out of `ps`), requests with undici, errors as one
// line for people, and the small text helpers the verbs share (tables, ages).

import { request } from "undici";

export { answerText } from "../ops/api/explain.js";

export const DEFAULT_ADMIN_URL = "http://127.0.0.1:8053";

/** Options every admin verb takes, as commander hands them over. */
export interface AdminFlags {
  admin?: string;
  token?: string;
  json?: boolean;
}

export class AdminClientError extends Error {}

export interface AdminReply<T> {
  status: number;
  body: T;
}

export class AdminClient {
  readonly base: string;
  private readonly token: string | undefined;

  constructor(flags: AdminFlags, env: NodeJS.ProcessEnv = process.env) {
    const raw = flags.admin ?? env.HADNS_ADMIN_URL ?? DEFAULT_ADMIN_URL;
    let url: URL;
    try {
      url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
    } catch {
      throw new AdminClientError(`--admin ${JSON.stringify(raw)} is not a URL (e.g. http://127.0.0.1:8053)`);
    }
    if (url.protocol !== "http:") throw new AdminClientError(`--admin ${raw}: the admin API speaks plain http (put a TLS proxy in front for remote use)`);
    this.base = url.origin;
    const token = flags.token ?? env.HADNS_ADMIN_TOKEN;
    this.token = token !== undefined && token !== "" ? token : undefined;
  }

  /**
   * One request. A 2xx (or a status in `accept`) comes back parsed; anything else throws
   * AdminClientError with the server's own error line.
   */
  async call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown, accept: number[] = []): Promise<AdminReply<T>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res;
    try {
      res = await request(this.base + path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
    } catch (e) {
      const code = (e as { code?: string }).code ?? "";
      const why = code === "ECONNREFUSED" ? "connection refused" : (e as Error).message;
      throw new AdminClientError(`cannot reach the admin API at ${this.base}: ${why} (is hadns serve running with admin.listen there? give --admin URL or set HADNS_ADMIN_URL)`);
    }
    const text = await res.body.text();
    let parsed: unknown = text;
    if ((res.headers["content-type"] ?? "").toString().startsWith("application/json")) {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        throw new AdminClientError(`${method} ${path}: HTTP ${res.statusCode} with a body that is not JSON`);
      }
    }
    if ((res.statusCode >= 200 && res.statusCode < 300) || accept.includes(res.statusCode)) return { status: res.statusCode, body: parsed as T };
    const message = typeof parsed === "object" && parsed !== null && "error" in parsed ? String((parsed as { error: unknown }).error) : text.trim().slice(0, 200);
    if (res.statusCode === 401) {
      throw new AdminClientError(`${message} (${this.token ? "the token given was refused" : "give --token or set HADNS_ADMIN_TOKEN"})`);
    }
    throw new AdminClientError(`${method} ${path}: ${message} (HTTP ${res.statusCode})`);
  }
}

/**
 * Runs one admin verb: AdminClientError is printed as one line on stderr (exit 1); other errors go
 * up to main's handler.
 */
export async function adminVerb(flags: AdminFlags, fn: (client: AdminClient) => Promise<number>): Promise<number> {
  try {
    return await fn(new AdminClient(flags));
  } catch (e) {
    if (e instanceof AdminClientError) {
      process.stderr.write(`hadns: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

/** Prints JSON as the API sent it (for --json). */
export function printJson(v: unknown): void {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: string[][], indent = ""): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd() + "\n").join("");
}

/** 3s, 4m 5s, 30m, 2h 10m, 3d 4h. */
export function duration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const two = (a: number, u: string, b: number, v: string): string => `${a}${u}${b ? ` ${b}${v}` : ""}`;
  if (d) return two(d, "d", h, "h");
  if (h) return two(h, "h", m, "m");
  if (m) return two(m, "m", s, "s");
  return `${s}s`;
}

export function ago(now: number, t: number | null | undefined): string {
  return t ? `${duration(now - t)} ago` : "-";
}

/** The short form of an override id shown in tables; `override rm` takes any unique prefix. */
export const shortId = (id: string): string => id.slice(0, 8);
