/**
 * Euclidean projection onto the capped simplex Y = { y in [0,1]^n : sum y = h } (for OGA):
 *   y_i = clip(z_i - tau, 0, 1)  with tau the root of  f(tau) = sum_i clip(z_i - tau, 0, 1) - h.
 * f is continuous, piecewise linear and non-increasing, with breakpoints z_i - 1 (coordinate leaves
 * the cap) and z_i (coordinate reaches 0); sorting the 2n breakpoints and walking them finds tau in
 * O(n log n).
 *
 * {@link solveEuclidShift} is the same walk over a SMALL set of coordinates plus a "bulk" of P
 * coordinates known to stay strictly inside (0, 1) whose values sum to B (so they contribute
 * B - P*tau). OGA's lazy state uses it so a step costs O(|candidates| log |candidates|) plus the
 * coordinates that drop to zero (see euclid-state.ts).
 */
import { fail } from "../core/errors.js";

/**
 * The root tau of sum_{i<count} clip(z_i - tau, 0, 1) + bulkSum - bulkCount*tau = h. `scratch`
 * (at least 2*count entries) avoids allocating on the hot path.
 */
export function solveEuclidShift(
  z: ArrayLike<number>,
  count: number,
  bulkCount: number,
  bulkSum: number,
  h: number,
  scratch: Float64Array = new Float64Array(2 * count),
): number {
  const P = bulkCount;
  if (count === 0) {
    if (P > 0) return (bulkSum - h) / P;
    return fail("INVALID_ARGUMENT", "Euclidean projection: nothing carries mass");
  }
  // Breakpoints: z-1 (a coordinate starts decreasing) and z (it reaches 0), sorted separately.
  const lows = scratch.subarray(0, count);
  const highs = scratch.subarray(count, 2 * count);
  for (let i = 0; i < count; i++) {
    lows[i] = z[i] - 1;
    highs[i] = z[i];
  }
  lows.sort();
  highs.sort();
  // Left of every breakpoint all listed coordinates sit at 1.
  let tau = lows[0];
  let f = count + bulkSum - P * tau - h;
  if (f < 0) {
    if (P > 0) return tau + f / P;
    return fail(
      "INVALID_ARGUMENT",
      `Euclidean projection: ${count} coordinates cannot sum to h = ${h} within [0, 1]`,
    );
  }
  let li = 0;
  let hi = 0;
  for (;;) {
    while (li < count && lows[li] <= tau) li++;
    while (hi < count && highs[hi] <= tau) hi++;
    if (li >= count && hi >= count) break;
    const next = Math.min(
      li < count ? lows[li] : Number.POSITIVE_INFINITY,
      hi < count ? highs[hi] : Number.POSITIVE_INFINITY,
    );
    // Coordinates strictly inside (0, 1) on (tau, next): lows passed minus highs passed.
    const slope = li - hi + P;
    const fNext = f - slope * (next - tau);
    if (fNext <= 0) return slope > 0 ? tau + f / slope : tau;
    f = fNext;
    tau = next;
  }
  // Right of every breakpoint all listed coordinates are 0.
  if (P > 0) return tau + f / P;
  if (f <= 1e-12 * Math.max(1, h)) return tau;
  return fail("INVALID_ARGUMENT", `Euclidean projection: cannot reach the target sum h = ${h}`);
}

/** Euclidean projection of z onto {0 <= y <= 1, sum y = h}. Returns a new array (or `out`). */
export function euclidProjectCappedSimplex(
  z: ArrayLike<number>,
  h: number,
  out?: Float64Array,
): Float64Array {
  const n = z.length;
  if (!(Number.isFinite(h) && h > 0))
    fail("INVALID_ARGUMENT", `Euclidean projection: target sum h must be a positive number, got ${h}`);
  if (h > n) fail("INVALID_ARGUMENT", `Euclidean projection: target sum h = ${h} exceeds the dimension ${n}`);
  for (let i = 0; i < n; i++)
    if (!Number.isFinite(z[i]))
      fail("INVALID_ARGUMENT", `Euclidean projection: coordinate ${i} must be finite, got ${z[i]}`);
  const tau = solveEuclidShift(z, n, 0, 0, h);
  const y = out ?? new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.min(1, Math.max(0, z[i] - tau));
  return y;
}
