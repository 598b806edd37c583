/**
 * The training use case with files: a dataset by name or IDX directory, a model trained and
 * measured (train.ts `trainAndMeasure`), written as a mammals model file.
 */
import { checkOutputPath } from "../data/atomic-write.node.js";
import { loadDataset } from "../data/datasets.node.js";
import type { TrainOptions } from "../models/engine/trainer.js";
import { writeModelFile } from "../models/io/files.node.js";
import { parseModelSpec } from "../models/registry.js";
import type { OnProgress } from "./progress.js";
import { trainAndMeasure } from "./train.js";

export interface TrainJobOptions {
  /** Model spec: logreg, mlp:256,128, projection:T=60,d=10, int8:mlp:32, ... */
  model: string;
  /** mnist (embedded), fashion-mnist, or a directory of IDX files. */
  dataset: string;
  /** Directory searched first for dataset files. */
  dataDir?: string;
  /** Where the model file goes (its directory must exist). */
  out: string;
  /** Training options; unset ones take models/engine/trainer.ts DEFAULT_TRAIN_OPTIONS. */
  train?: Partial<TrainOptions>;
}

/** What `mammals train --json` prints. */
export interface TrainJobResult {
  /** Canonical model spec. */
  model: string;
  testAccuracy: number;
  /** Parameters as stored. */
  bytes: number;
  usPerExample: number;
  trainS: number;
  dataset: string;
  out: string;
  fileBytes: number;
  epochsRun: number;
  bestEpoch: number;
  valAccuracy: number;
  stoppedEarly: boolean;
}

export function runTrain(o: TrainJobOptions, onProgress?: OnProgress): TrainJobResult {
  const spec = parseModelSpec(o.model).spec;
  // Fail before the (long) training, not after it.
  checkOutputPath(o.out, { label: "--out" });
  const ds = loadDataset(o.dataset, { dataDir: o.dataDir });
  const { model, report, testAccuracy, usPerExample } = trainAndMeasure(spec, ds, o.train ?? {}, onProgress);
  const fileBytes = writeModelFile(o.out, model);
  return {
    model: spec,
    testAccuracy,
    bytes: model.bytes,
    usPerExample,
    trainS: report.trainS,
    dataset: ds.name,
    out: o.out,
    fileBytes,
    epochsRun: report.epochs.length,
    bestEpoch: report.bestEpoch,
    valAccuracy: report.bestValAccuracy,
    stoppedEarly: report.stoppedEarly,
  };
}
