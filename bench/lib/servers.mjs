// Starts the servers under test on a loopback port, pinned to one core, and waits until they answer
// the zone's SOA authoritatively (a server that is up but still loading answers SERVFAIL; that is
// not ready). hadns runs through its CLI, as users run it; Knot DNS as in /work/shared/notes/peers.md.

import { spawn, execFileSync } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pinTree } from "./proc.mjs";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const HADNS_CLI = path.join(REPO, "dist/cli/main.js");
const STARTER = path.join(REPO, "bench/lib/hadns-server.mjs");
export const KNOTD = process.env.KNOTD ?? "knotd";

/** A path inside the repo as a relative one, for printing commands. */
const rel = (a) => (a.startsWith(REPO + path.sep) ? path.relative(REPO, a) : a);

/** A port free for both UDP and TCP on the host. */
export async function freePort(host = "127.0.0.1") {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise((res, rej) => {
      const s = dgram.createSocket("udp4");
      s.once("error", rej);
      s.bind(0, host, () => {
        const p = s.address().port;
        s.close(() => res(p));
      });
    });
    const tcpFree = await new Promise((res) => {
      const srv = net.createServer();
      srv.once("error", () => res(false));
      srv.listen(port, host, () => srv.close(() => res(true)));
    });
    if (tcpFree) return port;
  }
  throw new Error("no free port");
}

function soaQuery(origin, id) {
  const labels = origin.replace(/\.$/, "").split(".");
  const parts = [Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, "ascii"));
  parts.push(Buffer.from([0, 0, 6, 0, 1])); // root, type SOA, class IN
  return Buffer.concat(parts);
}

/** One UDP probe: true when the answer is NOERROR, AA, with at least one answer record. */
function probe(host, port, origin, timeoutMs = 200) {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const id = Math.floor(Math.random() * 65536);
    const done = (ok) => {
      clearTimeout(t);
      s.close();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.on("error", () => done(false));
    s.on("message", (m) => {
      if (m.length < 12 || m.readUInt16BE(0) !== id) return;
      done((m[3] & 0x0f) === 0 && (m[2] & 0x04) !== 0 && m.readUInt16BE(6) > 0);
    });
    s.send(soaQuery(origin, id), port, host);
  });
}

