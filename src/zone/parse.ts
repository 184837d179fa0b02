// Master-file parser (RFC 1035 §5.1): $ORIGIN, $TTL (RFC 2308 §4), $INCLUDE, owner/TTL/class
// inheritance, every type in rdata-text.ts and RFC 3597 generic RDATA. Errors are collected, never thrown.
//
// Where servers disagree, hadns does this (Knot DNS 3.2 is the reference; tests pin each one):
// - A record with no TTL takes $TTL; with no $TTL, the last explicit TTL (RFC 1035 §5.1, as BIND;
//   Knot uses its default-ttl instead); with neither, opts.defaultTtl or 3600 (Knot's default-ttl,
//   not the SOA MINIMUM) plus one warning.
// - Identical records are kept once, silently, and an RRset with mixed TTLs gets its last TTL with
//   a warning: both exactly as Knot loads a zone (see mergeRRsets).
// - TXT/SPF strings over 255 octets are split into 255-octet strings (as Knot 3.2 does).
// - Text beyond ASCII in character-strings is stored as UTF-8 (Knot refuses it).
// - Names in RDATA keep their written case (Knot lower-cases them).
// - `\#` RDATA for a type we can print must be valid for that type (Knot does not check).
// - CAA tags must be letters and digits (RFC 8659 §4.1; Knot accepts any).
// - An $INCLUDE sees a copy of the includer's origin, owner and TTLs; nothing flows back.

import * as fs from "node:fs";
import * as path from "node:path";
import { RRClass, classFromText, isMetaType, typeFromText } from "../wire/constants.js";
import { ROOT, type Name } from "../wire/name.js";
import { mergeRRsets } from "./checks.js";
import { Lexer, type Entry } from "./lexer.js";
import { nameFromField, ownerFromField, rdataFromText } from "./rdata-text.js";
import type { SourceError, SourcedRR } from "./rr.js";
import { parseTtl } from "./ttl.js";

export interface ParseOptions {
  /** Explicit zone origin (from config). If absent, see ParseResult.origin. */
  origin?: Name;
  /** Origin for relative names before any $ORIGIN, e.g. from the file name example.test.zone. */
  fallbackOrigin?: Name;
  /** Directory that $INCLUDE may not leave (the zones folder); default: the directory of the file. */
  root?: string;
  /** TTL for records with no TTL, no $TTL and no earlier explicit TTL; default 3600 (Knot's default-ttl). */
  defaultTtl?: number;
}

export interface ParseResult {
  /** Records in file order; duplicates removed and RRset TTLs unified (see mergeRRsets). */
  records: SourcedRR[];
  errors: SourceError[];
  /**
   * The zone's origin: opts.origin; else the first $ORIGIN of the top file if it comes before any
   * record; else fallbackOrigin; else the first $ORIGIN; else the owner of the first SOA; else null.
   */
  origin: Name | null;
  /** Things that loaded but deserve a look (RRset TTL mismatch, no TTL anywhere). Not errors. */
  warnings: SourceError[];
}

/** Knot DNS's default-ttl: what a record gets when nothing in the file gives it a TTL. */
export const DEFAULT_TTL = 3600;
const MAX_INCLUDE_DEPTH = 16;

/** What one file (or an $INCLUDE) sees; an $INCLUDE starts from a copy and never changes its parent's. */
interface Scope {
  file: string;
  dir: string;
  origin: Name | null;
  lastOwner: Name | null;
  lastOwnerText: string | null;
  /** The last owner name written had an error: blank-owner lines after it are checked but not kept. */
  ownerBroken: boolean;
  dollarTtl: number | undefined;
  lastTtl: number | undefined;
}

class Parser {
  readonly records: SourcedRR[] = [];
  readonly errors: SourceError[] = [];
  readonly warnings: SourceError[] = [];
  private readonly includeStack: string[] = [];
  private readonly rootReal: string | null;
  private readonly defaultTtl: number;
  private warnedDefaultTtl = false;
  firstOrigin: Name | null = null;
  firstOriginBeforeRecords = false;
  firstSoaOwner: Name | null = null;

  constructor(private readonly opts: ParseOptions, topFile: string) {
    const root = opts.root ?? path.dirname(path.resolve(topFile));
    this.rootReal = realpathOrNull(root);
    this.defaultTtl = opts.defaultTtl ?? DEFAULT_TTL;
  }

  private error(file: string, line: number, message: string): void {
    this.errors.push({ file, line, message });
  }

  run(text: string, scope: Scope, top: boolean): void {
    const lexer = new Lexer(text, (line, message) => this.error(scope.file, line, message));
    for (let e = lexer.next(); e !== null; e = lexer.next()) {
      const t0 = e.tokens[0];
      const isDirective = t0 !== undefined && !e.blankOwner && t0.charCodeAt(0) === 0x24 /* $ */ && (e.quoted & 1) === 0;
      if (e.bad) {
        // Already reported by the lexer; keep the owner right for the lines that follow.
        if (!isDirective && !e.blankOwner) this.ownerOnly(e, scope);
        continue;
      }
      if (isDirective) {
        this.directive(e, scope, top);
        continue;
      }
      try {
        this.record(e, scope);
      } catch (err) {
        this.error(scope.file, e.line, (err as Error).message);
      }
    }
  }

