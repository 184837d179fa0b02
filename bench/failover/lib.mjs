// What the failover benchmarks share: the check settings they compare (the defaults and the fastest
// the config accepts), the worst-case bounds the rules guarantee (README.md, "Health checks and
// pools"), and a tiny HTTP endpoint that can answer, refuse or hang.

import http from "node:http";

/** `--name value` pairs from the command line. */
export function parseArgs(argv) {
  return Object.fromEntries(argv.reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
}

export function failoverSettings(CHECK_DEFAULTS) {
  const base = {
    type: "http", path: "/health", method: "GET", headers: {}, expectStatus: [[200, 299]], bodyLimit: 4096,
    followRedirects: false, tlsVerify: true, flapWindowMs: CHECK_DEFAULTS.flapWindowMs,
  };
  return {
    default: {
      ...base, intervalMs: CHECK_DEFAULTS.intervalMs, timeoutMs: CHECK_DEFAULTS.timeoutMs,
      fastIntervalMs: CHECK_DEFAULTS.intervalMs / CHECK_DEFAULTS.fastIntervalDivisor,
      rise: CHECK_DEFAULTS.rise, fall: CHECK_DEFAULTS.fall, decay: CHECK_DEFAULTS.decay,
    },
    // The shortest durations the config accepts, default thresholds (the anti-flap rule stays on).
    fastest: {
      ...base, intervalMs: 100, timeoutMs: 50, fastIntervalMs: 50,
      rise: CHECK_DEFAULTS.rise, fall: CHECK_DEFAULTS.fall, decay: CHECK_DEFAULTS.decay,
    },
  };
}

/** Worst-case bounds from the rules, ±10 % jitter included. */
export function bounds(s) {
  const j = 1.1;
  return {
    refused: j * s.intervalMs + (s.fall - 1) * j * s.fastIntervalMs,
    hanging: j * s.intervalMs + (s.fall - 1) * Math.max(j * s.fastIntervalMs, s.timeoutMs) + s.timeoutMs,
    recovery: j * s.intervalMs + (s.rise - 1) * j * s.fastIntervalMs,
  };
}

/** A tiny endpoint: ok (200 "ok"), refuse (not listening) or hang (accepts, never answers). */
export class Endpoint {
  constructor(address) {
    this.address = address;
    this.port = 0;
    this.mode = "ok";
    this.sockets = new Set();
    this.server = http.createServer((req, res) => {
      if (this.mode === "hang") return;
      res.end("ok\n");
    });
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => {});
    });
  }
  /** Listen on `port` (0: any; later calls reuse the port first given). */
  listen(port = this.port) {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host: this.address, port, exclusive: true }, () => {
        this.server.off("error", reject);
        this.port = this.server.address().port;
        resolve();
      });
    });
  }
  drop() {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
  async set(mode) {
    const prev = this.mode;
    this.mode = mode;
    if (mode === "refuse") {
      const closed = new Promise((r) => this.server.close(() => r()));
      this.drop();
      await closed;
    } else {
      if (prev === "hang") this.drop();
      if (prev === "refuse") await this.listen(this.port);
    }
  }
  async close() {
    if (this.mode !== "refuse") await this.set("refuse");
  }
}
