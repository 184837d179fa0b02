// Serials across reloads and restarts: a reload that changes the zone makes a new serial (an IXFR
// carries exactly the change), one that changes nothing keeps it, a zone file whose serial was raised
// wins, and hadns's own SOA answers follow each time (a reload rebuilds the answers from the file).
// After a restart the same content is served at the same serial, other content at a greater one.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startInstance } from "../src/server/instance.js";
import type { Runtime, Inputs } from "../src/server/runtime.js";
import { nameFromText } from "../src/wire/name.js";
import { parseZoneText } from "../src/zone/parse.js";
import { Zone } from "../src/zone/zone.js";
import { parseAclEntry } from "../src/xfr/acl.js";
import { startTransfers, type TransfersPart } from "../src/xfr/start.js";
import type { XfrSettings } from "../src/config/xfr.js";
import { digAt } from "./support/dig.js";
import { kdig, parseTransfer } from "./support/xfr.js";

const silent = pino({ level: "silent" });
const settings: XfrSettings = {
  file: "hadns.yaml",
  line: 1,
  keys: new Map(),
  defaults: { allow: [parseAclEntry("127.0.0.1")], notify: [], journalDepth: 5, serial: "increment", notifyDelayMs: 0 },
  zones: null,
};

function zone(serial: number, extra = ""): Zone {
  const text = `$ORIGIN example.test.\n$TTL 300\n@ 3600 SOA ns1 hostmaster ${serial} 3600 900 604800 120\n@ NS ns1\nns1 A 192.0.2.53\n${extra}`;
  const r = parseZoneText(text, "example.test.zone");
  if (r.errors.length) throw new Error(JSON.stringify(r.errors));
  return new Zone({ origin: nameFromText("example.test."), file: "example.test.zone" }, r.records);
}

let running: Array<{ rt: Runtime; xfr: TransfersPart }> = [];
afterEach(async () => {
  for (const r of running) {
    await r.xfr.close();
    await r.rt.close();
  }
  running = [];
});

async function start(next: () => Zone, stateFile?: string) {
  let current = next();
  const rt = await startInstance({
    zones: [current],
    listen: [{ host: "127.0.0.1", port: 0 }],
    logger: silent,
    reload: (): Inputs => {
      current = next();
      return { zones: [current], checks: new Map(), pools: [], errors: [] };
    },
  });
  const xfr = await startTransfers(rt, settings, { logger: silent, stateFile });
  running.push({ rt, xfr });
  const port = rt.server.listening[0]!.port;
  return {
    rt,
    xfr,
    serial: () => xfr.status()[0]!.serial,
    soa: async () => Number((await digAt("127.0.0.1", port, ["+short", "example.test", "SOA"])).trim().split(" ")[2]),
    ixfr: async (from: number) => parseTransfer(await kdig(["@127.0.0.1", "-p", String(port), "+tcp", "example.test", `IXFR=${from}`])).records,
  };
}

describe("reload", () => {
  it("a changed zone gets the next serial; the IXFR carries exactly the change; hadns's SOA follows", async () => {
    let file = zone(10);
    const h = await start(() => file);
    expect(h.serial()).toBe(10);
    file = zone(10, "www A 192.0.2.80\n");
    expect((await h.rt.reload("test")).ok).toBe(true);
    expect(h.serial()).toBe(11);
    expect(await h.soa()).toBe(11);
    expect(await h.ixfr(10)).toEqual([
      "example.test. 3600 SOA ns1.example.test. hostmaster.example.test. 11 3600 900 604800 120",
      "example.test. 3600 SOA ns1.example.test. hostmaster.example.test. 10 3600 900 604800 120",
      "example.test. 3600 SOA ns1.example.test. hostmaster.example.test. 11 3600 900 604800 120",
      "www.example.test. 300 A 192.0.2.80",
      "example.test. 3600 SOA ns1.example.test. hostmaster.example.test. 11 3600 900 604800 120",
    ]);
  });

  it("a reload that changes nothing keeps the serial, and hadns's SOA still shows it (not the file's)", async () => {
    let file = zone(10);
    const h = await start(() => file);
    file = zone(10, "www A 192.0.2.80\n");
    await h.rt.reload("test");
    expect(h.serial()).toBe(11);
    await h.rt.reload("again");
    expect(h.serial()).toBe(11);
    expect(await h.soa()).toBe(11);
  });

  it("a file serial raised past the current one wins", async () => {
    let file = zone(10);
    const h = await start(() => file);
    file = zone(2024010101);
    await h.rt.reload("test");
    expect(h.serial()).toBe(2024010101);
    expect(await h.soa()).toBe(2024010101);
  });
});

describe("restart", () => {
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "hadns-xfr-state-"));

  it("serves the same content at the same serial, and other content at a greater one", async () => {
    const d = dir();
    const stateFile = path.join(d, "state", "hadns.state");
    try {
      let file = zone(10);
      const a = await start(() => file, stateFile);
      file = zone(10, "www A 192.0.2.80\n");
      await a.rt.reload("test");
      file = zone(10, "www A 192.0.2.81\n");
      await a.rt.reload("test");
      expect(a.serial()).toBe(12);
      const saved = JSON.parse(fs.readFileSync(`${stateFile}.serials.json`, "utf8"));
      expect(saved.zones["example.test."]).toMatchObject({ serial: 12, fileSerial: 10 });
      await running.pop()!.xfr.close();
      await a.rt.close();

      // Same file, same content: 12 again (a secondary at 12 stays in step)
      const b = await start(() => zone(10, "www A 192.0.2.81\n"), stateFile);
      expect(b.serial()).toBe(12);
      expect(await b.soa()).toBe(12);
      await running.pop()!.xfr.close();
      await b.rt.close();

      // The file as it was first (other content, same file serial): never back to 10, but 13
      const c = await start(() => zone(10), stateFile);
      expect(c.serial()).toBe(13);
      expect(await c.soa()).toBe(13);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
