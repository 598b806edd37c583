/**
 * Measuring any {@link Model} the same way: test accuracy through the batch API, and the
 * single-example latency of `predictProba` (the figure the edge node's fast path pays).
 */
import { fail } from "../core/errors.js";
import type { LabeledSplit } from "../data/types.js";
import { argmax } from "./engine/network.js";
import type { Model } from "./types.js";

/** Fraction of rows whose most probable class is the label (batch API, chunks of 1000 rows). */
export function accuracy(model: Model, split: LabeledSplit): number {
  if (split.dim !== model.inputDim)
    fail("DIMENSION_MISMATCH", `accuracy: split has ${split.dim} features, model expects ${model.inputDim}`);
  const k = model.numClasses;
  let correct = 0;
  for (let r = 0; r < split.n; r += 1000) {
    const m = Math.min(1000, split.n - r);
    const p = model.predictProbaBatch(split.x.subarray(r * split.dim, (r + m) * split.dim), m);
    for (let i = 0; i < m; i++) if (argmax(p, i * k, k) === split.y[r + i]) correct++;
  }
  return split.n === 0 ? 0 : correct / split.n;
}

export interface LatencyOptions {
  /** Examples timed (the first rows of the split). */
  examples?: number;
  /** Examples per timed chunk. */
  chunk?: number;
  /** Timings of each chunk; the fastest counts. */
  repeats?: number;
}

/**
 * Mean microseconds of one `predictProba(x, out)` call (single example, single thread, no
 * allocation) over the split's first rows. After an untimed warm-up, the rows are timed in
 * small chunks, each chunk `repeats` times keeping its fastest time: on a shared machine a
 * chunk of ~100 calls (about a millisecond) usually runs without being preempted at least once,
 * so the figure is the model's cost, not the scheduler's. Every row counts once in the mean.
 */
export function latencyUsPerExample(model: Model, split: LabeledSplit, o: LatencyOptions = {}): number {
  const n = Math.min(o.examples ?? 2000, split.n);
  const chunk = o.chunk ?? 100;
  const repeats = o.repeats ?? 5;
  if (n === 0) fail("INVALID_ARGUMENT", "latencyUsPerExample: the split has no rows");
  const out = new Float32Array(model.numClasses);
  const d = split.dim;
  let sink = 0;
  const run = (from: number, to: number) => {
    const t = performance.now();
    for (let i = from; i < to; i++) sink += model.predictProba(split.x.subarray(i * d, (i + 1) * d), out)[0];
    return performance.now() - t;
  };
  run(0, n);
  let totalMs = 0;
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < repeats; r++) best = Math.min(best, run(from, to));
    totalMs += best;
  }
  if (Number.isNaN(sink)) fail("STATE", "latencyUsPerExample: the model returned NaN probabilities");
  return (totalMs * 1000) / n;
}
