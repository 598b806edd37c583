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
  /**
   * Squared embedding distance at which the memory's weight has fallen to maxLambda / e; or a
   * function computing it, called once, the first time the memory has something to say (so a
   * page whose memory is empty does not pay for measuring it before its first answer).
   */
  radius: number | (() => number);
  /** Weight of p_knn for an exact duplicate of a stored example. */
  maxLambda: number;
}

export interface ProximityRule extends CombinationRule {
  /** The radius, measured now if it was given as a function and not measured yet. */
  resolveRadius(): number;
}

/**
 * The rule. With a lazy radius, call `resolveRadius()` before the first prediction against a
 * non-empty memory: until then `temperature` reads 1, which is harmless only because an empty
 * neighbour list gives the same p_knn whatever the temperature.
 */
export function createProximityRule(p: ProximityParams): ProximityRule {
  check(Number.isInteger(p.k) && p.k >= 1, () => `proximity rule: expected k >= 1, got ${p.k}`);
  let radius = typeof p.radius === "number" ? p.radius : Number.NaN;
  const measure = typeof p.radius === "function" ? p.radius : null;
  const r = (): number => {
    if (Number.isNaN(radius) && measure) radius = measure();
    check(Number.isFinite(radius) && radius > 0, () => `proximity rule: expected radius > 0, got ${radius}`);
    return radius;
  };
  if (!measure) r();
  check(
    p.maxLambda >= 0 && p.maxLambda <= 1,
    () => `proximity rule: expected maxLambda in [0, 1], got ${p.maxLambda}`,
  );
  return {
    name: "proximity",
    get spec() {
      return `proximity:k=${p.k},radius=${r().toPrecision(4)},maxLambda=${p.maxLambda}`;
    },
    k: p.k,
    // p_knn among the retrieved: neighbours much farther than the nearest barely vote.
    get temperature() {
      return Number.isNaN(radius) ? 1 : radius;
    },
    resolveRadius: r,
    lambdaWhenEmpty: 0,
    shouldRetrieve: () => true,
    lambda: (_pm: Float32Array, _pk: Float32Array, nb: LabeledNeighbours) =>
      p.maxLambda * Math.exp(-nb.distances[0] / r()),
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
  // One batched forward pass (a matrix product), not n single ones: this runs before the first answer.
  const emb = model.embedBatch(x.subarray(0, n * model.inputDim), n);
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
