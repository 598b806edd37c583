/**
 * Exact Bregman projection for the SIZE-WEIGHTED negative entropy Phi(y) = sum_m s_m y_m log y_m
 * onto a knapsack polytope Y = { lo <= y_m <= 1, sum_m s_m y_m <= b } (INFIDA's per-node
 * allocation set; docs/idn.md).
 *
 * Why the answer has one scalar: the Bregman divergence of Phi is
 *   D(y, yhat) = sum_m s_m (y_m log(y_m / yhat_m) - y_m + yhat_m),
 * and the KKT conditions of min D(y, yhat) over Y give s_m log(y_m / yhat_m) + lambda s_m = mu_lo - mu_hi,
 * i.e. y_m = clip(c * yhat_m, lo, 1) with ONE scale c = e^{-lambda} <= 1 for every coordinate (the
 * sizes cancel: that is what the size weighting buys). If clip(yhat, lo, 1) already fits the budget,
 * c = 1; otherwise c solves f(c) = sum_m s_m clip(c yhat_m, lo, 1) = b. f is continuous,
 * non-decreasing and piecewise linear in c with breakpoints lo / yhat_m (a coordinate leaves the
 * floor) and 1 / yhat_m (it reaches the cap), so sorting the breakpoints and walking them finds c
 * in O(n log n). The unweighted capped-simplex projection (kl-projection.ts) is the case s = 1,
 * lo = 0 with an equality budget.
 *
 * `lo` > 0 keeps every coordinate away from 0: the entropy never revives a coordinate that reached
 * 0, so a floor lets a node re-learn a model that became useful again (tracking drifting
 * popularity; [D], the projection is still exact onto the smaller polytope).
 */
import { fail } from "../core/errors.js";

/** Where a projection ended: the scale and how much budget the result uses. */
export interface WeightedProjection {
  /** y_m = clip(scale * yhat_m, lo, 1). 1 when the budget did not bind. */
  scale: number;
  /** sum_m s_m y_m of the result. */
  used: number;
}

function checkInput(
  yhat: ArrayLike<number>,
  sizes: ArrayLike<number>,
  budget: number,
  lo: number,
  n: number,
): void {
  if (yhat.length < n || sizes.length < n)
    fail("DIMENSION_MISMATCH", `weighted KL projection: expected ${n} values and sizes`);
  if (!(lo >= 0 && lo < 1))
    fail("INVALID_ARGUMENT", `weighted KL projection: floor lo must be in [0, 1), got ${lo}`);
  let floorMass = 0;
  for (let m = 0; m < n; m++) {
    const s = sizes[m];
    const v = yhat[m];
    if (!(s > 0 && Number.isFinite(s)))
      fail("INVALID_ARGUMENT", `weighted KL projection: size ${m} must be finite and > 0, got ${s}`);
    if (!(v >= 0 && Number.isFinite(v)))
      fail("INVALID_ARGUMENT", `weighted KL projection: coordinate ${m} must be finite and >= 0, got ${v}`);
    floorMass += s * lo;
  }
  if (!(budget >= 0 && Number.isFinite(budget)))
    fail("INVALID_ARGUMENT", `weighted KL projection: budget must be finite and >= 0, got ${budget}`);
  if (floorMass > budget * (1 + 1e-12))
    fail(
      "INVALID_ARGUMENT",
      `weighted KL projection: the floor alone (sum s * lo = ${floorMass}) exceeds the budget ${budget}`,
    );
}

/**
 * Projects `yhat` (n coordinates with sizes `sizes`) onto {lo <= y <= 1, sum s y <= budget} in
 * the size-weighted KL sense, writing the result into `out` (may alias `yhat`).
 * `scratch` (2n entries) and `order` (2n entries) avoid allocation on the hot path.
 */
export function weightedKlProject(
  yhat: ArrayLike<number>,
  sizes: ArrayLike<number>,
  budget: number,
  lo: number,
  out: Float64Array,
  n = yhat.length,
  scratch: Float64Array = new Float64Array(2 * n),
  order: Int32Array = new Int32Array(2 * n),
): WeightedProjection {
  checkInput(yhat, sizes, budget, lo, n);
  // Budget not binding: clip and stop (c = 1).
  let unclipped = 0;
  for (let m = 0; m < n; m++) unclipped += sizes[m] * Math.min(1, Math.max(lo, yhat[m]));
  if (unclipped <= budget) {
    for (let m = 0; m < n; m++) out[m] = Math.min(1, Math.max(lo, yhat[m]));
    return { scale: 1, used: unclipped };
  }
  // Events in increasing c: event 2m is "m leaves the floor" at lo / yhat_m, 2m+1 "m reaches 1"
  // at 1 / yhat_m. A zero yhat_m stays on the floor for every c (its events are at +infinity).
  let events = 0;
  let constant = 0; // sum over floored coordinates of s*lo plus capped coordinates' s
  let slope = 0; // sum over coordinates strictly inside of s*yhat
  for (let m = 0; m < n; m++) {
    const v = yhat[m];
    if (v <= 0) {
      constant += sizes[m] * lo;
      continue;
    }
    if (lo > 0) {
      constant += sizes[m] * lo;
      scratch[events] = lo / v;
      order[events++] = 2 * m;
    } else slope += sizes[m] * v; // with no floor every positive coordinate starts inside
    scratch[events] = 1 / v;
    order[events++] = 2 * m + 1;
  }
  const idx = sortEvents(scratch, order, events);
  let c = 0;
  let scale = Number.NaN;
  for (let e = 0; e < events; e++) {
    const next = scratch[idx[e]];
    // On [c, next] f(x) = constant + x * slope: does it reach the budget there?
    if (slope > 0 && constant + next * slope >= budget) {
      scale = Math.max(c, (budget - constant) / slope);
      break;
    }
    const code = order[idx[e]];
    const m = code >> 1;
    if ((code & 1) === 0) {
      constant -= sizes[m] * lo;
      slope += sizes[m] * yhat[m];
    } else {
      slope -= sizes[m] * yhat[m];
      constant += sizes[m];
    }
    c = next;
  }
  if (Number.isNaN(scale)) {
    // Past every breakpoint f is constant; since f(1) > budget this only happens through
    // rounding: take the last breakpoint.
    scale = c;
  }
  let used = 0;
  for (let m = 0; m < n; m++) {
    const y = Math.min(1, Math.max(lo, scale * yhat[m]));
    out[m] = y;
    used += sizes[m] * y;
  }
  return { scale, used };
}

/** Indices 0..count-1 of `keys` in increasing key order (ties: floor events before cap events). */
function sortEvents(keys: Float64Array, codes: Int32Array, count: number): Int32Array {
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) idx[i] = i;
  idx.sort((a, b) => keys[a] - keys[b] || (codes[a] & 1) - (codes[b] & 1));
  return idx;
}
