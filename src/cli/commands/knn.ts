/**
 * `mammals knn`: exact or approximate k nearest neighbours between two vector files. Builds one
 * index over the base vectors (ids = 0-based base rows), answers every query one at a time on this
 * thread (each timed, for p50/p99), and writes the neighbour ids as `.ivecs`, the format
 * ann-benchmarks and the SIFT/GIST corpora use for ground truth.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type Command, Option } from "commander";
import { fail } from "../../core/errors.js";
import { type Metric, parseMetric } from "../../core/vectors.js";
import { readVectorFile, writeVectorFile } from "../../data/vectors-file.node.js";
import { percentile, timedBuild, timedSearch } from "../../index/evaluate.js";
import { createIndex, describeIndexKinds } from "../../index/factory.node.js";
import { parseInteger } from "../args.js";
import { table } from "../format.js";
import { progress } from "../progress.js";

export interface KnnOptions {
  base: string;
  queries: string;
  k: number;
  index: string;
  out: string;
  metric: Metric;
  showProgress?: boolean;
}

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

/** Queries answered untimed first, so the JIT and the index's per-search state are warm. */
const WARM_UP_QUERIES = 10;

/** Checks the output path before the (possibly long) work, so a typo fails in milliseconds. */
function checkOut(out: string): void {
  if (!/\.ivecs$/i.test(out))
    fail("INVALID_ARGUMENT", `--out: expected a path ending in .ivecs, got "${out}"`);
  const dir = dirname(resolve(out));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    fail("BAD_FILE", `--out ${out}: directory ${dir} does not exist`);
}

export function runKnn(o: KnnOptions): { summary: KnnSummary; ids: Int32Array; baseN: number; dim: number } {
  checkOut(o.out);
  const base = readVectorFile(o.base);
  if (base.n === 0) fail("BAD_FILE", `${o.base}: no vectors; expected at least one base vector`);
  const queries = readVectorFile(o.queries);
  if (queries.n === 0) fail("BAD_FILE", `${o.queries}: no vectors; expected at least one query`);
  if (queries.dim !== base.dim)
    fail(
      "DIMENSION_MISMATCH",
      `queries ${o.queries} have dimension ${queries.dim}, base ${o.base} has dimension ${base.dim}; expected equal`,
    );
  if (o.k > base.n)
    fail(
      "INVALID_ARGUMENT",
      `--k ${o.k} exceeds the ${base.n} vectors in ${o.base}; expected k <= ${base.n}`,
    );

  const show = o.showProgress ?? process.stderr.isTTY === true;
  const index = createIndex(o.index, base.dim, o.metric);
  const buildBar = progress(base.n, `build ${index.kind}`, show);
  const buildS = timedBuild(index, base.data, buildBar);
  buildBar.stop();

  const warm = Math.min(WARM_UP_QUERIES, queries.n);
  timedSearch(index, queries.data.subarray(0, warm * base.dim), o.k);
  const bar = progress(queries.n, `search ${index.kind}`, show);
  const { ids, latenciesMs, totalS } = timedSearch(index, queries.data, o.k, undefined, bar);
  bar.stop();
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

export function register(program: Command): void {
  program
    .command("knn")
    .description(
      "k nearest base vectors of every query: builds --index over --base (ids = 0-based base " +
        "rows), answers the queries one at a time on one thread, and writes the ids as .ivecs " +
        "(-1 where an approximate index returns fewer than k)",
    )
    .requiredOption(
      "--base <file>",
      "base vectors: .fvecs .ivecs .bvecs .npy .csv or IDX (*-ubyte), optionally .gz",
    )
    .requiredOption("--queries <file>", "query vectors, same formats; same dimension as --base")
    .requiredOption("--out <file.ivecs>", "where the neighbour ids go: one record of k ids per query")
    .option("--k <k>", "neighbours per query (1 <= k <= base rows)", "10")
    .option("--index <spec>", "index spec, e.g. flat, flat-i8:rerank=40, hnsw:M=16,efSearch=64", "flat")
    .option("--metric <m>", "l2 (squared Euclidean), ip (inner product) or cos (cosine)", "l2")
    .option(
      "--seed <s>",
      "accepted for uniformity with other commands; every index kind builds deterministically today",
      "1",
    )
    .addOption(
      new Option(
        "--json",
        'print one JSON object on the last line: {"index","k","queries","buildS","qps","p50Ms","p99Ms"}',
      ),
    )
    .addHelpText(
      "after",
      `\nIndex kinds:\n  ${describeIndexKinds().join("\n  ")}\n\nExamples:\n` +
        "  mammals knn --base sift_base.fvecs --queries sift_query.fvecs --k 100 --out gt.ivecs\n" +
        "  mammals knn --base train.npy --queries test.npy --index hnsw:M=32,efSearch=128 --out nn.ivecs --json\n" +
        "  mammals knn --base /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \\\n" +
        "              --queries /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --out fm.ivecs",
    )
    .action((opts) => {
      parseInteger(opts.seed, "--seed");
      const { summary } = runKnn({
        base: opts.base,
        queries: opts.queries,
        k: parseInteger(opts.k, "--k", 1),
        index: opts.index,
        out: opts.out,
        metric: parseMetric(opts.metric),
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      process.stdout.write(
        `${table(
          ["index", "k", "queries", "build s", "QPS", "p50 ms", "p99 ms"],
          [
            [
              summary.index,
              summary.k,
              summary.queries,
              summary.buildS,
              Math.round(summary.qps),
              summary.p50Ms,
              summary.p99Ms,
            ],
          ],
        )}\n\nwrote ${opts.out}: ${summary.queries} x ${summary.k} neighbour ids (0-based rows of ${opts.base})\n`,
      );
    });
}
