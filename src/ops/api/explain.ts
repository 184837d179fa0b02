// GET /v1/explain?name=…&type=…: why a query gets the answer it gets right now — the zone, every
// pool the answer passes through (the name's own, or one a CNAME or MX leads to) with its policy,
// each endpoint's probed state, override and whether it is in the answer, fail-open or not, and the
// records of the compiled answer a query would be sent (RFC 1034 §4.3.2 as the engine decided it).

import type { Runtime } from "../../server/runtime.js";
import type { OutRRset } from "../../answer/outcome.js";
import type { PoolAnswer } from "../../pool/types.js";
import { QNAME } from "../../wire/body-writer.js";
import { classToText, isMetaType, Rcode, RRType, typeFromText, typeToText } from "../../wire/constants.js";
import { isAtOrBelow, nameFromText, nameToText, type Name } from "../../wire/name.js";
import { rdataToText } from "../../zone/rdata-format.js";
import { fieldError, queryParams, type Route } from "./http.js";

export const explainRoutes: Route[] = [
  {
    method: "GET",
    path: "/v1/explain",
    handle({ rt, url }) {
      const q = queryParams(url, ["name", "type"]);
      if (q.name === undefined || q.name.trim() === "") throw fieldError("name", "missing (e.g. ?name=app.example.test.&type=A)");
      return { json: explain(rt, q.name.trim(), (q.type ?? "A").trim()) };
    },
  },
];

const RCODE_NAMES = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));
const rcodeText = (n: number): string => RCODE_NAMES.get(n) ?? `RCODE${n}`;

type StatusPool = ReturnType<Runtime["status"]>["pools"][number];

export function explain(rt: Runtime, nameText: string, typeText: string) {
  let name: Name;
  try {
    name = nameFromText(nameText.endsWith(".") ? nameText : `${nameText}.`);
  } catch (e) {
    throw fieldError("name", `${(e as Error).message}`);
  }
  const qtype = typeFromText(typeText);
  if (qtype === undefined) throw fieldError("type", `unknown record type ${JSON.stringify(typeText)}`);
  if (isMetaType(qtype) && qtype !== RRType.ANY) throw fieldError("type", `${typeToText(qtype)} is not answered from the answer table; ask for a record type`);
  const qname = nameToText(name);

  let zone: (typeof rt.inputs.zones)[number] | undefined;
  for (const z of rt.inputs.zones) {
    if (isAtOrBelow(name.key, z.origin.key) && (!zone || z.origin.key.length > zone.origin.key.length)) zone = z;
  }
  const template = rt.engine.templateFor(name, qtype);
  const outcome = template?.outcome;
  const rrText = (s: OutRRset): string[] => {
    const owner = s.owner === QNAME ? qname : nameToText(s.owner);
    return s.rdatas.map((rd) => `${owner} ${s.ttl} ${classToText(s.class)} ${typeToText(s.type)} ${rdataToText(s.type, rd)}`);
  };

  // Pools: the question's own, then any whose records the answer holds (CNAME/MX/SRV to a pool).
  const status = rt.status();
  const pools: StatusPool[] = [];
  const addPool = (owner: string, type: string): void => {
    const live = rt.pools.find(owner, type);
    if (!live) return;
    const p = status.pools.find((x) => x.name === live.spec.name && x.type === live.spec.type);
    if (p && !pools.includes(p)) pools.push(p);
  };
  addPool(qname, typeToText(qtype));
  for (const s of [...(outcome?.answer ?? []), ...(outcome?.additional ?? [])]) {
    addPool(s.owner === QNAME ? qname : nameToText(s.owner), typeToText(s.type));
  }
  const explained = pools.map((p) => {
    const answered = new Set(p.answer.variants.flat());
    return {
      ...p,
      label: `${p.name} ${p.type}`,
      failOpen: p.answer.failOpen,
      reason: p.answer.reason,
      endpoints: p.endpoints.map((e) => ({ ...e, inAnswer: answered.has(e.address) })),
    };
  });

  const response = outcome
    ? {
        rcode: rcodeText(outcome.rcode),
        aa: outcome.aa,
        answer: outcome.answer.flatMap(rrText),
        authority: outcome.authority.flatMap(rrText),
        additional: outcome.additional.flatMap(rrText),
        ...(outcome.ede ? { ede: outcome.ede } : {}),
      }
    : { rcode: "REFUSED", aa: false, answer: [], authority: [], additional: [] };

  const first = explained[0];
  const summary = !zone
    ? `${qname} is in no zone served here: REFUSED`
    : first
      ? `${first.label} (${first.policy}) answers ${answerText(first.answer)}: ${first.reason}${first.failOpen ? " — FAILING OPEN" : ""}`
      : `${qname} ${typeToText(qtype)}: ${response.rcode}${response.answer.length === 0 ? " with no records" : ` with ${response.answer.length} record${response.answer.length === 1 ? "" : "s"}`} from zone ${nameToText(zone.origin)}; no pool involved`;

  return {
    name: qname,
    type: typeToText(qtype),
    summary,
    zone: zone ? { origin: nameToText(zone.origin), serial: zone.serial, file: zone.file } : null,
    pool: explained[0] ?? null,
    pools: explained,
    failOpen: explained.some((p) => p.failOpen),
    response,
  };
}

/** What a pool answers, in one phrase: "192.0.2.10", "a, b (rotating)", "a x3, b x1 (weighted)", "SERVFAIL". */
export function answerText(a: Pick<PoolAnswer, "rcode" | "selection" | "variants" | "weights">): string {
  if (a.rcode === "servfail") return "SERVFAIL";
  const first = a.variants[0] ?? [];
  if (first.length === 0) return "no records (NODATA)";
  if (a.selection === "fixed" || a.variants.length === 1) return first.join(", ");
  if (a.selection === "weighted" && a.weights) return a.variants.map((v, i) => `${v[0]} x${a.weights![i]}`).join(", ") + " (weighted)";
  return `${[...new Set(a.variants.flat())].join(", ")} (rotating)`;
}
