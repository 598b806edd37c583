/**
 * `mammals bench index`: flags -> src/jobs/bench-index.node.ts `runBenchIndex` (the ann-benchmarks
 * protocol on MNIST-like datasets: base = train split, queries = test split, k = 10, single-threaded,
 * one row per index and parameter setting) -> a table or JSON. Also exports the `bench` group
 * helper, so other `bench <thing>` subcommands join the same group.
 */
import type { Command } from "commander";
import { describeIndexKinds } from "../../index/factory.node.js";
import { BENCH_K, benchIndexTable, DEFAULT_EF_SWEEP } from "../../jobs/bench-index.js";
import { runBenchIndex } from "../../jobs/bench-index.node.js";
import { parseInteger, parseNumberList, parseSeed, parseSpecList } from "../../jobs/parse.js";
import { dataFlag, datasetFlag, jsonFlag, seedFlag } from "../flags.js";
import { print, printJson } from "../output.js";
import { withProgress } from "../progress.js";

/** The `bench` command group, created on first use; `bench <thing>` subcommands attach to it. */
export function benchGroup(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === "bench");
  if (existing) return existing;
  return program
    .command("bench")
    .description("benchmarks: `mammals bench <thing> --help` for each")
    .addHelpText("after", "\nExamples:\n  mammals bench index --help");
}

export function register(program: Command): void {
  benchGroup(program)
    .command("index")
    .description(
      "ann-benchmarks protocol: base = train split, queries = test split, k = 10, single-threaded;\n" +
        "recall counts a neighbour within the true 10th distance + 1e-3 (Euclidean, native units)",
    )
    .addOption(datasetFlag())
    .addOption(dataFlag())
    .option(
      "--index <specs>",
      "comma-separated index specs; hnsw without efSearch sweeps --ef",
      "flat,flat-i8,hnsw",
    )
    .option("--queries <n>", "number of test queries (a seeded sample when fewer than the split)", "1000")
    .option("--ef <list>", "efSearch values swept for hnsw", DEFAULT_EF_SWEEP.join(","))
    .addOption(seedFlag("seed for the query sample"))
    .option("--cache <dir>", "where ground truth is cached", ".cache/bench-index")
    .option("--no-cache", "recompute ground truth")
    .addOption(jsonFlag())
    .addHelpText(
      "after",
      `\nIndex kinds:\n  ${describeIndexKinds().join("\n  ")}\n\nExamples:\n` +
        "  mammals bench index                                   # embedded MNIST, 1000 queries\n" +
        "  mammals bench index --dataset fashion-mnist --queries 2000 --json\n" +
        '  mammals bench index --index "flat-i8:rerank=40,hnsw:M=32,efConstruction=200" --ef 16,64,256\n' +
        "  mammals bench index --dataset /data/mnist-idx --seed 7",
    )
    .action(async (opts) => {
      const options = {
        dataset: opts.dataset,
        dataDir: opts.data,
        indexes: parseSpecList(opts.index, "--index"),
        queries: parseInteger(opts.queries, "--queries", 1),
        seed: parseSeed(opts.seed),
        efSweep: parseNumberList(opts.ef, "--ef", { min: 1, integer: true }),
        cacheDir: opts.cache === false ? undefined : opts.cache,
      };
      const { results, dataset, nq } = await withProgress((onProgress) => runBenchIndex(options, onProgress));
      if (opts.json) return printJson({ results });
      print(
        `${dataset.name}: ${dataset.train.n} base x ${dataset.train.dim}, ${nq} queries, k=${BENCH_K}, single thread\n\n` +
          `${benchIndexTable(results)}`,
      );
    });
}
