// Loads zone files into Zones: parse, check the content, build the tree. Every error of every file
// is collected (file:line: message) so `hadns check` can report them all in one run.

import path from "node:path";
import { nameFromText, nameToText, NameError, type Name } from "../wire/name.js";
import { parseZoneFile } from "./parse.js";
import { checkZoneContent } from "./checks.js";
import { Zone } from "./zone.js";
import type { SourceError } from "./rr.js";

export interface ZoneSpec {
  file: string;
  /** Zone origin; else the first $ORIGIN of the file; else the file name (`example.test.zone`). */
  origin?: string;
}

export interface LoadedZones {
  zones: Zone[];
  errors: SourceError[];
  /** Things that load but deserve a look (an RRset with mixed TTLs, no TTL anywhere). */
  warnings: SourceError[];
}

/** `zones/example.test.zone` → `example.test.`; undefined when the name does not look like a domain. */
export function originFromFileName(file: string): Name | undefined {
  let base = path.basename(file);
  for (const ext of [".zone", ".db", ".txt"]) if (base.endsWith(ext)) base = base.slice(0, -ext.length);
  if (base.startsWith("db.")) base = base.slice(3);
  try {
    return nameFromText(base.endsWith(".") ? base : base + ".");
  } catch {
    return undefined;
  }
}

export function loadZone(spec: ZoneSpec, opts: { zonesRoot?: string } = {}): { zone?: Zone; errors: SourceError[]; warnings?: SourceError[] } {
  const errors: SourceError[] = [];
  let origin: Name | undefined;
  if (spec.origin !== undefined) {
    try {
      origin = nameFromText(spec.origin.endsWith(".") ? spec.origin : spec.origin + ".");
    } catch (e) {
      const msg = e instanceof NameError ? e.message : String(e);
      return { errors: [{ file: spec.file, line: 0, message: `bad zone origin "${spec.origin}": ${msg}` }] };
    }
  }
  const fallbackOrigin = originFromFileName(spec.file);
  const parsed = parseZoneFile(spec.file, {
    ...(origin ? { origin } : {}),
    ...(fallbackOrigin ? { fallbackOrigin } : {}),
    root: opts.zonesRoot ?? path.dirname(spec.file),
  });
  errors.push(...parsed.errors);
  const warnings = parsed.warnings;
  const zoneOrigin = origin ?? parsed.origin ?? undefined;
  if (!zoneOrigin) {
    errors.push({ file: spec.file, line: 0, message: "cannot tell the zone's origin: add $ORIGIN, name the file after the zone (example.test.zone), or give `origin` in the config" });
    return { errors };
  }
  // A file that could not be read has no records: "no SOA" on top of "cannot read" would only confuse.
  if (parsed.records.length > 0 || parsed.errors.length === 0) errors.push(...checkZoneContent(parsed.records, zoneOrigin, spec.file));
  if (errors.length > 0) return { errors, warnings };
  return { zone: new Zone({ origin: zoneOrigin, file: spec.file }, parsed.records), errors, warnings };
}

export function loadZones(specs: ZoneSpec[], opts: { zonesRoot?: string } = {}): LoadedZones {
  const zones: Zone[] = [];
  const errors: SourceError[] = [];
  const warnings: SourceError[] = [];
  const seen = new Map<string, string>();
  for (const spec of specs) {
    const r = loadZone(spec, opts);
    errors.push(...r.errors);
    warnings.push(...(r.warnings ?? []));
    if (!r.zone) continue;
    const other = seen.get(r.zone.origin.key);
    if (other !== undefined) {
      errors.push({ file: spec.file, line: 0, message: `zone ${nameToText(r.zone.origin)} is already loaded from ${other}: load each zone once` });
      continue;
    }
    seen.set(r.zone.origin.key, spec.file);
    zones.push(r.zone);
  }
  return { zones, errors, warnings };
}
