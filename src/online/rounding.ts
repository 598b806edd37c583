/**
 * Rounding a fractional cache y (0 <= y <= 1, sum y = h) to an integral cache of exactly h objects.
 *
 * - `madow` (systematic sampling, Madow 1949): one uniform U, select the object whose prefix-sum
 *   interval [S_{i-1}, S_i) contains U + j for j = 0..h-1. P(i selected) = y_i exactly. O(n).
 * - `depround` (dependent rounding, Gandhi, Khuller, Parthasarathy & Srinivasan, JACM 2006):
 *   pairwise random mass transfers between two fractional coordinates, each keeping both
 *   marginals, until all are integral. P(i) = y_i exactly, negatively correlated. O(n).
 * - `coupled` ({@link CoordinatedSampler}): updates the previous integral cache instead of drawing
 *   a fresh one, so the expected number of objects fetched per step is about ||y' - y||_1 / 2.
 *   Each object keeps a permanent random number u_i (drawn once from the seed); the cache is the
 *   h objects with the smallest keys u_i / y_i (sequential Poisson sampling, Ohlsson 1998: exactly
 *   h objects, P(i) ~= y_i; objects with y_i = 1 are always kept, y_i = 0 never). Because u_i never
 *   changes, a small change of y changes the key order little, and a uniform rescaling of the
 *   uncapped y (what a KL projection does to every coordinate but the candidates) changes nothing.
 *   Marginals are approximate (the test measures the bias); the exact alternatives redraw.
 *   Note: the fixed-U systematic sampling found in third-party code as "online coupled rounding"
 *   keeps marginals exact but moves O(n * ||dy||) objects under multiplicative updates, because
 *   every prefix sum shifts; we do not use it.
 */
import { fail } from "../core/errors.js";
import type { Rng } from "../core/rng.js";
import { IndexedHeap } from "./indexed-heap.js";

export const ROUNDINGS = ["madow", "depround", "coupled"] as const;
export type RoundingName = (typeof ROUNDINGS)[number];

const EPS = 1e-9;

function checkFractional(y: ArrayLike<number>, h: number, what: string): void {
  if (!Number.isInteger(h) || h < 0)
    fail("INVALID_ARGUMENT", `${what}: h must be a non-negative integer, got ${h}`);
  if (h > y.length) fail("INVALID_ARGUMENT", `${what}: h = ${h} exceeds the ${y.length} coordinates`);
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!(v >= -EPS && v <= 1 + EPS))
      fail("INVALID_ARGUMENT", `${what}: y[${i}] must lie in [0, 1], got ${v}`);
    s += v;
  }
  if (Math.abs(s - h) > 1e-6 * Math.max(1, h))
    fail("INVALID_ARGUMENT", `${what}: y must sum to h = ${h}, got ${s}`);
}

/** Madow's systematic sampling: exactly h indices (ascending), P(i) = y_i. */
export function madowRound(y: ArrayLike<number>, h: number, rng: Rng): Int32Array {
  checkFractional(y, h, "madow rounding");
  const out = new Int32Array(h);
  if (h === 0) return out;
  const u = rng.next();
  let j = 0;
  let s = 0;
  const n = y.length;
  for (let i = 0; i < n && j < h; i++) {
    s += Math.max(0, y[i]);
    // Select i once if a grid point u + j falls in [s - y_i, s); y_i <= 1 means at most one does.
    if (u + j < s) out[j++] = i;
  }
  // Rounding error can leave the last grid point just past the final prefix sum: take the last
  // unselected coordinates with the largest y.
  if (j < h) fillLargest(y, out, j);
  return out;
}

function fillLargest(y: ArrayLike<number>, out: Int32Array, from: number): void {
  const taken = new Set(out.subarray(0, from));
  const rest = Array.from({ length: y.length }, (_, i) => i)
    .filter((i) => !taken.has(i))
    .sort((a, b) => y[b] - y[a] || a - b);
  for (let j = from, r = 0; j < out.length; j++) out[j] = rest[r++];
  out.sort();
}

/** Gandhi et al.'s dependent rounding: exactly h indices (ascending), P(i) = y_i. */
export function depRound(y: ArrayLike<number>, h: number, rng: Rng): Int32Array {
  checkFractional(y, h, "depround rounding");
  const n = y.length;
  const v = Float64Array.from(y, (x) => (x < EPS ? 0 : x > 1 - EPS ? 1 : x));
  let cur = -1; // the one fractional coordinate carried along
  for (let j = 0; j < n; j++) {
    if (v[j] === 0 || v[j] === 1) continue;
    if (cur < 0) {
      cur = j;
      continue;
    }
    const a = Math.min(1 - v[cur], v[j]); // mass moved j -> cur
    const b = Math.min(v[cur], 1 - v[j]); // mass moved cur -> j
    if (rng.next() * (a + b) < b) {
      v[cur] += a;
      v[j] -= a;
    } else {
      v[cur] -= b;
      v[j] += b;
    }
    // At least one of the two is now integral; carry the other one.
    for (const i of [cur, j]) {
      if (v[i] < EPS) v[i] = 0;
      else if (v[i] > 1 - EPS) v[i] = 1;
    }
    if (v[cur] === 0 || v[cur] === 1) cur = v[j] === 0 || v[j] === 1 ? -1 : j;
  }
  const out = new Int32Array(h);
  let c = 0;
  for (let i = 0; i < n && c < h; i++) if (v[i] > 0.5) out[c++] = i;
  if (c < h) fillLargest(v, out, c);
  return out;
}

