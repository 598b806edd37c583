/**
 * The ann-benchmarks protocol for one index configuration: build over the base vectors (timed),
 * answer the queries one at a time on this thread (each timed), and score recall the
 * ann-benchmarks way: a returned neighbour counts when its true Euclidean distance to the query
 * is <= the true k-th distance + 1e-3. Distances are recomputed here from the vectors, so every
 * index is scored in the same units whatever it reports. Browser-safe (performance.now only).
 */
import { l2sq } from "../core/vectors.js";
import { FlatIndex } from "./flat.js";
import type { Index, SearchOptions } from "./types.js";

export const RECALL_EPSILON = 1e-3;

export interface GroundTruth {
  k: number;
  /** nq x k neighbour rows of the base, closest first. */
  ids: Int32Array;
  /** nq x k Euclidean (not squared) distances. */
  distances: Float64Array;
}

export interface BenchResult {
  index: string;
  params: string;
  /** The scan or distance path the index ran ("wasm-simd", "typescript"; "native" for usearch). */
  kernel: string;
  recall: number;
  qps: number;
  p50Ms: number;
  p99Ms: number;
  buildS: number;
  bytes: number;
}

export interface Progress {
  tick(n?: number, label?: string): void;
}

const NOOP: Progress = { tick() {} };

/** Exact k nearest base rows of every query, by the flat index (exact, tested against brute force). */
export function groundTruth(
  base: Float32Array,
  queries: Float32Array,
  dim: number,
  k: number,
  progress: Progress = NOOP,
): GroundTruth {
  const flat = new FlatIndex(dim, "l2", base.length / dim);
  flat.add(rowIds(base.length / dim), base);
  const nq = queries.length / dim;
  const ids = new Int32Array(nq * k).fill(-1);
  const distances = new Float64Array(nq * k).fill(Number.POSITIVE_INFINITY);
  for (let i = 0; i < nq; i++) {
    const r = flat.search(queries.subarray(i * dim, (i + 1) * dim), k);
    for (let j = 0; j < r.ids.length; j++) {
      ids[i * k + j] = r.ids[j];
      distances[i * k + j] = Math.sqrt(r.distances[j]);
    }
    progress.tick();
  }
  return { k, ids, distances };
}

/** 0..n-1 as ids (row numbers of the base). */
export function rowIds(n: number): Float64Array {
  const ids = new Float64Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  return ids;
}

/** Builds `index` over the base rows (ids = row numbers) and returns the build time in seconds. */
export function timedBuild(
  index: Index,
  base: Float32Array,
  progress: Progress = NOOP,
  chunk = 1000,
): number {
  const n = base.length / index.dim;
  const t0 = performance.now();
  for (let a = 0; a < n; a += chunk) {
    const b = Math.min(n, a + chunk);
    index.add(rowIds(b).subarray(a, b), base.subarray(a * index.dim, b * index.dim));
    progress.tick(b - a);
  }
  return (performance.now() - t0) / 1000;
}

/** Answers every query one at a time; returns neighbour rows (nq x k, -1 padded) and latencies. */
export function timedSearch(
  index: Index,
  queries: Float32Array,
  k: number,
  options?: SearchOptions,
  progress: Progress = NOOP,
): { ids: Int32Array; latenciesMs: Float64Array; totalS: number } {
  const dim = index.dim;
  const nq = queries.length / dim;
  const ids = new Int32Array(nq * k).fill(-1);
  const latenciesMs = new Float64Array(nq);
  let total = 0;
  for (let i = 0; i < nq; i++) {
    const q = queries.subarray(i * dim, (i + 1) * dim);
    const t0 = performance.now();
    const r = index.search(q, k, options);
    const dt = performance.now() - t0;
    latenciesMs[i] = dt;
    total += dt;
    for (let j = 0; j < r.ids.length; j++) ids[i * k + j] = r.ids[j];
    progress.tick();
  }
  return { ids, latenciesMs, totalS: total / 1000 };
}

/** ann-benchmarks recall: mean over queries of (neighbours within true k-th distance + eps) / k. */
export function annRecall(
  found: Int32Array,
  gt: GroundTruth,
  base: Float32Array,
  queries: Float32Array,
  dim: number,
): number {
  const { k } = gt;
  const nq = queries.length / dim;
  let sum = 0;
  for (let i = 0; i < nq; i++) {
    const limit = gt.distances[i * k + k - 1] + RECALL_EPSILON;
    let hits = 0;
    for (let j = 0; j < k; j++) {
      const row = found[i * k + j];
      if (row < 0) continue;
      if (Math.sqrt(l2sq(queries, base, dim, i * dim, row * dim)) <= limit) hits++;
    }
    sum += hits / k;
  }
  return nq === 0 ? 1 : sum / nq;
}

export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values: number[]): number {
  return percentile(Float64Array.from(values), 50);
}

/** Scores one search pass of an already built index. */
export function scorePass(
  index: Index,
  params: string,
  buildS: number,
  base: Float32Array,
  queries: Float32Array,
  gt: GroundTruth,
  options?: SearchOptions,
  progress: Progress = NOOP,
): BenchResult {
  // Untimed warm-up: lets the JIT compile the scan and an index prepare per-search state.
  const warm = Math.min(10, queries.length / index.dim);
  timedSearch(index, queries.subarray(0, warm * index.dim), gt.k, options);
  const { ids, latenciesMs, totalS } = timedSearch(index, queries, gt.k, options, progress);
  const nq = latenciesMs.length;
  return {
    index: index.kind,
    params,
    kernel: (index as { kernel?: string }).kernel ?? "native",
    recall: annRecall(ids, gt, base, queries, index.dim),
    qps: totalS > 0 ? nq / totalS : Number.POSITIVE_INFINITY,
    p50Ms: percentile(latenciesMs, 50),
    p99Ms: percentile(latenciesMs, 99),
    buildS,
    bytes: index.bytes,
  };
}
