// What bench/pool-flips.mjs runs beside hadns, all in the bench process (pinned to dnsperf's core):
// - an endpoint farm: one HTTP listener per probed loopback address, answering GET /health with
//   200 "ok" or 503 "down" as a schedule says (health flips for real, through hadns's probes);
// - an admin-API client and an override flipper (POST /v1/overrides down/up for every pool's
//   primary, once a second each, spread evenly over the second);
// - a DNS sampler that asks every pool name a few times a second and counts the answer changes it
//   sees, so a flip that hadns applied is seen over DNS, not just believed;
// - a /metrics reader for hadns's own counters.

import dgram from "node:dgram";
import http from "node:http";

// ---- endpoint farm ---------------------------------------------------------------------------------

/**
 * Listens on `addresses` (all on one port). `healthy(index, nowMs)` decides each answer; replace it
 * with `farm.schedule = fn`. Counts requests, so the report can say how many probes hadns sent.
 */
export async function startEndpointFarm(addresses, { port = 0 } = {}) {
  const farm = {
    schedule: () => true,
    requests: 0,
    port,
    servers: [],
    async close() {
      await Promise.all(farm.servers.map((s) => new Promise((r) => s.close(() => r()))));
    },
  };
  const handler = (index) => (req, res) => {
    farm.requests++;
    const ok = farm.schedule(index, Date.now());
    res.writeHead(ok ? 200 : 503, { "content-type": "text/plain", "content-length": ok ? 2 : 4, connection: "close" });
    res.end(ok ? "ok" : "down");
  };
  // The first listener picks the port (unless given); the others must get the same one on their own
  // address. On a clash (someone else holds the port on one of them) start over with a new port.
  for (let attempt = 0; attempt < 20; attempt++) {
    farm.servers = [];
    let p = port;
    try {
      for (let i = 0; i < addresses.length; i++) {
        const s = http.createServer(handler(i));
        s.keepAliveTimeout = 1000;
        await new Promise((resolve, reject) => {
          s.once("error", reject);
          s.listen(p, addresses[i], () => resolve());
        });
        farm.servers.push(s);
        if (i === 0) p = s.address().port;
      }
      farm.port = p;
      return farm;
    } catch (e) {
      await farm.close();
      if (port !== 0 || e.code !== "EADDRINUSE") throw e;
    }
  }
  throw new Error("no port free on every endpoint address");
}

// ---- admin API -------------------------------------------------------------------------------------

