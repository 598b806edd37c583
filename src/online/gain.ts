/**
 * AÇAI's k-NN gain under the augmented-catalog relaxation, and its supergradient
 * (Si Salem, Neglia & Carra, "AÇAI: Ascent Similarity Caching with Approximate Indexes", the
 * augmented-catalog relaxation of the k-NN cost).
 *
 * Every candidate object o has a LOCAL copy (cost c_d(r,o), available with weight y_o) and a REMOTE
 * copy (cost c_d(r,o) + c_f, always available). Sort all copies by cost c_1 <= c_2 <= ... (ties:
 * local first, then candidate order); R_i = remote copies among the first i, X_i = sum of y over
 * the local copies among the first i, L = position of the k-th remote copy. Then
 *   G(r, y) = C(r, 0) - C(r, y) = sum_{i=1}^{L-1} (c_{i+1} - c_i) * min(k - R_i, X_i)
 * where C(r, y) fills k units of demand from the cheapest copies (a local copy supplies y_o units;
 * for integral y this is "the k cheapest available copies"). A supergradient is
 *   g_o = sum_{i=p(o)}^{L-1} (c_{i+1} - c_i) * 1{X_i < k - R_i}   (p(o) = position of o's local copy)
 * and 0 when p(o) >= L. G is a weighted threshold potential: concave in y, monotone submodular on
 * sets. Served costs in reports use DISTINCT objects instead ({@link distinctCost}); the two differ
 * when an object's remote copy undercuts another object's copy (docs/sim.md, "k-NN setting").
 *
 * Objects outside the candidate list contribute nothing as long as the list holds the k nearest
 * catalog objects and every object whose local cost is below c_L (AÇAI's catalog index supplies
 * them; a truncated list ignores farther local copies).
 */
import { fail } from "../core/errors.js";

/** Reusable evaluator (no allocation per call) for up to `maxObjects` candidates. */
export class KnnGain {
  private readonly localOrder: Int32Array;
  private readonly remoteOrder: Int32Array;
  /** Merged copies: candidate index, or ~index (negative) for a remote copy. */
  private readonly copies: Int32Array;
  private readonly costs: Float64Array;
  private readonly active: Uint8Array;
  /** Position L (0-based) of the k-th remote copy in the last evaluation. */
  lastL = -1;
  /** c_L: the cost of the k-th remote copy in the last evaluation (bounds every g_o). */
  lastCL = 0;

  constructor(readonly maxObjects: number) {
    this.localOrder = new Int32Array(maxObjects);
    this.remoteOrder = new Int32Array(maxObjects);
    this.copies = new Int32Array(2 * maxObjects);
    this.costs = new Float64Array(2 * maxObjects);
    this.active = new Uint8Array(2 * maxObjects);
  }

  /**
   * G(r, y) for `count` candidates with local costs `local`, remote costs `remote` and fractional
   * state `y` (all indexed by candidate). When `grad` is given, writes the supergradient into it.
   */
  evaluate(
    count: number,
    local: ArrayLike<number>,
    remote: ArrayLike<number>,
    y: ArrayLike<number>,
    k: number,
    grad?: Float64Array,
  ): number {
    if (count > this.maxObjects)
      fail("INVALID_ARGUMENT", `k-NN gain: ${count} candidates exceed the evaluator's ${this.maxObjects}`);
    if (!(Number.isInteger(k) && k >= 1 && k <= count))
      fail("INVALID_ARGUMENT", `k-NN gain: need 1 <= k <= ${count} candidates (remote copies), got k = ${k}`);
    sortByCost(this.localOrder, local, count);
    sortByCost(this.remoteOrder, remote, count);
    // Merge: local copies first on ties.
    const { copies, costs, active } = this;
    let a = 0;
    let b = 0;
    let m = 0;
    while (a < count || b < count) {
      const la = a < count ? local[this.localOrder[a]] : Number.POSITIVE_INFINITY;
      const rb = b < count ? remote[this.remoteOrder[b]] : Number.POSITIVE_INFINITY;
      if (a < count && la <= rb) {
        copies[m] = this.localOrder[a++];
        costs[m++] = la;
      } else {
        copies[m] = ~this.remoteOrder[b++];
        costs[m++] = rb;
      }
    }
    let R = 0;
    let X = 0;
    let gain = 0;
    let L = -1;
    for (let i = 0; i < m; i++) {
      const c = copies[i];
      if (c < 0) {
        if (++R === k) {
          L = i;
          break;
        }
      } else X += y[c];
      const room = k - R;
      const step = costs[i + 1] - costs[i];
      gain += step * Math.min(X, room);
      active[i] = X < room ? 1 : 0;
    }
    this.lastL = L;
    this.lastCL = costs[L];
    if (grad) {
      for (let j = 0; j < count; j++) grad[j] = 0;
      let acc = 0;
      for (let i = L - 1; i >= 0; i--) {
        if (active[i]) acc += costs[i + 1] - costs[i];
        const c = copies[i];
        if (c >= 0) grad[c] = acc;
      }
    }
    return gain;
  }
}

