// The admin listener (node:http, JSON): /v1/status, /v1/overrides, /v1/explain, /v1/reload, /metrics
// and the status page at /. It observes the Runtime and never sits on the query path.
//
// Rules, in the order a request meets them:
//  - Bound to anything but loopback, it refuses to start without a bearer token.
//  - With a token, every route but the status page's HTML needs `Authorization: Bearer <token>`,
//    compared in constant time (SHA-256 digests of both, then crypto.timingSafeEqual); 401 with
//    `WWW-Authenticate: Bearer` otherwise. The page holds no data: it asks for the token itself.
//  - Without a token (loopback only), a request must name a loopback host in its Host header, so a
//    web page cannot reach the API through a DNS name rebound to 127.0.0.1.
//  - A POST or DELETE with an Origin header must come from this same origin, and a body must be
//    `application/json` (415 otherwise): a cross-site form cannot change anything.
//  - Bodies are at most 16 KiB (413). Unknown route 404, wrong method 405 with Allow, bad JSON 400,
//    a missing or invalid field 400 naming the field; each as {"error": "…"}.

import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { BlockList, isIP } from "node:net";
import type { Logger } from "pino";
import { DEFAULT_ADMIN, type AdminSettings } from "../config/ops.js";
import { formatListenAddress } from "../config/load.js";
import type { Runtime } from "../server/runtime.js";
import type { ListenAddress } from "../server/server.js";
import { explainRoutes } from "./api/explain.js";
import { HttpError, type Reply, type RequestContext, type Route } from "./api/http.js";
import { overrideRoutes } from "./api/overrides.js";
import { reloadRoutes } from "./api/reload.js";
import { statusRoutes } from "./api/status.js";
import { renderMetrics } from "./metrics.js";
import { STATUS_PAGE_CSP, statusPageHtml } from "./status-page.js";
import type { OpsPart } from "./start.js";

export const BODY_LIMIT = 16 * 1024;

export interface AdminServer extends OpsPart {
  /** Where it listens, with the port it got (for port 0). */
  address: ListenAddress;
  /** e.g. http://127.0.0.1:8053 */
  url: string;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** 127.0.0.0/8, ::1 (however written, and IPv4-mapped), or "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (h === "localhost") return true;
  const family = isIP(h);
  return family !== 0 && LOOPBACK.check(h, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Why the admin API must not start as configured, or undefined when it may: a listener that is not
 * on loopback needs a token. The config check says the same; this guard holds whatever the caller.
 */
export function adminBindingProblem(listen: ListenAddress, token: string | undefined): string | undefined {
  if (isLoopbackHost(listen.host)) return undefined;
  if (token === undefined || token === "") {
    return `the admin API will not listen on ${formatListenAddress(listen)} without a bearer token: that is not a loopback address (set admin.token or admin.token_env, or listen on 127.0.0.1)`;
  }
  return undefined;
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** A bearer-token check in constant time: both sides hashed to 32 bytes, then timingSafeEqual. */
export function tokenChecker(token: string): (header: string | undefined) => "ok" | "missing" | "wrong" {
  const want = digest(token);
  return (header) => {
    const m = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!m) return "missing";
    return timingSafeEqual(digest(m[1]!), want) ? "ok" : "wrong";
  };
}

interface CompiledRoute extends Route {
  segments: string[];
}

function compile(routes: Route[]): CompiledRoute[] {
  return routes.map((r) => ({ ...r, segments: r.path.split("/").slice(1) }));
}

function matchPath(route: CompiledRoute, parts: string[]): Record<string, string> | undefined {
  if (route.segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const seg = route.segments[i]!;
    if (seg.startsWith(":")) {
      if (parts[i] === "") return undefined;
      params[seg.slice(1)] = parts[i]!;
    } else if (seg !== parts[i]) return undefined;
  }
  return params;
}

export interface AdminServerOptions {
  /** Renders GET /metrics (default: renderMetrics of metrics.ts). */
  metrics?: (rt: Runtime) => string;
}

/**
 * The admin API as one part of `startOps`. When the listen address is the default one (nobody asked
 * for it) and something else holds it — a second hadns on this machine, say — DNS service still
 * starts, with a warning; an address that was asked for must work or serve does not start.
 */
export async function startAdminPart(rt: Runtime, settings: AdminSettings, logger: Logger, opts: AdminServerOptions = {}): Promise<OpsPart> {
  try {
    return await startAdminServer(rt, settings, logger, opts);
  } catch (e) {
    if (settings.listen !== DEFAULT_ADMIN.listen || (e as { code?: string }).code !== "EADDRINUSE") throw e;
    logger.warn({ part: "admin" }, `${(e as Error).message}; serving DNS without it`);
    return { name: "admin (not started)", close() {} };
  }
}

/** Starts the admin listener; throws (before binding anything) when the settings are unsafe. */
export async function startAdminServer(rt: Runtime, settings: AdminSettings, logger: Logger, opts: AdminServerOptions = {}): Promise<AdminServer> {
  const listen = settings.listen;
  if (!listen) throw new Error("the admin API is off (admin.listen: off)");
  const problem = adminBindingProblem(listen, settings.token);
  if (problem) throw new Error(problem);
  const log = logger.child({ part: "admin" });
  const checkToken = settings.token ? tokenChecker(settings.token) : undefined;

  const routes = compile([
    { method: "GET", path: "/", handle: () => ({ text: statusPageHtml(), contentType: "text/html; charset=utf-8", headers: { "content-security-policy": STATUS_PAGE_CSP } }) },
    ...statusRoutes,
    ...overrideRoutes,
    ...explainRoutes,
    ...reloadRoutes,
    {
      method: "GET",
      path: "/metrics",
      handle: ({ rt: r }) => ({ text: (opts.metrics ?? renderMetrics)(r), contentType: "text/plain; version=0.0.4; charset=utf-8" }),
    },
  ]);
  /** Routes anyone may fetch with a token configured: the status page's HTML, which holds no data. */
  const open = new Set(["/"]);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://admin.invalid");
    } catch {
      throw new HttpError(400, "malformed request target");
    }
    let path = url.pathname;
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
    const parts = path.split("/").slice(1).map((p) => safeDecode(p));

    const matching = routes.map((r) => ({ r, params: matchPath(r, parts) })).filter((m) => m.params !== undefined);
    if (matching.length === 0) throw new HttpError(404, `no such route: ${method} ${url.pathname} (routes: GET /, GET /v1/status, GET|POST /v1/overrides, GET|DELETE /v1/overrides/ID, GET /v1/explain, POST /v1/reload, GET /metrics)`);
    const effective = method === "HEAD" ? "GET" : method;
    const hit = matching.find((m) => m.r.method === effective);
    if (!hit) {
      const allow = [...new Set(matching.flatMap((m) => (m.r.method === "GET" ? ["GET", "HEAD"] : [m.r.method])))].join(", ");
      throw new HttpError(405, `${method} is not allowed on ${url.pathname} (allowed: ${allow})`, { allow });
    }

    if (checkToken) {
      if (!open.has(hit.r.path)) {
        const verdict = checkToken(req.headers.authorization);
        if (verdict !== "ok") {
          throw new HttpError(
            401,
            verdict === "missing" ? "this admin API needs a bearer token: send Authorization: Bearer <token>" : "wrong bearer token",
            { "www-authenticate": verdict === "missing" ? 'Bearer realm="hadns"' : 'Bearer realm="hadns", error="invalid_token"' },
          );
        }
      }
    } else {
      const host = hostOf(req.headers.host);
      if (host !== undefined && !isLoopbackHost(host)) {
        throw new HttpError(403, `Host ${JSON.stringify(req.headers.host)} is not a loopback address: without a token this API answers only requests made to 127.0.0.1, [::1] or localhost`);
      }
    }
    if (effective !== "GET") {
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== `http://${req.headers.host ?? ""}`) {
        throw new HttpError(403, `cross-origin ${method} from ${origin} refused`);
      }
    }

