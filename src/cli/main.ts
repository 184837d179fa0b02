#!/usr/bin/env node
// The `hadns` command: parses the command line (commander) and runs one verb. Exit codes: 0 done,
// 1 errors in zones, config or at run time, 2 a bad command line.

import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { parseListenAddress } from "../config/load.js";
import { LOG_FORMATS, LOG_LEVELS } from "../log.js";
import { UsageError, type InputFlags } from "./inputs.js";
import { check } from "./check.js";
import { serve } from "./serve.js";

const EXIT_USAGE = 2;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
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
        "  hadns check --zones-dir /etc/hadns/zones",
        "",
        "Exit status: 0 done; 1 errors in zones or config (each printed as file:line: message) or a",
        "failure at run time; 2 a bad command line.",
      ].join("\n"),
    );

  addInputOptions(program.command("serve").description("load the zones and answer queries until SIGTERM or SIGINT"))
    .addOption(new Option("--log-level <level>", "least severe level logged (default: info)").choices(LOG_LEVELS))
    .addOption(new Option("--log-format <format>", "json, or pretty text (default: pretty on a terminal, else json)").choices(LOG_FORMATS))
    .action(async (opts: InputFlags) => finish(await run(() => serve(opts))));

  addInputOptions(program.command("check").description("load zones and config, print every error as file:line: message, exit 1 if any"))
    .action(async (opts: InputFlags) => finish(await run(() => check(opts))));

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
