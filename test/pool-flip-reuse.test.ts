// A pool flipping between states (primary, secondary, back) reuses what was compiled for a state it
// was in before: LivePools keeps one answer and render per combination of endpoint statuses, and the
// engine keeps each lane's fill per pool render it read. The answers must be byte for byte those of
// an engine built fresh in that state, for the pool's own name and for every name whose answer reads
// the pool (a CNAME to it, an MX naming it, a wildcard beside it, a rotating pool).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { buildEngine, type QueryEngine } from "../src/answer/engine.js";
import { renderPool, type PoolAnswerLike } from "../src/answer/pools.js";
import type { EndpointStatus } from "../src/health/types.js";
import { LivePools } from "../src/pool/live.js";
import { RRType } from "../src/wire/constants.js";
import { nameFromText } from "../src/wire/name.js";
import { loadZones } from "../src/zone/load.js";
import { failoverSpec } from "./support/pools.js";

function queryFor(text: string, type: number): Buffer {
  const head = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([head, nameFromText(text).wire, Buffer.from([type >> 8, type & 0xff, 0, 1])]);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-flip-reuse-"));
const file = path.join(dir, "flip.test.zone");
fs.writeFileSync(
  file,
  [
    "$ORIGIN flip.test.",
    "$TTL 300",
    "@ SOA ns1 hostmaster 1 7200 900 1209600 300",
    "@ NS ns1",
    "ns1 A 192.0.2.1",
    "app A 192.0.2.100", // replaced by the pool
    "www CNAME app",
    "mail MX 10 app",
    "rr A 192.0.2.101", // replaced by the rotating pool
    "*.app TXT \"below app\"",
    "",
  ].join("\n"),
);
const { zones, errors } = loadZones([{ file }]);
fs.rmSync(dir, { recursive: true, force: true });
const app = nameFromText("app.flip.test.");
const rr = nameFromText("rr.flip.test.");

const QUESTIONS: Array<[string, number]> = [
  ["app.flip.test.", RRType.A],
  ["app.flip.test.", RRType.AAAA],
  ["app.flip.test.", RRType.ANY],
  ["www.flip.test.", RRType.A],
  ["WWW.flip.test.", RRType.A],
  ["mail.flip.test.", RRType.MX],
  ["x.app.flip.test.", RRType.TXT],
];

const answers = (engine: QueryEngine): string[] => QUESTIONS.map(([n, t]) => engine.answer(queryFor(n, t), "udp")!.toString("hex"));

function answerOf(ips: string[][], selection: "fixed" | "rotate" = "fixed", ttl = 60): PoolAnswerLike {
  return { rcode: "noerror", ttl, selection, variants: ips, failOpen: false, reason: "test" };
}

describe("a pool flipping back to a state it was in", () => {
  it("gets the lanes compiled for that state again, the same bytes as a fresh engine in it", () => {
    expect(errors).toEqual([]);
    const primary = renderPool(app, RRType.A, answerOf([["192.0.2.10"]]), "app");
    const secondary = renderPool(app, RRType.A, answerOf([["198.51.100.10"]], "fixed", 10), "app");
    const both = renderPool(rr, RRType.A, answerOf([["192.0.2.20"], ["192.0.2.21"]], "rotate"), "rr");
    const fresh = (r: typeof primary) => answers(buildEngine(zones, { pools: [{ name: app, type: RRType.A, render: r }, { name: rr, type: RRType.A, render: both }] }));
    const inPrimary = fresh(primary);
    const inSecondary = fresh(secondary);
    expect(inPrimary).not.toEqual(inSecondary);

    const engine = buildEngine(zones, { pools: [{ name: app, type: RRType.A, render: primary }, { name: rr, type: RRType.A, render: both }] });
    expect(answers(engine)).toEqual(inPrimary);
    const lanes = engine.updatePool(app, RRType.A, secondary);
    expect(lanes).toBeGreaterThanOrEqual(3); // app, www's CNAME, mail's MX (and the wildcard below app)
    expect(engine.refills).toEqual({ compiled: lanes, reused: 0 });
    expect(answers(engine)).toEqual(inSecondary);
    engine.updatePool(app, RRType.A, primary);
    expect(engine.refills).toEqual({ compiled: lanes, reused: lanes });
    expect(answers(engine)).toEqual(inPrimary);
    for (let i = 0; i < 5; i++) {
      engine.updatePool(app, RRType.A, secondary);
      expect(answers(engine)).toEqual(inSecondary);
      engine.updatePool(app, RRType.A, primary);
      expect(answers(engine)).toEqual(inPrimary);
    }
    expect(engine.refills.compiled).toBe(lanes);
    // An equal answer in a new render object is compiled, never taken for another state's.
    const third = renderPool(app, RRType.A, answerOf([["203.0.113.10"]]), "app");
    engine.updatePool(app, RRType.A, third);
    expect(engine.refills.compiled).toBe(2 * lanes);
    expect(answers(engine)[0]).toContain(Buffer.from([203, 0, 113, 10]).toString("hex"));
  });

  it("the rotating pool keeps rotating across flips of its own states", () => {
    const one = renderPool(rr, RRType.A, answerOf([["192.0.2.20"]]), "rr");
    const two = renderPool(rr, RRType.A, answerOf([["192.0.2.20"], ["192.0.2.21"]], "rotate"), "rr");
    const engine = buildEngine(zones, { pools: [{ name: app, type: RRType.A, render: renderPool(app, RRType.A, answerOf([["192.0.2.10"]]), "app") }, { name: rr, type: RRType.A, render: two }] });
    const last = () => engine.answer(queryFor("rr.flip.test.", RRType.A), "udp")!.subarray(-1)[0];
    expect([last(), last(), last()]).toEqual([20, 21, 20]);
    engine.updatePool(rr, RRType.A, one);
    expect([last(), last()]).toEqual([20, 20]);
    engine.updatePool(rr, RRType.A, two);
    expect(engine.refills.reused).toBe(1);
    expect(new Set([last(), last()])).toEqual(new Set([20, 21]));
  });

  it("LivePools hands the engine the same render each time a pool is back in the same statuses", () => {
    const spec = failoverSpec("app.flip.test.", ["192.0.2.10", "127.0.1.1"], ["198.51.100.10", "127.0.2.1"]);
    const status = new Map<string | undefined, EndpointStatus>();
    const keys: Array<string | undefined> = [];
    const live = new LivePools([spec], (_s, i, key) => (keys.push(key), status.get(key) ?? "up"), pino({ level: "silent" }));
    expect(keys).toEqual(["web|127.0.1.1", "web|127.0.2.1"]);
    const given: unknown[] = [];
    live.attach({ updatePool: (_n: unknown, _t: unknown, r: unknown) => (given.push(r), 1) } as unknown as QueryEngine);
    const flip = (s: EndpointStatus) => {
      status.set("web|127.0.1.1", s);
      live.endpointChanged("web|127.0.1.1", `primary ${s}`);
    };
    flip("down");
    flip("up");
    flip("down");
    flip("up");
    expect(given).toHaveLength(4);
    expect(given[2]).toBe(given[0]);
    expect(given[3]).toBe(given[1]);
    expect(given[0]).not.toBe(given[1]);
    // The render for a new engine (a reload) is the one of the current state too.
    expect(live.renders()[0]!.render).toBe(given[3]);
    // Both down: a state of its own (serve-all), then back to the secondary's.
    status.set("web|127.0.2.1", "down");
    flip("down");
    expect(given).toHaveLength(5);
    expect(live.pools[0]!.answer.failOpen).toBe(true);
    status.set("web|127.0.2.1", "up");
    live.endpointChanged("web|127.0.2.1", "secondary up");
    expect(given[5]).toBe(given[0]);
  });
});
