/**
 * The `mammals` command line. Each command lives in cli/commands/<name>.ts and exports
 * `register(program)`: its flags, parsed into a use case's options (src/jobs/), the call, and the
 * printing of the result. This file wires them and maps errors to exit codes in one place.
 */
import { Command, CommanderError } from "commander";
import { MammalsError } from "../core/errors.js";
import { COMMANDS } from "./commands/index.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("mammals")
    .description(
      "Memory-augmented models for low-latency ML inference at the edge: k-NN memories, tiny models, " +
        "online memory policies, simulators.\n\nRun `mammals <command> --help` for a command's flags and examples. " +
        "`mammals demo` is the main job (what `npm start` runs).",
    )
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failure, 2 bad usage or bad input). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof MammalsError) {
      process.stderr.write(`mammals: error (${e.code}): ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`mammals: unexpected failure: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}
