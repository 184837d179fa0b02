// The zones `serve` and `check` load, and the checks that need them loaded: a pool must fit the
// zone it answers in (config/pool-zones.ts). Both commands report exactly the same errors.

import { loadZones, type LoadedZones } from "../zone/load.js";
import { checkPoolsAgainstZones } from "../config/pool-zones.js";
import type { Settings } from "./inputs.js";

export function loadServedZones(settings: Settings): LoadedZones {
  const loaded = loadZones(settings.zones);
  // A zone that failed to load would make every pool in it look "outside every zone": skip.
  if (loaded.errors.length === 0 && settings.pools.length > 0) {
    loaded.errors.push(...checkPoolsAgainstZones(settings.pools, loaded.zones, settings.configFile ?? ""));
  }
  return loaded;
}
