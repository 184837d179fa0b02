// Checks that each pool fits the zones it answers in: inside a served zone, not at or below a
// delegation or a DNAME, and not beside zone-file data it would contradict (RFC 1034 §3.6.2: a CNAME
// stands alone; a pool owns its type at its name, so the zone file must not also hold it).

import { RRType, typeFromText } from "../wire/constants.js";
import { isAtOrBelow, nameFromText, nameToText, NameError, parentKey } from "../wire/name.js";
import type { SourceError } from "../zone/rr.js";
import type { Zone } from "../zone/zone.js";

export interface PoolPlace {
  name: string;
  type: string;
  file?: string;
  line?: number;
}

export function checkPoolsAgainstZones(pools: PoolPlace[], zones: readonly Zone[], configFile: string): SourceError[] {
  const errors: SourceError[] = [];
  const owners = new Map<string, Set<number>>();
  for (const p of pools) {
    const at = { file: p.file ?? configFile, line: p.line ?? 0 };
    const err = (message: string) => errors.push({ ...at, message: `pool ${p.name} ${p.type}: ${message}` });
    let name;
    try {
      name = nameFromText(p.name.endsWith(".") ? p.name : p.name + ".");
    } catch (e) {
      err(`bad name: ${e instanceof NameError ? e.message : String(e)}`);
      continue;
    }
    const type = typeFromText(p.type) ?? -1;
    let zone: Zone | undefined;
    for (const z of zones) if (isAtOrBelow(name.key, z.origin.key) && (!zone || z.origin.key.length > zone.origin.key.length)) zone = z;
    if (!zone) {
      err(`the name is outside every zone served (${zones.map((z) => nameToText(z.origin)).join(", ") || "none"}); a pool answers inside a zone hadns serves`);
      continue;
    }
    const seen = owners.get(name.key) ?? new Set<number>();
    if (seen.has(type)) err(`another pool already answers ${p.type} at this name`);
    if ((type === RRType.CNAME && seen.size > 0) || (type !== RRType.CNAME && seen.has(RRType.CNAME))) {
      err("a CNAME pool cannot share its name with another pool (RFC 1034 §3.6.2)");
    }
    seen.add(type);
    owners.set(name.key, seen);
    // Walk up inside the zone: a delegation or DNAME above the name takes its answers away.
    for (let k = parentKey(name.key); k !== undefined && isAtOrBelow(k, zone.origin.key); k = parentKey(k)) {
      const up = zone.nodes.get(k);
      if (!up) continue;
      if (k !== zone.origin.key && up.rrsets.has(RRType.NS)) {
        err(`the name is below the delegation ${nameToText(up.name)} in ${zone.file}; the child zone's servers answer for it`);
        break;
      }
      if (up.rrsets.has(RRType.DNAME)) {
        err(`the name is below the DNAME at ${nameToText(up.name)} in ${zone.file}, which redirects it`);
        break;
      }
    }
    const node = zone.nodes.get(name.key);
    if (!node) continue;
    if (name.key !== zone.origin.key && node.rrsets.has(RRType.NS)) err(`the name is a delegation point in ${zone.file}`);
    if (node.rrsets.has(type)) err(`${zone.file} also has ${p.type} records at ${p.name}: remove them from the zone file, the pool answers that type`);
    if (type === RRType.CNAME) {
      const other = [...node.rrsets.keys()].filter((t) => t !== RRType.CNAME);
      if (other.length > 0) err(`a CNAME pool cannot stand beside other data, and ${zone.file} has data at ${p.name} (RFC 1034 §3.6.2)`);
    } else if (node.rrsets.has(RRType.CNAME)) {
      err(`${zone.file} has a CNAME at ${p.name}; an ${p.type} pool cannot stand beside it (RFC 1034 §3.6.2)`);
    }
  }
  return errors;
}
