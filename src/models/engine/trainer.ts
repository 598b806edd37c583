/**
 * The minibatch training loop, written once for every trainable model.
 *
 * Anything that can compute a loss and gradients on a minibatch (a {@link TrainingTask}) is
 * trained by {@link runTraining}: a seeded validation split held out of the training rows, a seeded
 * reshuffle every epoch, an optimizer step per minibatch, an optional learning-rate schedule,
 * and early stopping that restores the weights of the best validation epoch. A Sequential
 * network is a TrainingTask; ProjectionNet's joint trainer/projection loss is another.
 */
import { check, fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { type LabeledSplit, takeRows } from "../../data/types.js";
import { markWeightsChanged } from "../wasm/kernels.js";
import type { Param } from "./layers.js";
import { createOptimizer, type Optimizer, type OptimizerName } from "./optim.js";

export interface TrainingTask {
  /** Every tensor the optimizer may update; also what early stopping snapshots and restores. */
  params(): Param[];
  /** Forward and backward on n rows: fills the trainable params' gradients, returns the mean loss. */
  lossAndGrad(x: Float32Array, y: Uint8Array, n: number): number;
  /** Accuracy on a labelled split (used on the validation split). */
  evaluate(split: LabeledSplit): number;
}

export type LrSchedule = "constant" | "cosine" | "step";

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  /** SGD momentum (ignored by Adam). */
  momentum: number;
  weightDecay: number;
  /** Fraction of the training rows held out for validation / early stopping (0 = none). */
  valFraction: number;
  /** Stop after this many epochs without a better validation accuracy (0 = never stop early). */
  patience: number;
  /** constant; cosine decay to 0 over `epochs`; step = ×0.1 at 50% and 75% of the epochs. */
  schedule: LrSchedule;
  seed: number;
  /** Stop at the end of the first epoch that ends after this many seconds (0 = no limit). */
  maxSeconds: number;
  /** An optimizer to use instead of creating one from the fields above (fine-tuning passes its own). */
  optimizerInstance?: Optimizer;
  onEpoch?: (e: EpochStats) => void;
  /** Called after every minibatch with the rows done so far in this epoch and the epoch's total. */
  onBatch?: (epoch: number, rowsDone: number, rowsTotal: number) => void;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  epochs: 20,
  batchSize: 128,
  optimizer: "adam",
  lr: 1e-3,
  momentum: 0.9,
  weightDecay: 0,
  valFraction: 0.1,
  patience: 4,
  schedule: "cosine",
  seed: 1,
  maxSeconds: 0,
};

export interface EpochStats {
  epoch: number;
  /** Mean minibatch loss over the epoch. */
  loss: number;
  /** NaN when there is no validation split. */
  valAccuracy: number;
  lr: number;
  seconds: number;
}

export interface TrainReport {
  epochs: EpochStats[];
  /** Epoch whose weights were kept (1-based; the last one without validation). */
  bestEpoch: number;
  bestValAccuracy: number;
  stoppedEarly: boolean;
  trainRows: number;
  valRows: number;
  trainS: number;
}

