/**
 * Dependent rounding for a knapsack with HETEROGENEOUS sizes (INFIDA's rounding step, our
 * derivation: docs/idn.md).
 *
 * Classic DepRound (Gandhi et al., JACM 2006; rounding.ts) moves probability mass between two
 * fractional coordinates so that y_i + y_j stays fixed. With sizes, what must stay fixed is the
 * budget used, s_i y_i + s_j y_j: move y_i up by a / s_i and y_j down by a / s_j (or the reverse),
 * with a the largest amount that keeps both in [0, 1]. Choosing the direction with probability
 * proportional to the OTHER direction's amount makes E[change of y_i] = 0, so every marginal is kept:
 * P(x_m = 1) = y_m. Each step makes at least one of the two integral, so after at most n - 1 steps
 * at most one coordinate f is still fractional; it is rounded up with probability equal to its
 * current value (again keeping the marginal).
 *
 * Budget overshoot bound. The pairwise steps keep sum s y exactly, so before the last coin
 * sum_{m != f} s_m x_m + s_f y'_f = sum s y <= b, hence
 *   sum s x <= sum s y + s_f (1 - y'_f) < b + max{ s_m : 0 < y_m < 1 }.
 * The overshoot is strictly less than the largest size among the coordinates that were fractional,
 * and never happens when at most one coordinate was. It cannot be avoided while keeping every
 * marginal: two models of size 0.6 b each with y = 5/6 (sum s y = b) must sometimes both be hosted,
 * because E[x_1 + x_2] = 5/3 > 1. `forbidOvershoot` drops the last coordinate instead when it would
 * overshoot, which keeps the budget at the price of a bias on that one coordinate.
 * Cost: O(n) (one carried fractional coordinate, as in rounding.ts).
 */
import { fail } from "../core/errors.js";
import type { Rng } from "../core/rng.js";

const EPS = 1e-12;

export interface SizedRoundOptions {
  /** Never exceed `budget`: the last fractional coordinate is dropped if it would. */
  forbidOvershoot?: boolean;
  /** The budget checked by `forbidOvershoot` (default: sum s y). */
  budget?: number;
}

/**
 * Rounds y (0 <= y <= 1) to x in {0, 1} with P(x_m = 1) = y_m and sum s x < sum s y + max
 * fractional size (see the file comment). Writes x into `out` (first n entries) and returns it.
 */
export function sizedDepRound(
  y: ArrayLike<number>,
  sizes: ArrayLike<number>,
  rng: Rng,
  out: Uint8Array = new Uint8Array(y.length),
  n = y.length,
  work: Float64Array = new Float64Array(n),
  options: SizedRoundOptions = {},
): Uint8Array {
  let mass = 0;
  for (let m = 0; m < n; m++) {
    const v = y[m];
    const s = sizes[m];
    if (!(v >= -1e-9 && v <= 1 + 1e-9))
      fail("INVALID_ARGUMENT", `sized rounding: y[${m}] must lie in [0, 1], got ${v}`);
    if (!(s > 0 && Number.isFinite(s)))
      fail("INVALID_ARGUMENT", `sized rounding: size ${m} must be finite and > 0, got ${s}`);
    work[m] = v < EPS ? 0 : v > 1 - EPS ? 1 : v;
    mass += s * work[m];
  }
  let cur = -1; // the one fractional coordinate carried along
  for (let j = 0; j < n; j++) {
    if (work[j] === 0 || work[j] === 1) continue;
    if (cur < 0) {
      cur = j;
      continue;
    }
    const si = sizes[cur];
    const sj = sizes[j];
    // Budget mass a moved j -> cur (cur up, j down) or b moved cur -> j.
    const a = Math.min(si * (1 - work[cur]), sj * work[j]);
    const b = Math.min(si * work[cur], sj * (1 - work[j]));
    if (rng.next() * (a + b) < b) {
      work[cur] += a / si;
      work[j] -= a / sj;
    } else {
      work[cur] -= b / si;
      work[j] += b / sj;
    }
    snap(work, cur);
    snap(work, j);
    if (work[cur] === 0 || work[cur] === 1) cur = work[j] === 0 || work[j] === 1 ? -1 : j;
  }
  for (let m = 0; m < n; m++) out[m] = work[m] === 1 ? 1 : 0;
  if (cur >= 0 && rng.next() < work[cur]) {
    out[cur] = 1;
    if (options.forbidOvershoot) {
      let used = 0;
      for (let m = 0; m < n; m++) used += out[m] * sizes[m];
      const budget = options.budget ?? mass;
      if (used > budget * (1 + 1e-12)) out[cur] = 0;
    }
  }
  return out;
}

function snap(v: Float64Array, i: number): void {
  if (v[i] < EPS) v[i] = 0;
  else if (v[i] > 1 - EPS) v[i] = 1;
}

/** The stated bound on sum s x - sum s y: the largest size among fractional coordinates (0 if none). */
export function overshootBound(y: ArrayLike<number>, sizes: ArrayLike<number>, n = y.length): number {
  let bound = 0;
  for (let m = 0; m < n; m++) if (y[m] > EPS && y[m] < 1 - EPS) bound = Math.max(bound, sizes[m]);
  return bound;
}
