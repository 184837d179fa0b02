// The messages between the primary and its workers (`hadns serve --workers N`), over the cluster IPC
// channel (JSON). The primary owns health and overrides; a worker holds a copy of exactly what its
// pools read — each probed endpoint's status and the active overrides — and is told every change, in
// order, on one channel.
//
//   worker → primary  hello                 ready: send me the state (sent before it loads anything)
//   primary → worker  state                 where to listen, endpoint statuses, overrides: load, build, bind
//   worker → primary  listening | fatal     bound (with the addresses), or could not start (then exits 1)
//   primary → worker  endpoint              one endpoint's probed status changed
//   primary → worker  overrides             the active overrides, all of them, after any change
//   primary → worker  reload                the primary reloaded: read the same inputs again, with this state
//   primary → worker  sync                  statuses and overrides again (after a rejected reload)
//   worker → primary  counters              its query and TCP counters (every second while they change)
//   worker → primary  reloaded              the outcome of a reload in this worker
//   primary → worker  stop                  close the listeners (TCP clients get their answers), exit 0

import type { EndpointStatus } from "../health/types.js";
import type { Override } from "../ops/overrides.js";
import type { AnswerCounters } from "./counters.js";
import type { ListenAddress, Listening } from "./server.js";

/** The state a worker's pools are computed from: `check|address` → probed status, and the overrides. */
export interface HealthState {
  endpoints: Array<[key: string, status: EndpointStatus]>;
  overrides: Override[];
}

/** What the primary serves, so a worker can tell that it read the same zones. */
export interface ZoneFingerprint {
  origin: string;
  serial: number;
  records: number;
}

export type ToWorker =
  | ({ t: "state"; listen: ListenAddress[]; zones: ZoneFingerprint[] } & HealthState)
  | { t: "endpoint"; key: string; status: EndpointStatus; cause: string }
  | { t: "overrides"; overrides: Override[]; cause: string }
  | ({ t: "reload"; trigger: string; zones: ZoneFingerprint[] } & HealthState)
  | ({ t: "sync" } & HealthState)
  | { t: "stop" };

export type FromWorker =
  | { t: "hello" }
  | { t: "listening"; listening: Listening[] }
  | { t: "fatal"; message: string }
  | { t: "counters"; counters: AnswerCounters }
  | { t: "reloaded"; ok: boolean; ms: number; errors: string[] };

/** The environment variable that carries a worker's number (1 … N) into it. */
export const WORKER_INDEX_ENV = "HADNS_WORKER_INDEX";

export function isMessage<T extends { t: string }>(m: unknown): m is T {
  return typeof m === "object" && m !== null && typeof (m as { t?: unknown }).t === "string";
}
