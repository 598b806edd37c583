/**
 * `mammals simulate`: flags -> src/jobs/simulate.node.ts `runSimulation` (one pass over a trace
 * feeds every listed cache policy through the shared accounting loop) -> a table or the --json
 * summary; --out also writes the JSON, CSV, SVG and HTML reports.
 */
import type { Command } from "commander";
import { CATALOG_HELP } from "../../caching/catalog.node.js";
import { APPROX_HELP } from "../../caching/cost.js";
import { describeRun, RESULT_HEADERS, resultRows } from "../../caching/report.js";
import { table } from "../../core/format.js";
import { parseInteger, parseNumber, parseSeed, parseSpecList } from "../../jobs/parse.js";
import { summarizeSimulation } from "../../jobs/simulate.js";
import { runSimulation, writeSimulationReports } from "../../jobs/simulate.node.js";
import { dataFlag, jsonFlag, seedFlag } from "../flags.js";
import { print, printJson } from "../output.js";
import { withProgress } from "../progress.js";

export function register(program: Command): void {
  program
    .command("simulate")
    .description(
      "similarity-caching simulator: one pass over a trace feeds every policy; one accounting loop " +
        "charges them all (distances Euclidean, not squared)",
    )
    .requiredOption("--catalog <spec>", CATALOG_HELP)
    .requiredOption(
      "--trace <file|generator>",
      "trace file (.trace from `trace gen`, or .fvecs) or generator spec (irm:..., shift:..., adversarial:...)",
    )
    .requiredOption(
      "--policies <list>",
      "comma-separated policy specs; `mammals policies --describe` lists them",
    )
    .requiredOption("--capacity <h>", "cache size h in objects, or a percentage of the catalog such as 1%")
    .option("--k <k>", "objects per answer (k > 1: the k-NN setting of AÇAI)", "1")
    .option("--cf <c>", "k-NN setting: fetch cost per object not stored")
    .option("--cr <c>", "single-answer setting (--k 1): remote cost of an answer (default 1)")
    .option("--approx <f>", `approximation cost of distance d: ${APPROX_HELP}`, "identity")
    .option(
      "--index <spec>",
      "catalog index: auto (flat for small catalogs, else hnsw), flat, hnsw:M=..",
      "auto",
    )
    .option(
      "--neighbours <K>",
      "catalog neighbours looked up once per request and shared (0: just k; more can spare stored-set scans)",
      "0",
    )
    .addOption(seedFlag("seed of every policy's random choices"))
    .addOption(dataFlag())
    .option(
      "--out <dir>",
      "write results.json, running-cost.csv, running-cost.svg and report.html here (checked before the run)",
    )
    .option(
      "--force",
      "replay a trace file on a catalog other than the one it was generated over (its fingerprint differs)",
    )
    .addOption(jsonFlag())
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  mammals simulate --catalog gauss:n=2000,dim=8 --trace irm:alpha=0.9,count=100000 --policies lru,sim-lru,qlru-dc:q=0.05 --capacity 1% --cr 1\n" +
        "  mammals simulate --catalog fashion-mnist --trace irm:count=1000000 --policies sim-lru --capacity 1% --cr 4 --out out/sim\n" +
        "  mammals simulate --catalog sift_base.fvecs --trace sift_query.fvecs --policies lru,sim-lru --capacity 1000 --k 10 --cf 100 --json\n" +
        "  mammals simulate --catalog gauss:n=2000,dim=8,seed=2 --trace made-over-seed-1.trace --force --policies lru --capacity 1%",
    )
    .action(async (opts) => {
      const run = await withProgress((onProgress) =>
        runSimulation(
          {
            catalog: opts.catalog,
            trace: opts.trace,
            policies: parseSpecList(opts.policies, "--policies"),
            capacity: opts.capacity,
            k: parseInteger(opts.k, "--k", 1),
            cf: opts.cf === undefined ? undefined : parseNumber(opts.cf, "--cf", { min: 0 }),
            cr: opts.cr === undefined ? undefined : parseNumber(opts.cr, "--cr", { min: 0 }),
            approx: opts.approx,
            index: opts.index,
            neighbours: parseInteger(opts.neighbours, "--neighbours", 0),
            seed: parseSeed(opts.seed),
            dataDir: opts.data,
            outDir: opts.out,
            force: opts.force === true,
          },
          onProgress,
        ),
      );
      if (opts.out) writeSimulationReports(opts.out, run, `mammals ${process.argv.slice(2).join(" ")}`);
      if (opts.json) return printJson(summarizeSimulation(run));
      print(
        `${describeRun(run.result, run.capacity).join("\n")}\n\n${table(RESULT_HEADERS, resultRows(run.result))}\n` +
          (opts.out
            ? `\nwrote ${opts.out}/{results.json,running-cost.csv,running-cost.svg,report.html}\n`
            : ""),
      );
    });
}
