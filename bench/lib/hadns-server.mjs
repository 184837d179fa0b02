// Bench-owned starter for hadns, for a tree whose CLI is not built yet: loads the zones and starts
// the UDP/TCP listeners straight from dist/. bench/run.mjs prefers `node dist/cli/main.js serve`.
// Usage: node bench/lib/hadns-server.mjs --zone FILE [--zone FILE…] --listen HOST:PORT

import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../dist");
const load = (m) => import(pathToFileURL(path.join(dist, m)).href);
const { loadZones } = await load("zone/load.js");
const { buildEngine } = await load("answer/engine.js");
const { startServer } = await load("server/server.js");
const { createLogger } = await load("log.js");

const zones = [];
let listen = "127.0.0.1:5300";
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === "--zone") zones.push({ file: argv[++i] });
  else if (argv[i] === "--listen") listen = argv[++i];
  else throw new Error(`unknown argument ${argv[i]}`);
}
const logger = createLogger({ level: "warn", format: "json" });
const loaded = loadZones(zones);
if (loaded.errors.length > 0) {
  for (const e of loaded.errors) process.stderr.write(`${e.file}:${e.line}: ${e.message}\n`);
  process.exit(1);
}
const engine = buildEngine(loaded.zones);
const at = listen.lastIndexOf(":");
const server = await startServer({ listen: [{ host: listen.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(listen.slice(at + 1)) }], engine, logger });
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, async () => {
    await server.close();
    process.exit(0);
  });
}