export function adminClient(port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const request = (method, path, body) =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(
        { host: "127.0.0.1", port, method, path, agent, headers: data ? { "content-type": "application/json", "content-length": data.length } : {} },
        (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
        },
      );
      req.on("error", reject);
      req.setTimeout(10000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
      req.end(data);
    });
  return {
    request,
    async json(method, path, body) {
      const r = await request(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.text}`);
      return JSON.parse(r.text);
    },
    async metrics() {
      const r = await request("GET", "/metrics");
      if (r.status !== 200) throw new Error(`GET /metrics: HTTP ${r.status}`);
      return r.text;
    },
    /** Removes every active override; returns how many. */
    async clearOverrides() {
      const { overrides } = await this.json("GET", "/v1/overrides");
      await Promise.all(overrides.map((o) => request("DELETE", `/v1/overrides/${encodeURIComponent(o.id)}`)));
      return overrides.length;
    },
    close: () => agent.destroy(),
  };
}

/** Sum of the samples of one metric family (optionally those whose labels match `filter`). */
export function metricSum(text, name, filter = () => true) {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = line.match(/^([a-z_]+)(\{[^}]*\})?\s+(\S+)$/);
    if (!m || m[1] !== name || !filter(m[2] ?? "")) continue;
    sum += Number(m[3]);
  }
  return sum;
}

/**
 * Every pool's primary overridden down, then up, then down…: pool i flips at t0 + k·1 s + i/n s, so
 * each pool flips once a second and the server gets one POST every 1/n s. Returns a stop() that
 * resolves with { sent, accepted (201), failed, late (ms the timer ran behind at worst) }.
 */
export function startOverrideFlipper(admin, pools, { periodMs = 1000 } = {}) {
  const n = pools.length;
  const stepMs = periodMs / n;
  const t0 = performance.now();
  let tick = 0;
  const stats = { sent: 0, accepted: 0, failed: 0, errors: [], maxLateMs: 0, inflight: 0, maxInflight: 0 };
  const pending = new Set();
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - t0) / stepMs);
    if (due - tick > 1) stats.maxLateMs = Math.max(stats.maxLateMs, (due - tick - 1) * stepMs);
    for (; tick <= due; tick++) {
      const pool = pools[tick % n];
      const action = Math.floor(tick / n) % 2 === 0 ? "down" : "up";
      stats.sent++;
      stats.inflight++;
      stats.maxInflight = Math.max(stats.maxInflight, stats.inflight);
      const p = admin
        .request("POST", "/v1/overrides", { pool: pool.name, address: pool.primary, action, reason: "bench/pool-flips.mjs", for: "1h" })
        .then(
          (r) => {
            if (r.status === 201) stats.accepted++;
            else {
              stats.failed++;
              if (stats.errors.length < 3) stats.errors.push(`HTTP ${r.status}: ${r.text.slice(0, 200)}`);
            }
          },
          (e) => {
            stats.failed++;
            if (stats.errors.length < 3) stats.errors.push(String(e.message ?? e));
          },
        )
        .finally(() => {
          stats.inflight--;
          pending.delete(p);
        });
      pending.add(p);
    }
  }, Math.max(1, Math.floor(stepMs)));
  return {
    stats,
    async stop() {
      clearInterval(timer);
      await Promise.all([...pending]);
      return stats;
    },
  };
}

/** Health schedule for the farm: primaries flip every `periodMs`, staggered by i/n of it; secondaries stay up. */
export function flippingSchedule(nPools, { periodMs = 1000 } = {}) {
  const t0 = Date.now();
  return (index, now) => {
    if (index >= nPools) return true; // secondaries
    return Math.floor((now - t0) / periodMs - index / nPools) % 2 !== 0; // each primary starts up
  };
}

// ---- DNS sampler -----------------------------------------------------------------------------------

function wireQuery(id, name) {
  const parts = [Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of name.replace(/\.$/, "").split(".")) parts.push(Buffer.from([l.length]), Buffer.from(l, "ascii"));
  parts.push(Buffer.from([0, 0, 1, 0, 1])); // root, A, IN
  return Buffer.concat(parts);
}

/**
 * Asks each pool name for A every `everyMs` (spread evenly), from one socket, and counts per pool
 * how often the answer changed between primary and secondary. Anything else — another rcode, two
 * records, an unknown address, no answer within 1 s — is counted as odd.
 */
export async function startSampler(port, pools, { everyMs = 250 } = {}) {
  const sock = dgram.createSocket("udp4");
  await new Promise((r) => sock.bind(0, "127.0.0.1", r));
  const byAddr = new Map();
  for (const p of pools) {
    byAddr.set(p.primary, { pool: p.index, role: "primary" });
    byAddr.set(p.secondary, { pool: p.index, role: "secondary" });
  }
  const queries = pools.map((p) => p.name);
  const last = new Array(pools.length).fill(null);
  const st = { sent: 0, answered: 0, changes: 0, odd: 0, oddExamples: [], unanswered: 0, primary: 0, secondary: 0 };
  const outstanding = new Map(); // id -> { pool, at }
  let nextId = 1;
  sock.on("message", (m) => {
    if (m.length < 12) return;
    const id = m.readUInt16BE(0);
    const q = outstanding.get(id);
    if (!q) return;
    outstanding.delete(id);
    st.answered++;
    const rcode = m[3] & 15;
    const an = m.readUInt16BE(6);
    const addr = an === 1 && m.readUInt16BE(10) === 0 ? [...m.subarray(m.length - 4)].join(".") : null;
    const who = addr ? byAddr.get(addr) : undefined;
    if (rcode !== 0 || !who || who.pool !== q.pool) {
      st.odd++;
      if (st.oddExamples.length < 3) st.oddExamples.push(`${queries[q.pool]} rcode ${rcode} ancount ${an} ${addr ?? ""}`);
      return;
    }
    st[who.role]++;
    if (last[q.pool] !== null && last[q.pool] !== who.role) st.changes++;
    last[q.pool] = who.role;
  });
  const stepMs = everyMs / pools.length;
  const t0 = performance.now();
  let tick = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const due = Math.floor((now - t0) / stepMs);
    for (; tick <= due; tick++) {
      const pool = tick % pools.length;
      const id = nextId;
      nextId = nextId === 65535 ? 1 : nextId + 1;
      const old = outstanding.get(id);
      if (old) st.unanswered++;
      outstanding.set(id, { pool, at: now });
      sock.send(wireQuery(id, queries[pool]), port, "127.0.0.1");
      st.sent++;
    }
    if ((tick & 255) === 0) {
      for (const [id, q] of outstanding) {
        if (now - q.at > 1000) {
          outstanding.delete(id);
          st.unanswered++;
        }
      }
    }
  }, Math.max(1, Math.floor(stepMs)));
  return {
    stats: st,
    /** Start counting afresh (after a warm-up), keeping the last answer seen per pool. */
    reset() {
      for (const k of Object.keys(st)) st[k] = Array.isArray(st[k]) ? [] : 0;
    },
    async stop() {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 300));
      st.unanswered += outstanding.size;
      sock.close();
      return { ...st };
    },
  };
}
