/**
 * `mammals knn`: flags -> src/jobs/knn.node.ts `runKnn` (one index over the base vectors, every
 * query answered one at a time, neighbour ids written as .ivecs) -> a table or JSON.
 */
import { type Command, Option } from "commander";
import { table } from "../../core/format.js";
import { parseMetric } from "../../core/vectors.js";
import { VECTOR_FORMATS, type VectorFormat } from "../../data/vector-formats.js";
import { describeIndexKinds } from "../../index/factory.node.js";
import { runKnn } from "../../jobs/knn.node.js";
import { parseInteger, parseSeed } from "../../jobs/parse.js";
import { jsonFlag, seedFlag } from "../flags.js";
import { print, printJson } from "../output.js";
import { withProgress } from "../progress.js";

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
    .requiredOption(
      "--queries <file>",
      "query vectors, same formats; same dimension as --base; - reads standard input (needs --format)",
    )
    .addOption(
      new Option(
        "--format <fmt>",
        "format of --base or --queries given as - (standard input has no name)",
      ).choices(VECTOR_FORMATS),
    )
    .requiredOption(
      "--out <file.ivecs>",
      "where the neighbour ids go: one record of k ids per query; - writes the .ivecs to standard output",
    )
    .option("--k <k>", "neighbours per query (1 <= k <= base rows)", "10")
    .option("--index <spec>", "index spec, e.g. flat, flat-i8:rerank=40, hnsw:M=16,efSearch=64", "flat")
    .option("--metric <m>", "l2 (squared Euclidean), ip (inner product) or cos (cosine)", "l2")
    .addOption(
      seedFlag(
        "accepted for uniformity with other commands; every index kind builds deterministically today",
      ),
    )
    .addOption(
      jsonFlag(
        'print one JSON object on the last line: {"index","k","queries","buildS","qps","p50Ms","p99Ms"}',
      ),
    )
    .addHelpText(
      "after",
      `\nIndex kinds:\n  ${describeIndexKinds().join("\n  ")}\n\nExamples:\n` +
        "  mammals knn --base sift_base.fvecs --queries sift_query.fvecs --k 100 --out gt.ivecs\n" +
        "  mammals knn --base train.npy --queries test.npy --index hnsw:M=32,efSearch=128 --out nn.ivecs --json\n" +
        "  produce-queries | mammals knn --base base.fvecs --queries - --format fvecs --out - > nn.ivecs\n" +
        "  mammals knn --base /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \\\n" +
        "              --queries /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --out fm.ivecs",
    )
    .action(async (opts) => {
      parseSeed(opts.seed);
      const options = {
        base: opts.base,
        queries: opts.queries,
        k: parseInteger(opts.k, "--k", 1),
        index: opts.index,
        out: opts.out,
        metric: parseMetric(opts.metric),
        format: opts.format as VectorFormat | undefined,
      };
      const { summary: s } = await withProgress((onProgress) => runKnn(options, onProgress));
      // With --out -, stdout carries the .ivecs bytes; the report goes to stderr so they stay intact.
      if (opts.out === "-") {
        process.stderr.write(
          opts.json
            ? `${JSON.stringify(s)}\n`
            : `${s.queries} x ${s.k} neighbour ids written to standard output (${s.index}, ${Math.round(s.qps)} QPS)\n`,
        );
        return;
      }
      if (opts.json) return printJson(s);
      print(
        `${table(
          ["index", "k", "queries", "build s", "QPS", "p50 ms", "p99 ms"],
          [[s.index, s.k, s.queries, s.buildS, Math.round(s.qps), s.p50Ms, s.p99Ms]],
        )}\n\nwrote ${opts.out}: ${s.queries} x ${s.k} neighbour ids (0-based rows of ${opts.base})`,
      );
    });
}
