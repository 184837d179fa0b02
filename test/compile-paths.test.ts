// The engine answers from templates compiled ahead of time, some through shortcuts: plain names
// (A, AAAA, TXT… with nothing to follow or add) are written without the general lookup and encoder,
// and NODATA is one template per zone relocated per query. The responses must be byte-identical to
// what the general path (lookup + encoder for that very name) gives, for every name and type.

import { describe, expect, it } from "vitest";
import { loadZones } from "../src/zone/load.js";
import { buildEngine } from "../src/answer/engine.js";
import { landOnNode, locate, resolve } from "../src/answer/lookup.js";
import { compileTemplate } from "../src/answer/template.js";
import { RRType } from "../src/wire/constants.js";
import { decodeQuery, Query } from "../src/wire/query.js";
import { writeAnswer } from "../src/wire/response.js";
import { nameFromText, type Name } from "../src/wire/name.js";
import type { Zone } from "../src/zone/zone.js";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

function queryFor(name: Name, type: number, edns: boolean): Buffer {
  const head = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0]);
  const tail = Buffer.from([type >> 8, type & 0xff, 0, 1]);
  const opt = edns ? Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([head, name.wire, tail, opt]);
}


/**
 * The engine's answer to (name, type, edns) over UDP beside the general path's for the same question
 * (lookup → compileTemplate → writeAnswer), as hex, and the general template (for its outcome). The
 * engine is asked twice, and must answer the same both times (the second may come from its flat table).
 */
function bothPaths(engine: ReturnType<typeof buildEngine>, zone: Zone, name: Name, type: number, edns: boolean, landing = locate(zone, name.key, type)) {
  const msg = queryFor(name, type, edns);
  const q = new Query();
  decodeQuery(msg, q);
  const general = compileTemplate(resolve({ zone, landing, qtype: type, owner: name, name }), name);
  const got = engine.answer(msg, "udp")!.toString("hex");
  // Asked again: a name's own RRset now comes from the flat table (answer/flat-answers.ts), the same octets.
  expect(engine.answer(msg, "udp")!.toString("hex")).toBe(got);
  return { got, expected: writeAnswer(q, msg, general, edns ? 1232 : 512).toString("hex"), general };
}


/** Twelve 62-octet TXT strings at `big`: more than fits in 512 octets, so the UDP answer is TC. */
const BIG_TXT = Array.from({ length: 12 }, (_, i) => `big TXT "${String(i).padStart(2, "0")}${"x".repeat(60)}"`);

