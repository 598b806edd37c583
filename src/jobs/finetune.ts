/**
 * The on-device fine-tuning use case, browser-safe part: a trained model (optionally in its int8
 * form, as deployed) adapted to a shifted dataset (thicker strokes, rotation, contrast) under a
 * memory budget. For each update scheme: the peak memory of one training step is checked against
 * the budget (a scheme that does not fit is refused, saying by how much), a fresh copy of the model
 * is fine-tuned on a sample of shifted training rows, and accuracy on the shifted test split before
 * and after is measured (and on the original test split, to show forgetting). finetune.node.ts adds
 * model files.
 */
import { fail, isMammalsError } from "../core/errors.js";
import type { Dataset } from "../data/types.js";
import type { TuneOptimizer } from "../models/finetune/finetuner.js";
import {
  type FinetuneResult,
  finetuneModel,
  modelAccuracy,
  quantizeForDevice,
  sampleRows,
} from "../models/finetune/run.js";
import { shiftSplit } from "../models/finetune/shift.js";
import { isStorable } from "../models/registry.js";
import type { Model } from "../models/types.js";
import type { OnProgress } from "./progress.js";

export interface FinetuneSettings {
  /** Distribution shift spec: thicken:r=1, rotate:deg=30, contrast:gain=0.5,offset=0.3. */
  shift: string;
  /** Update schemes compared (models/finetune/scheme.ts): full, last:K, bias, sparse:... */
  schemes: string[];
  /** Memory budget of one training step, in bytes. */
  budgetBytes: number;
  /** Fine-tune the model's int8 form (quantized here, QAS gradient scaling). */
  int8: boolean;
  /** Original training rows used to calibrate int8 activation scales. */
  calib: number;
  /** Shifted training rows available on the device. */
  adapt: number;
  epochs: number;
  batch: number;
  lr: number;
  /** "auto": SGD with momentum if it fits the budget, else plain SGD. */
  optimizer: TuneOptimizer | "auto";
  /** int8: quantization-aware gradient scaling. */
  qas: boolean;
  /** Seed of the adaptation sample and shuffles. */
  seed: number;
}

export interface FinetuneRow extends Partial<FinetuneResult> {
  scheme: string;
  status: "ok" | "refused";
  /** Set when refused: what the step would need and the overshoot. */
  overBytes?: number;
  message?: string;
  shiftedAfter?: number;
  originalAfter?: number;
}

/** What `mammals finetune --json` prints. */
export interface FinetuneComparison {
  model: string;
  int8: boolean;
  dataset: string;
  shift: string;
  budgetBytes: number;
  adaptRows: number;
  epochs: number;
  batch: number;
  lr: number;
  before: { shifted: number; original: number };
  results: FinetuneRow[];
}

export interface FinetuneHooks {
  onProgress?: OnProgress;
  /**
   * Keeps the fine-tuned model (one scheme only; the model must be storable in the mammals format).
   * Called once the scheme's row is measured.
   */
  save?: (model: Model) => void;
}

/** At least one scheme; exactly one when the result is saved. */
export function checkSchemeCount(schemes: string[], saving: boolean): void {
  if (schemes.length === 0) fail("INVALID_ARGUMENT", "--update: expected at least one scheme");
  if (saving && schemes.length !== 1) fail("INVALID_ARGUMENT", "--out: give exactly one --update scheme");
}

/**
 * Compares update schemes on `dataset` shifted by `o.shift`. `load` returns a fresh copy of the
 * trained float model each time it is called (each scheme starts from the same weights).
 */
export function compareUpdateSchemes(
  load: () => Model,
  dataset: Dataset,
  o: FinetuneSettings,
  hooks: FinetuneHooks = {},
): FinetuneComparison {
  checkSchemeCount(o.schemes, hooks.save !== undefined);
  if (!dataset.shape)
    fail("INVALID_ARGUMENT", `${dataset.name}: shifts need image data; the rows are not square images`);
  const shape = dataset.shape;
  const shiftedTest = shiftSplit(dataset.test, shape, o.shift);
  const adapt = shiftSplit(sampleRows(dataset.train, o.adapt, o.seed), shape, o.shift);
  const fresh = (): Model => (o.int8 ? quantizeForDevice(load(), dataset.train, o.calib) : load());
  const base = fresh();
  if (hooks.save && !isStorable(base))
    fail("UNSUPPORTED", `--out: a ${base.kind} model cannot be saved in the mammals format; drop --out`);
  const before = {
    shifted: modelAccuracy(base, shiftedTest),
    original: modelAccuracy(base, dataset.test),
  };
  const results: FinetuneRow[] = [];
  for (const scheme of o.schemes) {
    const model = fresh();
    const batches = o.epochs * Math.ceil(adapt.n / o.batch);
    let done = 0;
    let r: FinetuneResult;
    try {
      r = finetuneModel(model, adapt, {
        ...o,
        scheme,
        onBatch: () => hooks.onProgress?.(++done, batches, `finetune ${scheme}`),
      });
    } catch (e) {
      // One scheme over budget is the user's error; in a comparison it is a row of the table.
      if (!isMammalsError(e, "CAPACITY") || o.schemes.length === 1) throw e;
      const x = e as unknown as { peakBytes: number; overBytes: number };
      results.push({
        scheme,
        status: "refused",
        peakBytes: x.peakBytes,
        overBytes: x.overBytes,
        message: e.message,
      });
      continue;
    }
    results.push({
      ...r,
      status: "ok",
      shiftedAfter: modelAccuracy(model, shiftedTest),
      originalAfter: modelAccuracy(model, dataset.test),
    });
    hooks.save?.(model);
  }
  return {
    model: base.spec,
    int8: o.int8,
    dataset: dataset.name,
    shift: o.shift,
    budgetBytes: o.budgetBytes,
    adaptRows: adapt.n,
    epochs: o.epochs,
    batch: o.batch,
    lr: o.lr,
    before,
    results,
  };
}
