// What makes hadns reload: SIGHUP, and with `watch: true` a change to the config file, a zone file or
// a file a zone $INCLUDEs. The reload itself (parse and check everything, then swap at once) is
// Runtime.reload; this file only decides when to ask for one.
//
// Watching: editors and deploy tools replace files (write a temp file, rename it over the old one),
// which ends a watch on the file itself. So we watch the directories that hold the files, and on any
// event there (debounced) compare each watched file's identity (inode, size, mtime, ctime, through
// symlinks): only a real change to one of our files reloads. A watch on a directory survives any
// number of renames inside it, and symlink swaps (Kubernetes ConfigMaps) show as a changed inode.

import { watch, type FSWatcher } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Logger } from "pino";
import type { OpsSettings } from "../config/ops.js";
import type { ReloadResult, Runtime } from "../server/runtime.js";
import type { OpsPart } from "./start.js";

/** Quiet time after the last file event before the files are compared (an editor's save is several events). */
export const WATCH_DEBOUNCE_MS = 300;

// ---- SIGHUP ---------------------------------------------------------------------------------------

/**
 * One process-wide SIGHUP handler whose meaning follows the life of `serve`: while starting, a SIGHUP
 * is held (acted on once we serve); while serving, it reloads; while stopping, it is ignored. Never
 * Node's default for SIGHUP, which is to die.
 */
let hupMode: "hold" | "reload" | "stopping" = "hold";
let heldHups = 0;
let hupInstalled = false;
let onHupReload: (() => void) | undefined;
let hupLogger: Logger | undefined;

function onHup(): void {
  if (hupMode === "hold") heldHups++;
  else if (hupMode === "reload") onHupReload?.();
  else hupLogger?.info("SIGHUP while stopping: ignored");
}

function installHup(): void {
  if (hupInstalled) return;
  process.on("SIGHUP", onHup);
  hupInstalled = true;
}

/**
 * Call first thing in `serve`: until the reload triggers start, a SIGHUP (a supervisor's reload while
 * we are still loading) is remembered instead of killing the process, and acted on once we serve.
 */
export function holdSighupDuringStartup(): void {
  hupMode = "hold";
  installHup();
}

/** Call when `serve` starts stopping: a reload now would only delay the stop (and a SIGHUP must not kill). */
export function ignoreSighupWhileStopping(logger: Logger): void {
  hupMode = "stopping";
  hupLogger = logger;
  installHup();
}

function sighupPart(rt: Runtime, logger: Logger): OpsPart {
  const reload = (): void => {
    logger.info("SIGHUP: reloading config and zones");
    void rt.reload("SIGHUP");
  };
  installHup();
  const wasHolding = hupMode === "hold" && heldHups > 0;
  heldHups = 0;
  if (hupMode !== "stopping") hupMode = "reload";
  onHupReload = reload;
  if (wasHolding) {
    logger.info("SIGHUP came during start-up: reloading now");
    void rt.reload("SIGHUP (during start-up)");
  }
  return {
    name: "SIGHUP reload",
    close: () => {
      if (onHupReload === reload) onHupReload = undefined;
      // Stopping: the handler stays (ignoring) until exit. Otherwise (tests, embedding) it goes.
      if (hupMode !== "stopping" && hupInstalled) {
        process.off("SIGHUP", onHup);
        hupInstalled = false;
        hupMode = "hold";
      }
    },
  };
}

// ---- watching files -------------------------------------------------------------------------------

export interface WatchOptions {
  /** The files whose change reloads (config, zones); $INCLUDEd files of the zones are found here. */
  files: () => string[] | Promise<string[]>;
  debounceMs?: number;
}

/** When the file behind a signature last changed (ms since the epoch; 0 when missing). */
function changedAt(sig: string): number {
  const [, , , mtime, ctime] = sig.split(":");
  return Math.max(Number(mtime) || 0, Number(ctime) || 0);
}

/** Identity of a file's current content, following symlinks; "missing" when it cannot be stat'ed. */
async function signature(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch (e) {
    return `missing:${(e as NodeJS.ErrnoException).code ?? ""}`;
  }
}

const INCLUDE_LINE = /^\$INCLUDE[ \t]+(?:"([^"]+)"|(\S+))/gim;

/** The files one zone file $INCLUDEs directly, by a cheap scan of its lines (the parser checks them). */
async function includesOf(file: string): Promise<string[]> {
  let text: string;
  let dir: string;
  try {
    text = await readFile(file, "utf8");
    dir = dirname(await realpath(file));
  } catch {
    return [];
  }
  if (!/\$include/i.test(text)) return [];
  return [...text.matchAll(INCLUDE_LINE)].map((m) => resolve(dir, m[1] ?? m[2]!));
}

