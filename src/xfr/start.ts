// hadns as a hidden primary (issue 6): renders each transferred zone (render.ts), gives every change a
// new serial (serial.ts, RFC 1982), keeps the recent differences (journal.ts, RFC 1995), serves AXFR
// and IXFR (handler.ts) and sends NOTIFY (notify.ts, RFC 1996).
//
// Changes come from the Runtime's events: 'pool' (a pool's answer changed) and 'reload'. They are
// coalesced per zone: the first change after a quiet spell makes a new version at once (on the next
// turn of the event loop, so the pools one health transition moves land together); later ones wait
// until `notify_delay` has passed since the last version, then make one version for all of them.
//
// hadns's own answers carry the serial it transfers: a secondary that asks for the SOA (as Knot DNS
// does on NOTIFY and on its refresh timer) must see the new serial. The zone's SOA is rewritten and
// the answer engine rebuilt (as a reload does) whenever the serial changes.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "pino";
import type { Runtime } from "../server/runtime.js";
import type { PoolChange } from "../pool/live.js";
import { nameToText } from "../wire/name.js";
import type { Zone } from "../zone/zone.js";
import type { XfrSettings, XfrZoneSettings } from "../config/xfr.js";
import { XfrHandler, newCounters, type TransferCounters, type XfrZone } from "./handler.js";
import { Journal, versionOf } from "./journal.js";
import { Notifier, type NotifyStatus } from "./notify.js";
import { renderZone, zoneOf } from "./render.js";
import { nextSerial, serialGt, startSerial, type SavedSerial } from "./serial.js";

export interface XfrZoneStatus {
  zone: string;
  serial: number;
  fileSerial: number;
  serialPolicy: string;
  /** Serials an IXFR can start from (oldest first; the last is the current one). */
  journal: number[];
  records: number;
  changedAt: number;
  changes: number;
  lastCause: string | null;
  allow: string[];
  key: string | null;
  secondaries: NotifyStatus[];
  transfers: TransferCounters;
}

export interface TransfersPart {
  name: "transfers";
  status(): XfrZoneStatus[];
  /** Make any pending version now and wait for NOTIFY answers (tests, benchmarks). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface StartTransfersOptions {
  logger: Logger;
  /** The warm-start state file; serials are kept beside it in `<file>.serials.json`. */
  stateFile?: string | undefined;
  /** NOTIFY resend schedule (tests). */
  notifyRetryMs?: readonly number[];
}

interface ZoneState extends XfrZone {
  zone: Zone;
  timer: NodeJS.Timeout | undefined;
  causes: string[];
  changes: number;
  lastCause: string | null;
}

interface SavedFile {
  version: 1;
  zones: Record<string, SavedSerial>;
}

/** File serials of the Zone objects hadns loaded, before their SOA is rewritten. */
const fileSerials = new WeakMap<Zone, number>();
function fileSerialOf(z: Zone): number {
  let s = fileSerials.get(z);
  if (s === undefined) fileSerials.set(z, (s = z.serial));
  return s;
}

let active: Transfers | undefined;
const byRuntime = new WeakMap<Runtime, Transfers>();
let restored: SavedFile | undefined;

/**
 * Per zone: serial, secondaries with their last NOTIFY and acknowledgement, transfers served, for the
 * transfers running on `rt` (or the last ones started). Empty when transfers are off.
 */
export function xfrStatus(rt?: Runtime): XfrZoneStatus[] {
  return (rt ? byRuntime.get(rt) : active)?.status() ?? [];
}

/** What the warm-start state file should keep for transfers (the serials served). */
export function xfrState(): unknown {
  return active?.saved() ?? restored ?? null;
}

/** Hand back what xfrState() returned, before startTransfers (the state file loaded at start-up). */
export function restoreXfrState(x: unknown): void {
  if (isSavedFile(x)) restored = x;
}

