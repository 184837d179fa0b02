// How the CLI prints problems in zones and config: one `file:line: message` per line on stderr,
// files in the order they were read, each file's errors in line order.

import { formatSourceError, type SourceError } from "../zone/rr.js";

export function printSourceErrors(errors: readonly SourceError[], prefix = ""): void {
  if (errors.length === 0) return;
  process.stderr.write(inReadingOrder(errors).map((e) => prefix + formatSourceError(e) + "\n").join(""));
}

/** Grouped by file (first appearance first), then by line; stable for equal lines. */
export function inReadingOrder(errors: readonly SourceError[]): SourceError[] {
  const fileRank = new Map<string, number>();
  for (const e of errors) if (!fileRank.has(e.file)) fileRank.set(e.file, fileRank.size);
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => fileRank.get(a.e.file)! - fileRank.get(b.e.file)! || a.e.line - b.e.line || a.i - b.i)
    .map((x) => x.e);
}

/** `1 zone`, `2 zones`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
