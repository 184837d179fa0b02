// Turns what a pool answers (addresses or target names, per variant) into RRsets the lookup reads in
// place of the zone file's data: the one place health meets the answer table.

import { RRClass, RRType } from "../wire/constants.js";
import { nameFromText, type Name } from "../wire/name.js";
import type { RRset } from "../zone/rr.js";
import type { DynamicSet } from "./lookup.js";
import type { Selection } from "./choice.js";
import { isIPv4 } from "node:net";
import { parseIPv6 } from "../zone/rdata-text.js";

/** A pool's answer as the engine compiles it: one DynamicSet per variant. */
export interface PoolRender {
  variants: DynamicSet[];
  selection: Selection;
  weights?: number[];
}

/** The pool's current answer, as produced by the pool policies (src/pool). */
export interface PoolAnswerLike {
  rcode: "noerror" | "servfail";
  ttl: number;
  selection: Selection;
  variants: string[][];
  weights?: number[];
  failOpen: boolean;
  reason: string;
}

/** Extended DNS Error "Other" (0) with a text: the closest RFC 8914 offers to "failing open". */
const EDE_OTHER = 0;

export function rdataOf(type: number, value: string): Buffer {
  if (type === RRType.A) {
    if (!isIPv4(value)) throw new Error(`"${value}" is not an IPv4 address`);
    return Buffer.from(value.split(".").map(Number));
  }
  if (type === RRType.AAAA) {
    const bytes = parseIPv6(value);
    if (!bytes) throw new Error(`"${value}" is not an IPv6 address`);
    return bytes;
  }
  return nameFromText(value.endsWith(".") ? value : value + ".").wire;
}

export function renderPool(owner: Name, type: number, answer: PoolAnswerLike, label: string): PoolRender {
  const ede = answer.failOpen ? { code: EDE_OTHER, text: `${label}: ${answer.reason}` } : undefined;
  if (answer.rcode === "servfail") {
    return { variants: [{ set: null, servfail: true, ede: { code: EDE_OTHER, text: `${label}: ${answer.reason}` } }], selection: "fixed" };
  }
  const variants: DynamicSet[] = answer.variants.map((values) => {
    const set: RRset | null =
      values.length === 0 ? null : { owner, type, class: RRClass.IN, ttl: answer.ttl, rdatas: values.map((v) => rdataOf(type, v)) };
    return ede ? { set, servfail: false, ede } : { set, servfail: false };
  });
  if (variants.length === 0) variants.push(ede ? { set: null, servfail: false, ede } : { set: null, servfail: false });
  return answer.weights ? { variants, selection: answer.selection, weights: answer.weights } : { variants, selection: answer.selection };
}
