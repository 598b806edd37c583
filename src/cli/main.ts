/**
 * The `mammals` command line. Each command lives in cli/commands/<name>.ts and exports
 * `register(program)`: its flags, parsed into a use case's options (src/jobs/), the call, and the
 * printing of the result. This file wires them and maps errors to exit codes in one place, and owns
 * the process-level hygiene: `--version`, a closed stdout pipe (EPIPE) ending quietly, `--json`
 * failures as one JSON line, and library warnings routed to stderr.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { MammalsError } from "../core/errors.js";
import { setWarningHandler } from "../core/warnings.js";
import { COMMANDS } from "./commands/index.js";

/** The package version; package.json sits two levels up from both src/cli/ and dist/cli/. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    // A copied dist/ without its package.json must still run; the version is then unknown.
    return "unknown";
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("mammals")
    .description(
      "Memory-augmented models for low-latency ML inference at the edge: k-NN memories, tiny models, " +
        "online memory policies, simulators.\n\nRun `mammals <command> --help` for a command's flags and examples. " +
        "`mammals demo` is the main job (what `npm start` runs).",
    )
    .version(packageVersion(), "-V, --version", "print the version of mammals and exit")
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** True when the stream error is a reader that went away (`mammals ... | head -1`). */
function isBrokenPipe(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED";
}

let processHooksInstalled = false;

/**
 * Once per process: a reader closing the pipe is not a failure of ours (the shell convention is a
 * quiet exit, as `yes | head -1` does), so EPIPE on stdout ends the process with 0 instead of an
 * unhandled 'error' event and a stack trace. Warnings from the library (an unverifiable trace, a
 * slower kernel) go to stderr in the CLI's own words, so they never mix with stdout's JSON line.
 */
function installProcessHooks(): void {
  if (processHooksInstalled) return;
  processHooksInstalled = true;
  process.stdout.on("error", (e) => {
    if (isBrokenPipe(e)) process.exit(0);
    throw e;
  });
  setWarningHandler((w) => {
    process.stderr.write(`mammals: warning (${w.code}): ${w.message}\n`);
  });
}

/** Whether the user asked for machine output (flags after a bare `--` are operands, not flags). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

/**
 * With `--json`, a failure is one JSON object on the last line of stdout, so a machine caller
 * reading that line always gets either the result or `{"error":{code,message}}`.
 */
function printJsonError(code: string, message: string): void {
  try {
    process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  } catch {
    // stdout already gone (EPIPE): nobody is left to read the JSON; stderr still has the text.
  }
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failure, 2 bad usage or bad input). */
export async function main(argv: string[]): Promise<number> {
  installProcessHooks();
  const json = wantsJson(argv);
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      // Commander already printed its message (and the help) on stderr.
      if (json) printJsonError("INVALID_ARGUMENT", e.message.replace(/^error: /, ""));
      return 2;
    }
    if (isBrokenPipe(e)) return 0;
    if (e instanceof MammalsError) {
      process.stderr.write(`mammals: error (${e.code}): ${e.message}\n`);
      if (json) printJsonError(e.code, e.message);
      return 2;
    }
    process.stderr.write(`mammals: unexpected failure: ${(e as Error)?.stack ?? String(e)}\n`);
    // Not a typed error (a bug, or a system error nobody wrapped): a generic code, the message.
    if (json) printJsonError("INTERNAL", (e as Error)?.message ?? String(e));
    return 1;
  }
}