function isSavedFile(x: unknown): x is SavedFile {
  if (typeof x !== "object" || x === null) return false;
  const f = x as Partial<SavedFile>;
  return f.version === 1 && typeof f.zones === "object" && f.zones !== null;
}

export async function startTransfers(rt: Runtime, settings: XfrSettings, opts: StartTransfersOptions): Promise<TransfersPart> {
  const t = new Transfers(rt, settings, opts);
  t.start();
  active = t;
  byRuntime.set(rt, t);
  return {
    name: "transfers",
    status: () => t.status(),
    flush: () => t.flush(),
    close: async () => {
      t.close();
      if (active === t) active = undefined;
      if (byRuntime.get(rt) === t) byRuntime.delete(rt);
    },
  };
}

class Transfers {
  private readonly zones = new Map<string, ZoneState>();
  private readonly notifier: Notifier;
  private readonly log: Logger;
  private readonly serialsFile: string | undefined;
  private savedSerials: Record<string, SavedSerial> = {};
  private readonly onPool = (c: PoolChange) => this.poolChanged(c);
  private readonly onReload = (r: { ok: boolean }) => {
    if (r.ok) this.reloaded();
  };

  constructor(
    private readonly rt: Runtime,
    private readonly settings: XfrSettings,
    opts: StartTransfersOptions,
  ) {
    this.log = opts.logger.child({ part: "transfers" });
    this.notifier = new Notifier(this.log, opts.notifyRetryMs);
    this.serialsFile = opts.stateFile ? `${opts.stateFile}.serials.json` : undefined;
  }

  start(): void {
    this.savedSerials = this.loadSaved();
    for (const [key, e] of this.settings.zones ?? []) {
      if (!this.rt.inputs.zones.some((z) => z.origin.key === key)) {
        this.log.error({ file: e.file, line: e.line }, `${e.file}:${e.line}: transfers.zones: ${nameToText(e.origin)} is not a zone hadns serves; nothing to transfer`);
      }
    }
    for (const zone of this.rt.inputs.zones) {
      const s = this.settingsFor(zone);
      if (s) this.addZone(zone, s);
    }
    this.applySerials("start");
    this.persist();
    this.rt.server.setTransferHandler(
      new XfrHandler({ zone: (k) => this.zones.get(k), keys: this.settings.keys, log: this.log }),
    );
    this.rt.on("pool", this.onPool);
    this.rt.on("reload", this.onReload);
    if (!this.serialsFile && [...this.zones.values()].some((z) => z.settings.serial === "increment")) {
      this.log.warn(
        "transfers without a state file: after a restart the serial starts again from the zone file's, and secondaries that are ahead of it will not transfer until it passes theirs; set state.file (or transfers.serial: unixtime)",
      );
    }
    for (const z of this.zones.values()) {
      const s = z.settings;
      this.log.info(
        { zone: z.text, serial: z.journal.current.serial, fileSerial: fileSerialOf(z.zone), notify: s.notify.map((n) => n.text), allow: s.allow.map((a) => a.text), key: s.key ? nameToText(s.key.name) : null },
        `transfers of ${z.text} at serial ${z.journal.current.serial} to ${s.allow.map((a) => a.text).join(", ")}${s.key ? ` with TSIG ${nameToText(s.key.name)}` : ""}`,
      );
      this.sendNotify(z);
    }
  }

  private settingsFor(zone: Zone): XfrZoneSettings | undefined {
    if (this.settings.zones === null) return this.settings.defaults;
    return this.settings.zones.get(zone.origin.key)?.settings;
  }

  private addZone(zone: Zone, s: XfrZoneSettings): ZoneState {
    const text = nameToText(zone.origin);
    const fileSerial = fileSerialOf(zone);
    const r = renderZone(zone, this.rt.pools.pools, this.rt.inputs.zones);
    const serial = startSerial(fileSerial, r.fingerprint, this.savedSerials[text], s.serial, Math.floor(Date.now() / 1000));
    const z: ZoneState = {
      origin: zone.origin,
      text,
      settings: s,
      journal: new Journal(versionOf(r, serial, fileSerial), s.journalDepth),
      counters: newCounters(),
      zone,
      timer: undefined,
      causes: [],
      changes: 0,
      lastCause: null,
    };
    this.zones.set(zone.origin.key, z);
    return z;
  }

