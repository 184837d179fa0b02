#!/usr/bin/env node
// Two tiny HTTP endpoints for "Failover in five minutes" (README.md, "Failover in five minutes"): each
// answers GET /health with "ok" on its own loopback address, port 8080 (127.0.0.2, 127.0.0.3, … are
// all loopback on Linux). Type a command to break one and watch `dig` follow:
//
//   stop 2     close 127.0.0.2's listener (connections are refused)
//   hang 2     accept connections, never answer (probes time out)
//   fail 2     answer 503
//   start 2    answer "ok" again          status    show each one      quit    stop everything
//
// Usage: node zones/endpoints.mjs [address …] [--port 8080]   (default: 127.0.0.2 127.0.0.3)

import http from "node:http";
import readline from "node:readline";

const argv = process.argv.slice(2);
const portAt = argv.indexOf("--port");
const port = portAt >= 0 ? Number(argv[portAt + 1]) : 8080;
const addresses = argv.filter((a, i) => !a.startsWith("--") && i !== portAt + 1);
if (addresses.length === 0) addresses.push("127.0.0.2", "127.0.0.3");

class Endpoint {
  constructor(address) {
    this.address = address;
    this.mode = "ok";
    this.listening = false;
    this.sockets = new Set();
    this.server = http.createServer((req, res) => {
      if (this.mode === "hang") return; // keep the connection open, never answer
      if (this.mode === "fail") return void res.writeHead(503, { "content-type": "text/plain" }).end("unavailable\n");
      if (req.url === "/health") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      res.writeHead(200, { "content-type": "text/plain" }).end(`hello from ${this.address}\n`);
    });
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  start() {
    if (this.listening) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host: this.address, port }, () => {
        this.server.off("error", reject);
        this.listening = true;
        resolve();
      });
    });
  }

  stop() {
    if (!this.listening) return Promise.resolve();
    this.listening = false;
    const closed = new Promise((resolve) => this.server.close(() => resolve()));
    this.dropConnections();
    return closed;
  }

  dropConnections() {
    for (const s of this.sockets) s.destroy();
  }

  async set(mode) {
    if (this.mode === "hang" && mode !== "hang") this.dropConnections();
    this.mode = mode === "stop" ? "ok" : mode;
    if (mode === "stop") await this.stop();
    else await this.start();
  }

  get state() {
    if (!this.listening) return "stopped (refusing connections)";
    return { ok: "ok", hang: "hanging (accepts, never answers)", fail: "failing (503)" }[this.mode];
  }
}

const endpoints = new Map(addresses.map((a) => [a, new Endpoint(a)]));
try {
  for (const ep of endpoints.values()) await ep.start();
} catch (e) {
  console.error(`cannot listen: ${e.message}`);
  if (e.code === "EADDRNOTAVAIL") console.error("(on macOS, add the address first: sudo ifconfig lo0 alias 127.0.0.2 up)");
  process.exit(1);
}
const show = () => {
  for (const ep of endpoints.values()) console.log(`  http://${ep.address}:${port}/health  ${ep.state}`);
};
show();
console.log("commands: stop N | hang N | fail N | start N | status | quit   (N: 2 for 127.0.0.2, or a whole address)");

/** "2" → 127.0.0.2; a whole address as it is. */
function find(arg) {
  const address = /^\d+$/.test(arg ?? "") ? `127.0.0.${arg}` : arg;
  return endpoints.get(address);
}

async function quit() {
  await Promise.all([...endpoints.values()].map((ep) => ep.stop()));
  process.exit(0);
}

async function command(line) {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (!cmd) return;
  if (cmd === "status") return show();
  if (cmd === "quit" || cmd === "exit") return quit();
  const mode = { stop: "stop", hang: "hang", fail: "fail", start: "ok" }[cmd];
  const ep = find(arg);
  if (!mode || !ep) return console.log(`? ${line.trim()}  (try: stop 2, hang 2, fail 2, start 2, status, quit)`);
  try {
    await ep.set(mode);
  } catch (e) {
    return console.log(`${ep.address}: ${e.message}`);
  }
  console.log(`  ${ep.address}: ${ep.state}`);
}

// One command at a time, in the order typed.
let queue = Promise.resolve();
const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  queue = queue.then(() => command(line));
});
rl.on("close", () => {
  // stdin closed (e.g. started with </dev/null in the background): keep serving until a signal.
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => void quit());
