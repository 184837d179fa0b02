// Real secondaries of hadns on loopback, for the transfer interop test and bench/xfr-propagation.mjs:
// Debian's Knot DNS (knotd) and NSD, each in the foreground on a free port, configured to transfer
// zones from hadns with a TSIG key and to take hadns's NOTIFY (signed with the same key). Settings as in
// /work/shared/notes/peers.md: one worker, never write zone files back, NSD's rate limiting off.
// Plain JavaScript so that the benchmark (node, no TypeScript) shares it with the tests.

import { spawn } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import dnsPacket from "dns-packet";

export const KNOTD = process.env.KNOTD ?? "/usr/sbin/knotd";
export const NSD = process.env.NSD ?? "/usr/sbin/nsd";

export function available(bin) {
  try {
    fs.accessSync(bin, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A port free for UDP and TCP on host right now. */
export async function freePort(host = "127.0.0.1") {
  for (let i = 0; i < 50; i++) {
    const p = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once("error", () => resolve(null));
      srv.listen({ host, port: 0, exclusive: true }, () => {
        const port = srv.address().port;
        const sock = dgram.createSocket("udp4");
        sock.once("error", () => {
          sock.close();
          srv.close(() => resolve(null));
        });
        sock.bind({ address: host, port, exclusive: true }, () => sock.close(() => srv.close(() => resolve(port))));
      });
    });
    if (p !== null) return p;
  }
  throw new Error(`no free UDP+TCP port on ${host}`);
}

/**
 * One UDP question; resolves with the dns-packet decoding of the answer, or null after timeoutMs.
 */
export function query(host, port, name, type, timeoutMs = 500) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    const id = Math.floor(Math.random() * 65536);
    const timer = setTimeout(() => done(null), timeoutMs);
    function done(v) {
      clearTimeout(timer);
      try {
        sock.close();
      } catch {}
      resolve(v);
    }
    sock.on("error", () => done(null));
    sock.on("message", (m) => {
      try {
        const p = dnsPacket.decode(m);
        if (p.id === id) done(p);
      } catch {
        done(null);
      }
    });
    sock.send(dnsPacket.encode({ type: "query", id, flags: 0, questions: [{ name, type, class: "IN" }] }), port, host);
  });
}

/** The zone's SOA serial as the server answers it, or null (no answer, not authoritative, no SOA). */
export async function soaSerial(host, port, zone, timeoutMs = 500) {
  const p = await query(host, port, zone, "SOA", timeoutMs);
  const soa = p?.rcode === "NOERROR" ? p.answers.find((r) => r.type === "SOA") : undefined;
  return soa ? soa.data.serial : null;
}

/** Start a DNS daemon in the foreground, keeping its output; close() stops it (SIGTERM, then SIGKILL after 3 s). */
export function spawnDaemon(bin, args, dir) {
  let output = "";
  const child = spawn(bin, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (d) => (output += d.toString()));
  child.stderr.on("data", (d) => (output += d.toString()));
  let exited = false;
  const exit = new Promise((resolve) => {
    child.on("exit", () => {
      exited = true;
      resolve();
    });
    child.on("error", (e) => {
      output += `spawn error: ${e.message}\n`;
      exited = true;
      resolve();
    });
  });
  const close = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      const t = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, 3000);
      await exit;
      clearTimeout(t);
    }
  };
  return { child, log: () => output, close, exited: () => exited };
}

/**
 * Wait until the secondary answers the zone's SOA with `serial` (or any serial when undefined);
 * throws with its log after deadlineMs.
 */
