// Starts the operations around a running hadns (issue 4): the admin API with /metrics and the status
// page, webhooks, the warm-start state file and file watching. Each part observes the Runtime's
// events and state; none of them sits on the query path.

import type { Logger } from "pino";
import type { Runtime } from "../server/runtime.js";
import type { OpsSettings } from "../config/ops.js";
import { startAdminPart } from "./admin-server.js";
import { startMetrics } from "./metrics.js";
import { startReloadTriggers } from "./reload-triggers.js";
import { startStateWriter } from "./state-file.js";
import { startWebhooks } from "./webhooks.js";
import { startTransfers } from "../xfr/start.js";
import type { XfrSettings } from "../config/xfr.js";

export interface OpsPart {
  name: string;
  close(): Promise<void> | void;
}

export interface Ops {
  parts: OpsPart[];
  close(): Promise<void>;
}

export async function startOps(rt: Runtime, ops: OpsSettings, logger: Logger, extra: { configFiles?: () => string[]; transfers?: XfrSettings } = {}): Promise<Ops> {
  const parts: OpsPart[] = [];
  void rt;
  void ops;
  void extra;
  void logger;
  // ops parts: each line below starts one part and pushes it (keep one line per part).
  parts.push(startMetrics(rt));
  parts.push(startWebhooks(rt, ops.webhooks, logger));
  if (ops.state) parts.push(startStateWriter(rt, ops.state, logger));
  parts.push(startReloadTriggers(rt, ops, logger, extra));
  if (extra.transfers) parts.push(await startTransfers(rt, extra.transfers, { logger, stateFile: ops.state?.file }));
  if (ops.admin.listen) parts.push(await startAdminPart(rt, ops.admin, logger));
  // ops parts end
  return {
    parts,
    async close() {
      for (const p of [...parts].reverse()) await p.close();
    },
  };
}

export type { Logger };
