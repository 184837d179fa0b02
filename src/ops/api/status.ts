// GET /v1/status: zones, pools with every endpoint (state, since, reason, last probe, override) and
// the answer each pool gives now, active overrides and recent transitions — what `hadns status` and
// the status page show. `now` is the server's clock, so readers can show ages without trusting theirs.

import { readFileSync } from "node:fs";
import type { Runtime } from "../../server/runtime.js";
import type { Route } from "./http.js";
import { xfrStatus } from "../../xfr/start.js";

let version: string | undefined;
function packageVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
    } catch {
      version = "unknown";
    }
  }
  return version;
}

export type Status = ReturnType<typeof statusOf>;

export function statusOf(rt: Runtime) {
  return { now: Date.now(), version: packageVersion(), ...rt.status(), transfers: xfrStatus(rt) };
}

export const statusRoutes: Route[] = [{ method: "GET", path: "/v1/status", handle: ({ rt }) => ({ json: statusOf(rt) }) }];
