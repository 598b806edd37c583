/**
 * Flags that several commands share, declared once so they read and parse the same everywhere:
 * `--json`, `--data`, `--dataset` and `--seed`. Commands add them with `.addOption(jsonFlag())`
 * and may word the description for their own use; values are parsed by src/jobs/parse.ts.
 */
import { Option } from "commander";

/** Machine output: one JSON object on the last line of stdout (tables and logs go elsewhere). */
export function jsonFlag(description = "print one JSON object on the last line"): Option {
  return new Option("--json", description);
}

/** Where dataset and catalog files are looked up first. */
export function dataFlag(description = "directory searched first for dataset files"): Option {
  return new Option("--data <dir>", description);
}

/** A labeled dataset by name or IDX directory (data/datasets.node.ts `loadDataset`). */
export function datasetFlag(
  description = "mnist (embedded), fashion-mnist, or a directory of IDX files",
): Option {
  return new Option("--dataset <name>", description).default("mnist");
}

/**
 * The seed of a command's random choices (parse it with `parseSeed`). `defaultValue` null declares
 * no default (e.g. `trace gen`, whose generator spec may carry the seed instead).
 */
export function seedFlag(description: string, defaultValue: string | null = "1"): Option {
  const flag = new Option("--seed <n>", description);
  return defaultValue === null ? flag : flag.default(defaultValue);
}
