// The config file (src/config/load.ts, source.ts) and how flags merge over it (src/cli/inputs.ts):
// every mistake is reported with file, line and key path, all of them in one run.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig, parseListenAddress, TOP_LEVEL_KEYS } from "../src/config/load.js";
import { closest, lineOf, parseConfigSource, SourceReader } from "../src/config/source.js";
import { DEFAULT_LISTEN, resolveInputs, UsageError } from "../src/cli/inputs.js";
import { formatSourceError } from "../src/zone/rr.js";

const dir = mkdtempSync(join(tmpdir(), "hadns-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Write a config file (and the zone files it names) into a fresh folder; return its path. */
function configFile(text: string, name = "hadns.yaml", zoneFiles: string[] = []): string {
  const d = join(dir, `c${n++}`);
  mkdirSync(d);
  for (const z of zoneFiles) {
    mkdirSync(join(d, z, ".."), { recursive: true });
    writeFileSync(join(d, z), "");
  }
  const file = join(d, name);
  writeFileSync(file, text);
  return file;
}

/** The errors of loading `text`, as `hadns check` prints them, with the folder name cut off. */
function errorsOf(text: string, name = "hadns.yaml"): string[] {
  const file = configFile(text, name);
  return loadConfig(file, {}).errors.map((e) => formatSourceError(e).replace(file, name));
}

describe("a good config", () => {
  it("reads every core key", () => {
    const file = configFile(
      [
        "listen: ['127.0.0.1:5300', '[::1]:5300', '0.0.0.0:53']",
        "zones:",
        "  - file: example.test.zone",
        "    origin: example.test.",
        "  - sub/other.test.zone",
        "zones_dir: more",
        "log: { level: debug, format: pretty }",
        "tcp: { idle_timeout: 1m30s, max_connections: 50, max_pending_bytes: 1048576 }",
        "chaos: { version: hadns 0.1.0, id: ns1 }",
      ].join("\n"),
      "hadns.yaml",
      ["example.test.zone", "sub/other.test.zone", "more/b.zone", "more/a.zone", "more/notes.txt"],
    );
    const d = join(file, "..");
    const { config, errors } = loadConfig(file, {});
    expect(errors).toEqual([]);
    expect(config.listen).toEqual([
      { host: "127.0.0.1", port: 5300 },
      { host: "::1", port: 5300 },
      { host: "0.0.0.0", port: 53 },
    ]);
    // Relative paths are relative to the config file's folder; zones_dir files come sorted after `zones`.
    expect(config.zones).toEqual([
      { file: join(d, "example.test.zone"), origin: "example.test." },
      { file: join(d, "sub/other.test.zone") },
      { file: join(d, "more/a.zone") },
      { file: join(d, "more/b.zone") },
    ]);
    expect(config.log).toEqual({ level: "debug", format: "pretty" });
    expect(config.tcp).toEqual({ idleTimeoutMs: 90_000, maxConnections: 50, maxPendingBytes: 1_048_576 });
    expect(config.chaos).toEqual({ version: "hadns 0.1.0", id: "ns1" });
    expect(config.checks.size).toBe(0);
    expect(config.pools).toEqual([]);
  });

  it("reads JSON the same way, with lines", () => {
    const file = configFile('{\n  "listen": "127.0.0.1:53",\n  "zones": [{ "file": "x.zone" }],\n  "tcp": { "max_pending_bytes": 0 }\n}\n', "hadns.json");
    const { config, errors } = loadConfig(file, {});
    expect(config.listen).toEqual([{ host: "127.0.0.1", port: 53 }]);
    expect(errors.map(formatSourceError)).toEqual([`${file}:4: tcp.max_pending_bytes: expected a whole number from 65536 to 1073741824, got 0`]);
  });

  it("leaves absent keys undefined, so flags and defaults can fill them", () => {
    const { config, errors } = loadConfig(configFile("zones: [a.zone]\n"), {});
    expect(errors).toEqual([]);
    expect(config.listen).toBeUndefined();
    expect(config.log).toEqual({ level: undefined, format: undefined });
    expect(config.tcp).toEqual({});
    expect(config.chaos).toBeUndefined();
  });

  it("ships zones/hadns.yaml without errors", () => {
    const { config, errors } = loadConfig("zones/hadns.yaml", {});
    expect(errors.map(formatSourceError)).toEqual([]);
    expect(config.zones?.[0]?.file).toBe(join("zones", "example.test.zone"));
  });
});

describe("config errors name file, line and key", () => {
  it("unknown keys, with the closest known key", () => {
    expect(errorsOf("zones: [a.zone]\nlisten_on: ['127.0.0.1:53']\ntcp:\n  idle_timout: 5s\n  max_conns: 3\nmetrics: {}\n")).toEqual([
      'hadns.yaml:2: listen_on: unknown key; did you mean "listen"?',
      `hadns.yaml:6: metrics: unknown key; known keys here: ${TOP_LEVEL_KEYS.join(", ")}`,
      'hadns.yaml:4: tcp.idle_timout: unknown key; did you mean "idle_timeout"?',
      "hadns.yaml:5: tcp.max_conns: unknown key; known keys here: idle_timeout, max_connections, max_pending_bytes",
    ]);
    expect(errorsOf("zones:\n  - file: a.zone\n    orign: a.test.\n")).toEqual([
      'hadns.yaml:3: zones[0].orign: unknown key; did you mean "origin"?',
    ]);
  });

  it("bad listen addresses", () => {
    expect(errorsOf("zones: [a.zone]\nlisten:\n  - foo\n  - '::1:53'\n  - 127.0.0.1\n  - 127.0.0.1:70000\n  - 'localhost:53'\n  - '[127.0.0.1]:53'\n")).toEqual([
      'hadns.yaml:3: listen[0]: "foo" is not host:port, e.g. "127.0.0.1:5300" or "[::1]:5300"',
      'hadns.yaml:4: listen[1]: "::1:53" is not host:port; write an IPv6 address in brackets, e.g. "[::1]:5300"',
      'hadns.yaml:5: listen[2]: "127.0.0.1" has no port; write host:port, e.g. "127.0.0.1:5300"',
      'hadns.yaml:6: listen[3]: port 70000 in "127.0.0.1:70000" is over 65535',
      'hadns.yaml:7: listen[4]: "localhost" in "localhost:53" is not an IP address (hadns listens on addresses, not host names)',
      'hadns.yaml:8: listen[5]: "[127.0.0.1]:53": only IPv6 addresses go in brackets',
    ]);
    expect(errorsOf("zones: [a.zone]\nlisten: []\n")).toEqual(["hadns.yaml:2: listen: empty list; give at least one host:port"]);
    expect(errorsOf("zones: [a.zone]\nlisten: { a: 1 }\n")).toEqual(["hadns.yaml:2: listen: expected a list, got a map"]);
  });

  it("bad zones entries", () => {
    expect(errorsOf("zones:\n  - origin: a.test.\n  - file: ''\n  - file: b.zone\n    origin: 'a..b'\n  - [x]\nzones: []\n")).toEqual([
      "hadns.yaml:7: zones: given twice (first on line 1)",
    ]);
    expect(errorsOf("zones:\n  - origin: a.test.\n  - file: ''\n  - file: b.zone\n    origin: 'a..b'\n  - [x]\n")).toEqual([
      "hadns.yaml:2: zones[0].file: missing; a value is required",
      "hadns.yaml:3: zones[1].file: must not be empty",
      'hadns.yaml:5: zones[2].origin: bad origin "a..b": empty label in "a..b"',
      "hadns.yaml:6: zones[3]: expected a map of file, origin, got a list",
    ]);
    expect(errorsOf("zones: example.test.zone\n")).toEqual(["hadns.yaml:1: zones: expected a list, got \"example.test.zone\""]);
  });

  it("a zones_dir that is missing or empty", () => {
    const file = configFile("zones_dir: [nowhere, empty]\n");
    mkdirSync(join(file, "..", "empty"));
    const d = join(file, "..");
    expect(loadConfig(file, {}).errors.map(formatSourceError)).toEqual([
      `${file}:1: zones_dir[0]: ${join(d, "nowhere")}: cannot read this directory (ENOENT)`,
      `${file}:1: zones_dir[1]: ${join(d, "empty")}: no *.zone files in this directory`,
    ]);
  });

  it("log, tcp and chaos values", () => {
    expect(
      errorsOf(
        [
          "zones: [a.zone]",
          "log:",
          "  level: infoo",
          "  format: text",
          "tcp:",
          "  idle_timeout: 10x",
          "  max_connections: lots",
          "  max_pending_bytes: -1",
          "chaos: { version: '', id: 7 }",
        ].join("\n"),
      ),
    ).toEqual([
      'hadns.yaml:3: log.level: "infoo" is not one of fatal, error, warn, info, debug, trace, silent; did you mean "info"?',
      'hadns.yaml:4: log.format: "text" is not one of json, pretty',
      'hadns.yaml:6: tcp.idle_timeout: bad idle_timeout "10x": write seconds ("3600") or numbers with units ms, s, m, h, d, w ("1h30m")',
      'hadns.yaml:7: tcp.max_connections: expected a whole number from 1 to 1000000, got "lots"',
      "hadns.yaml:8: tcp.max_pending_bytes: expected a whole number from 65536 to 1073741824, got -1",
      "hadns.yaml:9: chaos.version: must not be empty",
    ]);
    expect(errorsOf("zones: [a.zone]\ntcp: { idle_timeout: 0 }\nlog: info\n")).toEqual([
      'hadns.yaml:3: log: expected a map of level, format, got "info"',
      "hadns.yaml:2: tcp.idle_timeout: idle_timeout must be more than 0",
    ]);
    expect(errorsOf("zones: [a.zone]\ntcp: { idle_timeout: 1h30 }\n")).toEqual([
      'hadns.yaml:2: tcp.idle_timeout: bad idle_timeout "1h30": the last number needs a unit too (ms, s, m, h, d, w), e.g. "1h30m"',
    ]);
  });

  it("a number where text is expected is taken as text; a map is not", () => {
    const file = configFile("zones: [a.zone]\nchaos: { version: 1.5, id: { x: 1 } }\n");
    const { config, errors } = loadConfig(file, {});
    expect(config.chaos).toEqual({ version: "1.5" });
    expect(errors.map((e) => [e.line, e.message])).toEqual([[2, "chaos.id: expected text, got a map"]]);
  });

  it("YAML syntax errors and duplicate keys", () => {
    expect(errorsOf("zones: [a.zone\nlisten: x\n")[0]).toMatch(/^hadns\.yaml:\d+: syntax error: /);
    expect(errorsOf("zones: [a.zone]\ntcp:\n  max_connections: 1\n  max_connections: 2\n")).toEqual([
      "hadns.yaml:4: tcp.max_connections: given twice (first on line 3)",
    ]);
    expect(errorsOf('{ "zones": ["a.zone"], "zones": [] }', "hadns.json")).toEqual([
      "hadns.json:1: zones: given twice (first on line 1)",
    ]);
  });

  it("a file that is empty, not a map, or missing", () => {
    expect(errorsOf("# nothing here\n")).toEqual([
      `hadns.yaml: the file is empty; expected a map with keys such as ${TOP_LEVEL_KEYS.join(", ")}`,
    ]);
    expect(errorsOf("- a.zone\n")).toEqual([
      `hadns.yaml:1: expected a map of ${TOP_LEVEL_KEYS.join(", ")}, got a list`,
    ]);
    expect(loadConfig(join(dir, "missing.yaml"), {}).errors.map(formatSourceError)).toEqual([
      `${join(dir, "missing.yaml")}: cannot read config file: ENOENT (no such file or directory)`,
    ]);
  });

  it("reports every error of a file in one run", () => {
    expect(errorsOf("listen: [x]\nzones:\n  - file: 3\n    origin: '..'\ntcp: { max_pending_bytes: 0 }\nlgo: {}\n")).toHaveLength(4);
  });
});

describe("source lines", () => {
  const text = "zones:\n  - file: a.zone\n\n  - file: b.zone\n    origin: b.test.\npools:\n  - name: x\n    endpoints:\n      - address: 1.2.3.4\n";
  const { source } = parseConfigSource(text, "c.yaml");

  it("blames a key's line, a list item's first line, or the nearest existing ancestor", () => {
    expect(lineOf(source, ["zones"])).toBe(1);
    expect(lineOf(source, ["zones", 1])).toBe(4);
    expect(lineOf(source, ["zones", 1, "origin"])).toBe(5);
    expect(lineOf(source, ["pools", 0, "endpoints", 0, "address"])).toBe(9);
    expect(lineOf(source, ["pools", 0, "policy"])).toBe(7);
    expect(lineOf(source, ["nothing", "here"])).toBe(1);
  });

  it("gives health.ts a where() with the same rule", () => {
    const r = new SourceReader(source);
    expect(r.where(["pools", 0, "endpoints"])).toEqual({ file: "c.yaml", line: 8 });
  });

  it("suggests only near misses", () => {
    expect(closest("lisen", ["listen", "log"])).toBe("listen");
    expect(closest("idle_timeuot", ["idle_timeout"])).toBe("idle_timeout");
    expect(closest("webhooks", ["listen", "log"])).toBeUndefined();
  });
});

describe("listen addresses", () => {
  it("parses IPv4 and bracketed IPv6, port 0 included", () => {
    expect(parseListenAddress("127.0.0.1:0")).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseListenAddress("[::]:53")).toEqual({ host: "::", port: 53 });
    expect(parseListenAddress("[2001:db8::1]:5300")).toEqual({ host: "2001:db8::1", port: 5300 });
  });
});

describe("flags over config", () => {
  const file = configFile(
    "listen: ['127.0.0.2:5300']\nzones: [example.test.zone]\nlog: { level: warn, format: json }\ntcp: { max_connections: 5 }\nchaos: { id: ns9 }\n",
    "hadns.yaml",
    ["example.test.zone"],
  );
  const d = join(file, "..");

  it("uses the config when no flag is given", () => {
    const { settings, errors } = resolveInputs({ config: file }, {});
    expect(errors).toEqual([]);
    expect(settings.listen).toEqual([{ host: "127.0.0.2", port: 5300 }]);
    expect(settings.listenIsDefault).toBe(false);
    expect(settings.zones).toEqual([{ file: join(d, "example.test.zone") }]);
    expect(settings.log).toEqual({ level: "warn", format: "json" });
    expect(settings.tcp).toEqual({ maxConnections: 5 });
    expect(settings.chaos).toEqual({ id: "ns9" });
  });

  it("lets --listen, --zone, --log-level and --log-format win", () => {
    const { settings, errors } = resolveInputs(
      { config: file, listen: [{ host: "::1", port: 53 }], zone: ["other.zone"], logLevel: "debug", logFormat: "pretty" },
      {},
    );
    expect(errors).toEqual([]);
    expect(settings.listen).toEqual([{ host: "::1", port: 53 }]);
    expect(settings.zones).toEqual([{ file: "other.zone" }]);
    expect(settings.log).toEqual({ level: "debug", format: "pretty" });
    expect(settings.tcp).toEqual({ maxConnections: 5 });
  });

  it("defaults: both loopbacks on port 5300, level info, format chosen by the terminal", () => {
    const { settings } = resolveInputs({ zone: ["a.zone", "./a.zone"] }, {});
    expect(settings.listen).toEqual(DEFAULT_LISTEN);
    expect(settings.listenIsDefault).toBe(true);
    expect(settings.zones).toEqual([{ file: "a.zone" }]);
    expect(settings.log).toEqual({ level: "info" });
  });

  it("--zones-dir lists *.zone files; a missing one is an error", () => {
    const { settings, errors } = resolveInputs({ zonesDir: [d, join(d, "nope")] }, {});
    expect(settings.zones).toEqual([{ file: join(d, "example.test.zone") }]);
    expect(errors.map(formatSourceError)).toEqual([`${join(d, "nope")}: cannot read this directory (ENOENT)`]);
  });

  it("a config with no zones, and no zones on the command line, is an error", () => {
    const f = configFile("listen: ['127.0.0.1:53']\n");
    expect(resolveInputs({ config: f }, {}).errors.map(formatSourceError)).toEqual([
      `${f}: no zones: add \`zones\` or \`zones_dir\`, or give --zone / --zones-dir`,
    ]);
  });

  it("nothing to serve at all is a usage error", () => {
    expect(() => resolveInputs({}, {})).toThrow(UsageError);
  });
});