    let bodyRead: Promise<unknown> | undefined;
    const ctx: RequestContext = {
      rt,
      method,
      url,
      params: hit.params!,
      body: () => (bodyRead ??= readJson(req)),
    };
    const reply = await hit.r.handle(ctx);
    if (!bodyRead) await discardBody(req);
    if (effective !== "GET") log.info({ method, path: url.pathname, status: reply.status ?? 200 }, `admin API: ${method} ${url.pathname}`);
    send(res, reply);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) {
        // A body left unread (413, or refused before reading it) is not drained: the connection ends.
        if (e.status === 413 || !req.complete) res.setHeader("connection", "close");
        if (e.status >= 500 || (req.method !== "GET" && req.method !== "HEAD")) log.warn({ method: req.method, url: req.url, status: e.status }, `admin API: ${e.message}`);
        send(res, { status: e.status, json: { error: e.message, ...e.extra }, headers: e.headers });
        return;
      }
      log.error({ err: e, method: req.method, url: req.url }, "admin API: internal error");
      send(res, { status: 500, json: { error: `internal error: ${(e as Error)?.message ?? String(e)}` } });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.on("clientError", (_e, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n" + '{"error":"malformed HTTP request"}\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const err = new Error(`the admin API cannot listen on ${formatListenAddress(listen)}: ${e.code === "EADDRINUSE" ? "the address is in use" : e.message} (set admin.listen to another address, or admin: off)`);
      reject(Object.assign(err, { code: e.code }));
    };
    server.once("error", onError);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const bound = server.address();
  const address: ListenAddress = { host: listen.host, port: typeof bound === "object" && bound ? bound.port : listen.port };
  const url = `http://${formatListenAddress(address)}`;
  log.info({ url, token: checkToken ? "required" : "none (loopback only)" }, `admin API and status page on ${url}`);

  return {
    name: "admin",
    address,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function safeDecode(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in path segment ${JSON.stringify(p)}`);
  }
}

/** The host part of a Host header ("127.0.0.1:8053" → "127.0.0.1", "[::1]:8053" → "::1"). */
function hostOf(header: string | undefined): string | undefined {
  if (header === undefined || header === "") return undefined;
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header) ?? /^([^:]+)(?::\d+)?$/.exec(header);
  return m ? m[1]! : header;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > BODY_LIMIT) {
    throw new HttpError(413, `request body of ${declared} bytes is over the limit of ${BODY_LIMIT} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new HttpError(413, `request body is over the limit of ${BODY_LIMIT} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The body as JSON, or undefined when there is none. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req);
  if (raw.length === 0) return undefined;
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError(415, `send the body as JSON with Content-Type: application/json${type ? ` (got ${type})` : ""}`);
  }
  const text = raw.toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${(e as Error).message}`);
  }
}

/** A body nobody asked for is still bounded, then dropped. */
async function discardBody(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  await readBody(req);
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = reply.text ?? `${JSON.stringify(reply.json ?? null)}\n`;
  res.writeHead(reply.status ?? 200, {
    "content-type": reply.text !== undefined ? (reply.contentType ?? "text/plain; charset=utf-8") : "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    ...(reply.headers ?? {}),
  });
  res.end(body);
}
