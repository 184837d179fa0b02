// `hadns serve --workers N`, the primary's side: N worker processes (node:cluster) answer the queries;
// this process keeps everything else — the one health monitor, overrides, the admin API, metrics,
// webhooks, the state file and the reload triggers — as the Runtime it is part of (it is the
// Runtime's `serve` function, in place of startServer).
//
// - Sockets: each worker binds the same addresses through cluster. UDP: one socket, created here and
//   shared (`exclusive: false`); every worker reads from it and the kernel hands each datagram to one
//   of them. TCP: this process accepts and passes connections to the workers in turn (round-robin).
// - State: a worker asks for the current endpoint statuses and overrides before it loads anything,
//   builds its answers from them, and only then binds; from then on it is sent every transition and
//   every override change, in order, so all workers answer the same (up to the IPC latency).
// - Reload: once the primary's reload succeeds, every worker reads the same config and zones again and
//   is handed the state again; a rejected reload changes nothing anywhere.
// - A worker that dies is restarted at once, then after 0.5 s, 1 s, 2 s … (at most 30 s) while it keeps
//   dying within 30 s of answering. Its counters up to its last report (at most a second old) are kept.
// - Stop: each worker closes its listeners (TCP clients get the answers to what they sent) and exits 0;
//   one that takes more than 8 s is killed.

import cluster, { type Worker } from "node:cluster";
import type { Logger } from "pino";
import type { QueryEngine } from "../answer/engine.js";
import type { Transition } from "../health/types.js";
import { nameToText } from "../wire/name.js";
import { emptyCounters, sumCounters, totalQueries, type AnswerCounters } from "./counters.js";
import { isMessage, WORKER_INDEX_ENV, type FromWorker, type HealthState, type ToWorker, type ZoneFingerprint } from "./cluster-messages.js";
import type { ReloadResult, Runtime } from "./runtime.js";
import type { ListenAddress, Listening, RunningServer, ServerOptions, WorkerStatus } from "./server.js";
import { loadUdpBatch } from "./udp-native.js";

/** A worker that does not exit this long after being told to stop is killed. */
const STOP_KILL_MS = 8_000;
/** A worker that answered this long before dying is restarted at once, not after a back-off. */
const STABLE_MS = 30_000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export interface ClusterOptions {
  workers: number;
  logger: Logger;
}

/** The Runtime's `serve` option for N workers. */
export function clusterServe(opts: ClusterOptions): (serverOpts: ServerOptions, rt: Runtime) => Promise<RunningServer> {
  return async (serverOpts, rt) => {
    const primary = new ClusterPrimary(opts, serverOpts, rt);
    await primary.start();
    return primary.running();
  };
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  state: WorkerStatus["state"];
  /** It has been sent the state, so it gets every change after it. */
  synced: boolean;
  startedAt: number;
  answeringSince: number;
  restarts: number;
  /** Deaths in a row that came soon after starting: the back-off grows with them. */
  quickDeaths: number;
  current: AnswerCounters;
  /** Counters of this slot's processes that are gone. */
  retired: AnswerCounters;
  restartTimer: NodeJS.Timeout | undefined;
  starting: { resolve(l: Listening[]): void; reject(e: Error): void } | undefined;
}

class ClusterPrimary {
  private readonly slots: Slot[];
  private listen: ListenAddress[];
  private listening: Listening[] = [];
  private engine: QueryEngine;
  private started = false;
  private stopping = false;
  private readonly log: Logger;
  private readonly off: Array<() => void> = [];

  constructor(
    opts: ClusterOptions,
    serverOpts: ServerOptions,
    private readonly rt: Runtime,
  ) {
    this.log = opts.logger;
    this.listen = serverOpts.listen;
    this.engine = serverOpts.engine;
    this.slots = Array.from({ length: opts.workers }, (_, i) => ({
      index: i + 1,
      worker: undefined,
      state: "starting",
      synced: false,
      startedAt: 0,
      answeringSince: 0,
      restarts: 0,
      quickDeaths: 0,
      current: emptyCounters(),
      retired: emptyCounters(),
      restartTimer: undefined,
      starting: undefined,
    }));
  }

