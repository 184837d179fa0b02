// `hadns check`: load the config and every zone as `serve` would, print EVERY error as
// `file:line: message` on stderr (exit 1), or a one-line summary on stdout (exit 0).

import { nameToText } from "../wire/name.js";
import type { SourceError } from "../zone/rr.js";
import { resolveInputs, type InputFlags } from "./inputs.js";
import { loadServedZones } from "./zones.js";
import { plural, printSourceErrors } from "./report.js";

export function check(flags: InputFlags): number {
  const { settings, errors } = resolveInputs(flags);
  const all: SourceError[] = [...errors];
  const loaded = loadServedZones(settings);
  all.push(...loaded.errors);
  printSourceErrors(loaded.warnings, "warning: ");
  if (all.length > 0) {
    printSourceErrors(all);
    return 1;
  }
  const records = loaded.zones.reduce((n, z) => n + z.recordCount, 0);
  const each = loaded.zones.map((z) => `${nameToText(z.origin)} (${z.file}, ${z.recordCount} records, serial ${z.serial})`);
  const health = settings.checks.size + settings.pools.length > 0 ? `, ${plural(settings.checks.size, "check")}, ${plural(settings.pools.length, "pool")}` : "";
  process.stdout.write(`ok: ${plural(loaded.zones.length, "zone")}, ${plural(records, "record")}${health}: ${each.join(", ")}\n`);
  return 0;
}
