// The process logger (pino): one JSON object per line by default, readable text (pino-pretty) when
// stdout is a terminal or when asked. Writes are synchronous, so nothing is lost at exit.

import { pino, type Logger } from "pino";
import { build as prettyStream } from "pino-pretty";

export type { Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  /** Default "info". */
  level?: LogLevel;
  /** Default: "pretty" when stdout is a terminal, else "json". */
  format?: LogFormat;
}

export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY ? "pretty" : "json";
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? "info";
  const format = opts.format ?? defaultLogFormat();
  if (format === "pretty") {
    const stream = prettyStream({
      colorize: Boolean(process.stdout.isTTY),
      sync: true,
      destination: 1,
      translateTime: "SYS:HH:MM:ss.l",
      ignore: "pid,hostname",
    });
    return pino({ level, name: "hadns" }, stream);
  }
  return pino(
    { level, name: "hadns", timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: true }),
  );
}
