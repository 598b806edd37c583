/**
 * `mammals analyze --catalog SPEC`: intrinsic dimension (TwoNN, Levina-Bickel MLE), nearest-
 * neighbour distance distribution and hubness of a catalog, printed and as JSON.
 */
import { type Command, Option } from "commander";
import { CATALOG_HELP, loadCatalog } from "../../caching/catalog.node.js";
import { analyzeCatalog, type GeometryReport, type Quantiles } from "../../caching/geometry.js";
import { parseInteger } from "../args.js";
import { fmt, table } from "../format.js";

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
    .option("--seed <s>", "seed of the sample", "1")
    .option("--data <dir>", "directory searched first for dataset files")
    .addOption(new Option("--json", "print one JSON object on the last line"))
    .addHelpText(
      "after",
      "\nExamples:\n  mammals analyze --catalog fashion-mnist\n  mammals analyze --catalog sift_base.fvecs --sample 5000 --k 20 --json\n" +
        "  mammals analyze --catalog gauss:n=5000,dim=4 --index flat",
    )
    .action((opts) => {
      const catalog = loadCatalog(opts.catalog, { index: opts.index, dataDir: opts.data });
      const r = analyzeCatalog(catalog, {
        sample: parseInteger(opts.sample, "--sample", 10),
        k: parseInteger(opts.k, "--k", 2),
        seed: parseInteger(opts.seed, "--seed", 0),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(`${geometryTable(r)}\n`);
    });
}
