/** Every CLI command, in the order `mammals --help` lists them. Add one line per new command. */
import type { Command } from "commander";
import { register as benchIndex } from "./bench-index.js";

export const COMMANDS: Array<(program: Command) => void> = [benchIndex];
