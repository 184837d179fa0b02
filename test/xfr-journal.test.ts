// The rendered zone (pools as the records they answer now) and the journal of its versions: the
// differences between consecutive versions as IXFR sends them (RFC 1995 §4), a bounded depth, and the
// answer chosen for a client's serial (current / differences / whole zone; UDP limits).

import { describe, expect, it } from "vitest";
import type { LivePool } from "../src/pool/live.js";
import type { PoolAnswer, PoolSpec } from "../src/pool/types.js";
import { RRType } from "../src/wire/constants.js";
import { nameFromText } from "../src/wire/name.js";
import { rrToText } from "../src/zone/rdata-format.js";
import { parseZoneText } from "../src/zone/parse.js";
import { Zone } from "../src/zone/zone.js";
import type { RR } from "../src/zone/rr.js";
import { axfrRecords, packRecords, type Frame } from "../src/xfr/axfr.js";
import { ixfrAnswer, ixfrRecords } from "../src/xfr/ixfr.js";
import { difference, Journal, versionOf } from "../src/xfr/journal.js";
import { parseMessage } from "../src/xfr/message.js";
import { poolValues, renderZone, type RenderedZone } from "../src/xfr/render.js";

const ORIGIN = nameFromText("example.test.");
function zoneOf(text: string): Zone {
  const r = parseZoneText(`$ORIGIN example.test.\n$TTL 300\n@ 3600 SOA ns1 hostmaster 10 3600 900 604800 120\n@ NS ns1\nns1 A 192.0.2.53\n${text}`, "x.zone");
  expect(r.errors).toEqual([]);
  return new Zone({ origin: ORIGIN, file: "x.zone" }, r.records);
}

function pool(name: string, spec: Partial<PoolSpec>, answer: Partial<PoolAnswer>): LivePool {
  const s: PoolSpec = { name, type: "A", ttl: 60, policy: "failover", whenAllDown: "serve-all", endpoints: [], ...spec };
  return {
    spec: s,
    name: nameFromText(name),
    type: RRType[s.type],
    label: name,
    primaryUp: true,
    answer: { rcode: "noerror", ttl: 60, selection: "fixed", variants: [[]], failOpen: false, reason: "", ...answer },
  };
}

const text = (rrs: RR[]) => rrs.map(rrToText);
const lines = (r: RenderedZone) => text([...r.records.values()]).sort();

