/**
 * The int8 quantization use case, browser-safe part: a float model (logreg, mlp, projection)
 * quantized after training (per-output-channel int8 weights, int8 activations with scales
 * calibrated on a seeded sample of the training split, int32 accumulation), and both forms measured
 * on the test split: size, accuracy, single-example latency. quantize.node.ts adds model files.
 */
import { fail } from "../core/errors.js";
import type { Dataset } from "../data/types.js";
import { accuracy, latencyUsPerExample } from "../models/evaluate.js";
import { quantizeModel } from "../models/int8/family.js";
import type { StorableModel } from "../models/io/format.js";
import type { Model } from "../models/types.js";
import { type OnProgress, progressCounter } from "./progress.js";

export interface QuantizeSettings {
  /** Training rows sampled (seeded) to calibrate the activation scales. */
  calibRows: number;
  /** Activation range: max |activation|, or a percentile of it. */
  calibration: "max" | "percentile";
  /** Percentile of |activation| mapped to 127 with `calibration: "percentile"`. */
  percentile: number;
  /** Seed of the calibration sample. */
  seed: number;
}

export interface QuantizeComparison {
  /** Dataset name. */
  dataset: string;
  model: string;
  quantized: string;
  floatBytes: number;
  int8Bytes: number;
  compression: number;
  floatAccuracy: number;
  int8Accuracy: number;
  /** floatAccuracy - int8Accuracy, in accuracy points (percent). */
  accuracyDropPoints: number;
  floatUsPerExample: number;
  int8UsPerExample: number;
  /** "max" or "percentile:P". */
  calibration: string;
  calibRows: number;
}

/** Quantizes `model` and measures both forms; returns the int8 model and the comparison. */
export function quantizeAndCompare(
  model: Model,
  dataset: Dataset,
  o: QuantizeSettings,
  onProgress?: OnProgress,
): { quantized: Model & StorableModel; comparison: QuantizeComparison } {
  if (dataset.train.dim !== model.inputDim)
    fail(
      "DIMENSION_MISMATCH",
      `${model.spec}: the model expects ${model.inputDim} inputs, ${dataset.name} has ${dataset.train.dim}`,
    );
  const steps = progressCounter(onProgress, 5, "quantize");
  const q = quantizeModel(model, dataset.train, {
    rows: o.calibRows,
    seed: o.seed,
    method: o.calibration,
    percentile: o.percentile,
  });
  steps.tick(1, "float accuracy");
  const floatAccuracy = accuracy(model, dataset.test);
  steps.tick(1, "int8 accuracy");
  const int8Accuracy = accuracy(q, dataset.test);
  steps.tick(1, "float latency");
  const floatUs = latencyUsPerExample(model, dataset.test);
  steps.tick(1, "int8 latency");
  const int8Us = latencyUsPerExample(q, dataset.test);
  steps.tick(1);
  return {
    quantized: q,
    comparison: {
      dataset: dataset.name,
      model: model.spec,
      quantized: q.spec,
      floatBytes: model.bytes,
      int8Bytes: q.bytes,
      compression: model.bytes / q.bytes,
      floatAccuracy,
      int8Accuracy,
      accuracyDropPoints: 100 * (floatAccuracy - int8Accuracy),
      floatUsPerExample: floatUs,
      int8UsPerExample: int8Us,
      calibration: o.calibration === "max" ? "max" : `percentile:${o.percentile}`,
      calibRows: Math.min(o.calibRows, dataset.train.n),
    },
  };
}
