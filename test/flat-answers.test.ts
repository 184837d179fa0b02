// The flat answer table (src/answer/flat-answers.ts): a name's own RRset (or the template of its
// answer), once answered, comes from one hash table and byte arena. It must find exactly what was put in (any case of the name, any
// number of names and types), stop growing at its cap, and never hold an answer that can change
// while the engine lives (a pool's, or one that reads a pool).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildEngine } from "../src/answer/engine.js";
import { FlatAnswers } from "../src/answer/flat-answers.js";
import { renderPool } from "../src/answer/pools.js";
import { RRClass, RRType } from "../src/wire/constants.js";
import { nameFromText, type Name } from "../src/wire/name.js";
import { decodeQuery, Query } from "../src/wire/query.js";
import { loadZones } from "../src/zone/load.js";
import type { RRset } from "../src/zone/rr.js";

function queryFor(wire: Buffer, type: number): Buffer {
  const head = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([head, wire, Buffer.from([type >> 8, type & 0xff, 0, 1])]);
}

/** The name's wire form with the letters of `upperMask`'s set bits in upper case. */
function withCase(name: Name, upperMask: number): Buffer {
  const w = Buffer.from(name.wire);
  let bit = 0;
  for (let i = 0; i < w.length; i++) {
    const c = w[i]!;
    if (c >= 0x61 && c <= 0x7a && i > 0 && w[i - 1] !== 0 && (upperMask >> bit++ % 31) & 1) w[i] = c - 0x20;
  }
  return w;
}

function decoded(msg: Buffer): Query {
  const q = new Query();
  decodeQuery(msg, q);
  return q;
}

const setOf = (owner: Name, type: number, n: number): RRset => ({
  owner,
  type,
  class: RRClass.IN,
  ttl: 300 + n,
  rdatas: [Buffer.from([192, 0, 2, n & 0xff])],
});

describe("FlatAnswers", () => {
  it("finds every (name, type) put in, in any letter case, and nothing else", () => {
    const label = fc.stringMatching(/^[a-z0-9-]{1,12}$/);
    const name = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => nameFromText(`${ls.join(".")}.test.`));
    const type = fc.constantFrom(RRType.A, RRType.AAAA, RRType.TXT, RRType.ANY, 65000);
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, type), { minLength: 1, maxLength: 300, selector: ([n, t]) => `${n.key}/${t}` }), fc.integer(), (entries) => {
        const flat = new FlatAnswers();
        const held = entries.slice(0, Math.ceil(entries.length / 2));
        held.forEach(([n, t], i) => {
          const msg = queryFor(n.wire, t);
          flat.add(decoded(msg), msg, i + 1, setOf(n, t, i));
        });
        expect(flat.size).toBe(held.length);
        entries.forEach(([n, t], i) => {
          const msg = queryFor(withCase(n, i * 7919), t);
          const r = flat.find(decoded(msg), msg);
          if (i >= held.length) {
            expect(r).toBe(-1);
            return;
          }
          expect(r).toBeGreaterThanOrEqual(0);
          expect(flat.zoneOf(r)).toBe(i + 1);
          expect(flat.countOf(r)).toBe(1);
          const body = Buffer.from(flat.octets.subarray(flat.bodyOf(r), flat.bodyOf(r) + flat.bodyLenOf(r)));
          expect(body.toString("hex")).toBe(`c00c${t.toString(16).padStart(4, "0")}0001${(300 + i).toString(16).padStart(8, "0")}0004c00002${(i & 0xff).toString(16).padStart(2, "0")}`);
        });
      }),
      { numRuns: 60 },
    );
  });

  it("stops taking entries at its cap; what it holds is still found", () => {
    const flat = new FlatAnswers(64 * 1024);
    const names = Array.from({ length: 5000 }, (_, i) => nameFromText(`host-${i}.cap.test.`));
    for (const [i, n] of names.entries()) {
      const msg = queryFor(n.wire, RRType.A);
      flat.add(decoded(msg), msg, 1, setOf(n, RRType.A, i));
    }
    expect(flat.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(flat.size).toBeGreaterThan(1000);
    expect(flat.size).toBeLessThan(5000);
    const found = names.filter((n) => {
      const msg = queryFor(n.wire, RRType.A);
      return flat.find(decoded(msg), msg) >= 0;
    });
    expect(found).toEqual(names.slice(0, flat.size));
  });
});