describe("rendering pools into the zone", () => {
  it("failover: the healthy group (the union of its rotations)", () => {
    expect(poolValues(pool("a.example.test.", {}, { variants: [["192.0.2.1", "192.0.2.2"], ["192.0.2.2", "192.0.2.1"]] }))).toEqual(["192.0.2.1", "192.0.2.2"]);
  });

  it("multivalue: the first max_answers healthy endpoints", () => {
    const p = pool("a.example.test.", { policy: "multivalue", maxAnswers: 2 }, { variants: [["192.0.2.1", "192.0.2.2"], ["192.0.2.2", "192.0.2.3"], ["192.0.2.3", "192.0.2.1"]] });
    expect(poolValues(p)).toEqual(["192.0.2.1", "192.0.2.2"]);
  });

  it("weighted: every healthy endpoint, whatever max_answers (no random choice on a secondary)", () => {
    const p = pool("a.example.test.", { policy: "weighted" }, { selection: "weighted", variants: [["192.0.2.1"], ["192.0.2.2"], ["192.0.2.3"]], weights: [5, 1, 1] });
    expect(poolValues(p)).toEqual(["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
  });

  it("CNAME: one target", () => {
    const p = pool("a.example.test.", { type: "CNAME", policy: "weighted" }, { variants: [["x.example.net."], ["y.example.net."]] });
    expect(poolValues(p)).toEqual(["x.example.net."]);
  });

  it("servfail and NODATA: no records", () => {
    expect(poolValues(pool("a.example.test.", {}, { rcode: "servfail", variants: [[]] }))).toEqual([]);
    expect(poolValues(pool("a.example.test.", {}, { variants: [[]] }))).toEqual([]);
  });

  it("replaces a static RRset of the pool's name and type, keeps the name's other records, uses the pool's TTL", () => {
    const z = zoneOf("app A 192.0.2.99\napp TXT \"hello\"\n");
    const r = renderZone(z, [pool("app.example.test.", {}, { ttl: 5, variants: [["192.0.2.1"]] })]);
    expect(lines(r)).toEqual(
      [
        "app.example.test. 5 IN A 192.0.2.1",
        'app.example.test. 300 IN TXT "hello"',
        "example.test. 300 IN NS ns1.example.test.",
        "ns1.example.test. 300 IN A 192.0.2.53",
      ].sort(),
    );
    expect(rrToText(r.soa)).toBe("example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 10 3600 900 604800 120");
  });

  it("leaves out pools of other zones (a child zone served beside it)", () => {
    const z = zoneOf("");
    const child = new Zone({ origin: nameFromText("sub.example.test."), file: "c.zone" }, parseZoneText("$ORIGIN sub.example.test.\n@ SOA ns1 h 1 1 1 1 1\n", "c.zone").records);
    const r = renderZone(z, [pool("app.sub.example.test.", {}, { variants: [["192.0.2.1"]] })], [z, child]);
    expect(lines(r).some((l) => l.startsWith("app."))).toBe(false);
  });

  it("the fingerprint follows content, not the serial", () => {
    const a = renderZone(zoneOf(""), [pool("app.example.test.", {}, { variants: [["192.0.2.1"]] })]);
    const b = renderZone(zoneOf(""), [pool("app.example.test.", {}, { variants: [["192.0.2.1"]] })]);
    const c = renderZone(zoneOf(""), [pool("app.example.test.", {}, { variants: [["192.0.2.2"]] })]);
    const d = renderZone(zoneOf(""), [pool("app.example.test.", {}, { ttl: 5, variants: [["192.0.2.1"]] })]);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
    expect(d.fingerprint).not.toBe(a.fingerprint);
  });
});

describe("the journal", () => {
  const render = (addr: string, ttl = 60) => renderZone(zoneOf(""), [pool("app.example.test.", {}, { ttl, variants: [[addr]] })]);

  it("records each step as deleted and added records between the two SOAs", () => {
    const j = new Journal(versionOf(render("192.0.2.1"), 10, 10), 5);
    const d = j.push(versionOf(render("192.0.2.2", 5), 11, 10));
    expect(text(d.removed)).toEqual(["app.example.test. 60 IN A 192.0.2.1"]);
    expect(text(d.added)).toEqual(["app.example.test. 5 IN A 192.0.2.2"]);
    expect(text(ixfrRecords(j.current.soa, j.deltas))).toEqual([
      "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 11 3600 900 604800 120",
      "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 10 3600 900 604800 120",
      "app.example.test. 60 IN A 192.0.2.1",
      "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 11 3600 900 604800 120",
      "app.example.test. 5 IN A 192.0.2.2",
      "example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 11 3600 900 604800 120",
    ]);
  });

  it("a TTL change is a deletion and an addition of the same data", () => {
    const a = render("192.0.2.1", 60).records;
    const b = render("192.0.2.1", 5).records;
    const d = difference(a, b);
    expect(text(d.removed)).toEqual(["app.example.test. 60 IN A 192.0.2.1"]);
    expect(text(d.added)).toEqual(["app.example.test. 5 IN A 192.0.2.1"]);
  });

  it("two renderings of one Zone compare only the pools, and agree with comparing every record", () => {
    const z = zoneOf("app A 192.0.2.99\nwww A 192.0.2.80\n");
    const p1 = pool("app.example.test.", {}, { variants: [["192.0.2.1", "192.0.2.2"]] });
    const p2 = pool("app.example.test.", {}, { ttl: 5, variants: [["192.0.2.2", "192.0.2.3"]] });
    const a = renderZone(z, [p1]).records;
    const b = renderZone(z, [p2]).records;
    const none = renderZone(z, []).records;
    expect(a.base).toBe(b.base);
    const full = (x: typeof a, y: typeof a) => ({
      removed: text([...x.values()].filter((rr) => ![...y.values()].some((o) => rrToText(o) === rrToText(rr)))).sort(),
      added: text([...y.values()].filter((rr) => ![...x.values()].some((o) => rrToText(o) === rrToText(rr)))).sort(),
    });
    for (const [x, y] of [[a, b], [b, a], [none, a], [b, none]] as const) {
      const d = difference(x, y);
      expect({ removed: text(d.removed).sort(), added: text(d.added).sort() }).toEqual(full(x, y));
    }
    expect(text(difference(none, a).removed)).toEqual(["app.example.test. 300 IN A 192.0.2.99"]);
    expect(a.size).toBe(5);
  });

  it("keeps `depth` steps; a client older than that (or unknown) needs the whole zone", () => {
    const j = new Journal(versionOf(render("192.0.2.1"), 10, 10), 2);
    j.push(versionOf(render("192.0.2.2"), 11, 10));
    j.push(versionOf(render("192.0.2.3"), 12, 10));
    j.push(versionOf(render("192.0.2.4"), 13, 10));
    expect(j.serials()).toEqual([11, 12, 13]);
    expect(j.since(13)).toEqual({ kind: "current" });
    expect(j.since(11)).toMatchObject({ kind: "deltas", deltas: [{ from: 11, to: 12 }, { from: 12, to: 13 }] });
    expect(j.since(10)).toEqual({ kind: "unknown" });
    expect(j.since(999)).toEqual({ kind: "unknown" });
  });

  it("depth 0 keeps no steps", () => {
    const j = new Journal(versionOf(render("192.0.2.1"), 10, 10), 0);
    j.push(versionOf(render("192.0.2.2"), 11, 10));
    expect(j.since(10)).toEqual({ kind: "unknown" });
  });

  it("refuses a serial that does not follow the current one (RFC 1982)", () => {
    const j = new Journal(versionOf(render("192.0.2.1"), 10, 10), 2);
    expect(() => j.push(versionOf(render("192.0.2.2"), 10, 10))).toThrow(/does not follow/);
    expect(() => j.push(versionOf(render("192.0.2.2"), 9, 10))).toThrow(/does not follow/);
  });
});

describe("IXFR answers", () => {
  const frame: Frame = { id: 7, rd: false, question: Buffer.concat([ORIGIN.wire, Buffer.from([0, 251, 0, 1])]), origin: ORIGIN, edns: false };
  const render = (n: number) =>
    renderZone(zoneOf(""), [pool("app.example.test.", {}, { variants: [Array.from({ length: n }, (_, i) => `192.0.2.${i + 1}`)] })]);
  const answerRecords = (msgs: Buffer[]) => msgs.reduce((n, m) => n + parseMessage(m).answer.length, 0);

  it("up to date, or ahead: the current SOA alone", () => {
    const j = new Journal(versionOf(render(1), 10, 10), 5);
    expect(ixfrAnswer(frame, j, 10)).toMatchObject({ kind: "up-to-date" });
    expect(answerRecords(ixfrAnswer(frame, j, 11).messages)).toBe(1);
  });

  it("over UDP: the differences when they fit in one message, else the SOA alone (RFC 1995 §4)", () => {
    const j = new Journal(versionOf(render(1), 10, 10), 5);
    j.push(versionOf(render(2), 11, 10));
    const small = ixfrAnswer(frame, j, 10, 512);
    expect(small.kind).toBe("incremental");
    expect(answerRecords(small.messages)).toBe(5);
    j.push(versionOf(render(120), 12, 10));
    const big = ixfrAnswer(frame, j, 10, 512);
    expect(big.kind).toBe("udp-soa-only");
    expect(answerRecords(big.messages)).toBe(1);
    expect(big.messages[0]!.length).toBeLessThanOrEqual(512);
    expect(ixfrAnswer(frame, j, 3, 512).kind).toBe("udp-soa-only");
  });

  it("over TCP, an unknown serial: the whole zone, AXFR-style", () => {
    const j = new Journal(versionOf(render(3), 10, 10), 5);
    const a = ixfrAnswer(frame, j, 3);
    expect(a.kind).toBe("full");
    expect(answerRecords(a.messages)).toBe(axfrRecords(j.current).length);
  });

  it("packs records into messages of about the target size, SOA first and last, the question in each", () => {
    const j = new Journal(versionOf(render(200), 10, 10), 5);
    const msgs = packRecords(frame, axfrRecords(j.current), 1024);
    expect(msgs.length).toBeGreaterThan(3);
    for (const m of msgs) {
      expect(m.length).toBeLessThanOrEqual(1024);
      const pm = parseMessage(m);
      expect(pm.question!.name.key).toBe(ORIGIN.key);
      expect(pm.flags & 0x8400).toBe(0x8400);
    }
    expect(answerRecords(msgs)).toBe(200 + 2 + 2);
  });
});
