#!/usr/bin/env node
// Compiles native/udp-batch.c (N-API + libuv, plain C, no node-gyp) to dist/native/udp-batch.node:
// the batched UDP socket (src/server/udp-native.ts). Optional: without gcc, or if the compile fails,
// this prints one warning and exits 0, and hadns answers UDP through Node's dgram instead.
// Headers: /usr/include/node (Debian's libnode-dev / nodejs), else <node prefix>/include/node.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "native", "udp-batch.c");
const outDir = path.join(root, "dist", "native");
const out = path.join(outDir, "udp-batch.node");

function warn(why) {
  console.warn(`build-native: warning: ${why}; UDP falls back to node:dgram (slower)`);
  process.exit(0);
}

if (process.platform !== "linux") warn(`recvmmsg/sendmmsg need Linux, this is ${process.platform}`);
const cc = process.env.CC || "gcc";
if (spawnSync(cc, ["--version"], { stdio: "ignore" }).status !== 0) warn(`no C compiler (${cc})`);
const candidates = [path.join(path.dirname(path.dirname(process.execPath)), "include", "node"), "/usr/include/node", "/usr/local/include/node"];
const inc = candidates.find((d) => fs.existsSync(path.join(d, "node_api.h")) && fs.existsSync(path.join(d, "uv.h")));
if (inc === undefined) warn(`node_api.h and uv.h not found in ${candidates.join(", ")}`);
fs.mkdirSync(outDir, { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const r = spawnSync(cc, ["-O2", "-Wall", "-shared", "-fPIC", `-I${inc}`, "-o", tmp, src], { encoding: "utf8" });
if (r.status !== 0) {
  fs.rmSync(tmp, { force: true });
  warn(`compiling ${path.relative(root, src)} failed: ${(r.stderr || r.error?.message || "").trim().split("\n").slice(0, 3).join(" | ")}`);
}
fs.renameSync(tmp, out); // atomic: a running server keeps its mapped copy
console.log(`build-native: ${path.relative(root, out)}`);
