// `hadns override set|list|rm`: put an endpoint of one pool (--pool) or every endpoint at an address
// (--address alone) down, up or draining for a while, with a reason; list the active ones; remove one
// early by its id (any unique prefix of it, as `list` and `status` show them).

import type { Status } from "../ops/api/status.js";
import type { Override } from "../ops/overrides.js";
import { adminVerb, answerText, AdminClientError, duration, printJson, shortId, table, type AdminClient, type AdminFlags } from "./admin-client.js";

export interface OverrideSetFlags extends AdminFlags {
  pool?: string;
  address: string;
  action: string;
  for: string;
  reason: string;
}

export function overrideSet(flags: OverrideSetFlags): Promise<number> {
  return adminVerb(flags, async (client) => {
    const req = { ...(flags.pool !== undefined ? { pool: flags.pool } : {}), address: flags.address, action: flags.action, reason: flags.reason, for: flags.for };
    const { body: o } = await client.call<Override>("POST", "/v1/overrides", req);
    if (flags.json) {
      printJson(o);
      return 0;
    }
    process.stdout.write(`override ${o.id} set: ${o.action} ${o.pool ?? "(every pool)"} ${o.address} for ${duration(o.expiresAt - o.createdAt)}, until ${new Date(o.expiresAt).toISOString()} (${o.reason})\n`);
    // What it did: each pool it touches, and what that pool answers now.
    const { body: s } = await client.call<Status>("GET", "/v1/status");
    for (const p of s.pools) {
      if (p.endpoints.some((e) => e.override?.id === o.id)) process.stdout.write(`  ${p.name} ${p.type} now answers ${answerText(p.answer)}: ${p.answer.reason}\n`);
    }
    return 0;
  });
}

export function overrideList(flags: AdminFlags): Promise<number> {
  return adminVerb(flags, async (client) => {
    const { body } = await client.call<{ overrides: Override[] }>("GET", "/v1/overrides");
    if (flags.json) {
      printJson(body);
      return 0;
    }
    if (body.overrides.length === 0) {
      process.stdout.write("no active overrides\n");
      return 0;
    }
    const now = Date.now();
    process.stdout.write(
      table([
        ["ID", "ACTION", "POOL", "ADDRESS", "EXPIRES", "REASON"],
        ...body.overrides.map((o) => [shortId(o.id), o.action, o.pool ?? "(every pool)", o.address, `in ${duration(o.expiresAt - now)}`, o.reason]),
      ]),
    );
    return 0;
  });
}

export function overrideRemove(ids: string[], flags: AdminFlags): Promise<number> {
  return adminVerb(flags, async (client) => {
    const removed: Override[] = [];
    for (const id of ids) {
      const full = await resolveId(client, id);
      const { body } = await client.call<Override>("DELETE", `/v1/overrides/${encodeURIComponent(full)}`);
      removed.push(body);
      if (!flags.json) process.stdout.write(`removed override ${body.id}: ${body.action} ${body.pool ?? "(every pool)"} ${body.address} (${body.reason})\n`);
    }
    if (flags.json) printJson(removed);
    return 0;
  });
}

/** A full id, from itself or a unique prefix of at least 4 characters. */
async function resolveId(client: AdminClient, id: string): Promise<string> {
  const { body } = await client.call<{ overrides: Override[] }>("GET", "/v1/overrides");
  if (body.overrides.some((o) => o.id === id)) return id;
  const matches = id.length >= 4 ? body.overrides.filter((o) => o.id.startsWith(id)) : [];
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) throw new AdminClientError(`${id} matches ${matches.length} overrides (${matches.map((o) => shortId(o.id)).join(", ")}); give more of the id`);
  throw new AdminClientError(`no active override with id ${id}${id.length < 4 ? " (give at least 4 characters of it)" : ""}; hadns override list shows them`);
}