  async start(): Promise<void> {
    this.subscribe();
    try {
      const [first, ...rest] = this.slots;
      if (this.listen.some((a) => a.port === 0)) {
        // Port 0 (tests): the first worker has a port picked. With native UDP sockets every other
        // worker (and any restart) binds the port it got, beside it (SO_REUSEPORT). Over dgram they
        // ask for port 0 too, which node:cluster answers with the same socket (it keys them by the
        // address asked for); TCP asks for the port UDP got, so it is shared either way.
        this.listening = await this.fork(first!);
        if (process.env.HADNS_UDP !== "dgram" && loadUdpBatch() !== null) {
          this.listen = this.listen.map((a, i) => (a.port === 0 ? { ...a, port: this.listening[2 * i]!.port } : a));
        }
        await Promise.all(rest.map((s) => this.fork(s)));
      } else {
        this.listening = (await Promise.all(this.slots.map((s) => this.fork(s))))[0]!;
      }
    } catch (e) {
      await this.close();
      throw e;
    }
    this.started = true;
  }

  running(): RunningServer {
    const self = this;
    return {
      listening: this.listening,
      get engine() {
        return self.engine;
      },
      // The primary's engine (explain reads it); each worker swaps its own when told to reload.
      setEngine(e) {
        self.engine = e;
      },
      setTransferHandler(h) {
        if (h !== undefined) throw new Error("zone transfers are not offered with --workers (transfers: needs a single process)");
      },
      counters: () => sumCounters(this.slots.flatMap((s) => [{ counters: s.retired, gauges: false }, { counters: s.current }])),
      workers: () =>
        this.slots.map((s) => ({
          worker: s.index,
          pid: s.worker?.process.pid ?? null,
          state: s.state,
          startedAt: s.startedAt,
          restarts: s.restarts,
          queries: totalQueries(s.retired) + totalQueries(s.current),
        })),
      close: () => this.close(),
    };
  }

  // ---- state for the workers -------------------------------------------------------------------

  private health(): HealthState {
    return { endpoints: this.rt.monitor.snapshot().map((s) => [s.key, s.status]), overrides: this.rt.overrides.list() };
  }

  private zones(): ZoneFingerprint[] {
    return this.rt.inputs.zones.map((z) => ({ origin: nameToText(z.origin), serial: z.serial, records: z.recordCount }));
  }

  private subscribe(): void {
    const onTransition = (t: Transition): void => this.broadcast({ t: "endpoint", key: t.key, status: t.to, cause: `${t.address} ${t.to}: ${t.reason}` });
    const onOverride = (c: { kind: string; override: { action: string; address: string } }): void =>
      this.broadcast({ t: "overrides", overrides: this.rt.overrides.list(), cause: `override ${c.kind}: ${c.override.action} ${c.override.address}` });
    const onReload = (r: ReloadResult): void => {
      // Rejected: nothing changed, but the monitor may have been reconfigured; send its state again.
      if (r.ok) this.broadcast({ t: "reload", trigger: r.trigger, zones: this.zones(), ...this.health() });
      else this.broadcast({ t: "sync", ...this.health() });
    };
    this.rt.on("transition", onTransition);
    this.rt.on("override", onOverride);
    this.rt.on("reload", onReload);
    this.off.push(
      () => this.rt.off("transition", onTransition),
      () => this.rt.off("override", onOverride),
      () => this.rt.off("reload", onReload),
    );
  }

  private broadcast(m: ToWorker): void {
    for (const s of this.slots) if (s.synced && s.worker) send(s.worker, m);
  }

  // ---- worker lifecycle ---------------------------------------------------------------------------

