// `hadns serve` as an operator runs it: the built bin (dist/cli/main.js) in a child process with JSON
// logs on a pipe; wait for log lines, send signals, see how it exits. Shared by the reload, warm-start
// and graceful-stop tests.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const BIN = "dist/cli/main.js";

/** Build dist/ when any source file is newer than its output. */
export function buildIfStale(): void {
  // The native UDP socket too (scripts/build-native.mjs warns and exits 0 without a compiler).
  const addon = join("dist", "native", "udp-batch.node");
  if (!existsSync(addon) || statSync(addon).mtimeMs < statSync(join("native", "udp-batch.c")).mtimeMs) {
    execFileSync(process.execPath, ["scripts/build-native.mjs"], { stdio: "inherit" });
  }
  const stale = readdirSync("src", { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"))
    .some((f) => {
      try {
        return statSync(join("dist", f.replace(/\.ts$/, ".js"))).mtimeMs < statSync(join("src", f)).mtimeMs;
      } catch {
        return true;
      }
    });
  if (!stale) return;
  try {
    execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
  } catch (e) {
    // tsc emits despite type errors; a type error is `npm test`'s to report (tsc --noEmit), not ours.
    if (!existsSync(BIN)) throw e;
  }
}

export type LogLine = Record<string, unknown> & { level: number; msg: string };

export interface ServeProcess {
  proc: ChildProcess;
  port: number;
  /** Every JSON log line so far. */
  lines(): LogLine[];
  /** Resolves with the first line (from the start) that `pred` accepts; rejects after `timeoutMs`. */
  waitForLine(pred: (l: LogLine) => boolean, timeoutMs?: number, from?: number): Promise<LogLine>;
  /** Exit code, or "killed by SIGxxx". */
  exited: Promise<number | string | null>;
  signal(sig: NodeJS.Signals): void;
  /** Signal and wait for the exit. */
  stop(sig?: NodeJS.Signals): Promise<number | string | null>;
  stderr(): string;
}

/** Start `hadns serve <args>` and wait for its start-up line ("serving …"). */
export function startServe(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; startTimeoutMs?: number } = {}): Promise<ServeProcess> {
  const bin = join(process.cwd(), BIN);
  const proc = spawn(process.execPath, [bin, "serve", "--log-format", "json", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, ...(opts.env ?? {}) },
  });
  let out = "";
  let err = "";
  const parsed: LogLine[] = [];
  let parsedUpTo = 0;
  const waiters = new Set<() => void>();
  const lines = (): LogLine[] => {
    const end = out.lastIndexOf("\n") + 1;
    if (end > parsedUpTo) {
      for (const l of out.slice(parsedUpTo, end).split("\n")) {
        if (!l.startsWith("{")) continue;
        try {
          parsed.push(JSON.parse(l) as LogLine);
        } catch {
          // not a log line
        }
      }
      parsedUpTo = end;
    }
    return parsed;
  };
  proc.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) w();
  });
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string | null>((resolve) => proc.on("exit", (code, signal) => resolve(signal ? `killed by ${signal}` : code)));
  void exited.then(() => {
    for (const w of [...waiters]) w();
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const waitForLine = (pred: (l: LogLine) => boolean, timeoutMs = 10_000, from = 0): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = lines().slice(from).find(pred);
        if (hit) {
          done();
          resolve(hit);
        } else if (hasExited) {
          done();
          reject(new Error(`hadns exited before the expected log line:\n${out}\n${err}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no expected log line in ${timeoutMs} ms:\n${out}\n${err}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return waitForLine((l) => l.msg.startsWith("serving "), opts.startTimeoutMs ?? 20_000).then(
    (start) => {
      const port = Number(/:(\d+)$/.exec((start.listening as string[])[0]!)![1]);
      return {
        proc,
        port,
        lines,
        waitForLine,
        exited,
        signal: (sig) => void proc.kill(sig),
        stop: (sig = "SIGTERM") => {
          if (!hasExited) proc.kill(sig);
          return exited;
        },
        stderr: () => err,
      };
    },
    (e: unknown) => {
      proc.kill("SIGKILL");
      throw e;
    },
  );
}
