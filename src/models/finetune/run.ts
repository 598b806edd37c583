/**
 * The fine-tuning scenario, shared by `mammals finetune` and the tests: take a trained model (float
 * MLP / logreg, or its int8 form), a shifted dataset, and an update scheme; check the scheme's peak
 * training memory against a budget (refusing it, and saying by how much, when it does not fit);
 * fine-tune in place on a sample of shifted training rows; report accuracy before and after on the
 * shifted test split (and on the original one, to show what was forgotten).
 */
import { fail, MammalsError } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { type LabeledSplit, takeRows } from "../../data/types.js";
import { argmax, Sequential } from "../engine/network.js";
import { QuantizedNetwork } from "../int8/network.js";
import { isQuantizedLayer } from "../int8/quantize.js";
import type { Model } from "../types.js";
import { FineTuner, type MemCategory, type TunableLayer, type TuneOptimizer } from "./finetuner.js";
import { formatScheme, type PlanLayer, parseUpdateScheme, planUpdate } from "./scheme.js";

/** The dense layers of a model, as views of its own arrays (tuning changes the model in place). */
export function tunableLayers(model: Model): TunableLayer[] {
  if (model instanceof Sequential) return model.denseLayers("fine-tuning");
  if (model instanceof QuantizedNetwork) return [...model.stack.layers];
  return fail(
    "UNSUPPORTED",
    `fine-tuning supports logreg / MLP models and their int8 forms, not "${model.kind}" (${model.spec})`,
  );
}

/** Lets the planner read weights of either layout (int8 dequantized, without a float copy). */
export function planView(l: TunableLayer): PlanLayer {
  if (isQuantizedLayer(l))
    return { inDim: l.inDim, outDim: l.outDim, weight: (o, j) => l.wt[j * l.outDim + o] * l.wScale[o] };
  return { inDim: l.inDim, outDim: l.outDim, weight: (o, j) => l.W[o * l.inDim + j] };
}

export function modelAccuracy(model: Model, split: LabeledSplit): number {
  if (split.n === 0) return 0;
  const p = model.predictProbaBatch(split.x, split.n);
  let hits = 0;
  for (let i = 0; i < split.n; i++)
    if (argmax(p, i * model.numClasses, model.numClasses) === split.y[i]) hits++;
  return hits / split.n;
}

export interface FinetuneOptions {
  scheme: string;
  budgetBytes: number;
  /** "auto": momentum SGD if it fits the budget, else plain SGD. */
  optimizer: TuneOptimizer | "auto";
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  qas: boolean;
  onBatch?: (done: number, total: number) => void;
}

export interface FinetuneResult {
  scheme: string;
  optimizer: TuneOptimizer;
  peakBytes: number;
  memory: Record<MemCategory, number>;
  /** Parameters (weights + biases) the scheme updates. */
  updatedParams: number;
  trainS: number;
  losses: number[];
}

/** Builds a tuner for the scheme, honouring the budget; throws CAPACITY with the overshoot if it cannot. */
export function tunerWithinBudget(
  layers: TunableLayer[],
  schemeSpec: string,
  budgetBytes: number,
  optimizer: TuneOptimizer | "auto",
  qas = true,
): { tuner: FineTuner; scheme: string; updatedParams: number } {
  const scheme = parseUpdateScheme(schemeSpec);
  const plans = planUpdate(layers.map(planView), scheme);
  const tries: TuneOptimizer[] = optimizer === "auto" ? ["momentum", "sgd"] : [optimizer];
  let tuner: FineTuner | undefined;
  for (const opt of tries) {
    tuner = new FineTuner(layers, plans, { optimizer: opt, qas });
    if (tuner.memory().peakBytes <= budgetBytes) break;
  }
  const t = tuner as FineTuner;
  const { peakBytes, byCategory } = t.memory();
  const name = formatScheme(scheme);
  if (peakBytes > budgetBytes) {
    const parts = Object.entries(byCategory)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    const e = new MammalsError(
      "CAPACITY",
      `update scheme ${name} needs ${peakBytes} bytes (${(peakBytes / 1024).toFixed(1)} KB) per training step ` +
        `with ${t.optimizer} (${parts}); the budget is ${budgetBytes} bytes (${(budgetBytes / 1024).toFixed(1)} KB): ` +
        `over by ${peakBytes - budgetBytes} bytes (${((peakBytes - budgetBytes) / 1024).toFixed(1)} KB)`,
    );
    throw Object.assign(e, { peakBytes, overBytes: peakBytes - budgetBytes });
  }
  const updatedParams = plans.reduce(
    (s, p, i) => s + (p.bias ? layers[i].outDim : 0) + p.columns.length * layers[i].outDim,
    0,
  );
  return { tuner: t, scheme: name, updatedParams };
}

/** Fine-tunes `model` in place on `adapt`. */
export function finetuneModel(model: Model, adapt: LabeledSplit, o: FinetuneOptions): FinetuneResult {
  const layers = tunableLayers(model);
  const { tuner, scheme, updatedParams } = tunerWithinBudget(
    layers,
    o.scheme,
    o.budgetBytes,
    o.optimizer,
    o.qas,
  );
  const t0 = performance.now();
  const losses = tuner.tune(adapt, {
    epochs: o.epochs,
    batch: o.batch,
    lr: o.lr,
    seed: o.seed,
    onBatch: o.onBatch,
  });
  const { peakBytes, byCategory } = tuner.memory();
  return {
    scheme,
    optimizer: tuner.optimizer,
    peakBytes,
    memory: byCategory,
    updatedParams,
    trainS: (performance.now() - t0) / 1000,
    losses,
  };
}

/** A seeded sample of m rows (all rows, shuffled, when m >= n). */
export function sampleRows(split: LabeledSplit, m: number, seed: number): LabeledSplit {
  const rng = new Rng(seed);
  const rows = m >= split.n ? rng.permutation(split.n) : rng.sample(split.n, m);
  return takeRows(split, rows);
}

/** The int8 form of a float MLP / logreg, activation scales calibrated on the first n rows of `calib`. */
export function quantizeForDevice(model: Model, calib: LabeledSplit, n: number): QuantizedNetwork {
  if (model instanceof QuantizedNetwork) return fail("INVALID_ARGUMENT", `${model.spec} is already int8`);
  if (!(model instanceof Sequential))
    return fail(
      "UNSUPPORTED",
      `int8: cannot quantize "${model.kind}" (${model.spec}) for the device; expected logreg or mlp`,
    );
  return QuantizedNetwork.fromFloat(model.denseLayers("int8"), calib.x, Math.min(n, calib.n), {
    kind: model.kind,
    spec: model.spec,
  });
}
