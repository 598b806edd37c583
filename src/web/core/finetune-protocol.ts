/**
 * The messages between the page and its fine-tuning Web Worker, and the fine-tuning run itself
 * (browser-safe, so the worker file stays a thin message loop and the run is testable in Node).
 *
 * The run is the sparse update scheme of models/finetune (biases of the last layer plus the
 * largest-norm eighth of each layer's input channels), refused when one training step would need
 * more than the budget. Its data: the user's corrections, plus labeled reference digits replayed
 * so that a handful of corrections does not make the model forget the rest.
 */
import { fail } from "../../core/errors.js";
import type { LabeledSplit } from "../../data/types.js";
import { finetuneModel, modelAccuracy } from "../../models/finetune/run.js";
import { loadModel, saveModel } from "../../models/registry.js";

export const FINETUNE_SCHEME = "sparse:bias=1,channels=0.125,weights=all";
/** Peak bytes of one training step (parameters included), as the fine-tuning issue states it. */
export const FINETUNE_BUDGET_BYTES = 256 * 1024;

export interface FinetuneRequest {
  type: "start";
  /** The model to tune, in the mammals model format. */
  model: Uint8Array;
  /** The corrections (row-major inputs and labels). */
  corrections: LabeledSplit;
  /** Reference digits replayed alongside. */
  replay: LabeledSplit;
  epochs: number;
  seed: number;
}

export type FinetuneMessage =
  | { type: "progress"; done: number; total: number }
  | {
      type: "done";
      model: Uint8Array;
      scheme: string;
      peakBytes: number;
      budgetBytes: number;
      updatedParams: number;
      /** Corrections the model alone gets right, before and after. */
      correctionsBefore: number;
      correctionsAfter: number;
      /** Accuracy on the replayed reference digits, before and after (what was forgotten). */
      replayBefore: number;
      replayAfter: number;
      seconds: number;
    }
  | { type: "error"; message: string };

function concat(a: LabeledSplit, b: LabeledSplit): LabeledSplit {
  if (a.dim !== b.dim) fail("DIMENSION_MISMATCH", `fine-tuning rows of ${a.dim} and ${b.dim} values`);
  const x = new Float32Array((a.n + b.n) * a.dim);
  x.set(a.x);
  x.set(b.x, a.n * a.dim);
  const y = new Uint8Array(a.n + b.n);
  y.set(a.y);
  y.set(b.y, a.n);
  return { x, y, n: a.n + b.n, dim: a.dim };
}

/** Runs one fine-tuning request; `post` receives progress and the result (or throws). */
export function runFinetune(req: FinetuneRequest, post: (m: FinetuneMessage) => void): void {
  const model = loadModel(req.model, "model to fine-tune");
  if (req.corrections.n === 0) fail("STATE", "nothing to fine-tune on: store at least one correction first");
  const right = (s: LabeledSplit) => Math.round(modelAccuracy(model, s) * s.n);
  const correctionsBefore = right(req.corrections);
  const replayBefore = modelAccuracy(model, req.replay);
  // Corrections weigh more than one replayed digit each: they are repeated to a quarter of the rows.
  const reps = Math.max(1, Math.round(req.replay.n / 4 / req.corrections.n));
  let data = req.replay;
  for (let r = 0; r < reps; r++) data = concat(data, req.corrections);
  const t0 = performance.now();
  const r = finetuneModel(model, data, {
    scheme: FINETUNE_SCHEME,
    budgetBytes: FINETUNE_BUDGET_BYTES,
    optimizer: "auto",
    epochs: req.epochs,
    batch: 8,
    lr: 0.05,
    seed: req.seed,
    qas: true,
    onBatch: (done, total) => post({ type: "progress", done, total }),
  });
  post({
    type: "done",
    model: saveModel(model),
    scheme: r.scheme,
    peakBytes: r.peakBytes,
    budgetBytes: FINETUNE_BUDGET_BYTES,
    updatedParams: r.updatedParams,
    correctionsBefore,
    correctionsAfter: right(req.corrections),
    replayBefore,
    replayAfter: modelAccuracy(model, req.replay),
    seconds: (performance.now() - t0) / 1000,
  });
}
