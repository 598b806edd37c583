/**
 * `mammals analyze --catalog SPEC`: flags -> src/jobs/analyze.node.ts `runAnalysis` (intrinsic
 * dimension by TwoNN and the Levina-Bickel MLE, nearest-neighbour distance distribution, hubness)
 * -> a table or JSON.
 */
import type { Command } from "commander";
import { CATALOG_HELP } from "../../caching/catalog.node.js";
import type { GeometryReport, Quantiles } from "../../caching/geometry.js";
import { fmt, table } from "../../core/format.js";
import { runAnalysis } from "../../jobs/analyze.node.js";
import { parseInteger, parseSeed } from "../../jobs/parse.js";
import { dataFlag, jsonFlag, seedFlag } from "../flags.js";
import { print, printJson } from "../output.js";

function q(x: Quantiles): string {
  return `mean ${fmt(x.mean)}  min ${fmt(x.min)}  p10 ${fmt(x.p10)}  p50 ${fmt(x.p50)}  p90 ${fmt(x.p90)}  max ${fmt(x.max)}`;
}

export function geometryTable(r: GeometryReport): string {
  return table(
    ["", r.catalog],
    [
      ["objects x dimension", `${r.n} x ${r.dim}`],
      ["distance", r.distance],
      ["sample (seeded), k", `${r.sample}, ${r.k}`],
      ["intrinsic dimension, TwoNN", fmt(r.twoNN)],
      [`intrinsic dimension, MLE (k=${r.k})`, fmt(r.mle)],
      ["nearest-neighbour distance", q(r.nnDistance)],
      [`${r.k}-th neighbour distance`, q(r.kthDistance)],
      [`hubness (skewness of N_${r.k})`, fmt(r.hubness)],
      [`max N_${r.k}, antihub fraction`, `${r.maxOccurrence}, ${fmt(r.antihubs)}`],
      ["points skipped (duplicates)", String(r.duplicates)],
    ],
  );
}

export function register(program: Command): void {
  program
    .command("analyze")
    .description(
      "catalog geometry for choosing a caching policy: intrinsic dimension (TwoNN, MLE), " +
        "nearest-neighbour distances (compare with --cr / --cf) and hubness; Euclidean distances",
    )
    .requiredOption("--catalog <spec>", CATALOG_HELP)
    .option("--sample <n>", "sampled objects (seeded); hubness is measured in their k-NN graph", "2000")
    .option("--k <k>", "neighbours for the MLE and the k-occurrence", "10")
    .option("--index <spec>", "catalog index: auto, flat, hnsw:...", "auto")
    .addOption(seedFlag("seed of the sample"))
    .addOption(dataFlag())
    .addOption(jsonFlag())
    .addHelpText(
      "after",
      "\nExamples:\n  mammals analyze --catalog fashion-mnist\n  mammals analyze --catalog sift_base.fvecs --sample 5000 --k 20 --json\n" +
        "  mammals analyze --catalog gauss:n=5000,dim=4 --index flat",
    )
    .action((opts) => {
      const r = runAnalysis({
        catalog: opts.catalog,
        sample: parseInteger(opts.sample, "--sample", 10),
        k: parseInteger(opts.k, "--k", 2),
        index: opts.index,
        seed: parseSeed(opts.seed),
        dataDir: opts.data,
      });
      if (opts.json) return printJson(r);
      print(geometryTable(r));
    });
}
