/**
 * `mammals simulate`: one pass over a trace feeds every listed cache policy through the shared
 * accounting loop (src/caching/simulator.ts); table, JSON, running-average CSV, SVG and HTML report.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, Option } from "commander";
import { CATALOG_HELP, loadCatalog } from "../../caching/catalog.node.js";
import { APPROX_HELP, createCostModel } from "../../caching/cost.js";
import { createCachePolicy, parsePolicyList } from "../../caching/registry.js";
import {
  describeRun,
  RESULT_HEADERS,
  resultRows,
  runningCostSvg,
  seriesCsv,
  simulationHtml,
} from "../../caching/report.js";
import { type SimResult, simulate } from "../../caching/simulator.js";
import { openTraceFile } from "../../caching/trace-file.node.js";
import { generateTrace, isGeneratorSpec, type Trace } from "../../caching/traces.js";
import type { CachePolicy, Catalog, CostModel } from "../../caching/types.js";
import { fail } from "../../core/errors.js";
import { parseInteger, parseNumber } from "../args.js";
import { table } from "../format.js";
import { progress } from "../progress.js";

export interface SimulateOptions {
  catalog: string;
  trace: string;
  policies: string[];
  /** Objects, or "P%" of the catalog. */
  capacity: string;
  k: number;
  cf?: number;
  cr?: number;
  approx?: string;
  index?: string;
  neighbours?: number;
  seed: number;
  dataDir?: string;
  showProgress?: boolean;
}

/** "600" or "1%" of n (rounded, at least 1). */
export function parseCapacity(s: string, n: number): number {
  const t = s.trim();
  if (t.endsWith("%")) {
    const p = parseNumber(t.slice(0, -1), "--capacity (percent)", 0, 100);
    return Math.max(1, Math.round((p / 100) * n));
  }
  return parseInteger(t, "--capacity", 1, n);
}

export function openTrace(spec: string, catalog: Catalog): Trace {
  return isGeneratorSpec(spec) ? generateTrace(spec, catalog) : openTraceFile(spec, catalog);
}

export function buildPolicies(
  specs: string[],
  catalog: Catalog,
  cost: CostModel,
  capacity: number,
  seed: number,
  trace: Trace,
): CachePolicy[] {
  const offline = {
    count: trace.info.count,
    *requests() {
      for (const r of trace.requests()) yield r.x;
    },
  };
  return specs.map((spec, i) =>
    createCachePolicy(spec, { capacity, catalog, cost, seed: seed + 7919 * i, offline }),
  );
}

export function runSimulation(o: SimulateOptions): { result: SimResult; capacity: number } {
  const cost = createCostModel({ k: o.k, cf: o.cf, cr: o.cr, approx: o.approx });
  const catalog = loadCatalog(o.catalog, { index: o.index, dataDir: o.dataDir });
  const capacity = parseCapacity(o.capacity, catalog.n);
  if (capacity < cost.k) fail("INVALID_ARGUMENT", `--capacity ${capacity} is below --k ${cost.k}`);
  const trace = openTrace(o.trace, catalog);
  const policies = buildPolicies(o.policies, catalog, cost, capacity, o.seed, trace);
  const bar = progress(trace.info.count, "simulate", o.showProgress);
  let last = 0;
  const result = simulate({
    catalog,
    cost,
    policies,
    trace,
    neighbours: o.neighbours,
    onProgress: (done) => {
      bar.tick(done - last);
      last = done;
    },
  });
  bar.stop();
  return { result, capacity };
}

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
    .option("--seed <s>", "seed of every policy's random choices", "1")
    .option("--data <dir>", "directory searched first for dataset files")
    .option("--out <dir>", "write results.json, running-cost.csv, running-cost.svg and report.html here")
    .addOption(new Option("--json", "print one JSON object on the last line"))
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  mammals simulate --catalog gauss:n=2000,dim=8 --trace irm:alpha=0.9,count=100000 --policies lru,sim-lru,qlru-dc:q=0.05 --capacity 1% --cr 1\n" +
        "  mammals simulate --catalog fashion-mnist --trace irm:count=1000000 --policies sim-lru --capacity 1% --cr 4 --out out/sim\n" +
        "  mammals simulate --catalog sift_base.fvecs --trace sift_query.fvecs --policies lru,sim-lru --capacity 1000 --k 10 --cf 100 --json",
    )
    .action((opts) => {
      const o: SimulateOptions = {
        catalog: opts.catalog,
        trace: opts.trace,
        policies: parsePolicyList(opts.policies),
        capacity: opts.capacity,
        k: parseInteger(opts.k, "--k", 1),
        cf: opts.cf === undefined ? undefined : parseNumber(opts.cf, "--cf", 0),
        cr: opts.cr === undefined ? undefined : parseNumber(opts.cr, "--cr", 0),
        approx: opts.approx,
        index: opts.index,
        neighbours: parseInteger(opts.neighbours, "--neighbours", 0),
        seed: parseInteger(opts.seed, "--seed", 0),
        dataDir: opts.data,
      };
      const { result, capacity } = runSimulation(o);
      if (opts.out) {
        mkdirSync(opts.out, { recursive: true });
        const command = `mammals ${process.argv.slice(2).join(" ")}`;
        writeFileSync(
          join(opts.out, "results.json"),
          `${JSON.stringify({ ...result, capacity, command }, null, 1)}\n`,
        );
        writeFileSync(join(opts.out, "running-cost.csv"), seriesCsv(result.results));
        writeFileSync(join(opts.out, "running-cost.svg"), runningCostSvg(result));
        writeFileSync(join(opts.out, "report.html"), simulationHtml(result, capacity, command));
      }
      if (opts.json) {
        const results = result.results.map(({ series: _s, ...r }) => r);
        const { results: _r, ...run } = result;
        process.stdout.write(`${JSON.stringify({ ...run, capacity, results })}\n`);
        return;
      }
      process.stdout.write(
        `${describeRun(result, capacity).join("\n")}\n\n${table(RESULT_HEADERS, resultRows(result))}\n` +
          (opts.out
            ? `\nwrote ${opts.out}/{results.json,running-cost.csv,running-cost.svg,report.html}\n`
            : ""),
      );
    });
}
