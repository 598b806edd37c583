/**
 * The training use case, browser-safe part: a model trained from its spec on a dataset's training
 * split (a seeded validation split held out for early stopping), then its test accuracy and
 * single-example latency. train.node.ts adds datasets and model files on disk.
 */
import type { Dataset } from "../data/types.js";
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions, type TrainReport } from "../models/engine/trainer.js";
import { accuracy, latencyUsPerExample } from "../models/evaluate.js";
import { trainModel } from "../models/registry.js";
import type { Model } from "../models/types.js";
import type { OnProgress } from "./progress.js";

export interface TrainedModel {
  model: Model;
  report: TrainReport;
  testAccuracy: number;
  /** Mean single-threaded predictProba latency (models/evaluate.ts `latencyUsPerExample`). */
  usPerExample: number;
}

/**
 * Trains `spec` on `dataset.train` and measures it on `dataset.test`. Progress counts training
 * rows over every epoch allowed (early stopping ends it sooner); the note is the last epoch's loss
 * and validation accuracy.
 */
export function trainAndMeasure(
  spec: string,
  dataset: Dataset,
  options: Partial<TrainOptions>,
  onProgress?: OnProgress,
): TrainedModel {
  const o = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const nVal = o.valFraction > 0 ? Math.max(1, Math.round(dataset.train.n * o.valFraction)) : 0;
  const total = o.epochs * (dataset.train.n - nVal);
  const phase = `train ${spec}`;
  let note = "";
  let done = 0;
  let epochRows = 0;
  const { model, report } = trainModel(spec, dataset.train, dataset.numClasses, {
    ...options,
    onBatch: (_epoch, rowsDone) => {
      if (rowsDone < epochRows) epochRows = 0; // a new epoch
      done += rowsDone - epochRows;
      epochRows = rowsDone;
      onProgress?.(done, total, phase, note);
    },
    onEpoch: (e) => {
      note = `epoch ${e.epoch} loss ${e.loss.toFixed(4)} val ${(e.valAccuracy * 100).toFixed(2)}%`;
    },
  });
  return {
    model,
    report,
    testAccuracy: accuracy(model, dataset.test),
    usPerExample: latencyUsPerExample(model, dataset.test),
  };
}
