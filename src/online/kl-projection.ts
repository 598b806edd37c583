/**
 * Exact KL (negative-entropy Bregman) projection onto the capped simplex
 *   Y = { y in [0,1]^n : sum y = h }.
 * The minimiser of KL(y || yhat) over Y has the form y_i = min(1, m * yhat_i) for one scale m > 0
 * (KKT: log(y_i / yhat_i) = log m - mu_i, with mu_i >= 0 only where y_i = 1). Sorting yhat in
 * decreasing order, the capped coordinates are the top b, and b is the smallest b >= 0 with
 *   m_b = (h - b) / sum_{i > b} yhat_(i)   and   m_b * yhat_(b+1) < 1.
 * O(n log n) for the sort. Zeros stay zero (the entropy keeps supports), so at least h positive
 * entries are needed.
 *
 * {@link solveKlScale} is the same search over a SMALL set of coordinates that may be capped plus
 * a "rest" mass known never to be capped; AÇAI's lazy state uses it so a step costs
 * O(|candidates| log |candidates|), not O(n) (see entropic-state.ts for why the rest never caps).
 */
import { fail } from "../core/errors.js";

export interface KlScale {
  /** The scale: y_i = min(1, m * yhat_i). */
  m: number;
  /** How many of the sorted values are capped at 1 (the first b). */
  capped: number;
}

/**
 * Finds m and b for values `sorted` (decreasing, non-negative, first `count` used) plus a mass
 * `rest` >= 0 of coordinates that are never capped, so that sum min(1, m*v) + m*rest = h.
 */
export function solveKlScale(sorted: ArrayLike<number>, count: number, rest: number, h: number): KlScale {
  // Mass at positions >= b (plus the rest), summed from the small end so that huge top values do
  // not swallow the small ones through cancellation.
  const suffix = new Float64Array(count + 1);
  suffix[count] = rest;
  for (let i = count - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + sorted[i];
  let m = 0;
  let b = 0;
  for (; b < count && b < h; b++) {
    m = (h - b) / suffix[b];
    if (m * sorted[b] < 1) return { m, capped: b };
  }
  const below = suffix[b];
  // Every listed value is capped (or b reached h).
  // b = h: in exact arithmetic the loop stops earlier unless exactly h coordinates carry mass; in
  // floating point a huge top value can absorb the rest. Keep the last scale: the rest keeps its
  // (negligible) mass rather than collapsing to 0, which the entropy forbids.
  if (b === h) return { m: below > 0 ? m : 0, capped: b };
  if (!(below > 0))
    return fail(
      "INVALID_ARGUMENT",
      `KL projection: only ${b} coordinates can carry mass but the target sum is ${h}`,
    );
  return { m: (h - b) / below, capped: b };
}

function checkInput(v: ArrayLike<number>, h: number, what: string): number {
  const n = v.length;
  if (!(Number.isFinite(h) && h > 0))
    fail("INVALID_ARGUMENT", `${what}: target sum h must be a positive number, got ${h}`);
  if (h > n) fail("INVALID_ARGUMENT", `${what}: target sum h = ${h} exceeds the dimension ${n}`);
  let positive = 0;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (!(x >= 0 && Number.isFinite(x)))
      fail("INVALID_ARGUMENT", `${what}: coordinate ${i} must be finite and >= 0, got ${x}`);
    if (x > 0) positive++;
  }
  return positive;
}

/** KL projection of `yhat` (>= 0) onto {0 <= y <= 1, sum y = h}. Returns a new array (or `out`). */
export function klProjectCappedSimplex(yhat: ArrayLike<number>, h: number, out?: Float64Array): Float64Array {
  const n = yhat.length;
  const positive = checkInput(yhat, h, "KL projection");
  if (positive < h)
    fail(
      "INVALID_ARGUMENT",
      `KL projection: ${positive} positive coordinates cannot sum to h = ${h} within [0, 1] (zeros stay zero)`,
    );
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => yhat[b] - yhat[a] || a - b);
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = yhat[order[i]];
  const { m, capped } = solveKlScale(sorted, n, 0, h);
  const y = out ?? new Float64Array(n);
  for (let i = 0; i < n; i++) y[order[i]] = i < capped ? 1 : Math.min(1, m * sorted[i]);
  return y;
}
