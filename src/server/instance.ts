// One running hadns: the health monitor, the pools that follow it, the compiled answers and the
// listeners, started in that order. The first round of probes completes (each bounded by its
// timeout) before any listener opens, so no pool is ever answered from a guess.

import type { Logger } from "pino";
import { buildEngine, type QueryEngine } from "../answer/engine.js";
import type { ChaosOptions } from "../answer/chaos.js";
import { HealthMonitor } from "../health/monitor.js";
import type { CheckSpec } from "../health/types.js";
import { LivePools } from "../pool/live.js";
import { poolTargets } from "../pool/targets.js";
import type { PoolSpec } from "../pool/types.js";
import type { Zone } from "../zone/zone.js";
import { startServer, type ListenAddress, type RunningServer, type ServerOptions } from "./server.js";

export interface InstanceOptions {
  zones: Zone[];
  listen: ListenAddress[];
  logger: Logger;
  chaos?: ChaosOptions;
  checks?: Map<string, CheckSpec>;
  pools?: PoolSpec[];
  tcp?: Pick<ServerOptions, "tcpIdleTimeoutMs" | "tcpMaxConnections" | "tcpMaxPendingBytes">;
}

export interface Instance {
  server: RunningServer;
  engine: QueryEngine;
  monitor: HealthMonitor;
  pools: LivePools;
  close(): Promise<void>;
}

export async function startInstance(opts: InstanceOptions): Promise<Instance> {
  const log = opts.logger;
  const pools = opts.pools ?? [];
  const monitor = new HealthMonitor({ checks: opts.checks ?? new Map(), targets: poolTargets(pools), logger: log });
  if (pools.length > 0) {
    const t0 = Date.now();
    await monitor.start();
    log.info({ pools: pools.length, ms: Date.now() - t0 }, "first round of health checks done; pools answer from known state");
  }
  const live = new LivePools(pools, monitor, log);
  let engine: QueryEngine;
  let server: RunningServer;
  try {
    engine = buildEngine(opts.zones, { ...(opts.chaos ? { chaos: opts.chaos } : {}), pools: live.renders() });
    live.attach(engine);
    server = await startServer({ listen: opts.listen, engine, logger: log, ...(opts.tcp ?? {}) });
  } catch (e) {
    live.close();
    await monitor.stop();
    throw e;
  }
  return {
    server,
    engine,
    monitor,
    pools: live,
    async close() {
      live.close();
      await Promise.all([server.close(), monitor.stop()]);
    },
  };
}
