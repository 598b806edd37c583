/**
 * The page's combination rule: the memory's vote counts in proportion to how close the nearest
 * stored example is,
 *   lambda = maxLambda * exp(-d1 / radius),
 * with d1 the squared L2 distance (in the model's embedding space) to the nearest stored example.
 * Why not the library's learned `adaptive` rule: the point of the page is that one correction
 * changes the answer for the next similar drawing at once, before any rule has had feedback to
 * learn from, and leaves drawings far from every correction to the model. `radius` is the scale
 * of "similar": {@link similarityRadius} measures it on labeled examples with the model at hand, so
 * a user's own model (or a fine-tuned one, whose embedding moved) gets its own.
 */
import type { CombinationRule } from "../../augment/combine.js";
import { check } from "../../core/errors.js";
import type { LabeledNeighbours } from "../../memory/labeled-memory.js";
import type { Model } from "../../models/types.js";

export interface ProximityParams {
  /** Neighbours retrieved (their votes make p_knn). */
  k: number;
  /** Squared embedding distance at which the memory's weight has fallen to maxLambda / e. */
  radius: number;
  /** Weight of p_knn for an exact duplicate of a stored example. */
  maxLambda: number;
}

export function createProximityRule(p: ProximityParams): CombinationRule {
  check(Number.isInteger(p.k) && p.k >= 1, () => `proximity rule: expected k >= 1, got ${p.k}`);
  check(
    Number.isFinite(p.radius) && p.radius > 0,
    () => `proximity rule: expected radius > 0, got ${p.radius}`,
  );
  check(
    p.maxLambda >= 0 && p.maxLambda <= 1,
    () => `proximity rule: expected maxLambda in [0, 1], got ${p.maxLambda}`,
  );
  return {
    name: "proximity",
    spec: `proximity:k=${p.k},radius=${p.radius.toPrecision(4)},maxLambda=${p.maxLambda}`,
    k: p.k,
    // p_knn among the retrieved: neighbours much farther than the nearest barely vote.
    temperature: p.radius,
    lambdaWhenEmpty: 0,
    shouldRetrieve: () => true,
    lambda: (_pm: Float32Array, _pk: Float32Array, nb: LabeledNeighbours) =>
      p.maxLambda * Math.exp(-nb.distances[0] / p.radius),
    learn() {},
  };
}

/**
 * The scale of "a similar drawing" for `model`: the median, over `n` labeled examples, of the
 * squared embedding distance to the nearest other example of the same class, times `fraction`.
 * With fraction 0.5, a drawing as close to a correction as half the typical same-class gap gets a
 * memory weight of maxLambda * e^-2 at that gap and close to maxLambda for a near-duplicate.
 */
export function similarityRadius(
  model: Model,
  x: Float32Array,
  labels: ArrayLike<number>,
  n: number,
  fraction = 0.5,
): number {
  const d = model.embedDim;
  const emb = new Float32Array(n * d);
  const proba = new Float32Array(model.numClasses);
  for (let i = 0; i < n; i++)
    model.embedAndPredict(
      x.subarray(i * model.inputDim, (i + 1) * model.inputDim),
      emb.subarray(i * d, (i + 1) * d),
      proba,
    );
  const nearest: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = Number.POSITIVE_INFINITY;
    for (let j = 0; j < n; j++) {
      if (i === j || labels[i] !== labels[j]) continue;
      let s = 0;
      for (let t = 0; t < d; t++) {
        const v = emb[i * d + t] - emb[j * d + t];
        s += v * v;
      }
      if (s < best) best = s;
    }
    if (Number.isFinite(best) && best > 0) nearest.push(best);
  }
  if (nearest.length === 0) return 1;
  nearest.sort((a, b) => a - b);
  return nearest[Math.floor(nearest.length / 2)] * fraction;
}