export function runTraining(
  task: TrainingTask,
  data: LabeledSplit,
  options: Partial<TrainOptions> = {},
): TrainReport {
  const o = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  checkOptions(o);
  if (data.x.length !== data.n * data.dim)
    fail("DIMENSION_MISMATCH", `runTraining: ${data.x.length} values is not ${data.n} rows × ${data.dim}`);
  // One pass to refuse NaN/Infinity up front, rather than report a "diverged" loss later.
  for (let i = 0; i < data.x.length; i++)
    if (!Number.isFinite(data.x[i]))
      fail(
        "INVALID_ARGUMENT",
        `runTraining: row ${Math.floor(i / data.dim)} column ${i % data.dim} is ${data.x[i]}; expected a finite number`,
      );
  const rng = new Rng(o.seed);
  const order = rng.permutation(data.n);
  const nVal = o.valFraction > 0 ? Math.max(1, Math.round(data.n * o.valFraction)) : 0;
  if (data.n - nVal < 1)
    fail("INVALID_ARGUMENT", `runTraining: ${data.n} rows leave none for training after validation`);
  const val = nVal > 0 ? takeRows(data, order.subarray(0, nVal)) : null;
  const rows = order.slice(nVal);
  const nTrain = rows.length;

  const params = task.params();
  const opt = o.optimizerInstance ?? createOptimizer(o);
  const baseLr = o.optimizerInstance ? o.optimizerInstance.lr : o.lr;
  const dim = data.dim;
  const bs = Math.min(o.batchSize, nTrain);
  const xb = new Float32Array(bs * dim);
  const yb = new Uint8Array(bs);

  const report: TrainReport = {
    epochs: [],
    bestEpoch: 0,
    bestValAccuracy: Number.NEGATIVE_INFINITY,
    stoppedEarly: false,
    trainRows: nTrain,
    valRows: nVal,
    trainS: 0,
  };
  let best: Float32Array[] | null = null;
  const t0 = performance.now();
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const te = performance.now();
    opt.lr = scheduledLr(o.schedule, baseLr, epoch - 1, o.epochs);
    rng.shuffle(rows);
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < nTrain; start += bs) {
      const n = Math.min(bs, nTrain - start);
      for (let r = 0; r < n; r++) {
        const i = rows[start + r];
        xb.set(data.x.subarray(i * dim, (i + 1) * dim), r * dim);
        yb[r] = data.y[i];
      }
      const loss = task.lossAndGrad(xb.subarray(0, n * dim), yb.subarray(0, n), n);
      if (!Number.isFinite(loss))
        fail(
          "STATE",
          `runTraining: the loss became ${loss} in epoch ${epoch}; training diverged (try a smaller --lr)`,
        );
      opt.step(params);
      lossSum += loss;
      batches++;
      o.onBatch?.(epoch, start + n, nTrain);
    }
    const valAccuracy = val ? task.evaluate(val) : Number.NaN;
    const stats: EpochStats = {
      epoch,
      loss: lossSum / batches,
      valAccuracy,
      lr: opt.lr,
      seconds: (performance.now() - te) / 1000,
    };
    report.epochs.push(stats);
    o.onEpoch?.(stats);
    if (!val || valAccuracy > report.bestValAccuracy) {
      report.bestEpoch = epoch;
      report.bestValAccuracy = val ? valAccuracy : Number.NaN;
      if (val) best = snapshot(params, best);
    } else if (o.patience > 0 && epoch - report.bestEpoch >= o.patience) {
      report.stoppedEarly = true;
      break;
    }
    if (o.maxSeconds > 0 && (performance.now() - t0) / 1000 >= o.maxSeconds) {
      report.stoppedEarly = epoch < o.epochs;
      break;
    }
  }
  if (best) params.forEach((p, i) => p.value.set(best[i]));
  markWeightsChanged(...params.map((p) => p.value));
  report.trainS = (performance.now() - t0) / 1000;
  return report;
}

/** Learning rate for a 0-based epoch. */
export function scheduledLr(schedule: LrSchedule, lr: number, epoch: number, epochs: number): number {
  if (schedule === "cosine") return lr * 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs));
  if (schedule === "step") return lr * (epoch >= 0.75 * epochs ? 0.01 : epoch >= 0.5 * epochs ? 0.1 : 1);
  return lr;
}

function snapshot(params: Param[], into: Float32Array[] | null): Float32Array[] {
  const out = into ?? params.map((p) => new Float32Array(p.value.length));
  params.forEach((p, i) => out[i].set(p.value));
  return out;
}

function checkOptions(o: TrainOptions): void {
  const posInt = (v: number, what: string) =>
    check(Number.isInteger(v) && v > 0, () => `runTraining: ${what} must be a positive integer, got ${v}`);
  posInt(o.epochs, "epochs");
  posInt(o.batchSize, "batchSize");
  check(
    o.valFraction >= 0 && o.valFraction < 1,
    () => `runTraining: valFraction must be in [0, 1), got ${o.valFraction}`,
  );
  check(
    Number.isInteger(o.patience) && o.patience >= 0,
    () => `runTraining: patience must be an integer >= 0, got ${o.patience}`,
  );
  check(o.maxSeconds >= 0, () => `runTraining: maxSeconds must be >= 0, got ${o.maxSeconds}`);
  check(
    ["constant", "cosine", "step"].includes(o.schedule),
    () => `runTraining: schedule must be constant, cosine or step, got "${o.schedule}"`,
  );
}
