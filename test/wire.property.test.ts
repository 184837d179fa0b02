// Property tests (fast-check) for the wire path, in-process: random bytes and mutated real queries
// fed to decodeQuery and QueryEngine.answer never throw; every answer decodes with dns-packet (an
// independent decoder), carries the query's ID and echoes its question byte for byte, and fits the
// UDP limit; names round-trip through nameFromText / nameToText / wire.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import dnsPacket from "dns-packet";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEngine, type QueryEngine, type Transport } from "../src/answer/engine.js";
import { nameFromLabels, nameFromText, nameFromWire, nameToText } from "../src/wire/name.js";
import { decodeQuery, Query } from "../src/wire/query.js";
import { loadZones } from "../src/zone/load.js";
import { buildQuery, normalise } from "./support/client.js";

const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@          3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@          3600 NS    ns1
@               MX    10 mail
ns1             A     192.0.2.53
ns1             AAAA  2001:db8::53
www             A     192.0.2.1
www             TXT   "hello" "world"
mail            A     192.0.2.25
alias           CNAME www
loop            CNAME loop
*.wild          A     192.0.2.8
*.wild          MX    10 mail
a.ent           A     192.0.2.9
sub             NS    ns.sub
ns.sub          A     192.0.2.70
dname           DNAME target
x.target        A     192.0.2.10
${Array.from({ length: 60 }, (_, i) => `big A 10.0.0.${i + 1}`).join("\n")}
`;

const NAMES = ["example.test", "www.example.test", "alias.example.test", "loop.example.test", "foo.wild.example.test", "a.b.wild.example.test", "ent.example.test", "a.ent.example.test", "host.sub.example.test", "sub.example.test", "x.dname.example.test", "y.dname.example.test", "big.example.test", "nx.example.test", "www.example.com", "."];
const TYPES = [1, 2, 5, 6, 15, 16, 28, 39, 43, 0, 41, 251, 252, 255, 65280];

let dir: string;
let engine: QueryEngine;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-prop-"));
  const file = path.join(dir, "example.test.zone");
  fs.writeFileSync(file, EXAMPLE);
  const loaded = loadZones([{ file }]);
  expect(loaded.errors).toEqual([]);
  engine = buildEngine(loaded.zones);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Offset after the question when the message has one readable uncompressed question, else undefined. */
function questionEnd(msg: Buffer): number | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return undefined;
  let off = 12;
  for (;;) {
    const len = msg[off];
    if (len === undefined || len > 63) return undefined;
    off += len + 1;
    if (len === 0) break;
  }
  return off + 4 <= msg.length ? off + 4 : undefined;
}

/** Everything an answer to `msg` must satisfy, whatever `msg` was. */
function checkAnswer(msg: Buffer, via: Transport): Buffer | null {
  const reply = engine.answer(msg, via);
  if (reply === null) return null;
  expect(Buffer.isBuffer(reply)).toBe(true);
  const n = normalise(reply);
  expect(n.decodeError).toBeUndefined();
  expect(n.id).toBe(msg.readUInt16BE(0));
  expect(n.flags.qr).toBe(true);
  expect(n.flags.ra).toBe(false);
  expect(n.flags.rd).toBe((msg[2]! & 0x01) !== 0);
  expect(n.counts.qd).toBeLessThanOrEqual(1);
  if (n.counts.qd === 1) {
    const end = questionEnd(msg)!;
    expect(end).toBeDefined();
    expect(reply.subarray(12, end).equals(msg.subarray(12, end))).toBe(true);
  }
  if (via === "udp") expect(reply.length).toBeLessThanOrEqual(1232);
  return reply;
}

const realQuery = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    name: fc.constantFrom(...NAMES),
    upper: fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
    type: fc.constantFrom(...TYPES),
    cls: fc.constantFrom(1, 1, 1, 3, 254, 255),
    rd: fc.boolean(),
    cd: fc.boolean(),
    opcode: fc.constantFrom(0, 0, 0, 0, 1, 2, 4, 5, 15),
    edns: fc.option(fc.record({ payload: fc.integer({ min: 0, max: 0xffff }), do: fc.boolean(), version: fc.constantFrom(0, 0, 0, 1) }), { nil: undefined }),
  })
  .map((q) => {
    // Random 0x20 case on the name.
    const name = [...q.name].map((c, i) => (q.upper[i % 30] ? c.toUpperCase() : c)).join("");
    return buildQuery({ id: q.id, name, type: q.type, class: q.cls, rd: q.rd, cd: q.cd, opcode: q.opcode, ...(q.edns ? { edns: q.edns } : {}) });
  });

/** A real query with a few bytes overwritten, maybe cut short, maybe with bytes appended. */
const mutatedQuery = fc
  .record({
    base: realQuery,
    edits: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 16 }),
  })
  .map(({ base, edits, cut, tail }) => {
    const b = Buffer.from(base);
    for (const e of edits) b[e.at % b.length] = e.byte;
    const cutAt = cut === undefined ? b.length : cut % (b.length + 1);
    return Buffer.concat([b.subarray(0, cutAt), Buffer.from(tail)]);
  });

const randomBytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));
/** Random bytes behind a plausible header: QR clear, QDCOUNT 1, small counts. */
const randomAfterHeader = fc
  .record({ id: fc.integer({ min: 0, max: 0xffff }), flags: fc.integer({ min: 0, max: 0x7fff }), ar: fc.integer({ min: 0, max: 3 }), body: fc.uint8Array({ maxLength: 300 }) })
  .map(({ id, flags, ar, body }) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(id, 0);
    h.writeUInt16BE(flags, 2);
    h.writeUInt16BE(1, 4);
    h.writeUInt16BE(ar, 10);
    return Buffer.concat([h, Buffer.from(body)]);
  });

const anyMessage = fc.oneof(randomBytes, randomAfterHeader, mutatedQuery, realQuery);

describe("decodeQuery", () => {
  it("never throws on any bytes, and returns one of its three verdicts", () => {
    const q = new Query();
    fc.assert(
      fc.property(anyMessage, (msg) => {
        expect([0, 1, 2]).toContain(decodeQuery(msg, q));
      }),
      { numRuns: 1500 },
    );
  });
});

describe("QueryEngine.answer", () => {
  it("never throws, and every answer decodes, keeps ID and question, copies RD, fits UDP", () => {
    fc.assert(
      fc.property(anyMessage, fc.constantFrom<Transport>("udp", "tcp"), (msg, via) => {
        checkAnswer(msg, via);
      }),
      { numRuns: 1500 },
    );
  });

  it("answers every well-formed query, and the UDP answer is the TCP one unless cut (TC, or only additional records dropped)", () => {
    fc.assert(
      fc.property(realQuery, (msg) => {
        const udp = checkAnswer(msg, "udp");
        const tcp = checkAnswer(msg, "tcp");
        expect(udp).not.toBeNull();
        expect(tcp).not.toBeNull();
        if (udp!.equals(tcp!)) return;
        const u = normalise(udp!);
        const t = normalise(tcp!);
        expect(t.flags.tc).toBe(false);
        expect(u.rcode).toBe(t.rcode);
        if (!u.flags.tc) {
          expect({ an: u.counts.an, ns: u.counts.ns }).toEqual({ an: t.counts.an, ns: t.counts.ns });
          expect(u.counts.ar).toBeLessThan(t.counts.ar);
        }
      }),
      { numRuns: 800 },
    );
  });
});

describe("names", () => {
  /** Labels of any bytes, 1-63 long, at most 255 octets in wire form. */
  const labels = fc
    .array(fc.uint8Array({ minLength: 1, maxLength: 63 }), { maxLength: 10 })
    .filter((ls) => ls.reduce((n, l) => n + l.length + 1, 1) <= 255)
    .map((ls) => ls.map((l) => Buffer.from(l)));

  it("text → name → text and name → text → name round-trip, escapes included", () => {
    fc.assert(
      fc.property(labels, (ls) => {
        const name = nameFromLabels(ls);
        const text = nameToText(name);
        const back = nameFromText(text);
        expect(back.wire.equals(name.wire)).toBe(true);
        expect(back.key).toBe(name.key);
        expect(nameToText(back)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it("wire → name → wire round-trips and the key folds ASCII case only", () => {
    fc.assert(
      fc.property(labels, (ls) => {
        const name = nameFromLabels(ls);
        const again = nameFromWire(name.wire);
        expect(again.wire.equals(name.wire)).toBe(true);
        const upper = nameFromWire(Buffer.from(name.wire.map((c) => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c))));
        expect(upper.key).toBe(name.key);
      }),
      { numRuns: 1000 },
    );
  });

  it("names in plain ASCII encode to the same wire as dns-packet's, and dns-packet reads them back", () => {
    const label = fc.stringMatching(/^[a-zA-Z0-9_-]{1,20}$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 6 }), (parts) => {
        const text = parts.join(".");
        const name = nameFromText(text + ".");
        expect(nameToText(name)).toBe(text + ".");
        expect(name.wire.equals(dnsPacket.name.encode(text))).toBe(true);
        expect(dnsPacket.name.decode(name.wire)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});
