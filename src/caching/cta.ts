/**
 * Characteristic-time approximation (CTA, "Che's approximation") of exact-match caches under the
 * independent reference model: the analytical reference that qLRU and LRU simulations are checked
 * against. Exact as the cache grows; at small h real caches fall below it (docs/sim.md).
 *
 * qLRU (LRU is q = 1): object i at a request instant is stored iff, at its previous request, it
 * was stored or was then inserted (w.p. q), and the gap since is shorter than T requests
 * (w.p. 1 - e_i, e_i = (1 - p_i)^T). So pi_i = (pi_i + (1 - pi_i) q)(1 - e_i), i.e.
 * pi_i = q(1 - e_i) / (e_i + q(1 - e_i)); T solves sum_i pi_i = h. As q -> 0, pi_i -> 1 above a
 * popularity threshold and 0 below: the h most popular objects (static LFU). Browser-safe.
 */
import { fail } from "../core/errors.js";

export interface CtaResult {
  /** Hit ratio sum_i p_i pi_i. */
  hitRatio: number;
  /** The characteristic time T, in requests. */
  T: number;
  /** Per-object probability of being stored (= hit probability, by the memoryless arrivals). */
  stored: Float64Array;
}

/** qLRU under the CTA for per-request popularities p (summing to 1), capacity h, insertion probability q. */
export function qlruCta(p: Float64Array, h: number, q: number): CtaResult {
  if (!(q > 0 && q <= 1)) fail("INVALID_ARGUMENT", `qlruCta: q must be in (0, 1], got ${q}`);
  let nonzero = 0;
  for (const x of p) {
    if (!(x >= 0 && x <= 1)) fail("INVALID_ARGUMENT", `qlruCta: popularities must lie in [0, 1], got ${x}`);
    if (x > 0) nonzero++;
  }
  if (!(Number.isInteger(h) && h >= 1 && h < nonzero))
    fail(
      "INVALID_ARGUMENT",
      `qlruCta: h must be an integer in [1, ${nonzero - 1}] (objects ever requested - 1), got ${h}`,
    );
  const storedAt = (T: number, x: number) => {
    if (x === 0) return 0;
    const e = Math.exp(T * Math.log1p(-x));
    return (q * (1 - e)) / (e + q * (1 - e));
  };
  const occupancy = (T: number) => {
    let s = 0;
    for (const x of p) s += storedAt(T, x);
    return s;
  };
  let lo = 0;
  let hi = 1;
  while (occupancy(hi) < h) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (occupancy(mid) < h) lo = mid;
    else hi = mid;
  }
  const T = (lo + hi) / 2;
  const stored = new Float64Array(p.length);
  let hitRatio = 0;
  for (let i = 0; i < p.length; i++) {
    stored[i] = storedAt(T, p[i]);
    hitRatio += p[i] * stored[i];
  }
  return { hitRatio, T, stored };
}