/** Loads a zone written from `lines` (in a temp file) and builds its engine. */
function engineForZone(origin: string, lines: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-paths-"));
  try {
    fs.writeFileSync(path.join(dir, `${origin}zone`), [`$ORIGIN ${origin}`, "$TTL 300", "@ SOA ns1 hostmaster 1 7200 900 1209600 300", ...lines, ""].join("\n"));
    const { zones, errors } = loadZones([{ file: path.join(dir, `${origin}zone`) }]);
    expect(errors).toEqual([]);
    return { engine: buildEngine(zones), zone: zones[0]! };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("compiled answers = general path", () => {
  it("every name of the example zone, for each of its types, ANY, TXT and an absent type, UDP with and without EDNS", () => {
    const { zones, errors } = loadZones([{ file: "zones/example.test.zone" }], { zonesRoot: "zones" });
    expect(errors).toEqual([]);
    const engine = buildEngine(zones);
    const zone = zones[0]!;
    let compared = 0;
    for (const node of zone.nodes.values()) {
      if (landOnNode(node, RRType.A).kind !== "exact") continue;
      for (const type of new Set([...node.rrsets.keys(), RRType.ANY, RRType.TXT, 65000])) {
        for (const edns of [false, true]) {
          const { got, expected } = bothPaths(engine, zone, node.name, type, edns, landOnNode(node, type));
          expect({ name: node.name.key, type, edns, got }).toEqual({ name: node.name.key, type, edns, got: expected });
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it("names that do not exist (NXDOMAIN, wildcard synthesis, below a delegation, the SOA's RNAME), each type", () => {
    const { zones } = loadZones([{ file: "zones/example.test.zone" }], { zonesRoot: "zones" });
    const engine = buildEngine(zones);
    const zone = zones[0]!;
    const names = ["nothere", "hostmaster", "x.hostmaster", "a.b.nothere", "foo.wild", "a.b.wild", "deep.x.sub", "Mixed.Case.Wild"];
    for (const text of names) {
      const name = nameFromText(`${text}.example.test.`);
      for (const type of [RRType.A, RRType.AAAA, RRType.MX, RRType.ANY, 65000]) {
        for (const edns of [false, true]) {
          const { got, expected } = bothPaths(engine, zone, name, type, edns);
          expect({ text, type, edns, got }).toEqual({ text, type, edns, got: expected });
        }
      }
    }
  });
});

describe("plain names written straight from their RRset", () => {
  it("match the general path, also when the RRset does not fit (TC) and for ANY, with and without EDNS", () => {
    const { engine, zone } = engineForZone("plain.test.", [
      "@ NS ns1", "ns1 A 192.0.2.1", "h A 192.0.2.7", "h AAAA 2001:db8::7", "h TXT \"one\" \"two\"", "two A 192.0.2.8", "two A 192.0.2.9", ...BIG_TXT,
    ]);
    for (const text of ["h", "two", "big", "ns1"]) {
      const name = nameFromText(`${text}.plain.test.`);
      for (const type of [RRType.A, RRType.AAAA, RRType.TXT, RRType.ANY, RRType.MX]) {
        for (const edns of [false, true]) {
          const { got, expected, general } = bothPaths(engine, zone, name, type, edns);
          expect({ text, type, edns, got }).toEqual({ text, type, edns, got: expected });
          expect(engine.templateFor(name, type)!.outcome).toEqual(general.outcome);
        }
      }
    }
    // The big TXT set does not fit in 512 octets: TC, no answer records.
    const r = engine.answer(queryFor(nameFromText("big.plain.test."), RRType.TXT, false), "udp")!;
    expect(r[2]! & 0x02).toBe(0x02);
    expect(r.readUInt16BE(6)).toBe(0);
  });
});

describe("plain RRsets of names that are not plain, written straight from the RRset", () => {
  it("A, AAAA, TXT beside MX, SRV, NS or a CNAME target match the general path (TC and ANY too)", () => {
    const { engine, zone } = engineForZone("direct.test.", [
      "@ NS ns1", "@ A 192.0.2.99", "@ MX 10 mail", "ns1 A 192.0.2.1", "mail A 192.0.2.25", "mail AAAA 2001:db8::25",
      "h A 192.0.2.7", "h AAAA 2001:db8::7", "h MX 10 mail", "h TXT \"one\" \"two\"", "s SRV 10 60 5060 h", "s TXT \"srv\"", "c CNAME h",
      "big MX 10 mail", ...BIG_TXT, "Mixed A 192.0.2.44", "Mixed MX 5 Mail",
    ]);
    for (const text of ["@", "h", "s", "c", "big", "mixed", "MIXED"]) {
      const name = nameFromText(text === "@" ? "direct.test." : `${text}.direct.test.`);
      for (const type of [RRType.A, RRType.AAAA, RRType.TXT, RRType.MX, RRType.SRV, RRType.ANY, 65000]) {
        for (const edns of [false, true]) {
          const { got, expected } = bothPaths(engine, zone, name, type, edns);
          expect({ text, type, edns, got }).toEqual({ text, type, edns, got: expected });
        }
      }
    }
    const r = engine.answer(queryFor(nameFromText("big.direct.test."), RRType.TXT, false), "udp")!;
    expect(r[2]! & 0x02).toBe(0x02);
  });
});

describe("an engine built for a reload (deferCompile)", () => {
  it("answers every query byte for byte as an engine compiled up front, before, during and after compiling in slices", async () => {
    const { zones } = loadZones([{ file: "zones/example.test.zone" }], { zonesRoot: "zones" });
    const eager = buildEngine(zones);
    const names = [...zones[0]!.nodes.values()].map((n) => n.name).concat([nameFromText("nothere.example.test."), nameFromText("a.b.wild.example.test.")]);
    const queries = names.flatMap((name) => [RRType.A, RRType.AAAA, RRType.MX, RRType.ANY].map((t) => queryFor(name, t, true)));
    const expected = queries.map((m) => eager.answer(m, "udp")!.toString("hex"));
    const lazy = buildEngine(zones, { deferCompile: true });
    // Half the names answered before any compiling (compiled on demand), then in slices, then all.
    const half = queries.length >> 1;
    expect(queries.slice(0, half).map((m) => lazy.answer(m, "udp")!.toString("hex"))).toEqual(expected.slice(0, half));
    lazy.compileRemaining(0);
    await lazy.compileInBackground(1);
    expect(queries.map((m) => lazy.answer(m, "udp")!.toString("hex"))).toEqual(expected);
  });
});