  // ---- changes -------------------------------------------------------------------------------------

  private poolChanged(c: PoolChange): void {
    const name = c.spec.name.endsWith(".") ? c.spec.name : c.spec.name + ".";
    const owner = this.rt.pools.pools.find((p) => p.spec === c.spec)?.name;
    const zone = owner ? zoneOf(this.rt.inputs.zones, owner.key) : undefined;
    const z = zone ? this.zones.get(zone.origin.key) : undefined;
    if (!z) return;
    this.schedule(z, `pool ${name} ${c.spec.type}: ${c.cause}`);
  }

  private schedule(z: ZoneState, cause: string): void {
    z.causes.push(cause);
    if (z.timer) return;
    const since = Date.now() - z.journal.current.at;
    const wait = Math.max(0, z.settings.notifyDelayMs - since);
    z.timer = setTimeout(() => {
      z.timer = undefined;
      this.update(z);
    }, wait);
  }

  /** Render the zone again; a new version (serial, journal step, NOTIFY) when anything changed. */
  private update(z: ZoneState): void {
    const changed = this.makeVersion(z);
    this.applySerials(z.lastCause ?? "update");
    if (!changed) return;
    this.persist();
    this.sendNotify(z);
  }

  /** A new version of the zone if its rendering or file serial moved; true when one was made. */
  private makeVersion(z: ZoneState): boolean {
    const causes = z.causes.splice(0);
    const cause = causes.length === 0 ? "reload" : causes.length === 1 ? causes[0]! : `${causes[0]} (and ${causes.length - 1} more)`;
    const fileSerial = fileSerialOf(z.zone);
    const r = renderZone(z.zone, this.rt.pools.pools, this.rt.inputs.zones);
    const cur = z.journal.current;
    if (r.fingerprint === cur.fingerprint && !serialGt(fileSerial, cur.serial)) return false;
    const serial = nextSerial(cur.serial, z.settings.serial, Math.floor(Date.now() / 1000), fileSerial);
    const d = z.journal.push(versionOf(r, serial, fileSerial));
    z.changes++;
    z.lastCause = cause;
    this.log.info(
      { zone: z.text, serial, from: cur.serial, removed: d.removed.length, added: d.added.length, cause },
      `${z.text} serial ${cur.serial} → ${serial} (${d.removed.length} removed, ${d.added.length} added): ${cause}`,
    );
    return true;
  }

  /** After a reload: follow the new Zone objects, add and drop zones, then one rebuild and the NOTIFYs. */
  private reloaded(): void {
    const seen = new Set<string>();
    const notify: ZoneState[] = [];
    for (const zone of this.rt.inputs.zones) {
      const s = this.settingsFor(zone);
      if (!s) continue;
      seen.add(zone.origin.key);
      const z = this.zones.get(zone.origin.key);
      if (!z) {
        const nz = this.addZone(zone, s);
        this.log.info({ zone: nz.text, serial: nz.journal.current.serial }, `transfers of ${nz.text} start at serial ${nz.journal.current.serial} (new after reload)`);
        notify.push(nz);
        continue;
      }
      z.zone = zone;
      if (z.timer) clearTimeout(z.timer);
      z.timer = undefined;
      z.causes.push("reload");
      if (this.makeVersion(z)) notify.push(z);
    }
    for (const [k, z] of this.zones) {
      if (seen.has(k)) continue;
      if (z.timer) clearTimeout(z.timer);
      this.zones.delete(k);
      this.log.info({ zone: z.text }, `${z.text} is no longer served: no more transfers of it`);
    }
    this.applySerials("reload");
    if (notify.length > 0) this.persist();
    for (const z of notify) this.sendNotify(z);
  }

