/** Every CLI command, in the order `mammals --help` lists them. Add one line per new command. */
import type { Command } from "commander";

export const COMMANDS: Array<(program: Command) => void> = [];