/** Spawns `argv` under `taskset -c core`; returns a handle once the zone answers. */
async function startPinned({ name, argv, core, host, port, origin, logFile, timeoutMs = 30000, env }) {
  const log = fs.openSync(logFile, "w");
  const child = spawn("taskset", ["-c", String(core), ...argv], { stdio: ["ignore", log, log], env: env ?? process.env });
  fs.closeSync(log);
  let exited = null;
  const exit = new Promise((res) => child.on("exit", (code, signal) => res((exited = { code, signal }))));
  child.on("error", (e) => (exited = { code: -1, signal: String(e) }));
  const started = process.hrtime.bigint();
  const deadline = Date.now() + timeoutMs;
  const handle = {
    name,
    pid: child.pid, // taskset execs the server, so this is the server's own pid
    port,
    readySeconds: NaN,
    log: () => fs.readFileSync(logFile, "utf8"),
    /** Seconds from spawn until the log holds `text` (polled every 20 ms); throws after timeoutMs. */
    async waitForLog(text) {
      while (!handle.log().includes(text)) {
        if (exited) throw new Error(`${name} exited (${JSON.stringify(exited)}) before logging "${text}"; log ${logFile}:\n${handle.log()}`);
        if (Date.now() > deadline) throw new Error(`${name} did not log "${text}" within ${timeoutMs / 1000} s; log ${logFile}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return Number(process.hrtime.bigint() - started) / 1e9;
    },
    async stop() {
      if (exited) return exited;
      child.kill("SIGTERM");
      const t = setTimeout(() => exited || child.kill("SIGKILL"), 10000);
      const r = await exit;
      clearTimeout(t);
      return r;
    },
  };
  for (;;) {
    if (exited) throw new Error(`${name} exited during start-up (${JSON.stringify(exited)}); log ${logFile}:\n${handle.log()}`);
    if (await probe(host, port, origin)) break;
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`${name} did not answer ${origin} SOA within ${timeoutMs / 1000} s; log ${logFile}:\n${handle.log()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  handle.readySeconds = Number(process.hrtime.bigint() - started) / 1e9;
  // taskset at exec is not enough: Knot pins its UDP worker thread itself (to core 0 here, dnsperf's
  // core). Pin every thread of the server and its children again now, and keep what they then allow.
  handle.affinity = pinTree(handle.pid, core);
  return handle;
}

/** How hadns is started: through the CLI when it is built, else the bench-owned starter. */
export function hadnsLauncher() {
  if (fs.existsSync(HADNS_CLI)) return "cli";
  if (fs.existsSync(path.join(REPO, "dist/server/server.js"))) return "starter";
  return null;
}

/**
 * Copies dist/ and package.json to `<outDir>/hadns/`, so every round runs the same build even when
 * someone runs `npm run build` meanwhile. Modules still resolve from the repo's node_modules (Node
 * walks up the directories). Returns the CLI path inside the copy.
 */
export function snapshotDist(outDir) {
  const dest = path.join(outDir, "hadns");
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  fs.cpSync(path.join(REPO, "dist"), path.join(dest, "dist"), { recursive: true });
  fs.copyFileSync(path.join(REPO, "package.json"), path.join(dest, "package.json"));
  return path.join(dest, "dist/cli/main.js");
}

export async function startHadns({ zoneFile, configFile, origin, core, outDir, host = "127.0.0.1", nodeFlags = [], via = hadnsLauncher(), cli = HADNS_CLI, workers = 1, timeoutMs, logLevel = "warn" }) {
  const port = await freePort(host);
  const inputs = configFile && via === "cli" ? ["--config", configFile] : ["--zone", zoneFile];
  if (workers !== 1 && via !== "cli") throw new Error("--workers needs the built CLI (npm run build)");
  const script = via === "cli"
    ? [cli, "serve", ...inputs, "--listen", `${host}:${port}`, "--log-level", logLevel, ...(workers !== 1 ? ["--workers", String(workers)] : [])]
    : [STARTER, "--zone", zoneFile, "--listen", `${host}:${port}`];
  const h = await startPinned({
    name: "hadns",
    argv: [process.execPath, ...nodeFlags, ...script],
    core,
    host,
    port,
    origin,
    logFile: path.join(outDir, "hadns.log"),
    env: { ...process.env, NODE_ENV: "production" },
    timeoutMs,
  });
  h.command = `taskset -c ${core} node ${[...nodeFlags, ...script].map(rel).join(" ")}`;
  return h;
}

export async function startKnot({ zoneFile, origin, core, outDir, host = "127.0.0.1", timeoutMs }) {
  const port = await freePort(host);
  const dir = path.join(outDir, "knot");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "db"), { recursive: true });
  const conf = [
    "server:",
    `    rundir: "${dir}"`,
    `    listen: ${host}@${port}`,
    "    udp-workers: 1",
    "    tcp-workers: 1",
    "    background-workers: 1",
    "log:",
    "  - target: stderr",
    "    any: warning",
    "database:",
    `    storage: "${dir}/db"`,
    "template:",
    "  - id: default",
    `    storage: "${dir}"`,
    "    zonefile-sync: -1",
    "    journal-content: none",
    "zone:",
    `  - domain: ${origin}`,
    `    file: "${path.resolve(zoneFile)}"`,
    "",
  ].join("\n");
  const confPath = path.join(dir, "knot.conf");
  fs.writeFileSync(confPath, conf);
  const h = await startPinned({ name: "knot", argv: [KNOTD, "-c", confPath], core, host, port, origin, logFile: path.join(outDir, "knot.log"), timeoutMs });
  h.command = `taskset -c ${core} knotd -c ${rel(confPath)}`;
  return h;
}

export function knotVersion() {
  try {
    return execFileSync(KNOTD, ["--version"], { encoding: "utf8" }).trim().replace(/^knotd \(Knot DNS\), version /, "");
  } catch {
    return "?";
  }
}