describe("the engine's flat table", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-flat-"));
  const file = path.join(dir, "flat.test.zone");
  fs.writeFileSync(
    file,
    [
      "$ORIGIN flat.test.",
      "$TTL 300",
      "@ SOA ns1 hostmaster 1 7200 900 1209600 300",
      "@ NS ns1",
      "ns1 A 192.0.2.1",
      "plain A 192.0.2.7",
      "plain AAAA 2001:db8::7",
      "mail A 192.0.2.25",
      "static A 192.0.2.30", // beside an MX to a static name: its A is fixed
      "static MX 10 mail",
      "reads A 192.0.2.31", // beside an MX to the pool: its lane reads the pool
      "reads MX 10 app",
      "app A 192.0.2.100", // replaced by the pool
      "",
    ].join("\n"),
  );
  const { zones, errors } = loadZones([{ file }]);
  fs.rmSync(dir, { recursive: true, force: true });
  const app = nameFromText("app.flat.test.");
  const render = (ip: string) => renderPool(app, RRType.A, { rcode: "noerror", ttl: 20, selection: "fixed", variants: [[ip]], failOpen: false, reason: "test" }, "app");

  it("holds a name's own fixed RRset after its first answer, answers it in the question's case, never holds a pool's", () => {
    expect(errors).toEqual([]);
    const engine = buildEngine(zones, { pools: [{ name: app, type: RRType.A, render: render("198.51.100.1") }] });
    const ask = (text: string, type: number) => engine.answer(queryFor(nameFromText(text).wire, type), "udp")!;
    const first = ask("plain.flat.test.", RRType.A);
    expect(engine.flat.size).toBe(1);
    expect(ask("plain.flat.test.", RRType.A).toString("hex")).toBe(first.toString("hex"));
    expect(engine.flat.size).toBe(1);
    // Upper case: found, the question echoed as sent, the records the same.
    const upper = engine.answer(queryFor(withCase(nameFromText("plain.flat.test."), 0x7fffffff), RRType.A), "udp")!;
    expect(upper.subarray(12, 12 + 17).toString("latin1")).toContain("PLAIN");
    expect(upper.subarray(12 + 17 + 4).toString("hex")).toBe(first.subarray(12 + 17 + 4).toString("hex"));
    ask("static.flat.test.", RRType.A);
    expect(engine.flat.size).toBe(2);
    // The pool and a lane that reads it stay out; a pool change shows at once.
    for (let i = 0; i < 2; i++) ask("app.flat.test.", RRType.A), ask("reads.flat.test.", RRType.A);
    expect(engine.flat.size).toBe(2);
    engine.updatePool(app, RRType.A, render("198.51.100.2"));
    expect(ask("app.flat.test.", RRType.A).subarray(-4)).toEqual(Buffer.from([198, 51, 100, 2]));
    expect(ask("reads.flat.test.", RRType.A).subarray(-4)).toEqual(Buffer.from([192, 0, 2, 31]));
    expect(engine.flat.size).toBe(2);
  });

  it("holds compiled templates of fixed lanes too (NODATA, MX with its additional), not of lanes that read a pool", () => {
    const engine = buildEngine(zones, { pools: [{ name: app, type: RRType.A, render: render("198.51.100.1") }] });
    const ask = (text: string, type: number) => engine.answer(queryFor(nameFromText(text).wire, type), "udp")!.toString("hex");
    const nodata = ask("plain.flat.test.", RRType.MX);
    const mx = ask("static.flat.test.", RRType.MX);
    expect(engine.flat.size).toBe(2);
    expect([ask("plain.flat.test.", RRType.MX), ask("static.flat.test.", RRType.MX)]).toEqual([nodata, mx]);
    // The MX to the pool carries the pool's address in additional: never held, follows the pool.
    const before = ask("reads.flat.test.", RRType.MX);
    expect(before).toContain(Buffer.from([198, 51, 100, 1]).toString("hex"));
    engine.updatePool(app, RRType.A, render("198.51.100.2"));
    expect(ask("reads.flat.test.", RRType.MX)).toContain(Buffer.from([198, 51, 100, 2]).toString("hex"));
    expect(engine.flat.size).toBe(2);
  });
});
