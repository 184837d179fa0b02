// A YAML or JSON config file read into a tree that remembers the line of every key and value, and
// typed readers over it whose errors are `file:line: key.path: message` (SourceError).

import { readFileSync } from "node:fs";
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YNode } from "yaml";
import type { SourceError } from "../zone/rr.js";

/** A key path from the root of the document: `["zones", 0, "file"]` is shown as `zones[0].file`. */
export type Path = ReadonlyArray<string | number>;

export type Scalar = string | number | boolean | null;

export type SourceNode = MapNode | SeqNode | ScalarNode;
export interface MapNode {
  kind: "map";
  line: number;
  entries: Map<string, MapEntry>;
}
export interface MapEntry {
  keyLine: number;
  value: SourceNode;
}
export interface SeqNode {
  kind: "seq";
  line: number;
  items: SourceNode[];
}
export interface ScalarNode {
  kind: "scalar";
  line: number;
  value: Scalar;
}

export interface ConfigSource {
  file: string;
  /** Undefined for an empty document. */
  root: SourceNode | undefined;
}

export interface ParsedSource {
  source: ConfigSource;
  errors: SourceError[];
}

export function formatPath(path: Path): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? p : `.${p}`;
  }
  return s === "" ? "(top level)" : s;
}

/** Read and parse a config file. `.json` files are parsed as YAML too (JSON is YAML 1.2), keeping lines. */
export function readConfigSource(file: string): ParsedSource {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return { source: { file, root: undefined }, errors: [{ file, line: 0, message: `cannot read config file: ${errText(e)}` }] };
  }
  return parseConfigSource(text, file);
}

export function parseConfigSource(text: string, file: string): ParsedSource {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false });
  const errors: SourceError[] = [];
  const lineAt = (offset: number | undefined): number => (offset === undefined ? 0 : lc.linePos(offset).line);
  for (const e of doc.errors) {
    errors.push({ file, line: lineAt(e.pos[0]), message: `syntax error: ${firstLine(e.message)}` });
  }
  if (errors.length > 0) return { source: { file, root: undefined }, errors };
  const conv = new Converter(doc, file, lineAt, errors);
  const root = doc.contents ? conv.node(doc.contents as YNode, []) : undefined;
  return { source: { file, root }, errors };
}

class Converter {
  constructor(
    private readonly doc: Document,
    private readonly file: string,
    private readonly lineAt: (offset: number | undefined) => number,
    private readonly errors: SourceError[],
  ) {}

  node(n: YNode, path: Path, depth = 0): SourceNode {
    const line = this.lineAt(n.range?.[0]);
    if (isAlias(n)) {
      const target = depth < 32 ? n.resolve(this.doc) : undefined;
      if (!target) return this.fail(line, path, "alias points nowhere") ?? { kind: "scalar", line, value: null };
      const resolved = this.node(target as YNode, path, depth + 1);
      return { ...resolved, line };
    }
    if (isMap(n)) {
      const entries = new Map<string, MapEntry>();
      for (const pair of n.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as YNode | null;
        const keyLine = this.lineAt(keyNode?.range?.[0]) || line;
        if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === "object") {
          this.fail(keyLine, path, "keys must be plain names");
          continue;
        }
        const key = String(keyNode.value);
        const valueNode = pair.value as YNode | null;
        const value: SourceNode = valueNode
          ? this.node(valueNode, [...path, key], depth)
          : { kind: "scalar", line: keyLine, value: null };
        if (entries.has(key)) {
          this.fail(keyLine, [...path, key], `given twice (first on line ${entries.get(key)!.keyLine})`);
          continue;
        }
        entries.set(key, { keyLine, value });
      }
      return { kind: "map", line, entries };
    }
    if (isSeq(n)) {
      const items = n.items.map((item, i) =>
        item ? this.node(item as YNode, [...path, i], depth) : ({ kind: "scalar", line, value: null } as ScalarNode),
      );
      return { kind: "seq", line, items };
    }
    if (isScalar(n)) {
      const v = n.value;
      if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") {
        return { kind: "scalar", line, value: v };
      }
      return { kind: "scalar", line, value: String(v) };
    }
    this.fail(line, path, "unsupported YAML node");
    return { kind: "scalar", line, value: null };
  }

  private fail(line: number, path: Path, message: string): undefined {
    this.errors.push({ file: this.file, line, message: `${formatPath(path)}: ${message}` });
    return undefined;
  }
}

/** The node at `path`, or undefined when some step is missing. */
export function nodeAt(root: SourceNode | undefined, path: Path): SourceNode | undefined {
  let n = root;
  for (const step of path) {
    if (!n) return undefined;
    if (typeof step === "number") n = n.kind === "seq" ? n.items[step] : undefined;
    else n = n.kind === "map" ? n.entries.get(step)?.value : undefined;
  }
  return n;
}

/**
 * The line to blame for `path`: a map entry's key line, a list item's first line; for a path that
 * does not exist, the line of its nearest existing ancestor.
 */
export function lineOf(source: ConfigSource, path: Path): number {
  let n = source.root;
  let line = n?.line ?? 0;
  for (const step of path) {
    if (!n) break;
    if (typeof step === "number") {
      n = n.kind === "seq" ? n.items[step] : undefined;
      if (n) line = n.line;
    } else {
      const entry = n.kind === "map" ? n.entries.get(step) : undefined;
      n = entry?.value;
      if (entry) line = entry.keyLine;
    }
  }
  return line;
}

