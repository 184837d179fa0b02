// How the CLI prints problems in zones and config: one `file:line: message` per line on stderr.

import { formatSourceError, type SourceError } from "../zone/rr.js";

export function printSourceErrors(errors: readonly SourceError[]): void {
  if (errors.length === 0) return;
  process.stderr.write(errors.map((e) => formatSourceError(e) + "\n").join(""));
}

/** `1 zone`, `2 zones`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
