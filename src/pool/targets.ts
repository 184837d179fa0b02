// The glue between pools and the health monitor: which (check, address) each endpoint is probed as,
// and which pools a transition touches, so a health change recompiles only those pools.

import { endpointKey, type EndpointStatus } from "../health/types.js";
import type { PoolSpec } from "./types.js";

export interface ProbeTarget {
  check: string;
  address: string;
}

/** The check that applies to endpoint i (its own, else the pool's); undefined = never probed, always up. */
export function endpointCheck(pool: PoolSpec, i: number): string | undefined {
  return pool.endpoints[i]!.check ?? pool.check;
}

/** The address probed for endpoint i: check_address, else the answered address (a CNAME target without its final dot). */
export function endpointProbeAddress(pool: PoolSpec, i: number): string {
  const ep = pool.endpoints[i]!;
  if (ep.checkAddress !== undefined) return ep.checkAddress;
  return pool.type === "CNAME" && ep.address.endsWith(".") ? ep.address.slice(0, -1) : ep.address;
}

/** Distinct (check, address) pairs over all pools: one probe each, however many pools share it. */
export function poolTargets(pools: PoolSpec[]): ProbeTarget[] {
  const seen = new Map<string, ProbeTarget>();
  for (const pool of pools) {
    for (let i = 0; i < pool.endpoints.length; i++) {
      const check = endpointCheck(pool, i);
      if (check === undefined) continue;
      const address = endpointProbeAddress(pool, i);
      const key = endpointKey(check, address);
      if (!seen.has(key)) seen.set(key, { check, address });
    }
  }
  return [...seen.values()];
}

/** statusOf for poolAnswer, reading a monitor-like status function. Endpoints without a check are up. */
export function poolStatusOf(
  pool: PoolSpec,
  status: (check: string, address: string) => EndpointStatus,
): (endpointIndex: number) => EndpointStatus {
  return (i) => {
    const check = endpointCheck(pool, i);
    return check === undefined ? "up" : status(check, endpointProbeAddress(pool, i));
  };
}

/** For each target key (`check|address`), the pools that must be recompiled when it changes. */
export function poolsByTarget(pools: PoolSpec[]): Map<string, PoolSpec[]> {
  const out = new Map<string, PoolSpec[]>();
  for (const pool of pools) {
    for (let i = 0; i < pool.endpoints.length; i++) {
      const check = endpointCheck(pool, i);
      if (check === undefined) continue;
      const key = endpointKey(check, endpointProbeAddress(pool, i));
      const list = out.get(key);
      if (!list) out.set(key, [pool]);
      else if (!list.includes(pool)) list.push(pool);
    }
  }
  return out;
}

/** The monitor target key (`check|address`) endpoint i is probed as, or undefined when it has no check. */
export function endpointKeyOf(pool: PoolSpec, i: number): string | undefined {
  const check = endpointCheck(pool, i);
  return check === undefined ? undefined : endpointKey(check, endpointProbeAddress(pool, i));
}
