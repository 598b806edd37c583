/**
 * Catalog geometry that decides which caching family fits: intrinsic dimension (TwoNN, Facco et
 * al. 2017; Levina-Bickel MLE with MacKay-Ghahramani averaging), the nearest-neighbour distance
 * distribution (what a remote cost C_r should be compared with), and hubness (skewness of the
 * k-occurrence distribution, Radovanovic et al. 2010: a few objects are near everything).
 * Distances are Euclidean. Browser-safe.
 */
import { fail } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { l2sq } from "../core/vectors.js";
import { makeNeighbours } from "./stored-set.js";
import type { Catalog } from "./types.js";

export interface Quantiles {
  mean: number;
  min: number;
  p10: number;
  p50: number;
  p90: number;
  max: number;
}

export interface GeometryReport {
  catalog: string;
  n: number;
  dim: number;
  distance: string;
  sample: number;
  k: number;
  /** TwoNN maximum-likelihood estimate N / sum log(r2 / r1). */
  twoNN: number;
  /** Levina-Bickel MLE over k neighbours, averaged as 1 / mean(1 / m_k(x)). */
  mle: number;
  /** Distance to the nearest other catalog object, over the sample. */
  nnDistance: Quantiles;
  /** Distance to the k-th nearest other catalog object. */
  kthDistance: Quantiles;
  /** Skewness of N_k (k-occurrences) in the k-NN graph of the sample. */
  hubness: number;
  /** Largest N_k in that graph, and the fraction of sample points that are nobody's neighbour. */
  maxOccurrence: number;
  antihubs: number;
  /** Sample points skipped because a duplicate sits at distance 0. */
  duplicates: number;
}

export function quantiles(values: number[]): Quantiles {
  if (values.length === 0) return { mean: 0, min: 0, p10: 0, p50: 0, p90: 0, max: 0 };
  const s = values.slice().sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
  return {
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    min: s[0],
    p10: at(0.1),
    p50: at(0.5),
    p90: at(0.9),
    max: s[s.length - 1],
  };
}

/** TwoNN MLE from per-point ratios mu = r2 / r1 (> 1). */
export function twoNNFromRatios(mu: number[]): number {
  let s = 0;
  for (const m of mu) s += Math.log(m);
  return s > 0 ? mu.length / s : Number.POSITIVE_INFINITY;
}

/** Levina-Bickel estimate at one point from its sorted neighbour distances T_1..T_k (all > 0). */
export function mleAtPoint(T: ArrayLike<number>, k: number): number {
  let s = 0;
  for (let j = 0; j < k - 1; j++) s += Math.log(T[k - 1] / T[j]);
  return (k - 1) / s;
}

/** Skewness (third standardized moment) of a sample. */
export function skewness(x: ArrayLike<number>): number {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i];
  m /= n;
  let m2 = 0;
  let m3 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - m;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= n;
  m3 /= n;
  return m2 > 0 ? m3 / m2 ** 1.5 : 0;
}

export function analyzeCatalog(
  catalog: Catalog,
  o: { sample?: number; k?: number; seed?: number } = {},
): GeometryReport {
  const k = o.k ?? 10;
  if (!(Number.isInteger(k) && k >= 2))
    fail("INVALID_ARGUMENT", `analyze: k must be an integer >= 2, got ${k}`);
  if (catalog.n < k + 2)
    fail("INVALID_ARGUMENT", `analyze: a catalog of ${catalog.n} objects is too small for k = ${k}`);
  const m = Math.min(o.sample ?? 2000, catalog.n);
  const rows = new Rng(o.seed ?? 1).sample(catalog.n, m);
  const nb = makeNeighbours(k + 8);
  const mu: number[] = [];
  const invMle: number[] = [];
  const nn: number[] = [];
  const kth: number[] = [];
  let duplicates = 0;
  const T = new Float64Array(k);
  for (const r of rows) {
    catalog.nearest(catalog.row(r), k + 8, nb);
    let c = 0;
    let dup = false;
    for (let j = 0; j < nb.count && c < k; j++) {
      if (nb.ids[j] === r) continue;
      if (nb.dists[j] === 0) dup = true;
      T[c++] = nb.dists[j];
    }
    if (dup || c < k) {
      duplicates++;
      continue;
    }
    mu.push(T[1] / T[0]);
    invMle.push(1 / mleAtPoint(T, k));
    nn.push(T[0]);
    kth.push(T[k - 1]);
  }
  // Both estimators divide by logs of distance ratios: with no point whose k neighbours are all
  // at a positive distance there is nothing to estimate from (TwoNN would be Infinity, MLE NaN).
  if (mu.length === 0)
    fail(
      "INVALID_ARGUMENT",
      `analyze: catalog ${catalog.name}: every one of the ${m} sampled objects has a duplicate at distance 0 ` +
        `among its ${k} nearest neighbours, so the intrinsic dimension is undefined; deduplicate the catalog`,
    );
  const occurrences = sampleKOccurrences(catalog, rows, k);
  let maxOcc = 0;
  let anti = 0;
  for (const v of occurrences) {
    if (v > maxOcc) maxOcc = v;
    if (v === 0) anti++;
  }
  return {
    catalog: catalog.name,
    n: catalog.n,
    dim: catalog.dim,
    distance: catalog.distanceName,
    sample: m,
    k,
    twoNN: twoNNFromRatios(mu),
    mle: invMle.length ? invMle.length / invMle.reduce((a, b) => a + b, 0) : Number.NaN,
    nnDistance: quantiles(nn),
    kthDistance: quantiles(kth),
    hubness: skewness(occurrences),
    maxOccurrence: maxOcc,
    antihubs: anti / occurrences.length,
    duplicates,
  };
}

/** N_k of every sample point in the exact k-NN graph of the sample (brute force, m^2 distances). */
export function sampleKOccurrences(catalog: Catalog, rows: ArrayLike<number>, k: number): Float64Array {
  const m = rows.length;
  const dim = catalog.dim;
  const v = catalog.vectors;
  const occ = new Float64Array(m);
  const kk = Math.min(k, m - 1);
  const bestD = new Float64Array(kk);
  const bestI = new Int32Array(kk);
  for (let a = 0; a < m; a++) {
    let count = 0;
    for (let b = 0; b < m; b++) {
      if (a === b) continue;
      const d = l2sq(v, v, dim, rows[a] * dim, rows[b] * dim);
      if (count === kk && d >= bestD[kk - 1]) continue;
      let i = count < kk ? count++ : kk - 1;
      while (i > 0 && bestD[i - 1] > d) {
        bestD[i] = bestD[i - 1];
        bestI[i] = bestI[i - 1];
        i--;
      }
      bestD[i] = d;
      bestI[i] = b;
    }
    for (let j = 0; j < count; j++) occ[bestI[j]]++;
  }
  return occ;
}
