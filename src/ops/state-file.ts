// The warm-start state file: the last known health state of every probed endpoint and the operator
// overrides, written atomically (temp file, fsync, rename) after each change, and read at start-up so
// that a restart answers from known state at once while the first probe round confirms it.

import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Logger } from "pino";
import type { StateSettings } from "../config/ops.js";
import type { Override } from "./overrides.js";
import type { Runtime, RuntimeOptions } from "../server/runtime.js";
import type { OpsPart } from "./start.js";

export const STATE_VERSION = 1;

/** At most one write per this many milliseconds; changes in between are written together. */
export const STATE_WRITE_INTERVAL_MS = 500;

export type WarmState = NonNullable<RuntimeOptions["warm"]>;
export type SavedEndpoint = WarmState["endpoints"][number];

export interface StateFileContent {
  version: number;
  /** Milliseconds since the epoch. */
  savedAt: number;
  endpoints: SavedEndpoint[];
  overrides: Override[];
}

/** What the runtime knows now, as the state file holds it: endpoints with a verdict (up or down) only. */
export function stateOf(rt: Runtime, now = Date.now()): StateFileContent {
  const endpoints: SavedEndpoint[] = [];
  for (const s of rt.monitor.snapshot()) {
    if (s.status !== "up" && s.status !== "down") continue;
    // A restored state is shown as "restored: <reason>"; save the reason itself, so restarts do not stack prefixes.
    endpoints.push({ check: s.check, address: s.address, status: s.status, since: s.since, reason: s.reason.replace(/^(restored: )+/, "") });
  }
  return { version: STATE_VERSION, savedAt: now, endpoints, overrides: rt.overrides.list() };
}

