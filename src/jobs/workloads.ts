/**
 * Edge workloads for the demo and for experiments: a stream of requests drawn from a dataset's test
 * split, with a class mix that is skewed toward a few classes and whose popularity drifts over
 * time, as a local population's would. Each request is a fresh draw passed through an optional
 * transform (small jitter by default), so the stream never repeats an input exactly and a memory
 * cannot win by exact matches alone.
 */
import { fail } from "../core/errors.js";
import type { Rng } from "../core/rng.js";
import type { LabeledSplit } from "../data/types.js";

export interface EdgeRequest {
  /** Position in the stream (also the request id the node sees). */
  id: number;
  x: Float32Array;
  /** True label (the node only learns it through feedback, when it is given). */
  label: number;
  /** Row of the source split it was drawn from. */
  source: number;
  /** Whether the true label is sent back as feedback, and how many requests later. */
  feedbackDelay: number | null;
}

export interface WorkloadOptions {
  count: number;
  /** Classes of the local mix; the first ones start most popular. */
  classes: number[];
  /** Zipf exponent of the class popularity at any moment. */
  skew: number;
  /** How many times the popularity ranking rotates over the stream (the drift). */
  phases: number;
  /** Fraction of requests whose true label comes back as feedback. */
  feedbackFraction: number;
  /** Feedback arrives this many requests after its prediction. */
  feedbackDelay: number;
  /** Applied to every drawn input (style shift, jitter); must not modify its argument. */
  transform?: (x: Float32Array, rng: Rng) => Float32Array;
}

/** Class popularity at stream position t: Zipf over the mix, ranking rotated by phase, blended across phases. */
export function classWeights(
  t: number,
  o: Pick<WorkloadOptions, "count" | "classes" | "skew" | "phases">,
): number[] {
  const m = o.classes.length;
  const pos = (t / Math.max(1, o.count)) * o.phases;
  const phase = Math.floor(pos);
  const frac = pos - phase;
  const zipf = (shift: number) => o.classes.map((_, i) => 1 / (((((i - shift) % m) + m) % m) + 1) ** o.skew);
  const a = zipf(phase);
  const b = zipf(phase + 1);
  // Drift smoothly in the last fifth of each phase rather than jumping.
  const mix = frac < 0.8 ? 0 : (frac - 0.8) / 0.2;
  const w = a.map((v, i) => (1 - mix) * v + mix * b[i]);
  const s = w.reduce((x, y) => x + y, 0);
  return w.map((v) => v / s);
}

export function makeWorkload(split: LabeledSplit, o: WorkloadOptions, rng: Rng): EdgeRequest[] {
  if (o.classes.length === 0) fail("INVALID_ARGUMENT", "workload: expected at least one class in the mix");
  const byClass = new Map<number, number[]>();
  for (const c of o.classes) byClass.set(c, []);
  for (let i = 0; i < split.n; i++) byClass.get(split.y[i])?.push(i);
  for (const [c, rows] of byClass)
    if (rows.length === 0) fail("INVALID_ARGUMENT", `workload: class ${c} has no rows in the split`);
  const out: EdgeRequest[] = [];
  for (let t = 0; t < o.count; t++) {
    const w = classWeights(t, o);
    let u = rng.next();
    let k = 0;
    while (k < w.length - 1 && u >= w[k]) u -= w[k++];
    const rows = byClass.get(o.classes[k])!;
    const row = rows[rng.int(rows.length)];
    const raw = split.x.subarray(row * split.dim, (row + 1) * split.dim);
    const x = o.transform ? o.transform(raw, rng) : raw.slice();
    const fb = rng.next() < o.feedbackFraction ? o.feedbackDelay : null;
    out.push({ id: t, x, label: split.y[row], source: row, feedbackDelay: fb });
  }
  return out;
}
