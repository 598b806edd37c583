/**
 * The index benchmark on a dataset by name: the ann-benchmarks protocol (bench-index.ts) over
 * every index spec given, the native hnsw included, one result per index and parameter setting;
 * graph specs (hnsw, hnsw-ts) without efSearch sweep it. Exact ground truth is cached on disk, keyed by the data.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { splitSpec } from "../core/spec.js";
import { writeFileAtomic } from "../data/atomic-write.node.js";
import { loadDataset } from "../data/datasets.node.js";
import type { Dataset } from "../data/types.js";
import { type BenchResult, type GroundTruth, groundTruth, scorePass, timedBuild } from "../index/evaluate.js";
import { createIndex } from "../index/factory.node.js";
import { BENCH_K, benchData } from "./bench-index.js";
import { type OnProgress, progressCounter } from "./progress.js";

export interface BenchIndexOptions {
  /** mnist (embedded), fashion-mnist, or a directory of IDX files. */
  dataset: string;
  /** Directory searched first for dataset files. */
  dataDir?: string;
  /** Index specs, e.g. ["flat", "flat-i8:rerank=40", "hnsw:M=16"]. */
  indexes: string[];
  /** Test queries (a seeded sample when fewer than the split). */
  queries: number;
  /** Seed of the query sample. */
  seed: number;
  /** efSearch values swept for hnsw specs without efSearch. */
  efSweep: number[];
  /** Directory for cached ground truth (undefined = no cache). */
  cacheDir?: string;
}

export interface BenchIndexResult {
  results: BenchResult[];
  dataset: Dataset;
  /** Queries actually run. */
  nq: number;
  /** The base and query rows and their exact ground truth, for further comparisons in the same run. */
  base: Float32Array;
  queries: Float32Array;
  gt: GroundTruth;
}

function fingerprint(a: Float32Array): string {
  // FNV-1a over a strided sample: cheap, and changes when the data or its order does.
  let h = 0x811c9dc5;
  const step = Math.max(1, Math.floor(a.length / 200_000));
  for (let i = 0; i < a.length; i += step) h = Math.imul(h ^ Math.round(a[i] * 1000), 0x01000193) >>> 0;
  return h.toString(16);
}

function cachedGroundTruth(
  base: Float32Array,
  queries: Float32Array,
  dim: number,
  label: string,
  cacheDir: string | undefined,
  onProgress: OnProgress | undefined,
): GroundTruth {
  const key = `${label.replace(/[^a-z0-9-]+/gi, "_")}-${fingerprint(base)}-${fingerprint(queries)}-k${BENCH_K}`;
  const file = cacheDir ? join(cacheDir, `${key}.json`) : undefined;
  const nq = queries.length / dim;
  if (file && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8")) as { ids: number[]; distances: number[] };
    if (saved.ids?.length === nq * BENCH_K)
      return { k: BENCH_K, ids: Int32Array.from(saved.ids), distances: Float64Array.from(saved.distances) };
  }
  const gt = groundTruth(base, queries, dim, BENCH_K, progressCounter(onProgress, nq, "ground truth (flat)"));
  if (file && cacheDir) {
    mkdirSync(cacheDir, { recursive: true });
    // Atomic: an interrupted run never leaves a truncated cache that the next run would parse.
    writeFileAtomic(file, JSON.stringify({ ids: Array.from(gt.ids), distances: Array.from(gt.distances) }));
  }
  return gt;
}

/** Runs the benchmark; one result per index and parameter setting. */
export function runBenchIndex(o: BenchIndexOptions, onProgress?: OnProgress): BenchIndexResult {
  const ds = loadDataset(o.dataset, { dataDir: o.dataDir });
  const { base, queries, dim } = benchData(ds, o.queries, o.seed);
  const nq = queries.length / dim;
  const gt = cachedGroundTruth(base, queries, dim, `${ds.name}-q${nq}-s${o.seed}`, o.cacheDir, onProgress);
  const results: BenchResult[] = [];
  for (const spec of o.indexes) {
    const index = createIndex(spec, dim, "l2");
    const nBase = base.length / dim;
    const buildS = timedBuild(index, base, progressCounter(onProgress, nBase, `build ${spec}`));
    const buildParams = index.spec.includes(":") ? index.spec.slice(index.spec.indexOf(":") + 1) : "";
    const graph = splitSpec(spec).name === "hnsw" || splitSpec(spec).name === "hnsw-ts";
    const sweep = graph && !/efSearch=/.test(spec) ? o.efSweep : [undefined];
    for (const ef of sweep) {
      const params = ef === undefined ? buildParams : buildParams.replace(/efSearch=\d+/, `efSearch=${ef}`);
      const searching = progressCounter(onProgress, nq, `search ${index.kind}${ef ? ` ef=${ef}` : ""}`);
      results.push(
        scorePass(
          index,
          params,
          buildS,
          base,
          queries,
          gt,
          ef === undefined ? undefined : { efSearch: ef },
          searching,
        ),
      );
    }
  }
  return { results, dataset: ds, nq, base, queries, gt };
}
