/**
 * `mammals bench index`: the ann-benchmarks protocol on MNIST-like datasets (base = train split,
 * queries = test split, k = 10, single-threaded), one row per index and parameter setting.
 * Also exports the `bench` group helper, so other `bench <thing>` subcommands join the same group.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, Option } from "commander";
import { fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { splitSpec, splitSpecList } from "../../core/spec.js";
import { loadDataset } from "../../data/datasets.node.js";
import type { Dataset } from "../../data/types.js";
import {
  type BenchResult,
  type GroundTruth,
  groundTruth,
  scorePass,
  timedBuild,
} from "../../index/evaluate.js";
import { createIndex, describeIndexKinds } from "../../index/factory.node.js";
import { parseInteger, parseIntegerList } from "../args.js";
import { bytesHuman, table } from "../format.js";
import { progress } from "../progress.js";

/** The `bench` command group, created on first use; `bench <thing>` subcommands attach to it. */
export function benchGroup(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === "bench");
  if (existing) return existing;
  return program
    .command("bench")
    .description("benchmarks: `mammals bench <thing> --help` for each")
    .addHelpText("after", "\nExamples:\n  mammals bench index --help");
}

export const DEFAULT_EF_SWEEP = [10, 20, 40, 80, 160, 320];
export const BENCH_K = 10;

export interface BenchIndexOptions {
  dataset: string;
  dataDir?: string;
  indexes: string[];
  queries: number;
  seed: number;
  efSweep: number[];
  /** Directory for cached ground truth (undefined = no cache). */
  cacheDir?: string;
  showProgress?: boolean;
}

/**
 * Splits "flat,flat-i8:rerank=40,hnsw:M=16,efSearch=64" into specs: a token with "=" but no ":"
 * continues the previous spec's parameters.
 */
export function parseIndexList(list: string): string[] {
  const specs = splitSpecList(list);
  if (specs.length === 0)
    fail("INVALID_ARGUMENT", `--index: expected a comma-separated list of index specs, got "${list}"`);
  return specs;
}

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
  show: boolean,
): GroundTruth {
  const key = `${label.replace(/[^a-z0-9-]+/gi, "_")}-${fingerprint(base)}-${fingerprint(queries)}-k${BENCH_K}`;
  const file = cacheDir ? join(cacheDir, `${key}.json`) : undefined;
  const nq = queries.length / dim;
  if (file && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8")) as { ids: number[]; distances: number[] };
    if (saved.ids?.length === nq * BENCH_K)
      return { k: BENCH_K, ids: Int32Array.from(saved.ids), distances: Float64Array.from(saved.distances) };
  }
  const bar = progress(nq, "ground truth (flat)", show);
  const gt = groundTruth(base, queries, dim, BENCH_K, bar);
  bar.stop();
  if (file && cacheDir) {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(file, JSON.stringify({ ids: Array.from(gt.ids), distances: Array.from(gt.distances) }));
  }
  return gt;
}

/** Runs the benchmark; one result per index and parameter setting. */
export function runBenchIndex(o: BenchIndexOptions): {
  results: BenchResult[];
  dataset: Dataset;
  nq: number;
} {
  const ds = loadDataset(o.dataset, { dataDir: o.dataDir });
  const { base, queries, dim } = benchData(ds, o.queries, o.seed);
  const nq = queries.length / dim;
  const show = o.showProgress ?? process.stderr.isTTY === true;
  const gt = cachedGroundTruth(base, queries, dim, `${ds.name}-q${nq}-s${o.seed}`, o.cacheDir, show);
  const results: BenchResult[] = [];
  for (const spec of o.indexes) {
    const index = createIndex(spec, dim, "l2");
    const nBase = base.length / dim;
    const buildBar = progress(nBase, `build ${spec}`, show);
    const buildS = timedBuild(index, base, buildBar);
    buildBar.stop();
    const buildParams = index.spec.includes(":") ? index.spec.slice(index.spec.indexOf(":") + 1) : "";
    const sweep = splitSpec(spec).name === "hnsw" && !/efSearch=/.test(spec) ? o.efSweep : [undefined];
    for (const ef of sweep) {
      const params = ef === undefined ? buildParams : buildParams.replace(/efSearch=\d+/, `efSearch=${ef}`);
      const bar = progress(nq, `search ${index.kind}${ef ? ` ef=${ef}` : ""}`, show);
      results.push(
        scorePass(
          index,
          params,
          buildS,
          base,
          queries,
          gt,
          ef === undefined ? undefined : { efSearch: ef },
          bar,
        ),
      );
      bar.stop();
    }
  }
  return { results, dataset: ds, nq };
}

export function resultsTable(results: BenchResult[]): string {
  return table(
    ["index", "params", "recall", "QPS", "p50 ms", "p99 ms", "build s", "bytes"],
    results.map((r) => [
      r.index,
      r.params || "-",
      Number(r.recall.toFixed(4)),
      Math.round(r.qps),
      r.p50Ms,
      r.p99Ms,
      r.buildS,
      bytesHuman(r.bytes),
    ]),
  );
}

export function register(program: Command): void {
  benchGroup(program)
    .command("index")
    .description(
      "ann-benchmarks protocol: base = train split, queries = test split, k = 10, single-threaded;\n" +
        "recall counts a neighbour within the true 10th distance + 1e-3 (Euclidean, native units)",
    )
    .option("--dataset <name>", "mnist (embedded), fashion-mnist, or a directory of IDX files", "mnist")
    .option("--data <dir>", "directory searched first for dataset files")
    .option(
      "--index <specs>",
      "comma-separated index specs; hnsw without efSearch sweeps --ef",
      "flat,flat-i8,hnsw",
    )
    .option("--queries <n>", "number of test queries (a seeded sample when fewer than the split)", "1000")
    .option("--ef <list>", "efSearch values swept for hnsw", DEFAULT_EF_SWEEP.join(","))
    .option("--seed <s>", "seed for the query sample", "1")
    .option("--cache <dir>", "where ground truth is cached", ".cache/bench-index")
    .option("--no-cache", "recompute ground truth")
    .addOption(new Option("--json", "print one JSON object on the last line"))
    .addHelpText(
      "after",
      `\nIndex kinds:\n  ${describeIndexKinds().join("\n  ")}\n\nExamples:\n` +
        "  mammals bench index                                   # embedded MNIST, 1000 queries\n" +
        "  mammals bench index --dataset fashion-mnist --queries 2000 --json\n" +
        '  mammals bench index --index "flat-i8:rerank=40,hnsw:M=32,efConstruction=200" --ef 16,64,256\n' +
        "  mammals bench index --dataset /data/mnist-idx --seed 7",
    )
    .action((opts) => {
      const { results, dataset, nq } = runBenchIndex({
        dataset: opts.dataset,
        dataDir: opts.data,
        indexes: parseIndexList(opts.index),
        queries: parseInteger(opts.queries, "--queries", 1),
        seed: parseInteger(opts.seed, "--seed", 0),
        efSweep: parseIntegerList(opts.ef, "--ef"),
        cacheDir: opts.cache === false ? undefined : opts.cache,
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ results })}\n`);
        return;
      }
      process.stdout.write(
        `${dataset.name}: ${dataset.train.n} base x ${dataset.train.dim}, ${nq} queries, k=${BENCH_K}, single thread\n\n` +
          `${resultsTable(results)}\n`,
      );
    });
}
