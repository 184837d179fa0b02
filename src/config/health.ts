// Validation of the `checks:` and `pools:` sections of the config (documented in README.md, "Health checks and pools").
// Pure apart from checking that a ca_file exists: every mistake becomes a SourceError naming the key path.

import { existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { isIP, isIPv4, isIPv6 } from "node:net";
import type { CheckSpec } from "../health/types.js";
import type { PoolEndpoint, PoolSpec } from "../pool/types.js";
import type { SourceError } from "../zone/rr.js";
import { closest, formatPath } from "./source.js";

type Path = Array<string | number>;
type Where = (path: Array<string | number>) => { file: string; line: number };

/** Defaults of a check (README.md, "Health checks and pools"). */
export const CHECK_DEFAULTS = {
  path: "/",
  method: "GET" as const,
  expectStatus: [[200, 299]] as Array<[number, number]>,
  bodyLimit: 4096,
  followRedirects: false,
  tlsVerify: true,
  intervalMs: 1000,
  /** Default timeout: 500 ms, or half the interval when that is shorter. */
  timeoutMs: 500,
  rise: 3,
  fall: 6,
  decay: 1,
  /** Default fast interval: a quarter of the interval. */
  fastIntervalDivisor: 4,
  flapWindowMs: 600_000,
};

export const POOL_DEFAULTS = { ttl: 30, policy: "failover" as const, whenAllDown: "serve-all" as const };

const CHECK_KEYS = [
  "type", "port", "path", "method", "host", "headers", "expect", "body_limit", "follow_redirects",
  "tls_verify", "ca_file", "interval", "timeout", "rise", "fall", "decay", "fast_interval", "flap_window",
] as const;
const HTTP_ONLY = ["path", "method", "host", "headers", "expect", "body_limit", "follow_redirects"];
const HTTPS_ONLY = ["tls_verify", "ca_file"];
const EXPECT_KEYS = ["status", "body"] as const;
const BODY_KEYS = ["substring", "regex"] as const;
const POOL_KEYS = [
  "name", "type", "ttl", "degraded_ttl", "policy", "check", "max_answers", "when_all_down", "endpoints",
] as const;
const ENDPOINT_KEYS = ["address", "check_address", "priority", "weight", "check"] as const;
const POLICIES = ["failover", "multivalue", "weighted"] as const;
const WHEN_ALL_DOWN = ["serve-all", "serve-first", "nodata", "servfail"] as const;
const POOL_TYPES = ["A", "AAAA", "CNAME"] as const;
const CHECK_TYPES = ["http", "https", "tcp"] as const;
const FORBIDDEN_HEADERS = ["host", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade", "expect"];

const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;
const MIN_TIMEOUT_MS = 10;
const MIN_FAST_INTERVAL_MS = 50;
const MAX_BODY_LIMIT = 1 << 20;
const MAX_TTL = 0x7fffffff;

export interface HealthConfig {
  checks: Map<string, CheckSpec>;
  pools: PoolSpec[];
  errors: SourceError[];
}

export function validateHealthConfig(
  raw: { checks?: unknown; pools?: unknown },
  where: Where,
  env: NodeJS.ProcessEnv = process.env,
): HealthConfig {
  const v = new Validator(where, env);
  const checks = v.checks(raw.checks);
  const pools = v.pools(raw.pools, checks);
  return { checks, pools, errors: v.errors };
}

class Validator {
  readonly errors: SourceError[] = [];
  constructor(
    private readonly where: Where,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  error(path: Path, message: string): undefined {
    const w = this.where(path);
    this.errors.push({ file: w.file, line: w.line, message: `${formatPath(path)}: ${message}` });
    return undefined;
  }

  /** A plain object whose keys are all known; unknown keys are reported with the closest known one. */
  map(path: Path, value: unknown, known: readonly string[], what: string): Record<string, unknown> | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return this.error(path, `expected ${what} (a map of ${known.join(", ")}), got ${describe(value)}`);
    }
    const obj = value as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      if (known.includes(key)) continue;
      const near = closest(key, known);
      this.error([...path, key], `unknown key "${key}"${near ? ` (did you mean "${near}"?)` : ""}; known keys: ${known.join(", ")}`);
    }
    return obj;
  }

  // ---- checks ---------------------------------------------------------------------------------

  checks(raw: unknown): Map<string, CheckSpec> {
    const out = new Map<string, CheckSpec>();
    if (raw === undefined || raw === null) return out;
    if (typeof raw !== "object" || Array.isArray(raw)) {
      this.error(["checks"], `expected a map from check name to check, got ${describe(raw)}`);
      return out;
    }
    for (const [name, body] of Object.entries(raw as Record<string, unknown>)) {
      const spec = this.check(name, body);
      if (spec) out.set(name, spec);
    }
    return out;
  }

  private check(name: string, raw: unknown): CheckSpec | undefined {
    const p: Path = ["checks", name];
    if (name === "" || name.includes("|")) return this.error(p, `bad check name ${JSON.stringify(name)}: must be non-empty, without "|"`);
    const o = this.map(p, raw, CHECK_KEYS, "a check");
    if (!o) return undefined;
    const errorsBefore = this.errors.length;
    const type = this.oneOf([...p, "type"], o.type, CHECK_TYPES, true);
    if (!type) return undefined;
    for (const key of Object.keys(o)) {
      if (type === "tcp" && HTTP_ONLY.includes(key)) this.error([...p, key], `applies only to http and https checks, not tcp`);
      if (type !== "https" && HTTPS_ONLY.includes(key)) this.error([...p, key], `applies only to https checks, not ${type}`);
    }
    const port = this.int([...p, "port"], o.port, 1, 65535) ?? (type === "https" ? 443 : type === "http" ? 80 : undefined);
    if (port === undefined && o.port === undefined) this.error([...p, "port"], "a tcp check needs a port");

    const path = this.str([...p, "path"], o.path) ?? CHECK_DEFAULTS.path;
    if (!path.startsWith("/") || /[\s]/.test(path)) this.error([...p, "path"], `must start with "/" and contain no spaces, got ${JSON.stringify(path)}`);
    const method = (this.oneOf([...p, "method"], typeof o.method === "string" ? o.method.toUpperCase() : o.method, ["GET", "HEAD"] as const) ??
      CHECK_DEFAULTS.method) as "GET" | "HEAD";
    const host = this.host([...p, "host"], o.host);
    const headers = this.headers([...p, "headers"], o.headers);
    const { expectStatus, expectBody } = this.expect([...p, "expect"], o.expect);
    if (expectBody && method === "HEAD") this.error([...p, "expect", "body"], "a HEAD request has no body to match; use method GET");
    const bodyLimit = this.int([...p, "body_limit"], o.body_limit, 1, MAX_BODY_LIMIT) ?? CHECK_DEFAULTS.bodyLimit;
    const followRedirects = this.bool([...p, "follow_redirects"], o.follow_redirects) ?? CHECK_DEFAULTS.followRedirects;
    const tlsVerify = this.bool([...p, "tls_verify"], o.tls_verify) ?? CHECK_DEFAULTS.tlsVerify;
    const caFile = this.caFile([...p, "ca_file"], o.ca_file);
    if (caFile !== undefined && !tlsVerify) this.error([...p, "ca_file"], "has no effect with tls_verify: false");

    const intervalMs = this.duration([...p, "interval"], o.interval, MIN_INTERVAL_MS, MAX_INTERVAL_MS) ?? CHECK_DEFAULTS.intervalMs;
    const timeoutMs =
      this.duration([...p, "timeout"], o.timeout, MIN_TIMEOUT_MS, MAX_INTERVAL_MS) ?? Math.min(CHECK_DEFAULTS.timeoutMs, Math.floor(intervalMs / 2));
    if (timeoutMs >= intervalMs) {
      this.error([...p, "timeout"], `timeout ${fmtMs(timeoutMs)} must be shorter than interval ${fmtMs(intervalMs)}`);
    }
    const fastIntervalMs =
      this.duration([...p, "fast_interval"], o.fast_interval, MIN_FAST_INTERVAL_MS, MAX_INTERVAL_MS) ??
      Math.max(MIN_FAST_INTERVAL_MS, Math.round(intervalMs / CHECK_DEFAULTS.fastIntervalDivisor));
    if (fastIntervalMs > intervalMs) {
      this.error([...p, "fast_interval"], `fast_interval ${fmtMs(fastIntervalMs)} must not be longer than interval ${fmtMs(intervalMs)}`);
    }
    const flapWindowMs = this.duration([...p, "flap_window"], o.flap_window, 0, 7 * 86_400_000) ?? CHECK_DEFAULTS.flapWindowMs;
    const rise = this.int([...p, "rise"], o.rise, 1, 1000) ?? CHECK_DEFAULTS.rise;
    const fall = this.int([...p, "fall"], o.fall, 1, 1000) ?? CHECK_DEFAULTS.fall;
    const decay = this.number([...p, "decay"], o.decay, 0.01, 1000) ?? CHECK_DEFAULTS.decay;
    if (this.errors.length > errorsBefore) return undefined;

    const spec: CheckSpec = {
      name,
      type,
      port: port!,
      path,
      method,
      headers,
      expectStatus,
      bodyLimit,
      followRedirects,
      tlsVerify,
      intervalMs,
      timeoutMs,
      rise,
      fall,
      decay,
      fastIntervalMs,
      flapWindowMs,
    };
    if (host !== undefined) spec.host = host;
    if (expectBody) spec.expectBody = expectBody;
    if (caFile !== undefined) spec.caFile = caFile;
    return spec;
  }

  private host(path: Path, v: unknown): string | undefined {
    const s = this.str(path, v);
    if (s === undefined) return undefined;
    const h = s.endsWith(".") ? s.slice(0, -1) : s;
    if (isIP(h) === 0 && !isHostname(h)) return this.error(path, `not a host name or IP address: ${JSON.stringify(s)} (no port: use "port")`);
    return h;
  }

  private headers(path: Path, v: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    if (v === undefined || v === null) return out;
    if (typeof v !== "object" || Array.isArray(v)) {
      this.error(path, `expected a map of header names to values, got ${describe(v)}`);
      return out;
    }
    for (const [name, raw] of Object.entries(v as Record<string, unknown>)) {
      const hp = [...path, name];
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        this.error(hp, `not a valid header name`);
        continue;
      }
      if (FORBIDDEN_HEADERS.includes(name.toLowerCase())) {
        this.error(hp, name.toLowerCase() === "host" ? `set the Host header with the check's "host" key` : `header ${name} is managed by the prober and cannot be set`);
        continue;
      }
      if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") {
        this.error(hp, `expected a string, got ${describe(raw)}`);
        continue;
      }
      const value = this.expandEnv(hp, String(raw));
      if (value === undefined) continue;
      if (/[\r\n\0]/.test(value)) {
        this.error(hp, "header value contains a line break or NUL");
        continue;
      }
      out[name] = value;
    }
    return out;
  }

  /** `${VAR}` from the environment; `$${` is a literal `${`. */
  private expandEnv(path: Path, s: string): string | undefined {
    let ok = true;
    const out = s.replace(/\$\$\{|\$\{([^}]*)\}/g, (m, name: string | undefined) => {
      if (m === "$${") return "${";
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name ?? "")) {
        ok = false;
        this.error(path, `bad variable reference ${m}: write \${NAME} with letters, digits and _`);
        return "";
      }
      const val = this.env[name!];
      if (val === undefined) {
        ok = false;
        this.error(path, `\${${name}} is not set in the environment`);
        return "";
      }
      return val;
    });
    return ok ? out : undefined;
  }

  private expect(path: Path, v: unknown): { expectStatus: Array<[number, number]>; expectBody?: CheckSpec["expectBody"] } {
    const res: { expectStatus: Array<[number, number]>; expectBody?: CheckSpec["expectBody"] } = {
      expectStatus: CHECK_DEFAULTS.expectStatus.map(([a, b]) => [a, b] as [number, number]),
    };
    if (v === undefined || v === null) return res;
    const o = this.map(path, v, EXPECT_KEYS, "expectations");
    if (!o) return res;
    if (o.status !== undefined && o.status !== null) {
      const items = Array.isArray(o.status) ? o.status : [o.status];
      const ranges: Array<[number, number]> = [];
      items.forEach((item, i) => {
        const r = this.statusRange(Array.isArray(o.status) ? [...path, "status", i] : [...path, "status"], item);
        if (r) ranges.push(r);
      });
      if (items.length === 0) this.error([...path, "status"], "empty list; give statuses like 200 or ranges like \"200-299\"");
      if (ranges.length > 0) res.expectStatus = ranges;
    }
    if (o.body !== undefined && o.body !== null) {
      const bp = [...path, "body"];
      if (typeof o.body === "string") {
        if (o.body === "") this.error(bp, "empty body substring matches everything; leave body out instead");
        else res.expectBody = { substring: o.body };
      } else {
        const b = this.map(bp, o.body, BODY_KEYS, "a body expectation");
        if (b) {
          if ((b.substring === undefined) === (b.regex === undefined)) {
            this.error(bp, `give exactly one of substring or regex`);
          } else if (b.substring !== undefined) {
            const s = this.str([...bp, "substring"], b.substring);
            if (s !== undefined) res.expectBody = { substring: s };
          } else {
            const s = this.str([...bp, "regex"], b.regex);
            if (s !== undefined) {
              try {
                res.expectBody = { regex: new RegExp(s) };
              } catch (e) {
                this.error([...bp, "regex"], `bad regular expression: ${(e as Error).message}`);
              }
            }
          }
        }
      }
    }
    return res;
  }

  private statusRange(path: Path, v: unknown): [number, number] | undefined {
    const bad = (): undefined =>
      this.error(path, `bad status ${JSON.stringify(v)}: write a status (200), a range ("200-299") or a class ("2xx"), within 100-599`);
    let lo: number;
    let hi: number;
    if (typeof v === "number") {
      if (!Number.isInteger(v)) return bad();
      lo = hi = v;
    } else if (typeof v === "string") {
      const s = v.trim();
      let m: RegExpMatchArray | null;
      if ((m = /^(\d{3})$/.exec(s))) lo = hi = Number(m[1]);
      else if ((m = /^(\d{3})\s*-\s*(\d{3})$/.exec(s))) {
        lo = Number(m[1]);
        hi = Number(m[2]);
      } else if ((m = /^([1-5])xx$/i.exec(s))) {
        lo = Number(m[1]) * 100;
        hi = lo + 99;
      } else return bad();
    } else return bad();
    if (lo < 100 || hi > 599) return bad();
    if (lo > hi) return this.error(path, `bad status range ${JSON.stringify(v)}: ${lo} is above ${hi}`);
    return [lo, hi];
  }

  private caFile(path: Path, v: unknown): string | undefined {
    const s = this.str(path, v);
    if (s === undefined) return undefined;
    const base = dirname(this.where(path).file);
    const full = isAbsolute(s) ? s : resolve(base, s);
    if (!existsSync(full)) return this.error(path, `file not found: ${full}`);
    return full;
  }

  // ---- pools ----------------------------------------------------------------------------------

  pools(raw: unknown, checks: Map<string, CheckSpec>): PoolSpec[] {
    const out: PoolSpec[] = [];
    if (raw === undefined || raw === null) return out;
    if (!Array.isArray(raw)) {
      this.error(["pools"], `expected a list of pools, got ${describe(raw)}`);
      return out;
    }
    const seen = new Map<string, { type: string; index: number }[]>();
    raw.forEach((item, i) => {
      const pool = this.pool(i, item, checks);
      if (!pool) return;
      const key = pool.name.toLowerCase();
      const others = seen.get(key) ?? [];
      for (const o of others) {
        if (o.type === pool.type) this.error(["pools", i, "name"], `${pool.type} pool ${pool.name} is already defined by pools[${o.index}]`);
        else if (o.type === "CNAME" || pool.type === "CNAME") {
          this.error(["pools", i, "name"], `a CNAME pool cannot share its name with another pool (pools[${o.index}], RFC 1034 §3.6.2)`);
        }
      }
      others.push({ type: pool.type, index: i });
      seen.set(key, others);
      out.push(pool);
    });
    return out;
  }

  private pool(i: number, raw: unknown, checks: Map<string, CheckSpec>): PoolSpec | undefined {
    const p: Path = ["pools", i];
    const o = this.map(p, raw, POOL_KEYS, "a pool");
    if (!o) return undefined;
    const errorsBefore = this.errors.length;
    let name: string | undefined;
    if (o.name === undefined || o.name === null) this.error([...p, "name"], "every pool needs a name (e.g. app.example.test.)");
    else {
      const s = this.str([...p, "name"], o.name);
      if (s !== undefined) {
        name = absoluteName(s);
        if (name === undefined) this.error([...p, "name"], `not a domain name: ${JSON.stringify(s)}`);
      }
    }
    const type = this.oneOf([...p, "type"], typeof o.type === "string" ? o.type.toUpperCase() : o.type, POOL_TYPES, true);
    const ttl = this.ttl([...p, "ttl"], o.ttl) ?? POOL_DEFAULTS.ttl;
    const degradedTtl = this.ttl([...p, "degraded_ttl"], o.degraded_ttl);
    if (degradedTtl !== undefined && degradedTtl > ttl) this.error([...p, "degraded_ttl"], `degraded_ttl ${degradedTtl} is longer than ttl ${ttl}`);
    const policy = this.oneOf([...p, "policy"], o.policy, POLICIES) ?? POOL_DEFAULTS.policy;
    const whenAllDown = this.oneOf([...p, "when_all_down"], o.when_all_down, WHEN_ALL_DOWN) ?? POOL_DEFAULTS.whenAllDown;
    const check = this.checkRef([...p, "check"], o.check, checks);
    const maxAnswers = this.int([...p, "max_answers"], o.max_answers, 1, 64);
    if (maxAnswers !== undefined && maxAnswers > 1 && type === "CNAME") {
      this.error([...p, "max_answers"], "a CNAME pool answers exactly one target name (RFC 1034 §3.6.2); leave max_answers out");
    }
    const endpoints = this.endpoints([...p, "endpoints"], o.endpoints, type, policy, check, checks);
    if (this.errors.length > errorsBefore || !name || !type || !endpoints) return undefined;
    const w = this.where(p);
    const pool: PoolSpec = { name, type, ttl, policy, whenAllDown, endpoints, file: w.file, line: w.line };
    if (degradedTtl !== undefined) pool.degradedTtl = degradedTtl;
    if (check !== undefined) pool.check = check;
    if (maxAnswers !== undefined) pool.maxAnswers = maxAnswers;
    return pool;
  }

  private endpoints(
    path: Path,
    raw: unknown,
    type: PoolSpec["type"] | undefined,
    policy: PoolSpec["policy"],
    poolCheck: string | undefined,
    checks: Map<string, CheckSpec>,
  ): PoolEndpoint[] | undefined {
    if (raw === undefined || raw === null) return this.error(path, "a pool needs at least one endpoint");
    if (!Array.isArray(raw)) return this.error(path, `expected a list of endpoints, got ${describe(raw)}`);
    if (raw.length === 0) return this.error(path, "empty list; a pool needs at least one endpoint");
    const out: PoolEndpoint[] = [];
    const seen = new Map<string, number>();
    let withPriority = 0;
    raw.forEach((item, j) => {
      const ep = [...path, j];
      const o: Record<string, unknown> | undefined =
        typeof item === "string" ? { address: item } : this.map(ep, item, ENDPOINT_KEYS, "an endpoint or an address");
      if (!o) return;
      const address = this.endpointAddress([...ep, "address"], o.address, type);
      const e: PoolEndpoint = { address: address ?? "" };
      if (address !== undefined) {
        const prev = seen.get(address.toLowerCase());
        if (prev !== undefined) this.error([...ep, "address"], `${address} is already endpoint ${prev} of this pool`);
        seen.set(address.toLowerCase(), j);
      }
      const check = this.checkRef([...ep, "check"], o.check, checks);
      if (check !== undefined) e.check = check;
      if (o.check_address !== undefined && o.check_address !== null) {
        const ca = this.str([...ep, "check_address"], o.check_address);
        if (ca !== undefined) {
          const host = ca.endsWith(".") ? ca.slice(0, -1) : ca;
          if (isIP(host) === 0 && !isHostname(host)) this.error([...ep, "check_address"], `not an IP address or host name: ${JSON.stringify(ca)}`);
          else if ((check ?? poolCheck) === undefined) this.error([...ep, "check_address"], "no check applies to this endpoint; set the pool's or the endpoint's check");
          else e.checkAddress = host;
        }
      }
      if (o.priority !== undefined && o.priority !== null) {
        withPriority++;
        if (policy !== "failover") this.error([...ep, "priority"], `priority applies only to policy failover, not ${policy}`);
        const pr = this.int([...ep, "priority"], o.priority, 0, 65535);
        if (pr !== undefined) e.priority = pr;
      }
      if (o.weight !== undefined && o.weight !== null) {
        if (policy !== "weighted") this.error([...ep, "weight"], `weight applies only to policy weighted, not ${policy}`);
        const w = o.weight;
        if (typeof w !== "number" || !Number.isInteger(w) || w < 1 || w > 1_000_000) {
          this.error([...ep, "weight"], `weight must be a positive integer (1 to 1000000), got ${describe(w)}`);
        } else e.weight = w;
      }
      out.push(e);
    });
    if (withPriority > 0 && withPriority < raw.length) {
      this.error(path, `give priority to every endpoint or to none (${withPriority} of ${raw.length} have one)`);
    }
    return out;
  }

  private endpointAddress(path: Path, v: unknown, type: PoolSpec["type"] | undefined): string | undefined {
    if (v === undefined || v === null) return this.error(path, "every endpoint needs an address");
    const s = this.str(path, v);
    if (s === undefined || type === undefined) return undefined;
    switch (type) {
      case "A":
        if (!isIPv4(s)) return this.error(path, `an A pool needs IPv4 addresses, got ${JSON.stringify(s)}${isIPv6(s) ? " (IPv6: use a type AAAA pool)" : ""}`);
        return s;
      case "AAAA":
        if (!isIPv6(s)) return this.error(path, `an AAAA pool needs IPv6 addresses, got ${JSON.stringify(s)}${isIPv4(s) ? " (IPv4: use a type A pool)" : ""}`);
        return s;
      case "CNAME": {
        if (isIP(s) !== 0) return this.error(path, `a CNAME pool needs target names, got the address ${JSON.stringify(s)} (use a type A or AAAA pool)`);
        const n = absoluteName(s);
        if (n === undefined) return this.error(path, `not a domain name: ${JSON.stringify(s)}`);
        return n;
      }
    }
  }

  private checkRef(path: Path, v: unknown, checks: Map<string, CheckSpec>): string | undefined {
    if (v === undefined || v === null) return undefined;
    const s = this.str(path, v);
    if (s === undefined) return undefined;
    if (!checks.has(s)) {
      const near = closest(s, [...checks.keys()]);
      const known = checks.size > 0 ? `; defined checks: ${[...checks.keys()].join(", ")}` : "; no valid checks are defined";
      return this.error(path, `unknown check "${s}"${near ? ` (did you mean "${near}"?)` : ""}${known}`);
    }
    return s;
  }

  // ---- scalars --------------------------------------------------------------------------------

  private str(path: Path, v: unknown): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") return this.error(path, `expected a string, got ${describe(v)}`);
    return v;
  }

  private bool(path: Path, v: unknown): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") return this.error(path, `expected true or false, got ${describe(v)}`);
    return v;
  }

  private int(path: Path, v: unknown, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    const n = typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
      return this.error(path, `expected a whole number from ${min} to ${max}, got ${describe(v)}`);
    }
    return n;
  }

  private number(path: Path, v: unknown, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      return this.error(path, `expected a number from ${min} to ${max}, got ${describe(v)}`);
    }
    return v;
  }

  private oneOf<T extends string>(path: Path, v: unknown, allowed: readonly T[], required = false): T | undefined {
    if (v === undefined || v === null) {
      if (required) this.error(path, `required: one of ${allowed.join(", ")}`);
      return undefined;
    }
    if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
    const near = typeof v === "string" ? closest(v, allowed) : undefined;
    return this.error(path, `expected one of ${allowed.join(", ")}, got ${describe(v)}${near ? ` (did you mean "${near}"?)` : ""}`);
  }

  /** Milliseconds: "500ms", "1s", "2m", "1m30s"; a bare number is seconds. */
  private duration(path: Path, v: unknown, minMs: number, maxMs: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    const ms = parseDurationMs(v);
    if (ms === undefined) {
      return this.error(path, `bad duration ${describe(v)}: write a number with a unit, e.g. "500ms", "1s", "2m", "1m30s"`);
    }
    if (ms < minMs || ms > maxMs) return this.error(path, `${describe(v)} is out of range (${fmtMs(minMs)} to ${fmtMs(maxMs)})`);
    return ms;
  }

  /** A TTL in seconds: a whole number or a duration of whole seconds ("30s", "5m"). */
  private ttl(path: Path, v: unknown): number | undefined {
    if (v === undefined || v === null) return undefined;
    const ms = parseDurationMs(v);
    if (ms === undefined || ms % 1000 !== 0 || ms / 1000 > MAX_TTL) {
      return this.error(path, `bad TTL ${describe(v)}: write whole seconds (30) or a duration ("5m"), at most ${MAX_TTL}`);
    }
    return ms / 1000;
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in a duration ("500ms", "1s", "1m30s"; a bare number is seconds), or undefined. */
export function parseDurationMs(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 ? v * 1000 : undefined;
  if (typeof v !== "string") return undefined;
  const s = v.trim().toLowerCase();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  if (!/^(\d+(ms|s|m|h|d))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return total;
}

export function fmtMs(ms: number): string {
  if (ms === 0) return "0s";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** An absolute domain name with a final dot (lowercased), or undefined if the syntax is wrong. */
function absoluteName(s: string): string | undefined {
  const t = s.endsWith(".") ? s.slice(0, -1) : s;
  if (t === "") return undefined;
  if (t.length > 253) return undefined;
  for (const label of t.split(".")) {
    if (label.length === 0 || label.length > 63) return undefined;
    if (!/^[A-Za-z0-9_*-]+$/.test(label)) return undefined;
  }
  return `${t.toLowerCase()}.`;
}

function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  return s.split(".").every((l) => /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l));
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}