/** Write `content` to `file` atomically: a reader sees the old file or the new one, never a part. */
export async function writeStateFile(file: string, content: StateFileContent): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  const fh = await open(tmp, "w", 0o644);
  try {
    await fh.writeFile(JSON.stringify(content) + "\n", "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // Make the rename itself durable; a directory that cannot be opened for this is no error.
  try {
    const dir = await open(dirname(file), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Some file systems do not fsync directories.
  }
}

export type StateReadResult = { warm: WarmState; savedAt: number } | { ignored: string };

/**
 * Read the state file for a warm start. Anything but a valid, recent file of this version is ignored
 * (cold start) with the reason: missing, unreadable, malformed, another version, too old.
 */
export async function readStateFile(settings: StateSettings, now = Date.now()): Promise<StateReadResult> {
  let text: string;
  try {
    text = await readFile(settings.file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ignored: "no state file yet" };
    return { ignored: `cannot read it: ${code ?? (e as Error).message}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ignored: `not valid JSON (${(e as Error).message})` };
  }
  if (!isObject(data)) return { ignored: "not a JSON object" };
  if (data.version !== STATE_VERSION) return { ignored: `version ${JSON.stringify(data.version)}, this hadns reads version ${STATE_VERSION}` };
  if (typeof data.savedAt !== "number" || !Number.isFinite(data.savedAt)) return { ignored: "no savedAt time" };
  const age = now - data.savedAt;
  if (age > settings.maxAgeMs) return { ignored: `saved ${formatAge(age)} ago, older than max_age ${formatAge(settings.maxAgeMs)}` };
  // A clock that went backwards makes the file's times meaningless for `since`: trust it only to a minute.
  if (age < -60_000) return { ignored: `saved ${formatAge(-age)} in the future (clock changed?)` };
  if (!Array.isArray(data.endpoints) || !Array.isArray(data.overrides)) return { ignored: "endpoints or overrides missing" };
  const endpoints: SavedEndpoint[] = [];
  for (const [i, e] of data.endpoints.entries()) {
    const ep = savedEndpoint(e);
    if (!ep) return { ignored: `endpoints[${i}] is malformed` };
    endpoints.push(ep);
  }
  const overrides: Override[] = [];
  for (const [i, o] of data.overrides.entries()) {
    const ov = savedOverride(o);
    if (!ov) return { ignored: `overrides[${i}] is malformed` };
    overrides.push(ov);
  }
  return { warm: { endpoints, overrides }, savedAt: data.savedAt };
}

/** readStateFile with its one log line; undefined means a cold start. */
export async function loadWarmState(settings: StateSettings | undefined, logger: Logger): Promise<WarmState | undefined> {
  if (!settings) return undefined;
  const now = Date.now();
  const r = await readStateFile(settings, now);
  if ("ignored" in r) {
    logger.info({ stateFile: settings.file, reason: r.ignored }, `state file ignored: ${r.ignored}; cold start (the first round of probes decides)`);
    return undefined;
  }
  const down = r.warm.endpoints.filter((e) => e.status === "down").length;
  logger.info(
    { stateFile: settings.file, savedAt: new Date(r.savedAt).toISOString(), endpoints: r.warm.endpoints.length, down, overrides: r.warm.overrides.length },
    `warm start from the state file saved ${formatAge(now - r.savedAt)} ago: ${r.warm.endpoints.length} endpoints (${down} down), ${r.warm.overrides.length} overrides`,
  );
  return r.warm;
}

/**
 * Keep the state file current: write after every transition, override change and successful reload,
 * at most once per STATE_WRITE_INTERVAL_MS, and once more on close. Writes are asynchronous and never
 * touch the query path; a failed write is logged (once until it works again), never thrown.
 */
export function startStateWriter(rt: Runtime, settings: StateSettings, logger: Logger, intervalMs = STATE_WRITE_INTERVAL_MS): OpsPart & { flush(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let dirty = false;
  let lastWrite = 0;
  let lastError: string | undefined;
  let closed = false;
  let madeDir = false;

  const writeNow = async (): Promise<void> => {
    dirty = false;
    lastWrite = Date.now();
    try {
      if (!madeDir) {
        await mkdir(dirname(settings.file), { recursive: true });
        madeDir = true;
      }
      await writeStateFile(settings.file, stateOf(rt));
      if (lastError !== undefined) logger.info({ stateFile: settings.file }, "state file written again");
      lastError = undefined;
    } catch (e) {
      const msg = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      if (msg !== lastError) logger.warn({ stateFile: settings.file, err: e }, `cannot write the state file ${basename(settings.file)}: ${msg}; a restart will start cold`);
      lastError = msg;
    }
  };

  const run = (): void => {
    timer = undefined;
    if (writing) return; // the write in flight re-schedules when it ends
    writing = writeNow().finally(() => {
      writing = undefined;
      if (dirty && !closed) schedule();
    });
  };

  const schedule = (): void => {
    dirty = true;
    if (closed || timer || writing) return;
    timer = setTimeout(run, Math.max(0, lastWrite + intervalMs - Date.now()));
    timer.unref();
  };

  const onReload = (r: { ok: boolean }): void => {
    if (r.ok) schedule();
  };
  rt.on("transition", schedule);
  rt.on("override", schedule);
  rt.on("reload", onReload);
  // The state we start with (restored, or the first round's) is written at once.
  schedule();

  const detach = (): void => {
    rt.off("transition", schedule);
    rt.off("override", schedule);
    rt.off("reload", onReload);
  };

  return {
    name: "state file",
    /** Write now (after any write in flight), whatever the interval says. */
    async flush() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (writing) await writing;
      await writeNow();
    },
    async close() {
      if (closed) return;
      closed = true;
      detach();
      if (timer) clearTimeout(timer);
      timer = undefined;
      while (writing) await writing;
      await writeNow();
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function savedEndpoint(v: unknown): SavedEndpoint | undefined {
  if (!isObject(v)) return undefined;
  const { check, address, status, since, reason } = v;
  if (typeof check !== "string" || typeof address !== "string" || (status !== "up" && status !== "down")) return undefined;
  if (typeof since !== "number" || !Number.isFinite(since) || typeof reason !== "string") return undefined;
  return { check, address, status, since, reason };
}

function savedOverride(v: unknown): Override | undefined {
  if (!isObject(v)) return undefined;
  const { id, pool, address, action, reason, createdAt, expiresAt } = v;
  if (typeof id !== "string" || typeof address !== "string" || typeof reason !== "string") return undefined;
  if (action !== "down" && action !== "up" && action !== "drain") return undefined;
  if (pool !== undefined && typeof pool !== "string") return undefined;
  if (typeof createdAt !== "number" || typeof expiresAt !== "number") return undefined;
  return { id, ...(pool !== undefined ? { pool } : {}), address, action, reason, createdAt, expiresAt };
}

function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}