/**
 * Coupled rounding by coordinated order sampling (see the file comment). Keys are set per object
 * (`setKey`), changes are applied by `commit()`, and `drain*` reports which objects entered and
 * left the cache since the last drain, so a policy fetches only those.
 * Key conventions: smaller is better; -Infinity = always kept (y = 1); +Infinity = never (y = 0).
 */
export class CoordinatedSampler {
  readonly n: number;
  /** Permanent random numbers in (0, 1]. */
  readonly u: Float64Array;
  private readonly keys: Float64Array;
  private readonly inCache: IndexedHeap; // max-heap: worst kept object on top
  private readonly outside: IndexedHeap; // min-heap: best excluded object on top
  private target: number;
  private readonly touched: number[] = [];
  private readonly touchedMark: Uint8Array;
  private readonly wasIn: Uint8Array;

  constructor(n: number, h: number, rng: Rng) {
    if (!Number.isInteger(h) || h < 0 || h > n)
      fail("INVALID_ARGUMENT", `coupled rounding: h must be an integer in [0, ${n}], got ${h}`);
    this.n = n;
    this.target = h;
    this.u = new Float64Array(n);
    for (let i = 0; i < n; i++) this.u[i] = 1 - rng.next(); // (0, 1]: u/y stays finite for y > 0
    this.keys = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
    this.inCache = new IndexedHeap(n, this.keys, -1);
    this.outside = new IndexedHeap(n, this.keys, 1);
    this.touchedMark = new Uint8Array(n);
    this.wasIn = new Uint8Array(n);
  }

  /** The ratio key of sequential Poisson sampling for object i at fractional value y. */
  ratioKey(i: number, y: number): number {
    return y >= 1 ? Number.NEGATIVE_INFINITY : y <= 0 ? Number.POSITIVE_INFINITY : this.u[i] / y;
  }

  /**
   * The additive key u_i - y_i (keep the h largest y_i - u_i: Poisson sampling "u_i < y_i" forced to
   * exactly h). A uniform shift of the uncapped y (what a Euclidean projection does) keeps the order.
   */
  differenceKey(i: number, y: number): number {
    return y >= 1 ? Number.NEGATIVE_INFINITY : y <= 0 ? Number.POSITIVE_INFINITY : this.u[i] - y;
  }

  has(i: number): boolean {
    return this.inCache.has(i);
  }

  get size(): number {
    return this.inCache.size;
  }

  /** Objects currently selected (heap order; a view valid until the next change). */
  selected(): Int32Array {
    return this.inCache.ids();
  }

  setKey(i: number, key: number): void {
    if (Number.isNaN(key)) fail("INVALID_ARGUMENT", `coupled rounding: key of object ${i} is NaN`);
    this.touch(i);
    this.inCache.remove(i);
    this.outside.remove(i);
    this.keys[i] = key;
    if (key !== Number.POSITIVE_INFINITY) this.outside.push(i);
  }

  /** Applies `f` (strictly increasing) to every finite key: a rescaling that keeps the order. */
  transformKeys(f: (k: number) => number): void {
    for (let i = 0; i < this.n; i++) if (Number.isFinite(this.keys[i])) this.keys[i] = f(this.keys[i]);
  }

  /** Restores "the h smallest keys are selected" after setKey calls. O(changes * log n). */
  commit(): void {
    const sel = this.inCache;
    const out = this.outside;
    while (sel.size < this.target && out.size > 0) this.move(out, sel);
    while (sel.size > this.target) this.move(sel, out);
    while (sel.size > 0 && out.size > 0 && isBetter(out.top(), sel.top(), this.keys)) {
      this.move(out, sel);
      this.move(sel, out);
    }
  }

  /**
   * Objects that entered (`added`) and left (`removed`) since the last drain, net of moves that
   * cancelled out. The arrays are appended to.
   */
  drain(added: number[], removed: number[]): void {
    for (const i of this.touched) {
      const now = this.inCache.has(i) ? 1 : 0;
      if (now !== this.wasIn[i]) (now ? added : removed).push(i);
      this.touchedMark[i] = 0;
    }
    this.touched.length = 0;
  }

  /** Sets every key from a dense y (O(n log n)) and commits: the dense path used by tests. */
  setAll(y: ArrayLike<number>, key: "ratio" | "difference" = "ratio"): void {
    for (let i = 0; i < this.n; i++)
      this.setKey(i, key === "ratio" ? this.ratioKey(i, y[i]) : this.differenceKey(i, y[i]));
    this.commit();
  }

  private touch(i: number): void {
    if (this.touchedMark[i]) return;
    this.touchedMark[i] = 1;
    this.wasIn[i] = this.inCache.has(i) ? 1 : 0;
    this.touched.push(i);
  }

  private move(from: IndexedHeap, to: IndexedHeap): void {
    const i = from.top();
    this.touch(i); // before the pop, so the membership it records is the old one
    from.pop();
    to.push(i);
  }
}

function isBetter(a: number, b: number, keys: Float64Array): boolean {
  return keys[a] < keys[b] || (keys[a] === keys[b] && a < b);
}