  private directive(e: Entry, scope: Scope, top: boolean): void {
    const name = e.tokens[0]!.toUpperCase();
    const args = e.tokens.slice(1);
    try {
      if (name === "$ORIGIN") {
        if (args.length !== 1) throw new Error(`$ORIGIN needs exactly one domain name, e.g. "$ORIGIN example.test."`);
        const o = nameFromField(args[0]!, scope.origin);
        scope.origin = o;
        scope.lastOwnerText = null; // relative owner text now means another name
        if (top && this.firstOrigin === null) {
          this.firstOrigin = o;
          this.firstOriginBeforeRecords = this.records.length === 0;
        }
      } else if (name === "$TTL") {
        if (args.length !== 1) throw new Error(`$TTL needs exactly one TTL, e.g. "$TTL 1h"`);
        scope.dollarTtl = parseTtl(args[0]!);
      } else if (name === "$INCLUDE") {
        if (args.length < 1 || args.length > 2) throw new Error(`$INCLUDE needs a file name and optionally an origin`);
        this.include(args[0]!, args[1], scope);
      } else {
        throw new Error(`unknown directive "${e.tokens[0]}"; hadns understands $ORIGIN, $TTL and $INCLUDE`);
      }
    } catch (err) {
      this.error(scope.file, e.line, (err as Error).message);
    }
  }

  private include(target: string, originText: string | undefined, scope: Scope): void {
    const resolved = path.resolve(scope.dir, target);
    const display = path.isAbsolute(target) ? target : path.join(path.dirname(scope.file), target);
    let real: string;
    try {
      real = fs.realpathSync(resolved);
    } catch {
      throw new Error(`$INCLUDE file "${target}" not found (looked for ${resolved})`);
    }
    if (this.rootReal === null || (real !== this.rootReal && !real.startsWith(this.rootReal + path.sep))) {
      throw new Error(
        `$INCLUDE "${target}" resolves to ${real}, outside the zones folder ${this.rootReal ?? "(missing)"}; ` +
          `move the file into that folder`,
      );
    }
    if (this.includeStack.includes(real)) {
      const chain = [...this.includeStack.slice(this.includeStack.indexOf(real)), real].map((p) => path.basename(p));
      throw new Error(`$INCLUDE loop: ${chain.join(" includes ")}; remove one of these $INCLUDE lines`);
    }
    if (this.includeStack.length >= MAX_INCLUDE_DEPTH) {
      throw new Error(`$INCLUDE nested more than ${MAX_INCLUDE_DEPTH} deep; flatten the includes`);
    }
    let text: string;
    try {
      text = fs.readFileSync(real, "utf8");
    } catch (e) {
      throw new Error(`cannot read $INCLUDE file "${target}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const origin = originText !== undefined ? nameFromField(originText, scope.origin) : scope.origin;
    const child: Scope = {
      ...scope,
      file: display,
      dir: path.dirname(real),
      origin,
      lastOwnerText: null,
    };
    this.includeStack.push(real);
    try {
      this.run(text, child, false);
    } finally {
      this.includeStack.pop();
    }
  }

  /** Enter the file itself in the include stack so that it cannot include itself. */
  enter(file: string): void {
    const real = realpathOrNull(file);
    if (real) this.includeStack.push(real);
  }

  /** The owner of an entry that cannot be a record: later blank-owner lines belong to it. */
  private ownerOnly(e: Entry, scope: Scope): void {
    try {
      scope.lastOwner = ownerFromField(e.tokens[0] ?? "", scope.origin);
      scope.lastOwnerText = e.tokens[0]!;
      scope.ownerBroken = false;
    } catch {
      scope.ownerBroken = true;
    }
  }

  private record(e: Entry, scope: Scope): void {
    const tokens = e.tokens;
    let k = 0;
    let owner: Name;
    let keep = true;
    if (e.blankOwner) {
      if (scope.ownerBroken) {
        // The owner line had an error of its own: check this line, but do not file it under a wrong owner.
        owner = scope.lastOwner ?? ROOT;
        keep = false;
      } else if (!scope.lastOwner) {
        throw new Error(`record starts with a blank but no owner name comes before it; write the owner name at the start of the line`);
      } else owner = scope.lastOwner;
    } else {
      const text = tokens[0]!;
      if (text === scope.lastOwnerText && scope.lastOwner && !scope.ownerBroken) owner = scope.lastOwner;
      else {
        try {
          owner = ownerFromField(text, scope.origin);
        } catch (err) {
          scope.ownerBroken = true;
          throw err;
        }
        scope.lastOwnerText = text;
        scope.ownerBroken = false;
      }
      scope.lastOwner = owner;
      k = 1;
    }

    let ttl = -1;
    let sawClass = false;
    let type: number | undefined;
    for (;;) {
      const t = tokens[k];
      if (t === undefined) {
        throw new Error(`record has no type; write it as "<name> [TTL] [IN] <type> <data>", e.g. "www 300 IN A 192.0.2.1"`);
      }
      const c = t.charCodeAt(0);
      if (c >= 0x30 && c <= 0x39) {
        if (ttl !== -1) throw new Error(`two TTLs ("${t}" after ${ttl}); give at most one TTL before the type`);
        ttl = parseTtl(t);
        k++;
        continue;
      }
      const isIn = t.length === 2 && (c | 0x20) === 0x69 && (t.charCodeAt(1) | 0x20) === 0x6e;
      if (!isIn) {
        type = lookupType(t);
        if (type !== undefined) break;
        const cls = classWord(t);
        if (cls === undefined) {
          throw new Error(`unknown record type "${t}"; use a known type or TYPEnnn with RFC 3597 data ("TYPE65534 \\# 2 abcd")`);
        }
        if (cls !== RRClass.IN) {
          throw new Error(`class ${t.toUpperCase()} is not supported; hadns serves class IN only (remove "${t}" or write IN)`);
        }
      }
      if (sawClass) throw new Error(`class given twice; give at most one class before the type`);
      sawClass = true;
      k++;
    }

    const typeText = tokens[k]!;
    if (type === 0) throw new Error(`TYPE0 is reserved (RFC 6895 §3.1) and cannot be stored in a zone; remove this record`);
    if (isMetaType(type)) {
      throw new Error(`${typeText.toUpperCase()} is a query/meta type and cannot be stored in a zone; remove this record`);
    }
    const fields = tokens.slice(k + 1);
    // A quoted "\#" is a character-string holding "#", not the RFC 3597 marker.
    if (fields[0] === "\\#" && k + 1 < 31 && (e.quoted & (1 << (k + 1))) !== 0) fields[0] = "\\035";
    const rdata = rdataFromText(type, fields, scope.origin);

    if (ttl === -1) {
      if (scope.dollarTtl !== undefined) ttl = scope.dollarTtl;
      else if (scope.lastTtl !== undefined) ttl = scope.lastTtl;
      else {
        ttl = this.defaultTtl;
        if (!this.warnedDefaultTtl && this.opts.defaultTtl === undefined) {
          this.warnedDefaultTtl = true;
          this.warnings.push({
            file: scope.file,
            line: e.line,
            message: `no TTL given and no $TTL before this record; using ${ttl} (Knot's default). Add "$TTL <ttl>" at the top`,
          });
        }
      }
    } else {
      scope.lastTtl = ttl;
    }
    if (!keep) return;
    if (type === 6 && this.firstSoaOwner === null) this.firstSoaOwner = owner;
    this.records.push({ owner, type, class: RRClass.IN, ttl, rdata, file: scope.file, line: e.line });
  }
}

