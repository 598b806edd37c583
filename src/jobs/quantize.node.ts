/**
 * The int8 quantization use case with files: a float model file in, its int8 form measured against
 * it (quantize.ts `quantizeAndCompare`) and written as a model file.
 */
import { fail } from "../core/errors.js";
import { checkOutputPath } from "../data/atomic-write.node.js";
import { loadDataset } from "../data/datasets.node.js";
import { readModelFile, writeModelFile } from "../models/io/files.node.js";
import type { OnProgress } from "./progress.js";
import { type QuantizeComparison, type QuantizeSettings, quantizeAndCompare } from "./quantize.js";

export interface QuantizeJobOptions extends QuantizeSettings {
  /** Float model file written by `mammals train`. */
  input: string;
  /** Where the int8 model file goes. */
  output: string;
  /** Dataset for calibration (train split) and accuracy (test split). */
  dataset: string;
  /** Directory searched first for dataset files. */
  dataDir?: string;
}

/** What `mammals quantize --json` prints. */
export type QuantizeJobResult = { in: string; out: string } & QuantizeComparison & { fileBytes: number };

export function runQuantize(o: QuantizeJobOptions, onProgress?: OnProgress): QuantizeJobResult {
  // Before calibration and the accuracy runs: a bad --out fails in milliseconds.
  checkOutputPath(o.output, { label: "--out" });
  const model = readModelFile(o.input);
  const ds = loadDataset(o.dataset, { dataDir: o.dataDir });
  if (ds.train.dim !== model.inputDim)
    fail(
      "DIMENSION_MISMATCH",
      `${o.input}: the model expects ${model.inputDim} inputs, ${ds.name} has ${ds.train.dim}`,
    );
  const { quantized, comparison } = quantizeAndCompare(model, ds, o, onProgress);
  const fileBytes = writeModelFile(o.output, quantized);
  return { in: o.input, out: o.output, ...comparison, fileBytes };
}
