// hadns as a hidden primary for the transfer tests: a PoolServer (test/support/instance.ts) with the
// transfers part started on it from the config's `transfers:` section, its log lines kept; and Knot's
// `kdig` run for AXFR/IXFR/NOTIFY with or without a TSIG key, its output cut into records.

import { execFile } from "node:child_process";
import { pino, type Logger } from "pino";
import { startTransfers, type TransfersPart } from "../../src/xfr/start.js";
import { startPoolServer, type PoolServer, type StartOptions } from "./instance.js";

export const KDIG = process.env.KDIG ?? "kdig";

export interface Primary {
  srv: PoolServer;
  xfr: TransfersPart;
  /** Log lines of the transfers part. */
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export function capture(into: Array<Record<string, unknown>>): Logger {
  const printAt = process.env.HADNS_TEST_LOG;
  return pino(
    { level: "debug" },
    {
      write(line: string) {
        try {
          into.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* not JSON */
        }
        if (printAt && printAt !== "silent") process.stderr.write(line);
      },
    },
  );
}

export async function startPrimary(opts: StartOptions & { stateFile?: string; notifyRetryMs?: number[] }): Promise<Primary> {
  const srv = await startPoolServer(opts);
  const logs: Array<Record<string, unknown>> = [];
  if (!srv.config.transfers) {
    await srv.close();
    throw new Error("the config has no transfers: section");
  }
  const xfr = await startTransfers(srv.instance, srv.config.transfers, {
    logger: capture(logs),
    stateFile: opts.stateFile,
    ...(opts.notifyRetryMs ? { notifyRetryMs: opts.notifyRetryMs } : {}),
  });
  return {
    srv,
    xfr,
    logs,
    async close() {
      await xfr.close();
      await srv.close();
    },
  };
}

export function kdig(args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(KDIG, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err && !stdout && !stderr) reject(new Error(`kdig ${args.join(" ")}: ${err.message}`));
      else resolve(stdout + stderr);
    });
  });
}

export interface KdigTransfer {
  /** `owner ttl TYPE rdata` per record, in order, owner lower-cased. */
  records: string[];
  /** ";; Received N B (M messages, K records)" */
  messages: number;
  /** TSIG records kdig printed (one per signed message). */
  tsigs: string[];
  /** Lines starting with ";; ERROR" or ";; WARNING". */
  problems: string[];
  raw: string;
}

/** Parse kdig's AXFR/IXFR output. */
export function parseTransfer(out: string): KdigTransfer {
  const records: string[] = [];
  const problems: string[] = [];
  const tsigs: string[] = [];
  let messages = 0;
  for (const line of out.split("\n")) {
    if (/^;; (ERROR|WARNING)/.test(line)) problems.push(line);
    const m = /^;; Received \d+ B \((\d+) messages?, \d+ records?\)/.exec(line);
    if (m) messages = Number(m[1]);
    if (line.startsWith(";") || line.trim() === "") continue;
    const f = line.split(/\s+/);
    if (f[3] === "TSIG") {
      tsigs.push(line);
      continue;
    }
    records.push(`${f[0]!.toLowerCase()} ${f[1]} ${f[3]} ${f.slice(4).join(" ")}`);
  }
  return { records, messages, tsigs, problems, raw: out };
}

/** The kdig -y argument for a key. */
export function kdigKey(k: { name: string; algorithm: string; secret: string }): string {
  return `${k.algorithm}:${k.name}:${k.secret}`;
}
