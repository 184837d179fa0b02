// The `hadns` command as an operator runs it: the built bin (dist/cli/main.js) in a child process.
// check's exact `file:line: message` lines and exit codes, serve answering dig on an ephemeral port,
// one start-up log line, clean stops on SIGTERM/SIGINT, bad flags (exit 2), --help and --version.

import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digParsed } from "./support/dig.js";
import { freePort } from "./support/ports.js";

const BIN = "dist/cli/main.js";
const VERSION = (JSON.parse(readFileSync("package.json", "utf8")) as { version: string }).version;
const tmp = mkdtempSync(join(tmpdir(), "hadns-cli-"));

/** Build dist/ when any source file is newer than its output (npm install builds it once). */
function buildIfStale(): void {
  const stale = readdirSync("src", { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"))
    .some((f) => {
      const out = join("dist", f.replace(/\.ts$/, ".js"));
      try {
        return statSync(out).mtimeMs < statSync(join("src", f)).mtimeMs;
      } catch {
        return true;
      }
    });
  if (stale) execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "inherit" });
}

beforeAll(buildIfStale, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function hadns(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

function write(name: string, text: string): string {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

interface Served {
  proc: ChildProcess;
  port: number;
  /** The start-up log line, parsed. */
  start: { level: number; msg: string; zones: Array<Record<string, unknown>>; listening: string[] };
  lines: () => Array<Record<string, unknown>>;
  stop(signal: NodeJS.Signals): Promise<number | string | null>;
}

/** Start `hadns serve` and wait for its start-up line (JSON logs, as on a pipe). */
function serve(args: string[], cmd: string[] = [process.execPath, BIN]): Promise<Served> {
  // The admin API defaults to 127.0.0.1:8053; tests run in parallel, so it is off unless a test asks.
  const admin = args.includes("--admin-listen") ? [] : ["--admin-listen", "off"];
  const proc = spawn(cmd[0]!, [...cmd.slice(1), "serve", ...args, ...admin], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const lines = () =>
    out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  // A signal death shows as its name, so a failed assertion says which.
  const exited = new Promise<number | string | null>((resolve) =>
    proc.on("exit", (code, signal) => resolve(signal ? `killed by ${signal}` : code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start-up line in 15 s:\n${out}\n${err}`)), 15_000);
    proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const start = lines().find((l) => typeof l.msg === "string" && l.msg.startsWith("serving "));
      if (!start) return;
      clearTimeout(timer);
      const port = Number(/:(\d+)$/.exec((start.listening as string[])[0]!)![1]);
      resolve({
        proc,
        port,
        start: start as unknown as Served["start"],
        lines,
        stop: (signal) => {
          proc.kill(signal);
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hadns serve exited ${code} before starting:\n${out}\n${err}`));
    });
  });
}

function linesAfterStart(s: Served): unknown[] {
  const msgs = s.lines().map((l) => l.msg);
  return msgs.slice(msgs.indexOf(s.start.msg) + 1);
}

describe("hadns --version and --help", () => {
  it("prints the version of package.json", async () => {
    expect(await hadns(["--version"])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
  });

  it("lists the commands, and each command's flags", async () => {
    const top = await hadns(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: hadns \[options\] \[command\]/);
    expect(top.stdout).toMatch(/^ {2}serve \[options\]/m);
    expect(top.stdout).toMatch(/^ {2}check \[options\]/m);
    const serveHelp = await hadns(["serve", "--help"]);
    expect(serveHelp.code).toBe(0);
    for (const flag of ["--zone <file>", "--zones-dir <dir>", "--config <file>", "--listen <host:port>", "--log-level <level>", "--log-format <format>"]) {
      expect(serveHelp.stdout).toContain(flag);
    }
    const checkHelp = await hadns(["check", "--help"]);
    expect(checkHelp.stdout).toContain("--zones-dir <dir>");
    expect(checkHelp.stdout).not.toContain("--log-level");
  });
});

describe("hadns check", () => {
  it("passes the shipped config and prints a one-line summary", async () => {
    const r = await hadns(["check", "--config", "zones/hadns.yaml"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: 1 zone, \d+ records(, \d+ checks?, \d+ pools?)?: example\.test\. \(zones\/example\.test\.zone, \d+ records, serial 2026112501\)\n$/);
  });

  it("takes zones from --zone and --zones-dir", async () => {
    const r = await hadns(["check", "--zones-dir", "zones"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok: 1 zone, \d+ records: example\.test\. \(zones\/example\.test\.zone,/);
  });

  it("reports every error of every zone, one file:line: message per line in line order, and exits 1", async () => {
    const bad = write(
      "bad.test.zone",
      "$ORIGIN bad.test.\n$TTL 1h\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 300.1.1.1\nwww CNAME web\nwww A 192.0.2.1\nx BOGUS 1\n",
    );
    const r = await hadns(["check", "--zone", bad, "--zone", "zones/example.test.zone"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")).toEqual([
      `${bad}:5: bad IPv4 address "300.1.1.1" in A record: write four numbers 0-255 without leading zeros, e.g. 192.0.2.1`,
      `${bad}:7: CNAME at www.bad.test. beside other data (A on line 7, CNAME on line 6); a name with a CNAME can have no other records (RFC 1034 §3.6.2, RFC 2181 §10.1)`,
      `${bad}:8: unknown record type "BOGUS"; use a known type or TYPEnnn with RFC 3597 data ("TYPE65534 \\# 2 abcd")`,
      "",
    ]);
  });

  it("reports config errors and zone errors together", async () => {
    write("good.test.zone", "$ORIGIN good.test.\n@ 3600 SOA ns1 host 1 2 3 4 5\n@ 3600 NS ns1\nns1 3600 A 192.0.2.1\n");
    const bad = write("bad2.test.zone", "$ORIGIN bad2.test.\n@ 3600 SOA ns1 host 1 2 3 4 5\n@ 3600 NS ns1\nns1 3600 AAAA 2001:db8::g\n");
    const cfg = write("broken.yaml", "zones:\n  - file: good.test.zone\n  - file: bad2.test.zone\nlisten: ['127.0.0.1']\nlog: { levle: info }\n");
    const r = await hadns(["check", "--config", cfg]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n");
    expect(lines.slice(0, 2)).toEqual([
      `${cfg}:4: listen[0]: "127.0.0.1" has no port; write host:port, e.g. "127.0.0.1:5300"`,
      `${cfg}:5: log.levle: unknown key; did you mean "level"?`,
    ]);
    expect(lines.slice(2)).toEqual([expect.stringMatching(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:4: .*2001:db8::g`)), ""]);
  });

  it("a missing config file is one error", async () => {
    const r = await hadns(["check", "--config", join(tmp, "nope.yaml")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${join(tmp, "nope.yaml")}: cannot read config file: ENOENT (no such file or directory)\n`);
  });
});

describe("bad command lines exit 2", () => {
  it.each([
    [["serve", "--zone", "zones/example.test.zone", "--listen", "foo"], /argument 'foo' is invalid\. "foo" is not host:port/],
    [["serve", "--zone", "zones/example.test.zone", "--listen", "::1:53"], /write an IPv6 address in brackets/],
    [["check", "--zone", "zones/example.test.zone", "--listen", "127.0.0.1:99999"], /port 99999 in "127\.0\.0\.1:99999" is over 65535/],
    [["serve", "--zone", "zones/example.test.zone", "--log-level", "loud"], /Allowed choices are fatal, error, warn, info, debug, trace, silent/],
    [["serve", "--zone", "zones/example.test.zone", "--log-format", "xml"], /Allowed choices are json, pretty/],
    [["serve"], /nothing to serve: give --zone FILE, --zones-dir DIR or --config FILE/],
    [["serve", "--bogus"], /unknown option '--bogus'/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ])("hadns %j", async (args, message) => {
    const r = await hadns(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
  });
});

describe("hadns serve", () => {
  it("answers dig on the port it picked, logs one start-up line, and stops on SIGTERM with exit 0", async () => {
    const s = await serve(["--config", "zones/hadns.yaml", "--listen", "127.0.0.1:0"]);
    try {
      expect(s.start.level).toBe(30);
      expect(s.start.msg).toMatch(new RegExp(`^serving 1 zone \\(\\d+ records\\) on 127\\.0\\.0\\.1:${s.port}$`));
      expect(s.start.zones).toEqual([{ origin: "example.test.", file: "zones/example.test.zone", records: expect.any(Number), serial: 2026112501 }]);
      expect(s.start.listening).toEqual([`udp 127.0.0.1:${s.port}`, `tcp 127.0.0.1:${s.port}`]);

      const udp = await digParsed("127.0.0.1", s.port, ["+norec", "www.example.test", "A"]);
      expect(udp.status).toBe("NOERROR");
      expect(udp.flags).toContain("aa");
      expect(udp.answer.map((r) => `${r.name} ${r.ttl} ${r.type} ${r.data}`)).toEqual([
        "www.example.test. 3600 CNAME web.example.test.",
        "web.example.test. 3600 A 192.0.2.80",
      ]);
      const tcp = await digParsed("127.0.0.1", s.port, ["+tcp", "+norec", "nope.example.test", "A"]);
      expect(tcp.transport).toBe("TCP");
      expect(tcp.status).toBe("NXDOMAIN");
      // chaos: in zones/hadns.yaml
      const ch = await digParsed("127.0.0.1", s.port, ["+norec", "version.bind", "CH", "TXT"]);
      expect(ch.answer.map((r) => r.data)).toEqual(['"hadns"']);
    } finally {
      expect(await s.stop("SIGTERM")).toBe(0);
    }
    expect(linesAfterStart(s)).toEqual(["stopping on SIGTERM", "stopped"]);
  }, 30_000);

  it("answers a big zone while its answers compile in slices, then logs once they are all compiled", async () => {
    // 40,000 names with an MX each: compiling their answers takes many 5 ms slices.
    const units = Array.from({ length: 40_000 }, (_, i) => `h${i} A 192.0.2.${i % 250}\nh${i} MX 10 mail`).join("\n");
    const file = write("big.test.zone", `$ORIGIN big.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\nmail A 192.0.2.25\n${units}\n`);
    const s = await serve(["--zone", file, "--listen", "127.0.0.1:0"]);
    try {
      // Asked at once, from the far end of the zone: compiled for this query, the answer complete.
      const r = await digParsed("127.0.0.1", s.port, ["+norec", "h39999.big.test", "MX"]);
      expect(r.answer.map((x) => `${x.name} ${x.type} ${x.data}`)).toEqual(["h39999.big.test. MX 10 mail.big.test."]);
      expect(r.additional.map((x) => `${x.name} ${x.type} ${x.data}`)).toEqual(["mail.big.test. A 192.0.2.25"]);
      const deadline = Date.now() + 20_000;
      while (!s.lines().some((l) => l.msg === "all answers compiled") && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(s.lines().find((l) => l.msg === "all answers compiled")).toMatchObject({ level: 30, ms: expect.any(Number) });
    } finally {
      expect(await s.stop("SIGTERM")).toBe(0);
    }
  }, 30_000);

  it("stops on SIGINT with exit 0, from --zone alone", async () => {
    const s = await serve(["--zone", "zones/example.test.zone", "--listen", "127.0.0.1:0"]);
    expect(s.start.zones.map((z) => z.origin)).toEqual(["example.test."]);
    expect(await s.stop("SIGINT")).toBe(0);
    expect(linesAfterStart(s)).toEqual(["stopping on SIGINT", "stopped"]);
  }, 30_000);

  it("lets --log-level override the config (warn: no start-up line) and still answers", async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, [BIN, "serve", "--config", "zones/hadns.yaml", "--listen", `127.0.0.1:${port}`, "--log-level", "warn"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on("exit", resolve));
    try {
      let answered = false;
      for (let i = 0; i < 50 && !answered; i++) {
        const r = await digParsed("127.0.0.1", port, ["+norec", "+time=1", "ns1.example.test", "A"]).catch(() => undefined);
        answered = r?.status === "NOERROR";
        if (!answered) await new Promise((res) => setTimeout(res, 200));
      }
      expect(answered).toBe(true);
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(out).toBe("");
  }, 30_000);

  it("writes readable text with --log-format pretty", async () => {
    const proc = spawn(process.execPath, [BIN, "serve", "--zone", "zones/example.test.zone", "--listen", "127.0.0.1:0", "--log-format", "pretty"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const started = new Promise<void>((resolve) =>
      proc.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("serving 1 zone")) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => proc.on("exit", resolve));
    await started;
    proc.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(hadns\): serving 1 zone \(\d+ records\) on 127\.0\.0\.1:\d+$/m);
    expect(out).not.toMatch(/^\{/m);
  }, 30_000);

  it("refuses to start on a broken zone: the errors on stderr, exit 1", async () => {
    const bad = write("start.test.zone", "$ORIGIN start.test.\n$TTL 1h\n@ SOA ns1 host 1 2 3 4 5\nns1 A 192.0.2.1\n");
    const r = await hadns(["serve", "--zone", bad, "--listen", "127.0.0.1:0"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      `${bad}: no NS record at the zone apex start.test.; add at least one, e.g. "@ NS ns1" (RFC 1035 §5.2)\n` +
        "hadns: not starting: 1 error (hadns check lists the same)\n",
    );
    const check = await hadns(["check", "--zone", bad]);
    expect(r.stderr.startsWith(check.stderr)).toBe(true);
  });

  it("answers a pool from its first round of health checks (config with checks and pools)", async () => {
    // One endpoint's probe address accepts TCP connections, the other's refuses: failover answers the first.
    const up = createServer((c) => c.destroy());
    await new Promise<void>((res) => up.listen(0, "127.0.0.1", res));
    const port = (up.address() as AddressInfo).port;
    write("pool.test.zone", "$ORIGIN pool.test.\n$TTL 1h\n@ SOA ns1 host 1 2h 15m 2w 5m\n@ NS ns1\nns1 A 192.0.2.1\n");
    const cfg = write(
      "pools.yaml",
      [
        "zones: [pool.test.zone]",
        "checks:",
        `  conn: { type: tcp, port: ${port}, interval: 1s, timeout: 300ms }`,
        "pools:",
        "  - name: app.pool.test.",
        "    type: A",
        "    check: conn",
        "    endpoints:",
        "      - { address: 192.0.2.11, check_address: 127.0.0.2 }",
        "      - { address: 192.0.2.10, check_address: 127.0.0.1 }",
      ].join("\n"),
    );
    expect((await hadns(["check", "--config", cfg])).stdout).toBe(
      `ok: 1 zone, 3 records, 1 check, 1 pool: pool.test. (${join(tmp, "pool.test.zone")}, 3 records, serial 1)\n`,
    );
    const s = await serve(["--config", cfg, "--listen", "127.0.0.1:0"]);
    try {
      expect(s.start.msg).toMatch(/^serving 1 zone \(3 records\), 1 pool on 127\.0\.0\.1:\d+$/);
      const r = await digParsed("127.0.0.1", s.port, ["+norec", "app.pool.test", "A"]);
      expect(r.answer.map((a) => `${a.name} ${a.ttl} ${a.data}`)).toEqual(["app.pool.test. 30 192.0.2.10"]);
    } finally {
      expect(await s.stop("SIGTERM")).toBe(0);
      up.close();
    }
  }, 30_000);

  it("exits 1 with a fatal log line when the address is taken", async () => {
    const first = await serve(["--zone", "zones/example.test.zone", "--listen", "127.0.0.1:0"]);
    try {
      const r = await hadns(["serve", "--zone", "zones/example.test.zone", "--listen", `127.0.0.1:${first.port}`]);
      expect(r.code).toBe(1);
      const fatal = JSON.parse(r.stdout.trim().split("\n").pop()!) as { level: number; msg: string };
      expect(fatal.level).toBe(60);
      expect(fatal.msg).toMatch(/^cannot start: (bind|listen) EADDRINUSE/);
    } finally {
      expect(await first.stop("SIGTERM")).toBe(0);
    }
  }, 30_000);
});

// The default listeners in a private network namespace (needs unshare and root; skipped otherwise),
// so port 5300 is ours and IPv6 loopback can be switched off.
const canUnshare = (() => {
  try {
    execFileSync("unshare", ["-n", "ip", "link", "set", "lo", "up"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!canUnshare)("default listeners (in a network namespace)", () => {
  const inNetns = (ipv6: boolean): string[] => [
    "unshare",
    "-n",
    "sh",
    "-c",
    `ip link set lo up && ${ipv6 ? "" : "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 && sysctl -qw net.ipv6.conf.lo.disable_ipv6=1 && "}exec "$0" "$@"`,
    process.execPath,
    BIN,
  ];

  it("are 127.0.0.1:5300 and [::1]:5300", async () => {
    const s = await serve(["--zone", "zones/example.test.zone"], inNetns(true));
    expect(s.start.listening).toEqual(["udp 127.0.0.1:5300", "tcp 127.0.0.1:5300", "udp [::1]:5300", "tcp [::1]:5300"]);
    expect(await s.stop("SIGTERM")).toBe(0);
  }, 30_000);

  it("go on with IPv4 and a warning where ::1 is missing", async () => {
    const s = await serve(["--zone", "zones/example.test.zone"], inNetns(false));
    expect(s.start.listening).toEqual(["udp 127.0.0.1:5300", "tcp 127.0.0.1:5300"]);
    const warn = s.lines()[0]!;
    expect([warn.level, warn.msg]).toEqual([40, "IPv6 address ::1 is not available here; listening on IPv4 only"]);
    expect(await s.stop("SIGTERM")).toBe(0);
  }, 30_000);
});