/** The plain JavaScript value of a node: maps become objects, lists arrays. */
export function toPlain(node: SourceNode | undefined): unknown {
  if (!node) return undefined;
  switch (node.kind) {
    case "scalar":
      return node.value;
    case "seq":
      return node.items.map(toPlain);
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, e] of node.entries) out[k] = toPlain(e.value);
      return out;
    }
  }
}

/** Closest of `known` to `word` by edit distance, when it is close enough to be a likely typo. */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function describe(n: SourceNode): string {
  if (n.kind === "map") return "a map";
  if (n.kind === "seq") return "a list";
  if (n.value === null) return "nothing";
  return typeof n.value === "string" ? JSON.stringify(n.value) : String(n.value);
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code} (${err.message.replace(/^\w+: /, "").replace(/, \w+ '.*'$/, "")})` : String(e);
}

/**
 * Typed reads at key paths of one source. Each read returns undefined when the key is absent (no
 * error) and records a SourceError when the value has the wrong shape.
 */
export class SourceReader {
  readonly errors: SourceError[] = [];

  constructor(readonly source: ConfigSource) {}

  get file(): string {
    return this.source.file;
  }

  at(path: Path): SourceNode | undefined {
    return nodeAt(this.source.root, path);
  }

  has(path: Path): boolean {
    const n = this.at(path);
    return n !== undefined && !(n.kind === "scalar" && n.value === null);
  }

  where = (path: Path): { file: string; line: number } => ({ file: this.source.file, line: lineOf(this.source, path) });

  error(path: Path, message: string): undefined {
    const where = path.length > 0 ? `${formatPath(path)}: ` : "";
    this.errors.push({ file: this.source.file, line: lineOf(this.source, path), message: where + message });
    return undefined;
  }

  /** A map whose keys must all be in `known`; unknown keys are reported with the closest known key. */
  map(path: Path, known: readonly string[]): MapNode | undefined {
    const n = this.at(path);
    if (!n || (n.kind === "scalar" && n.value === null)) return undefined;
    if (n.kind !== "map") return this.error(path, `expected a map of ${known.join(", ")}, got ${describe(n)}`);
    for (const key of n.entries.keys()) {
      if (known.includes(key)) continue;
      const near = closest(key, known);
      this.error([...path, key], near ? `unknown key; did you mean "${near}"?` : `unknown key; known keys here: ${known.join(", ")}`);
    }
    return n;
  }

  /** A list; a single value where a list is expected is taken as a list of one when `single` is set. */
  list(path: Path, opts: { single?: boolean } = {}): Array<{ node: SourceNode; path: Path }> | undefined {
    const n = this.at(path);
    if (!n || (n.kind === "scalar" && n.value === null)) return undefined;
    if (n.kind === "seq") return n.items.map((node, i) => ({ node, path: [...path, i] }));
    if (opts.single && n.kind === "scalar") return [{ node: n, path }];
    return this.error(path, `expected a list, got ${describe(n)}`);
  }

  string(path: Path, opts: { nonEmpty?: boolean; required?: boolean } = {}): string | undefined {
    const n = this.at(path);
    if (!n || (n.kind === "scalar" && n.value === null)) {
      return opts.required ? this.error(path, "missing; a value is required") : undefined;
    }
    if (n.kind !== "scalar" || typeof n.value === "boolean") return this.error(path, `expected text, got ${describe(n)}`);
    const s = String(n.value);
    if (opts.nonEmpty && s.trim() === "") return this.error(path, "must not be empty");
    return s;
  }

  oneOf<T extends string>(path: Path, choices: readonly T[]): T | undefined {
    const s = this.string(path);
    if (s === undefined) return undefined;
    if ((choices as readonly string[]).includes(s)) return s as T;
    const near = closest(s, choices);
    return this.error(path, `"${s}" is not one of ${choices.join(", ")}${near ? `; did you mean "${near}"?` : ""}`);
  }

  int(path: Path, opts: { min?: number; max?: number } = {}): number | undefined {
    const n = this.at(path);
    if (!n || (n.kind === "scalar" && n.value === null)) return undefined;
    const min = opts.min ?? 0;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    const v = n.kind === "scalar" ? n.value : undefined;
    const num = typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(num) || num < min || num > max) {
      return this.error(path, `expected a whole number from ${min} to ${max}, got ${describe(n)}`);
    }
    return num;
  }

  bool(path: Path): boolean | undefined {
    const n = this.at(path);
    if (!n || (n.kind === "scalar" && n.value === null)) return undefined;
    if (n.kind === "scalar" && typeof n.value === "boolean") return n.value;
    return this.error(path, `expected true or false, got ${describe(n)}`);
  }

  /**
   * A value converted by `parse`, which returns the value or throws an Error whose message explains
   * what is wrong (e.g. a duration or address parser). Numbers are passed as their text.
   */
  parsed<T>(path: Path, parse: (text: string) => T): T | undefined {
    const s = this.string(path);
    if (s === undefined) return undefined;
    try {
      return parse(s);
    } catch (e) {
      return this.error(path, e instanceof Error ? e.message : String(e));
    }
  }
}