async function waitSerial(s, zone, serial, deadlineMs) {
  const end = Date.now() + deadlineMs;
  let last = null;
  for (;;) {
    if (s.exited()) throw new Error(`${s.kind} exited:\n${s.log()}`);
    last = await soaSerial(s.host, s.port, zone, 300);
    if (last !== null && (serial === undefined || last === serial)) return last;
    if (Date.now() > end) throw new Error(`${s.kind} did not reach serial ${serial ?? "(any)"} of ${zone} (has ${last}):\n${s.log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Knot DNS as a secondary of `primary` ({ host, port }) for `zones`: TSIG key `key` ({ name, algorithm,
 * secret }) on transfers, NOTIFY accepted from the primary's address with the same key. `port`: listen
 * there (pick it with freePort first when the primary must know it to send NOTIFY); `via`: the source
 * address of its transfers (tell two secondaries apart in the primary's log).
 */
export async function startKnotSecondary({ primary, zones, key, host = "127.0.0.1", port: askedPort, via, extraZoneConf = [] }) {
  const port = askedPort ?? (await freePort(host));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-knot-2nd-"));
  // The journal (where Knot stores an IXFR's changes) lives in the database folder: without it Knot
  // falls back from IXFR to AXFR.
  fs.mkdirSync(path.join(dir, "db"));
  const conf = [
    "server:",
    `    rundir: "${dir}"`,
    `    listen: ${host}@${port}`,
    "    udp-workers: 1",
    "    tcp-workers: 1",
    "    background-workers: 1",
    "log:",
    "  - target: stderr",
    `    any: ${process.env.HADNS_KNOT_LOG ?? "info"}`,
    "database:",
    `    storage: "${dir}/db"`,
    "key:",
    `  - id: ${key.name}`,
    `    algorithm: ${key.algorithm}`,
    `    secret: ${key.secret}`,
    "remote:",
    "  - id: hadns",
    `    address: ${primary.host}@${primary.port}`,
    `    key: ${key.name}`,
    ...(via ? [`    via: ${via}`] : []),
    "acl:",
    "  - id: notify-from-hadns",
    `    address: ${primary.host}`,
    `    key: ${key.name}`,
    "    action: notify",
    "template:",
    "  - id: default",
    `    storage: "${dir}"`,
    "    zonefile-sync: -1",
    "    zonefile-load: none",
    "    journal-content: changes",
    "    master: hadns",
    "    acl: notify-from-hadns",
    ...extraZoneConf.map((l) => `    ${l}`),
    "zone:",
    ...zones.map((z) => `  - domain: ${z.replace(/\.$/, "")}`),
    "",
  ].join("\n");
  fs.writeFileSync(path.join(dir, "knot.conf"), conf);
  const d = spawnDaemon(KNOTD, ["-c", path.join(dir, "knot.conf")], dir);
  const s = {
    kind: "knotd",
    host,
    port,
    dir,
    log: d.log,
    exited: d.exited,
    async close() {
      await d.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    waitSerial: (zone, serial, deadlineMs = 10_000) => waitSerial(s, zone, serial, deadlineMs),
    soaSerial: (zone) => soaSerial(host, port, zone),
    query: (name, type, timeoutMs) => query(host, port, name, type, timeoutMs),
  };
  return s;
}

/** NSD as a secondary of `primary` for `zones`, same key on transfers and NOTIFY. */
export async function startNsdSecondary({ primary, zones, key, host = "127.0.0.1", port: askedPort, via }) {
  const port = askedPort ?? (await freePort(host));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hadns-nsd-2nd-"));
  const conf = [
    "server:",
    `    ip-address: ${host}@${port}`,
    "    do-ip6: no",
    '    username: ""',
    '    chroot: ""',
    '    database: ""',
    `    zonesdir: "${dir}"`,
    `    pidfile: "${dir}/nsd.pid"`,
    `    xfrdfile: "${dir}/xfrd.state"`,
    `    xfrdir: "${dir}"`,
    `    zonelistfile: "${dir}/zone.list"`,
    "    server-count: 1",
    "    verbosity: 2",
    "    zonefiles-write: 0",
    "    rrl-ratelimit: 0",
    "    xfrd-reload-timeout: 0",
    "remote-control:",
    "    control-enable: no",
    "key:",
    `    name: "${key.name}"`,
    `    algorithm: ${key.algorithm}`,
    `    secret: "${key.secret}"`,
    ...zones.flatMap((z) => [
      "zone:",
      `    name: "${z.replace(/\.$/, "")}"`,
      `    zonefile: "${z.replace(/\.$/, "")}.zone"`,
      `    allow-notify: ${primary.host} ${key.name}`,
      `    request-xfr: ${primary.host}@${primary.port} ${key.name}`,
      ...(via ? [`    outgoing-interface: ${via}`] : []),
    ]),
    "",
  ].join("\n");
  fs.writeFileSync(path.join(dir, "nsd.conf"), conf);
  const d = spawnDaemon(NSD, ["-d", "-c", path.join(dir, "nsd.conf")], dir);
  const s = {
    kind: "nsd",
    host,
    port,
    dir,
    log: d.log,
    exited: d.exited,
    async close() {
      await d.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    waitSerial: (zone, serial, deadlineMs = 10_000) => waitSerial(s, zone, serial, deadlineMs),
    soaSerial: (zone) => soaSerial(host, port, zone),
    query: (name, type, timeoutMs) => query(host, port, name, type, timeoutMs),
  };
  return s;
}
