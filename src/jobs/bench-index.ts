/**
 * The index benchmark, browser-safe part: the ann-benchmarks protocol on MNIST-like datasets
 * (base = train split, queries = a seeded sample of the test split, k = 10, native units) and the
 * table of its results. bench-index.node.ts builds the native indexes and caches ground truth.
 */
import { bytesHuman, table } from "../core/format.js";
import { Rng } from "../core/rng.js";
import type { Dataset } from "../data/types.js";
import type { BenchResult } from "../index/evaluate.js";

/** efSearch values swept for an hnsw spec that does not fix one. */
export const DEFAULT_EF_SWEEP = [10, 20, 40, 80, 160, 320];
/** Neighbours per query (the ann-benchmarks default). */
export const BENCH_K = 10;

/** Base (train) and query (test, seeded sample) rows in the dataset's native units. */
export function benchData(ds: Dataset, queries: number, seed: number) {
  const dim = ds.train.dim;
  const nq = Math.min(queries, ds.test.n);
  const rows =
    nq === ds.test.n ? Uint32Array.from({ length: nq }, (_, i) => i) : new Rng(seed).sample(ds.test.n, nq);
  const base = new Float32Array(ds.train.x.length);
  for (let i = 0; i < base.length; i++) base[i] = ds.train.x[i] * ds.rawScale;
  const q = new Float32Array(nq * dim);
  rows.forEach((r, i) => {
    for (let j = 0; j < dim; j++) q[i * dim + j] = ds.test.x[r * dim + j] * ds.rawScale;
  });
  return { base, queries: q, dim, rows };
}

/** One row per index and parameter setting: recall, QPS, latency percentiles, build time, bytes. */
export function benchIndexTable(results: BenchResult[]): string {
  return table(
    ["index", "params", "kernel", "recall", "QPS", "p50 ms", "p99 ms", "build s", "bytes"],
    results.map((r) => [
      r.index,
      r.params || "-",
      r.kernel,
      Number(r.recall.toFixed(4)),
      Math.round(r.qps),
      r.p50Ms,
      r.p99Ms,
      r.buildS,
      bytesHuman(r.bytes),
    ]),
  );
}
