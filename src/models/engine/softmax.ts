/**
 * The softmax, written once for every model: float networks, ProjectionNet, the int8 stacks,
 * fine-tuning and ONNX models that end in logits all call {@link softmaxRows} (or its one-row
 * form {@link softmaxInPlace}), and the training losses below are its cross-entropies.
 *
 * Arithmetic, fixed because saved figures depend on it: subtract the row maximum before
 * exponentiating (so no exp overflows and the largest term is exactly 1), store each exponential
 * as float32, sum them in double, then multiply by 1/sum (one division per row rather than k).
 * Dividing each term by the sum instead rounds to a different float32 only when the double
 * result sits within a double ulp of a float32 rounding boundary: none of 2·10^7 random
 * probabilities did, and the digests in test/models-compat.test.ts pin the models' outputs.
 */
import { check } from "../../core/errors.js";

/**
 * proba[r] = softmax(logits[r]) for n rows of k (row-major). `proba` may be `logits` itself (each
 * logit is read before its slot is written), so a buffer of logits can be turned into
 * probabilities in place.
 */
export function softmaxRows(logits: Float32Array, proba: Float32Array, n: number, k: number): void {
  for (let r = 0; r < n; r++) {
    const o = r * k;
    let max = logits[o];
    for (let j = 1; j < k; j++) if (logits[o + j] > max) max = logits[o + j];
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(logits[o + j] - max);
      proba[o + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < k; j++) proba[o + j] *= inv;
  }
}

/** One row of logits (the whole of `v`) turned into probabilities in place; returns `v`. */
export function softmaxInPlace(v: Float32Array): Float32Array {
  softmaxRows(v, v, 1, v.length);
  return v;
}

/** log sum_j exp(logits[o + j]) over one row of k, computed from the row maximum (stable). */
function rowLogSumExp(logits: Float32Array, o: number, k: number): number {
  let max = logits[o];
  for (let j = 1; j < k; j++) if (logits[o + j] > max) max = logits[o + j];
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(logits[o + j] - max);
  return max + Math.log(sum);
}

/**
 * Mean cross-entropy of softmax(logits) against integer labels, computed as
 * logsumexp(z) - z_y (stable). Writes dL/dlogits = scale · (softmax - onehot) / n into `dLogits`
 * when given (`scale` weights this loss in a sum of losses, e.g. ProjectionNet's λ's; with
 * `accumulate` the gradient is added to what `dLogits` holds). Returns the mean loss (unscaled).
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  labels: ArrayLike<number>,
  n: number,
  k: number,
  dLogits: Float32Array | null,
  scale = 1,
  accumulate = false,
): number {
  let total = 0;
  const g = scale / n;
  for (let r = 0; r < n; r++) {
    const o = r * k;
    const y = labels[r];
    check(Number.isInteger(y) && y >= 0 && y < k, () => `softmaxCrossEntropy: label ${y} not in [0, ${k})`);
    const lse = rowLogSumExp(logits, o, k);
    total += lse - logits[o + y];
    if (dLogits) {
      for (let j = 0; j < k; j++) {
        const d = Math.exp(logits[o + j] - lse) * g;
        dLogits[o + j] = accumulate ? dLogits[o + j] + d : d;
      }
      dLogits[o + y] -= g;
    }
  }
  return total / n;
}

/**
 * Mean cross-entropy of softmax(logits) against soft targets (rows of `targets` sum to 1), the
 * distillation loss: sum_j -t_j log p_j. Gradient scale · (softmax - t) / n into `dLogits`,
 * added to what is there when `accumulate` (so several losses on the same logits can be summed).
 */
export function softCrossEntropy(
  logits: Float32Array,
  targets: Float32Array,
  n: number,
  k: number,
  dLogits: Float32Array | null,
  scale = 1,
  accumulate = false,
): number {
  let total = 0;
  const g = scale / n;
  for (let r = 0; r < n; r++) {
    const o = r * k;
    const lse = rowLogSumExp(logits, o, k);
    for (let j = 0; j < k; j++) {
      const t = targets[o + j];
      total += t * (lse - logits[o + j]);
      if (dLogits) {
        const d = (Math.exp(logits[o + j] - lse) - t) * g;
        dLogits[o + j] = accumulate ? dLogits[o + j] + d : d;
      }
    }
  }
  return total / n;
}
