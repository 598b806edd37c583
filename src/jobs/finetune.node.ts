/**
 * The on-device fine-tuning use case with files: a trained model file, update schemes compared on a
 * shifted dataset (finetune.ts `compareUpdateSchemes`), the fine-tuned model optionally written.
 */
import { fail } from "../core/errors.js";
import { checkOutputPath } from "../data/atomic-write.node.js";
import { loadDataset } from "../data/datasets.node.js";
import { readModelFile, writeModelFile } from "../models/io/files.node.js";
import type { Model } from "../models/types.js";
import {
  checkSchemeCount,
  compareUpdateSchemes,
  type FinetuneComparison,
  type FinetuneSettings,
} from "./finetune.js";
import type { OnProgress } from "./progress.js";

export interface FinetuneJobOptions extends FinetuneSettings {
  /** Trained model file (mlp / logreg, float or int8). */
  input: string;
  /** mnist (embedded), fashion-mnist, or a directory of IDX files. */
  dataset: string;
  /** Directory searched first for dataset files. */
  dataDir?: string;
  /** Write the fine-tuned model here (one scheme only; float models). */
  out?: string;
}

export function runFinetune(o: FinetuneJobOptions, onProgress?: OnProgress): FinetuneComparison {
  // Before loading anything: a flag mistake should fail in milliseconds.
  checkSchemeCount(o.schemes, o.out !== undefined);
  if (o.out !== undefined) checkOutputPath(o.out, { label: "--out" });
  const ds = loadDataset(o.dataset, { dataDir: o.dataDir });
  const load = (): Model => {
    const m = readModelFile(o.input);
    if (m.inputDim !== ds.train.dim)
      fail(
        "DIMENSION_MISMATCH",
        `${o.input}: the model takes ${m.inputDim} features, ${ds.name} has ${ds.train.dim}`,
      );
    return m;
  };
  const out = o.out;
  return compareUpdateSchemes(load, ds, o, {
    onProgress,
    save: out === undefined ? undefined : (model) => void writeModelFile(out, model),
  });
}
