// CHAOS-class identity answers (RFC 4892 §2.2, BIND convention): version.bind / version.server and
// id.server / hostname.bind as TXT, only when the operator configured them; otherwise REFUSED.

import { RRClass, RRType } from "../wire/constants.js";
import { nameFromText, type Name } from "../wire/name.js";
import { compileTemplate, type Template } from "./template.js";

export interface ChaosOptions {
  version?: string;
  id?: string;
}

function txtRdata(text: string): Buffer {
  const bytes = Buffer.from(text, "utf8");
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

function answer(name: Name, text: string): Template {
  return compileTemplate(
    {
      rcode: 0,
      aa: false, // Knot DNS answers CH identity queries without AA
      answer: [{ owner: name, type: RRType.TXT, class: RRClass.CH, ttl: 0, rdatas: [txtRdata(text)] }],
      authority: [],
      additional: [],
    },
    name,
  );
}

/** Templates keyed by lower-cased wire name (see wire/name.ts). */
export function chaosTemplates(opts: ChaosOptions): Map<string, Template> {
  const out = new Map<string, Template>();
  const add = (names: string[], text: string | undefined) => {
    if (text === undefined) return;
    for (const n of names) {
      const name = nameFromText(n);
      out.set(name.key, answer(name, text));
    }
  };
  add(["version.bind.", "version.server."], opts.version);
  add(["id.server.", "hostname.bind."], opts.id);
  return out;
}