  /** Starts the slot's worker; resolves when it listens, rejects if it cannot. */
  private fork(slot: Slot): Promise<Listening[]> {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(slot.index) });
    slot.worker = worker;
    slot.state = "starting";
    slot.synced = false;
    slot.startedAt = Date.now();
    slot.answeringSince = 0;
    slot.current = emptyCounters();
    const started = new Promise<Listening[]>((resolve, reject) => (slot.starting = { resolve, reject }));
    worker.on("error", (e) => this.log.warn({ worker: slot.index, err: e }, `worker ${slot.index}: IPC error`));
    worker.on("message", (m: unknown) => {
      if (slot.worker === worker && isMessage<FromWorker>(m)) this.onMessage(slot, worker, m);
    });
    worker.on("exit", (code, signal) => this.onExit(slot, worker, code, signal));
    return started;
  }

  private onMessage(slot: Slot, worker: Worker, m: FromWorker): void {
    switch (m.t) {
      case "hello":
        send(worker, { t: "state", listen: this.listen, zones: this.zones(), ...this.health() });
        slot.synced = true;
        return;
      case "listening": {
        slot.state = "answering";
        slot.answeringSince = Date.now();
        const level = this.started ? "info" : "debug";
        this.log[level]({ worker: slot.index, workerPid: worker.process.pid, ms: slot.answeringSince - slot.startedAt }, `worker ${slot.index} (pid ${worker.process.pid}) answering`);
        slot.starting?.resolve(m.listening);
        slot.starting = undefined;
        return;
      }
      case "fatal":
        // It exits 1 after this; the exit restarts it (or fails the start-up).
        this.log.error({ worker: slot.index, workerPid: worker.process.pid }, `worker ${slot.index}: ${m.message}`);
        slot.starting?.reject(new Error(m.message));
        slot.starting = undefined;
        return;
      case "counters":
        slot.current = m.counters;
        return;
      case "reloaded":
        if (!m.ok) this.log.error({ worker: slot.index, errors: m.errors }, `worker ${slot.index} could not reload; it keeps answering from its previous zones`);
        return;
    }
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.retired = sumCounters([{ counters: slot.retired, gauges: false }, { counters: slot.current, gauges: false }]);
    slot.current = emptyCounters();
    slot.worker = undefined;
    slot.synced = false;
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    slot.starting?.reject(new Error(`worker ${slot.index} exited (${how}) before it was answering`));
    slot.starting = undefined;
    if (this.stopping || !this.started) {
      slot.state = "stopped";
      return;
    }
    if (slot.answeringSince > 0 && Date.now() - slot.answeringSince >= STABLE_MS) slot.quickDeaths = 0;
    const delay = slot.quickDeaths === 0 ? 0 : Math.min(BACKOFF_FIRST_MS * 2 ** (slot.quickDeaths - 1), BACKOFF_MAX_MS);
    slot.quickDeaths++;
    slot.state = "restarting";
    this.log.error(
      { worker: slot.index, workerPid: worker.process.pid, code, signal, restartInMs: delay },
      `worker ${slot.index} (pid ${worker.process.pid}) died (${how}); restarting it${delay > 0 ? ` in ${delay} ms` : ""}`,
    );
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (this.stopping) return;
      slot.restarts++;
      // A failed restart exits, and its exit schedules the next one.
      this.fork(slot).catch(() => undefined);
    }, delay);
  }

  private async close(): Promise<void> {
    this.stopping = true;
    for (const f of this.off.splice(0)) f();
    await Promise.all(
      this.slots.map((slot) => {
        if (slot.restartTimer) clearTimeout(slot.restartTimer);
        slot.restartTimer = undefined;
        const w = slot.worker;
        if (!w || w.isDead()) {
          slot.state = "stopped";
          return undefined;
        }
        return new Promise<void>((resolve) => {
          const kill = setTimeout(() => {
            this.log.warn({ worker: slot.index, workerPid: w.process.pid }, `worker ${slot.index} did not stop within ${STOP_KILL_MS / 1000} s; killing it`);
            w.process.kill("SIGKILL");
          }, STOP_KILL_MS);
          w.once("exit", () => {
            clearTimeout(kill);
            resolve();
          });
          send(w, { t: "stop" });
        });
      }),
    );
  }
}

function send(worker: Worker, m: ToWorker): void {
  // A worker that just died cannot be told anything; its exit is handled on its own.
  if (!worker.isConnected()) return;
  worker.send(m, () => undefined);
}
