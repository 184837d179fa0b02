// /v1/overrides: list, set and remove operator overrides — an endpoint of one pool, or every
// endpoint at an address, forced down, up or draining, with a reason and an expiry after which it
// returns to its probed state by itself. The store lives in the Runtime, so overrides survive a reload.

import { isIP } from "node:net";
import type { Override, OverrideAction } from "../overrides.js";
import type { Runtime } from "../../server/runtime.js";
import { nameFromText } from "../../wire/name.js";
import type { PoolSpec } from "../../pool/types.js";
import { parseDurationMs } from "../../zone/ttl.js";
import { bodyObject, describe, fieldError, HttpError, optionalString, requiredString, type Route } from "./http.js";

export const OVERRIDE_ACTIONS: readonly OverrideAction[] = ["down", "up", "drain"];
/** An override lasts at most this long: a forgotten one must not outlive the next on-call rotation by much. */
export const MAX_OVERRIDE_MS = 30 * 24 * 3600_000;
const FIELDS = ["pool", "address", "action", "reason", "for"] as const;

export const overrideRoutes: Route[] = [
  { method: "GET", path: "/v1/overrides", handle: ({ rt }) => ({ json: { overrides: rt.overrides.list() } }) },
  {
    method: "POST",
    path: "/v1/overrides",
    async handle({ rt, body }) {
      const o = setOverride(rt, await body());
      return { status: 201, json: o, headers: { location: `/v1/overrides/${encodeURIComponent(o.id)}` } };
    },
  },
  { method: "GET", path: "/v1/overrides/:id", handle: ({ rt, params }) => ({ json: byId(rt, params.id!) }) },
  {
    method: "DELETE",
    path: "/v1/overrides/:id",
    handle({ rt, params }) {
      const o = byId(rt, params.id!);
      rt.overrides.remove(o.id);
      return { json: o };
    },
  },
];

function byId(rt: Runtime, id: string): Override {
  const o = rt.overrides.list().find((x) => x.id === id);
  if (!o) throw new HttpError(404, `no override with id ${JSON.stringify(id)} (it may have expired; GET /v1/overrides lists the active ones)`);
  return o;
}

/** Validates a POST body against the pools being served and adds the override. */
export function setOverride(rt: Runtime, body: unknown): Override {
  const b = bodyObject(body, FIELDS);
  const poolText = optionalString(b, "pool", { maxLength: 255 });
  const addressText = requiredString(b, "address", { maxLength: 255, hint: "the endpoint's address, or CNAME target, as the pool lists it" });
  const actionText = requiredString(b, "action", { hint: OVERRIDE_ACTIONS.join(", ") });
  if (!OVERRIDE_ACTIONS.includes(actionText as OverrideAction)) {
    throw fieldError("action", `expected one of ${OVERRIDE_ACTIONS.join(", ")}, got ${JSON.stringify(actionText)}`);
  }
  const reason = requiredString(b, "reason", { maxLength: 500, hint: "say why, for whoever looks next" });
  const forMs = duration(b.for);

  const specs = rt.inputs.pools;
  let pool: string | undefined;
  let candidates = specs;
  if (poolText !== undefined) {
    // "app.example.test." or, as status shows pools, "app.example.test. A".
    const key = nameKey(poolText.replace(/\s+(A|AAAA|CNAME)$/i, ""));
    if (key === undefined) throw fieldError("pool", `not a domain name: ${JSON.stringify(poolText)}`);
    const keys = poolKeysOf(specs);
    candidates = specs.filter((_, i) => keys[i] === key);
    if (candidates.length === 0) {
      const names = [...new Set(specs.map((s) => s.name))];
      throw fieldError("pool", `no pool is named ${poolText} (pools: ${names.length > 0 ? names.join(", ") : "none"})`);
    }
    pool = candidates[0]!.name;
  }
  // The address as the pools write it: overrides are matched by that exact text.
  const want = addressKey(addressText);
  const address = candidates.flatMap((s) => s.endpoints.map((e) => e.address)).find((a) => addressKey(a) === want);
  if (address === undefined) {
    const listed = [...new Set(candidates.flatMap((s) => s.endpoints.map((e) => e.address)))];
    const where = pool !== undefined ? `pool ${pool}` : "any pool";
    throw fieldError("address", `${addressText} is not an endpoint of ${where} (endpoints: ${listed.length > 0 ? listed.join(", ") : "none"})`);
  }
  return rt.overrides.add({ ...(pool !== undefined ? { pool } : {}), address, action: actionText as OverrideAction, reason, forMs });
}

function duration(v: unknown): number {
  if (v === undefined || v === null) throw fieldError("for", 'missing (how long the override lasts, e.g. "30m", "2h", "1h30m")');
  let ms: number;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw fieldError("for", `expected a duration, got ${describe(v)}`);
    ms = v * 1000;
  } else if (typeof v === "string") {
    try {
      ms = parseDurationMs(v.trim(), { what: "duration" });
    } catch (e) {
      throw fieldError("for", (e as Error).message);
    }
  } else {
    throw fieldError("for", `expected a duration such as "30m", got ${describe(v)}`);
  }
  if (!(ms > 0)) throw fieldError("for", "must be more than 0");
  if (ms > MAX_OVERRIDE_MS) throw fieldError("for", `at most 30d; an override must expire`);
  return ms;
}

/** Each pool's name key, computed once per set of pools (a reload brings a new array), not per POST. */
const poolKeys = new WeakMap<readonly PoolSpec[], Array<string | undefined>>();
function poolKeysOf(specs: readonly PoolSpec[]): Array<string | undefined> {
  let keys = poolKeys.get(specs);
  if (keys === undefined) poolKeys.set(specs, (keys = specs.map((s) => nameKey(s.name))));
  return keys;
}

function nameKey(text: string): string | undefined {
  try {
    return nameFromText(text.endsWith(".") ? text : `${text}.`).key;
  } catch {
    return undefined;
  }
}

/** One form per address: IPv6 written any way, names in any case, with or without the final dot. */
function addressKey(text: string): string {
  if (isIP(text) === 6) return new URL(`http://[${text}]/`).hostname;
  if (isIP(text) === 4) return text;
  return nameKey(text) ?? text.toLowerCase();
}
