// Pools: a name and type whose records follow the health of their endpoints (see policy.ts).

import type { EndpointStatus } from "../health/types.js";

export type PoolPolicy = "failover" | "multivalue" | "weighted";
export type WhenAllDown = "serve-all" | "serve-first" | "nodata" | "servfail";

export interface PoolEndpoint {
  /** IPv4 for A pools, IPv6 for AAAA pools, an absolute target name for CNAME pools. */
  address: string;
  /** The address probed instead of `address` (an IP, or a host name resolved at each probe). */
  checkAddress?: string;
  /** failover: lower priority groups are answered first. */
  priority?: number;
  /** weighted: positive integer weight (default 1). */
  weight?: number;
  /** Overrides the pool's check for this endpoint. */
  check?: string;
}

export interface PoolSpec {
  /** Absolute owner name, e.g. "app.example.test.". */
  name: string;
  type: "A" | "AAAA" | "CNAME";
  ttl: number;
  /** TTL used while any endpoint of the pool is down. */
  degradedTtl?: number;
  policy: PoolPolicy;
  /** Check applied to every endpoint without its own; an endpoint with no check at all is always up. */
  check?: string;
  maxAnswers?: number;
  whenAllDown: WhenAllDown;
  endpoints: PoolEndpoint[];
  file?: string;
  line?: number;
}

/** What a pool answers right now. The core compiles every variant into wire bytes ahead of time; a query only picks one. */
export interface PoolAnswer {
  /** servfail only for when_all_down: servfail. */
  rcode: "noerror" | "servfail";
  /** degraded_ttl while any endpoint is down, else ttl. */
  ttl: number;
  /** fixed: variants[0]; rotate: round-robin over variants; weighted: variants[i] with probability weights[i]/sum. */
  selection: "fixed" | "rotate" | "weighted";
  /** Each variant = record values in answer order (addresses, or one target name for CNAME); [] = NODATA. */
  variants: string[][];
  weights?: number[];
  /** All endpoints down and when_all_down served something anyway. */
  failOpen: boolean;
  /** One line for logs / explain. */
  reason: string;
}

export type { EndpointStatus };