/** Candidate indices 0..count-1 sorted by cost, ties by index (insertion sort: lists are short and usually sorted). */
function sortByCost(order: Int32Array, cost: ArrayLike<number>, count: number): void {
  for (let i = 0; i < count; i++) {
    const c = cost[i];
    if (!(c >= 0 && c < Number.POSITIVE_INFINITY))
      fail("INVALID_ARGUMENT", `k-NN gain: cost of candidate ${i} must be finite and >= 0, got ${c}`);
    let j = i;
    while (j > 0 && cost[order[j - 1]] > c) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = i;
  }
}

/** One-shot gain (allocates; for tests and offline code). */
export function knnGain(
  local: ArrayLike<number>,
  remote: ArrayLike<number>,
  y: ArrayLike<number>,
  k: number,
  grad?: Float64Array,
): number {
  return new KnnGain(local.length).evaluate(local.length, local, remote, y, k, grad);
}

/**
 * Brute force on the augmented-catalog definition: list every copy, sort, and fill k units of
 * demand from the cheapest (a local copy supplies y_o, a remote one 1). For integral y this is
 * C(r, x) = sum_i c_i z_i 1{sum_{j<i} z_j < k}. The test oracle for {@link KnnGain}.
 */
export function augmentedCost(
  local: ArrayLike<number>,
  remote: ArrayLike<number>,
  y: ArrayLike<number>,
  k: number,
): number {
  const copies: { cost: number; remote: boolean; obj: number }[] = [];
  for (let o = 0; o < local.length; o++) {
    copies.push({ cost: local[o], remote: false, obj: o });
    copies.push({ cost: remote[o], remote: true, obj: o });
  }
  copies.sort((p, q) => p.cost - q.cost || Number(p.remote) - Number(q.remote) || p.obj - q.obj);
  let filled = 0;
  let cost = 0;
  for (const c of copies) {
    if (filled >= k) break;
    const take = Math.min(c.remote ? 1 : y[c.obj], k - filled);
    cost += c.cost * take;
    filled += take;
  }
  if (filled < k - 1e-12) fail("INVALID_ARGUMENT", `augmented cost: fewer than k = ${k} copies`);
  return cost;
}

/**
 * What a user is served from an integral cache x: k DISTINCT objects, each at its cheapest
 * available copy (local if cached, else remote), the k cheapest of those.
 */
export function distinctCost(
  local: ArrayLike<number>,
  remote: ArrayLike<number>,
  x: ArrayLike<number>,
  k: number,
): number {
  const eff = Array.from({ length: local.length }, (_, o) =>
    x[o] >= 0.5 ? Math.min(local[o], remote[o]) : remote[o],
  ).sort((p, q) => p - q);
  if (eff.length < k) fail("INVALID_ARGUMENT", `distinct cost: fewer than k = ${k} objects`);
  let s = 0;
  for (let i = 0; i < k; i++) s += eff[i];
  return s;
}
