// `hadns explain NAME [TYPE]`: why NAME gets the answer it gets right now — the zone, each pool on
// the way (policy, every endpoint's state and override, whether it is in the answer, fail-open or
// not) and the records of the compiled answer, as GET /v1/explain says.

import type { explain as explainFn } from "../ops/api/explain.js";
import { adminVerb, ago, answerText, duration, printJson, shortId, table, type AdminFlags } from "./admin-client.js";

type Explained = ReturnType<typeof explainFn>;

export function explain(name: string, type: string | undefined, flags: AdminFlags): Promise<number> {
  return adminVerb(flags, async (client) => {
    const q = new URLSearchParams({ name, type: type ?? "A" });
    const { body: x } = await client.call<Explained>("GET", `/v1/explain?${q}`);
    if (flags.json) {
      printJson(x);
      return 0;
    }
    process.stdout.write(formatExplain(x, Date.now()));
    return 0;
  });
}

export function formatExplain(x: Explained, now: number): string {
  let out = `${x.name} ${x.type}: ${x.summary}\n\n`;
  out += x.zone ? `zone    ${x.zone.origin} (serial ${x.zone.serial}, ${x.zone.file})\n` : "zone    none served here\n";
  if (x.pools.length === 0) out += "pool    none\n";
  for (const p of x.pools) {
    out += `pool    ${p.label}  policy ${p.policy}  ttl ${p.ttl}  when all down: ${p.whenAllDown}${p.failOpen ? "  !! FAIL-OPEN" : ""}\n`;
    out += `        answers ${answerText(p.answer)} (ttl ${p.answer.ttl}): ${p.reason}\n`;
    out += table(
      [
        ["ENDPOINT", "IN ANSWER", "STATE", "PROBED", "SINCE", "REASON", "OVERRIDE"],
        ...p.endpoints.map((e) => [
          e.address,
          e.inAnswer ? "yes" : "no",
          e.override?.action === "drain" ? "drain" : e.state,
          e.check ? e.probedState : "no check",
          ago(now, e.since),
          e.reason || "-",
          e.override ? `${e.override.action}: ${e.override.reason} (${duration(e.override.expiresAt - now)} more) [${shortId(e.override.id)}]` : "-",
        ]),
      ],
      "        ",
    );
  }
  const r = x.response;
  out += `\nresponse ${r.rcode}${r.aa ? ", authoritative" : ""}${"ede" in r && r.ede ? `, EDE ${r.ede.code} ${r.ede.text}` : ""}\n`;
  for (const [title, rrs] of [["answer", r.answer], ["authority", r.authority], ["additional", r.additional]] as const) {
    if (rrs.length === 0) continue;
    out += `  ;; ${title}\n`;
    for (const rr of rrs) out += `  ${rr}\n`;
  }
  return out;
}