const typeCache = new Map<string, number>();

/** typeFromText with a small cache: a zone repeats a handful of type words a million times. */
function lookupType(t: string): number | undefined {
  const hit = typeCache.get(t);
  if (hit !== undefined) return hit;
  const v = typeFromText(t);
  if (v !== undefined && typeCache.size < 4096) typeCache.set(t, v);
  return v;
}

/** The class a word names (IN is tested inline, being the common case); undefined for anything else. */
function classWord(t: string): number | undefined {
  const u = t.length <= 5 ? t.toUpperCase() : t.slice(0, 5).toUpperCase();
  if (u === "NONE") return RRClass.NONE;
  if (u === "CH" || u === "HS" || u === "CHAOS" || u === "CLASS") return classFromText(t);
  return undefined;
}

function realpathOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

/** Parse zone text; `file` names the source in errors and anchors relative $INCLUDE paths. */
export function parseZoneText(text: string, file: string, opts: ParseOptions = {}): ParseResult {
  const p = new Parser(opts, file);
  p.enter(file);
  const scope: Scope = {
    file,
    dir: path.dirname(path.resolve(file)),
    origin: opts.origin ?? opts.fallbackOrigin ?? null,
    lastOwner: null,
    lastOwnerText: null,
    ownerBroken: false,
    dollarTtl: undefined,
    lastTtl: undefined,
  };
  try {
    p.run(text, scope, true);
  } catch (err) {
    // Defensive: parse errors are collected above; anything reaching here is a bug, still reported.
    p.errors.push({ file, line: 0, message: `internal error while parsing: ${(err as Error).message}` });
  }
  const origin =
    opts.origin ??
    (p.firstOriginBeforeRecords ? p.firstOrigin : null) ??
    opts.fallbackOrigin ??
    p.firstOrigin ??
    p.firstSoaOwner ??
    null;
  const merged = mergeRRsets(p.records);
  return { records: merged.records, errors: p.errors, origin, warnings: [...p.warnings, ...merged.notices] };
}

/** Read `file` (UTF-8) and parse it; a file that cannot be read is one error, not an exception. */
export function parseZoneFile(file: string, opts: ParseOptions = {}): ParseResult {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message;
    return {
      records: [],
      errors: [{ file, line: 0, message: `cannot read zone file: ${why}` }],
      origin: opts.origin ?? opts.fallbackOrigin ?? null,
      warnings: [],
    };
  }
  return parseZoneText(text, file, opts);
}
