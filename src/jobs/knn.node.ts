/**
 * The k-NN use case: exact or approximate k nearest neighbours between two vector files. One index
 * is built over the base vectors (ids = 0-based base rows), every query is answered one at a time
 * on this thread (each timed, for p50/p99), and the neighbour ids are written as `.ivecs`, the
 * format ann-benchmarks and the SIFT/GIST corpora use for ground truth.
 */
import { fail } from "../core/errors.js";
import type { Metric } from "../core/vectors.js";
import { checkOutputPath } from "../data/atomic-write.node.js";
import type { VectorFormat } from "../data/vector-formats.js";
import { readVectorFile, writeVectorFile } from "../data/vectors-file.node.js";
import { percentile, timedBuild, timedSearch } from "../index/evaluate.js";
import { createIndex } from "../index/factory.node.js";
import { type OnProgress, progressCounter } from "./progress.js";

export interface KnnOptions {
  /** Base vectors: .fvecs .ivecs .bvecs .npy .csv or IDX, optionally .gz. */
  base: string;
  /** Query vectors, same formats and dimension. */
  queries: string;
  /** Neighbours per query (1 <= k <= base rows). */
  k: number;
  /** Index spec, e.g. flat, flat-i8:rerank=40, hnsw:M=16,efSearch=64. */
  index: string;
  /** Where the neighbour ids go (.ivecs), or "-" for standard output. */
  out: string;
  /** Format of a base or queries read from standard input ("-"), which has no name to tell it. */
  format?: VectorFormat;
  metric: Metric;
}

/** What `mammals knn --json` prints. */
export interface KnnSummary {
  /** The spec that recreates the index, defaults filled in (e.g. "hnsw:M=16,..."). */
  index: string;
  k: number;
  queries: number;
  buildS: number;
  /** Queries per second over the summed single-query latencies. */
  qps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface KnnResult {
  summary: KnnSummary;
  /** Neighbour rows, queries x k, -1 where an approximate index returned fewer than k. */
  ids: Int32Array;
  baseN: number;
  dim: number;
}

/** Queries answered untimed first, so the JIT and the index's per-search state are warm. */
const WARM_UP_QUERIES = 10;

/** Checks the output path before the (possibly long) work, so a typo fails in milliseconds. */
function checkOut(out: string): void {
  if (out === "-") return; // standard output: ivecs bytes, nothing to check
  if (!/\.ivecs$/i.test(out))
    fail(
      "INVALID_ARGUMENT",
      `--out: expected a path ending in .ivecs (or - for standard output), got "${out}"`,
    );
  checkOutputPath(out, { label: "--out" });
}

/** Standard input can be read once: at most one of --base / --queries may be "-", and it needs a format. */
function checkStdin(o: KnnOptions): void {
  if (o.base === "-" && o.queries === "-")
    fail(
      "INVALID_ARGUMENT",
      "--base - and --queries -: standard input can carry only one of them; expected a file for the other",
    );
  if ((o.base === "-" || o.queries === "-") && o.format === undefined)
    fail(
      "INVALID_ARGUMENT",
      `${o.base === "-" ? "--base" : "--queries"} -: standard input has no file name to tell its format; expected --format (fvecs, ivecs, bvecs, npy, csv, idx)`,
    );
}

export function runKnn(o: KnnOptions, onProgress?: OnProgress): KnnResult {
  checkOut(o.out);
  checkStdin(o);
  // --format applies to "-" only; named files keep telling their format by name.
  const base = readVectorFile(o.base, o.base === "-" ? o.format : undefined, { label: "--base" });
  if (base.n === 0) fail("BAD_FILE", `--base ${o.base}: no vectors; expected at least one base vector`);
  const queries = readVectorFile(o.queries, o.queries === "-" ? o.format : undefined, {
    label: "--queries",
  });
  if (queries.n === 0) fail("BAD_FILE", `--queries ${o.queries}: no vectors; expected at least one query`);
  if (queries.dim !== base.dim)
    fail(
      "DIMENSION_MISMATCH",
      `--queries ${o.queries} have dimension ${queries.dim}, --base ${o.base} has dimension ${base.dim}; expected equal`,
    );
  if (o.k > base.n)
    fail(
      "INVALID_ARGUMENT",
      `--k ${o.k} exceeds the ${base.n} vectors in --base ${o.base}; expected k <= ${base.n}`,
    );

  const index = createIndex(o.index, base.dim, o.metric);
  const buildS = timedBuild(index, base.data, progressCounter(onProgress, base.n, `build ${index.kind}`));
  const warm = Math.min(WARM_UP_QUERIES, queries.n);
  timedSearch(index, queries.data.subarray(0, warm * base.dim), o.k);
  const { ids, latenciesMs, totalS } = timedSearch(
    index,
    queries.data,
    o.k,
    undefined,
    progressCounter(onProgress, queries.n, `search ${index.kind}`),
  );
  writeVectorFile(o.out, ids, o.k, "ivecs");
  return {
    summary: {
      index: index.spec,
      k: o.k,
      queries: queries.n,
      buildS,
      qps: totalS > 0 ? queries.n / totalS : Number.POSITIVE_INFINITY,
      p50Ms: percentile(latenciesMs, 50),
      p99Ms: percentile(latenciesMs, 99),
    },
    ids,
    baseN: base.n,
    dim: base.dim,
  };
}
