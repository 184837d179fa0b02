#!/usr/bin/env node
// The `hadns` command: parses the command line (commander) and runs one verb. Exit codes: 0 done,
// 1 errors in zones, config or at run time, 2 a bad command line.

import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { parseListenAddress } from "../config/load.js";
import { parseWorkers } from "../config/ops.js";
import { LOG_FORMATS, LOG_LEVELS } from "../log.js";
import { UsageError, type InputFlags } from "./inputs.js";
import { check } from "./check.js";
import { serve, type ServeFlags } from "./serve.js";
import { DEFAULT_ADMIN_URL, type AdminFlags } from "./admin-client.js";
import { status, type StatusFlags } from "./status.js";
import { overrideList, overrideRemove, overrideSet, type OverrideSetFlags } from "./override.js";
import { explain } from "./explain.js";
import { reload } from "./reload.js";

const EXIT_USAGE = 2;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number, 1 or more");
  return n;
}

function collect<T>(parse: (s: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}

function listenArg(value: string): ReturnType<typeof parseListenAddress> {
  try {
    return parseListenAddress(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function workersArg(value: string): ReturnType<typeof parseWorkers> {
  try {
    return parseWorkers(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function adminListenArg(value: string): ReturnType<typeof parseListenAddress> | null {
  return value === "off" ? null : listenArg(value);
}

/** Where the admin API is, for the verbs that talk to a running server. */
function addAdminOptions(cmd: Command): Command {
  return cmd
    .option("--admin <url>", `the admin API of the running hadns (default: $HADNS_ADMIN_URL, else ${DEFAULT_ADMIN_URL})`)
    .option("--token <token>", "its bearer token (better: set HADNS_ADMIN_TOKEN, which ps does not show)")
    .option("--json", "print the API's JSON instead of text");
}

/** The zone and config inputs `serve` and `check` share. */
function addInputOptions(cmd: Command): Command {
  return cmd
    .option("-z, --zone <file>", "serve this zone file (repeatable); origin from its $ORIGIN or file name", collect(String))
    .option("-d, --zones-dir <dir>", "serve every *.zone file in this directory (repeatable)", collect(String))
    .option("-c, --config <file>", "YAML or JSON config file (zones, listeners, …); flags override it")
    .option("-l, --listen <host:port>", "address to answer on, UDP and TCP (repeatable; IPv6 as [::1]:5300; port 0 picks one; default: 127.0.0.1:5300 and [::1]:5300)", collect(listenArg));
}

function buildProgram(): Command {
  const program = new Command("hadns")
    .description("Health-aware authoritative DNS server")
    .version(packageVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showHelpAfterError("(run with --help for usage)")
    // Commander exits 1 on a bad command line; ours is 2, leaving 1 for bad zones and config.
    .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  hadns serve --config zones/hadns.yaml",
        "  hadns serve --zone zones/example.test.zone --listen 0.0.0.0:53 --listen [::]:53",
        "  hadns serve --config zones/hadns.yaml --workers 4",
        "  hadns check --zones-dir /etc/hadns/zones",
        "",
        "Exit status: 0 done; 1 errors in zones or config (each printed as file:line: message) or a",
        "failure at run time; 2 a bad command line.",
      ].join("\n"),
    );

  addInputOptions(program.command("serve").description("load the zones and answer queries until SIGTERM or SIGINT"))
    .addOption(new Option("--log-level <level>", "least severe level logged (default: info)").choices(LOG_LEVELS))
    .addOption(new Option("--log-format <format>", "json, or pretty text (default: pretty on a terminal, else json)").choices(LOG_FORMATS))
    .option("--admin-listen <host:port|off>", "admin API and status page address, or off (default: admin.listen of the config, else 127.0.0.1:8053)", adminListenArg)
    .option("--workers <n|auto>", "processes answering queries, sharing the listen addresses; health checks, admin API and reloads stay in one (default: workers of the config, else 1; auto: one per CPU)", workersArg)
    .action(async (opts: ServeFlags) => finish(await run(() => serve(opts))));

  addInputOptions(program.command("check").description("load zones and config, print every error as file:line: message, exit 1 if any"))
    .action(async (opts: InputFlags) => finish(await run(() => check(opts))));

  // Verbs over the admin API of a running hadns.
  addAdminOptions(program.command("status").description("pools, endpoints, answers, overrides and recent transitions of a running hadns"))
    .option("--transitions <n>", "how many recent transitions to show (default 10)", positiveInt)
    .action(async (opts: StatusFlags) => finish(await run(() => status(opts))));

  const override = program
    .command("override")
    .description("take an endpoint out of (or force it into) the answers for a while, list or remove such overrides")
    .addHelpText("after", ["", "Examples:", '  hadns override set --pool app.example.test. --address 192.0.2.10 --action drain --for 30m --reason "maintenance"', '  hadns override set --address 192.0.2.10 --action down --for 2h --reason "rack power"   # every pool', "  hadns override list", "  hadns override rm 3f2a9c1e"].join("\n"));
  addAdminOptions(override.command("set").description("set an override: --address alone applies to every pool's endpoint at that address"))
    .option("--pool <name>", "the pool (e.g. app.example.test.); without it, every pool with an endpoint at --address")
    .requiredOption("--address <address>", "the endpoint's address (or CNAME target) as the pool lists it")
    .addOption(new Option("--action <action>", "down or drain: out of the answers; up: in them whatever the probes say").choices(["down", "up", "drain"]).makeOptionMandatory())
    .requiredOption("--for <duration>", "how long, e.g. 30m, 2h, 1h30m; then it returns to its probed state by itself")
    .requiredOption("--reason <text>", "why, for whoever looks next")
    .action(async (opts: OverrideSetFlags) => finish(await run(() => overrideSet(opts))));
  addAdminOptions(override.command("list").alias("ls").description("list the active overrides"))
    .action(async (opts: AdminFlags) => finish(await run(() => overrideList(opts))));
  addAdminOptions(override.command("rm").alias("remove").argument("<id...>", "override id, or a unique prefix of it (4 characters or more)").description("remove overrides before they expire"))
    .action(async (ids: string[], opts: AdminFlags) => finish(await run(() => overrideRemove(ids, opts))));

  addAdminOptions(program.command("explain").argument("<name>", "the query name").argument("[type]", "the query type (default A)").description("why a name gets the answer it gets now: zone, pools, endpoint states, overrides, records"))
    .action(async (name: string, type: string | undefined, opts: AdminFlags) => finish(await run(() => explain(name, type, opts))));

  addAdminOptions(program.command("reload").description("make a running hadns read its config and zones again (rejected as a whole on any error)"))
    .action(async (opts: AdminFlags) => finish(await run(() => reload(opts))));

  return program;
}

async function run(verb: () => number | Promise<number>): Promise<number> {
  try {
    return await verb();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`hadns: ${e.message} (run with --help for usage)\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`hadns: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

/** Exit once stdout and stderr have drained, even if something still holds the event loop. */
function finish(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

await buildProgram().parseAsync(process.argv);