  /**
   * Make hadns's own answers carry each zone's current serial: rewrite the SOA of the Zone objects and
   * rebuild the answer engine (as Runtime.reload does) if any changed.
   */
  private applySerials(cause: string): void {
    let changed = false;
    for (const z of this.zones.values()) {
      const set = z.zone.soa;
      const rd = set.rdatas[0]!;
      const serial = z.journal.current.serial;
      if (rd.readUInt32BE(rd.length - 20) === serial) continue;
      fileSerialOf(z.zone);
      const next = Buffer.from(rd);
      next.writeUInt32BE(serial, next.length - 20);
      set.rdatas[0] = next;
      changed = true;
    }
    if (!changed) return;
    const t0 = performance.now();
    this.rt.rebuildAnswers();
    this.log.debug({ ms: Math.round((performance.now() - t0) * 10) / 10, cause }, "answers rebuilt with the new serial");
  }

  private sendNotify(z: ZoneState): void {
    if (z.settings.notify.length === 0) return;
    this.notifier.notify(z.origin, z.journal.current.soa, z.settings.notify, z.settings.key);
  }

  // ---- persistence ---------------------------------------------------------------------------------

  saved(): SavedFile {
    const zones: Record<string, SavedSerial> = { ...this.savedSerials };
    for (const z of this.zones.values()) {
      const v = z.journal.current;
      zones[z.text] = { serial: v.serial, fileSerial: v.fileSerial, fingerprint: v.fingerprint, at: v.at };
    }
    return { version: 1, zones };
  }

  private loadSaved(): Record<string, SavedSerial> {
    let data: unknown = restored;
    if (this.serialsFile) {
      try {
        data = JSON.parse(readFileSync(this.serialsFile, "utf8"));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") this.log.warn({ err: e, file: this.serialsFile }, "cannot read the saved serials; starting from the zone files' serials");
      }
    }
    return isSavedFile(data) ? data.zones : {};
  }

  /** Write the serials beside the state file: a temp file renamed over the old one (atomic). */
  private persist(): void {
    const s = this.saved();
    this.savedSerials = s.zones;
    if (!this.serialsFile) return;
    const tmp = `${this.serialsFile}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.serialsFile), { recursive: true });
      writeFileSync(tmp, JSON.stringify(s, null, 1) + "\n");
      renameSync(tmp, this.serialsFile);
    } catch (e) {
      this.log.error({ err: e, file: this.serialsFile }, "cannot save the serials; a restart may serve an older serial");
    }
  }

  // ---- status --------------------------------------------------------------------------------------

  status(): XfrZoneStatus[] {
    return [...this.zones.values()].map((z) => {
      const v = z.journal.current;
      return {
        zone: z.text,
        serial: v.serial,
        fileSerial: v.fileSerial,
        serialPolicy: z.settings.serial,
        journal: z.journal.serials(),
        records: v.records.size + 1,
        changedAt: v.at,
        changes: z.changes,
        lastCause: z.lastCause,
        allow: z.settings.allow.map((a) => a.text),
        key: z.settings.key ? nameToText(z.settings.key.name) : null,
        secondaries: this.notifier.status(z.origin.key, z.settings.notify),
        transfers: { ...z.counters },
      };
    });
  }

  async flush(): Promise<void> {
    for (const z of this.zones.values()) {
      if (!z.timer) continue;
      clearTimeout(z.timer);
      z.timer = undefined;
      this.update(z);
    }
    await this.notifier.settled();
  }

  close(): void {
    this.rt.off("pool", this.onPool);
    this.rt.off("reload", this.onReload);
    for (const z of this.zones.values()) if (z.timer) clearTimeout(z.timer);
    this.rt.server.setTransferHandler(undefined);
    this.notifier.close();
  }
}
