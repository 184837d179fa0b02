// Starting hadns from loaded inputs: a thin front of Runtime for callers (tests, `hadns serve`) that
// have their zones and health settings in hand.

import type { Logger } from "pino";
import type { ChaosOptions } from "../answer/chaos.js";
import type { CheckSpec } from "../health/types.js";
import type { PoolSpec } from "../pool/types.js";
import type { Zone } from "../zone/zone.js";
import { Runtime, type Inputs, type RuntimeOptions } from "./runtime.js";
import type { ListenAddress, ServerOptions } from "./server.js";

export interface InstanceOptions {
  zones: Zone[];
  listen: ListenAddress[];
  logger: Logger;
  chaos?: ChaosOptions;
  checks?: Map<string, CheckSpec>;
  pools?: PoolSpec[];
  tcp?: Pick<ServerOptions, "tcpIdleTimeoutMs" | "tcpMaxConnections" | "tcpMaxPendingBytes">;
  reload?: RuntimeOptions["reload"];
  warm?: RuntimeOptions["warm"];
}

export type Instance = Runtime;

export function startInstance(opts: InstanceOptions): Promise<Runtime> {
  const inputs: Inputs = { zones: opts.zones, checks: opts.checks ?? new Map(), pools: opts.pools ?? [], errors: [] };
  if (opts.chaos) inputs.chaos = opts.chaos;
  const rtOpts: RuntimeOptions = { listen: opts.listen, logger: opts.logger };
  if (opts.tcp) rtOpts.tcp = opts.tcp;
  if (opts.reload) rtOpts.reload = opts.reload;
  if (opts.warm) rtOpts.warm = opts.warm;
  return Runtime.start(inputs, rtOpts);
}
