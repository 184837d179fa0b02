// `hadns status`: GET /v1/status as readable tables — zones, the workers (with --workers), each pool with what it answers and
// every endpoint (state, probed state, since, reason, last probe, override), active overrides and
// the latest transitions. --json prints the API's answer as is.

import type { Status } from "../ops/api/status.js";
import { adminVerb, ago, answerText, duration, printJson, shortId, table, type AdminFlags } from "./admin-client.js";

export interface StatusFlags extends AdminFlags {
  transitions?: number;
}

export function status(flags: StatusFlags): Promise<number> {
  return adminVerb(flags, async (client) => {
    const { body: s } = await client.call<Status>("GET", "/v1/status");
    if (flags.json) {
      printJson(s);
      return 0;
    }
    process.stdout.write(formatStatus(s, client.base, flags.transitions ?? 10));
    return 0;
  });
}

export function formatStatus(s: Status, base: string, transitions: number): string {
  const now = s.now;
  let out = `hadns ${s.version} at ${base}: up ${duration(now - s.startedAt)}`;
  if (s.lastReload) out += `, last reload ${s.lastReload.ok ? "ok" : "REJECTED"} (${s.lastReload.trigger})`;
  out += "\n\n";

  out += table([["ZONE", "SERIAL", "RECORDS", "FILE"], ...s.zones.map((z) => [z.origin, String(z.serial), String(z.records), z.file])]);

  if (s.workers !== undefined) {
    out += "\nWORKERS\n";
    out += table(
      [
        ["WORKER", "PID", "STATE", "UP", "RESTARTS", "QUERIES"],
        ...s.workers.map((w) => [String(w.worker), w.pid === null ? "-" : String(w.pid), w.state, w.startedAt > 0 ? duration(now - w.startedAt) : "-", String(w.restarts), String(w.queries)]),
      ],
      "  ",
    );
  }

  if (s.pools.length === 0) out += "\nno pools\n";
  for (const p of s.pools) {
    const a = p.answer;
    out += `\nPOOL ${p.name} ${p.type}  ${p.policy}  answers ${answerText(a)} (ttl ${a.ttl})${a.failOpen ? "  !! FAIL-OPEN" : ""}\n`;
    out += `  ${a.reason}\n`;
    out += table(
      [
        ["ENDPOINT", "STATE", "PROBED", "SINCE", "REASON", "LAST PROBE", "OVERRIDE"],
        ...p.endpoints.map((e) => [
          e.address,
          e.override?.action === "drain" ? "drain" : e.state,
          e.check ? `${e.probedState}${e.probed && e.probed !== e.address ? ` via ${e.probed}` : ""}` : "no check",
          ago(now, e.since),
          e.reason || "-",
          e.lastProbe ? `${e.lastProbe.ok ? "ok" : "failed"}: ${e.lastProbe.reason}, ${Math.round(e.lastProbe.latencyMs)} ms, ${ago(now, e.lastProbe.at)}` : "-",
          e.override ? `${e.override.action} for ${duration(e.override.expiresAt - now)} more [${shortId(e.override.id)}]` : "-",
        ]),
      ],
      "  ",
    );
  }

  out += "\nOVERRIDES\n";
  out +=
    s.overrides.length === 0
      ? "  none\n"
      : table(
          [
            ["ID", "ACTION", "POOL", "ADDRESS", "EXPIRES", "REASON"],
            ...s.overrides.map((o) => [shortId(o.id), o.action, o.pool ?? "(every pool)", o.address, `in ${duration(o.expiresAt - now)}`, o.reason]),
          ],
          "  ",
        );

  const recent = s.recentTransitions.slice(0, transitions);
  out += `\nRECENT TRANSITIONS${recent.length < s.recentTransitions.length ? ` (latest ${recent.length} of ${s.recentTransitions.length})` : ""}\n`;
  out +=
    recent.length === 0
      ? "  none since start\n"
      : table(
          [
            ["WHEN", "ENDPOINT", "CHECK", "CHANGE", "REASON"],
            ...recent.map((t) => [ago(now, t.at), t.address, t.check, `${t.from} -> ${t.to}`, t.reason]),
          ],
          "  ",
        );
  return out;
}
