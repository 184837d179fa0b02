// Real HTTP/HTTPS endpoints on loopback addresses 127.0.0.2, 127.0.0.3, … (all loopback on Linux),
// sharing one port, each switchable between: ok, 503, refuse (not listening), hang (accept, never
// answer), wrong-body, bad-cert (self-signed certificate, https only) and redirect.
// Certificates come from the openssl CLI into a temp dir: a test CA and a server cert it signs.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type EndpointMode = "ok" | "503" | "refuse" | "hang" | "wrong-body" | "bad-cert" | "redirect";

export interface TestCerts {
  dir: string;
  caFile: string;
  ca: string;
  cert: string;
  key: string;
  selfSignedCert: string;
  selfSignedKey: string;
  /** Removes the temp dir. */
  cleanup(): void;
}

/**
 * A test CA and a server certificate for `names` (DNS and IP SANs), plus a self-signed certificate for
 * the same names (what "bad-cert" serves). EC P-256 keys: fast to make.
 */
export function makeCerts(names: string[] = ["app.example.test"], ips: string[] = loopbacks(8)): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "hadns-certs-"));
  const ossl = (...args: string[]): void => {
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const san = [...names.map((n) => `DNS:${n}`), ...ips.map((i) => `IP:${i}`)].join(",");
  ossl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=hadns test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  ossl("req", ...ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj", `/CN=${names[0] ?? "localhost"}`);
  writeFileSync(join(dir, "ext.cnf"), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem",
    "-days", "2", "-extfile", "ext.cnf");
  ossl("req", "-x509", ...ec, "-keyout", "self.key", "-out", "self.pem", "-days", "2", "-subj", `/CN=${names[0] ?? "localhost"}`,
    "-addext", `subjectAltName=${san}`);
  const read = (f: string): string => readFileSync(join(dir, f), "utf8");
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    ca: read("ca.pem"),
    cert: read("srv.pem"),
    key: read("srv.key"),
    selfSignedCert: read("self.pem"),
    selfSignedKey: read("self.key"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** 127.0.0.2 … 127.0.0.(n+1). */
export function loopbacks(n: number, first = 2): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.0.${first + i}`);
}

export interface RequestRecord {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  servername?: string;
}

export class TestEndpoint {
  mode: EndpointMode = "ok";
  okBody = "status: ok\n";
  /** Where "redirect" points (a Location header value). */
  redirectTo = "/health-moved";
  /** Requests that got an answer or hang, newest last. */
  readonly requests: RequestRecord[] = [];
  /** Connections accepted in total. */
  connections = 0;
  private readonly sockets = new Set<Socket>();
  private server: http.Server | https.Server;
  private listening = false;

  constructor(
    readonly address: string,
    public port: number,
    readonly tls: { cert: string; key: string; selfSignedCert: string; selfSignedKey: string } | undefined,
  ) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    this.server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
    this.server.keepAliveTimeout = 1000;
    const onConn = (s: Socket): void => {
      this.connections++;
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
      s.on("error", () => {});
    };
    this.server.on(tls ? "secureConnection" : "connection", onConn);
    if (tls) this.server.on("connection", (s: Socket) => s.on("error", () => {}));
    this.server.on("tlsClientError", () => {});
    this.server.on("clientError", (_e, s: Socket) => s.destroy());
  }

  /** Open TCP connections the server holds right now. */
  get openSockets(): number {
    return this.sockets.size;
  }

  async listen(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: Error): void => reject(e);
      this.server.once("error", onErr);
      this.server.listen({ host: this.address, port: this.port, exclusive: true }, () => {
        this.server.off("error", onErr);
        resolve();
      });
    });
    this.port = (this.server.address() as { port: number }).port;
    this.listening = true;
  }

  /** Switches behaviour; "refuse" closes the listener and every connection, leaving it refuses. */
  async set(mode: EndpointMode): Promise<void> {
    if (mode === "bad-cert" && !this.tls) throw new Error("bad-cert needs an https endpoint");
    const prev = this.mode;
    this.mode = mode;
    if (this.tls && (mode === "bad-cert") !== (prev === "bad-cert")) {
      const t = this.tls;
      (this.server as https.Server).setSecureContext(
        mode === "bad-cert" ? { cert: t.selfSignedCert, key: t.selfSignedKey } : { cert: t.cert, key: t.key },
      );
    }
    if (mode === "refuse") await this.stopListening();
    else {
      if (prev === "hang") this.dropSockets();
      await this.listen();
    }
  }

  private async stopListening(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dropSockets();
    await closed;
  }

  private dropSockets(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    await this.stopListening();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const rec: RequestRecord = { method: req.method ?? "", url: req.url ?? "", headers: req.headers };
    const sn = (req.socket as { servername?: string | false }).servername;
    if (typeof sn === "string") rec.servername = sn;
    this.requests.push(rec);
    if (this.requests.length > 1000) this.requests.splice(0, 500);
    switch (this.mode) {
      case "hang":
        return; // never answer; the socket stays open until the client gives up or we drop it
      case "503":
        res.writeHead(503, { "content-type": "text/plain" }).end("unavailable\n");
        return;
      case "wrong-body":
        res.writeHead(200, { "content-type": "text/plain" }).end("maintenance\n");
        return;
      case "redirect":
        // Redirects everything but the redirect target itself, which answers "moved: ok".
        if (req.url === this.redirectTo) res.writeHead(200, { "content-type": "text/plain" }).end("moved: ok\n");
        else res.writeHead(302, { location: this.redirectTo }).end();
        return;
      default:
        res.writeHead(200, { "content-type": "text/plain" }).end(req.method === "HEAD" ? undefined : this.okBody);
    }
  }
}

/**
 * Starts `n` endpoints on 127.0.0.2 … 127.0.0.(n+1), all on one port (chosen free), in mode "ok".
 * Pass `tls` (from makeCerts) for HTTPS endpoints.
 */
export async function startEndpoints(
  n: number,
  tls?: TestCerts,
  opts: { firstAddress?: number } = {},
): Promise<{ endpoints: TestEndpoint[]; port: number; close(): Promise<void> }> {
  const addrs = loopbacks(n, opts.firstAddress ?? 2);
  for (let attempt = 0; attempt < 20; attempt++) {
    const eps: TestEndpoint[] = [];
    let port = 0;
    try {
      for (const a of addrs) {
        const ep = new TestEndpoint(a, port, tls);
        await ep.listen();
        port = ep.port;
        eps.push(ep);
      }
      return { endpoints: eps, port, close: async () => void (await Promise.all(eps.map((e) => e.close()))) };
    } catch {
      await Promise.all(eps.map((e) => e.close()));
    }
  }
  throw new Error(`could not find one free port on ${addrs.join(", ")}`);
}

/** A CheckSpec with the documented defaults, for tests; override what the test is about. */
export function testCheck(over: Partial<import("../../src/health/types.js").CheckSpec> = {}): import("../../src/health/types.js").CheckSpec {
  return {
    name: "web",
    type: "http",
    port: 80,
    path: "/health",
    method: "GET",
    headers: {},
    expectStatus: [[200, 299]],
    bodyLimit: 4096,
    followRedirects: false,
    tlsVerify: true,
    intervalMs: 1000,
    timeoutMs: 500,
    rise: 3,
    fall: 6,
    decay: 1,
    fastIntervalMs: 250,
    flapWindowMs: 600_000,
    ...over,
  };
}