export function watchPart(rt: Runtime, opts: WatchOptions, logger: Logger): OpsPart & { ready: Promise<void>; watched(): string[] } {
  const debounceMs = opts.debounceMs ?? WATCH_DEBOUNCE_MS;
  const dirs = new Map<string, FSWatcher>();
  /** Watched file (absolute) → its signature when last compared. */
  let sigs = new Map<string, string>();
  /** A file's $INCLUDEs, scanned once per signature (a 100k-record zone is not read on every event). */
  const includeCache = new Map<string, { sig: string; includes: string[] }>();
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  let again = false;
  let closed = false;

  /** Every file whose change reloads, with its signature now: the config's, the served zones, their $INCLUDEs. */
  const current = async (): Promise<Map<string, string>> => {
    const queue: Array<{ file: string; depth: number }> = [];
    try {
      for (const f of await opts.files()) queue.push({ file: resolve(f), depth: 0 });
    } catch (e) {
      logger.warn({ err: e }, `watch: cannot list the config's files: ${(e as Error).message}`);
    }
    for (const z of rt.inputs.zones) queue.push({ file: resolve(z.file), depth: 0 });
    const out = new Map<string, string>();
    for (let item = queue.shift(); item; item = queue.shift()) {
      if (out.has(item.file)) continue;
      const sig = await signature(item.file);
      out.set(item.file, sig);
      if (item.depth >= 16 || sig.startsWith("missing")) continue;
      let inc = includeCache.get(item.file);
      if (inc?.sig !== sig) {
        inc = { sig, includes: await includesOf(item.file) };
        includeCache.set(item.file, inc);
      }
      for (const f of inc.includes) queue.push({ file: f, depth: item.depth + 1 });
    }
    for (const f of includeCache.keys()) if (!out.has(f)) includeCache.delete(f);
    return out;
  };

  const onEvent = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void compare(), debounceMs);
    timer.unref();
  };

  /** Watch exactly the directories of the watched files. */
  const watchDirs = (): void => {
    const wanted = new Set([...sigs.keys()].map((f) => dirname(f)));
    for (const [d, w] of dirs) {
      if (wanted.has(d)) continue;
      w.close();
      dirs.delete(d);
    }
    for (const d of wanted) {
      if (dirs.has(d)) continue;
      try {
        const w = watch(d, { persistent: false }, onEvent);
        w.on("error", (e) => {
          logger.warn({ err: e, dir: d }, `watch: stopped watching ${d}: ${e.message}`);
          w.close();
          dirs.delete(d);
        });
        dirs.set(d, w);
      } catch (e) {
        logger.warn({ err: e, dir: d }, `watch: cannot watch ${d}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
  };

  /**
   * Take the file set as it is now (after start or a reload). Files already watched keep the signature
   * they were last compared at, so a change made while a reload ran is still seen as a change; a file
   * new to the set that changed after `since` (the reload's start) may be newer than what the reload
   * read, so it is compared once more.
   */
  const arm = async (since?: number): Promise<void> => {
    const now = await current();
    if (closed) return;
    let recheck = false;
    for (const [f, sig] of now) {
      const old = sigs.get(f);
      if (old !== undefined) now.set(f, old);
      else if (since !== undefined && changedAt(sig) >= since) {
        now.set(f, "changed during the reload");
        recheck = true;
      }
    }
    sigs = now;
    watchDirs();
    if (recheck) onEvent();
  };

  /** After the quiet time: reload if a watched file changed, appeared or went away; then re-arm. */
  const compare = async (): Promise<void> => {
    timer = undefined;
    if (closed) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      const now = await current();
      const changed = [...now].filter(([f, sig]) => sigs.get(f) !== sig).map(([f]) => f);
      changed.push(...[...sigs.keys()].filter((f) => !now.has(f)));
      if (changed.length > 0 && !closed) {
        sigs = now;
        // Files the config names from now on are watched before the reload reads them.
        watchDirs();
        const trigger = `file change: ${changed[0]}${changed.length > 1 ? ` (and ${changed.length - 1} more)` : ""}`;
        logger.info({ files: changed }, `watch: ${trigger}; reloading`);
        const r = await rt.reload(trigger);
        // Joined a reload that was already running (SIGHUP, the API): it may have read the files
        // before they changed, so read them once more.
        if (r.trigger !== trigger && !closed) await rt.reload(trigger);
        if (!closed) await arm();
      }
    } catch (e) {
      logger.warn({ err: e }, `watch: ${(e as Error).message}`);
    } finally {
      busy = false;
    }
    if (again && !closed) {
      again = false;
      await compare();
    }
  };

  // A reload from elsewhere (SIGHUP, POST /v1/reload) may name other zone files: watch those.
  const onReload = (r: ReloadResult): void => {
    if (r.ok && !busy && !closed) void arm(Date.now() - r.ms - 1).catch((e: unknown) => logger.warn({ err: e }, `watch: ${(e as Error).message}`));
  };
  rt.on("reload", onReload);

  const ready = arm().then(() => {
    logger.info({ files: [...sigs.keys()] }, `watching ${sigs.size} file${sigs.size === 1 ? "" : "s"} for changes (reload ${debounceMs} ms after the last change)`);
  });

  return {
    name: "file watch",
    ready,
    watched: () => [...sigs.keys()],
    close() {
      closed = true;
      rt.off("reload", onReload);
      if (timer) clearTimeout(timer);
      for (const w of dirs.values()) w.close();
      dirs.clear();
    },
  };
}

/** SIGHUP always; file watching when the config says `watch: true`. */
export function startReloadTriggers(rt: Runtime, ops: Pick<OpsSettings, "watch">, logger: Logger, extra: { configFiles?: () => string[] } = {}): OpsPart {
  const parts: OpsPart[] = [sighupPart(rt, logger)];
  if (ops.watch) parts.push(watchPart(rt, { files: extra.configFiles ?? (() => []) }, logger));
  return {
    name: "reload triggers",
    async close() {
      for (const p of parts) await p.close();
    },
  };
}
