/**
 * The simulation use case with catalogs and traces named by spec or file: `runSimulation` loads the
 * catalog (dataset, vector file or generator), opens the trace (generator spec or trace file) and
 * runs every policy over it in one pass; `writeSimulationReports` writes the JSON, CSV, SVG and
 * HTML reports of a run.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadCatalog } from "../caching/catalog.node.js";
import { createCostModel } from "../caching/cost.js";
import { runningCostSvg, seriesCsv, simulationHtml } from "../caching/report.js";
import { openTraceFile } from "../caching/trace-file.node.js";
import { generateTrace, isGeneratorSpec, type Trace } from "../caching/traces.js";
import type { Catalog } from "../caching/types.js";
import { checkOutputDir, writeFileAtomic } from "../data/atomic-write.node.js";
import type { OnProgress } from "./progress.js";
import { checkCapacity, parseCapacity, type SimulationRun, simulateCatalog } from "./simulate.js";

export interface SimulationOptions {
  /** Catalog spec: fashion-mnist, mnist, FILE.fvecs, gauss:n=..,dim=.., or an IDX directory. */
  catalog: string;
  /** Trace file (.trace, .fvecs) or generator spec (irm:..., shift:..., adversarial:...). */
  trace: string;
  /** Cache policy specs. */
  policies: string[];
  /** Objects, or "P%" of the catalog. */
  capacity: string;
  /** Objects per answer (k > 1: the k-NN setting). */
  k: number;
  cf?: number;
  cr?: number;
  /** Approximation cost spec: identity, power:P, step:R. */
  approx?: string;
  /** Catalog index spec: auto, flat, hnsw:... */
  index?: string;
  neighbours?: number;
  seed: number;
  /** Directory searched first for dataset files. */
  dataDir?: string;
  /** Where the reports will go: checked before the run, so a bad directory fails in milliseconds. */
  outDir?: string;
  /** Replay a trace file on a catalog other than the one it was generated over. */
  force?: boolean;
}

/** A generator spec makes a trace over the catalog; anything else is a trace file. */
export function openTrace(spec: string, catalog: Catalog, options: { force?: boolean } = {}): Trace {
  return isGeneratorSpec(spec)
    ? generateTrace(spec, catalog)
    : openTraceFile(spec, catalog, { force: options.force });
}

export function runSimulation(o: SimulationOptions, onProgress?: OnProgress): SimulationRun {
  // The cost model first: a bad --cr/--cf/--approx fails before the catalog is loaded; the
  // capacity is checked before the trace is opened.
  if (o.outDir !== undefined) checkOutputDir(o.outDir, { label: "--out" });
  const cost = createCostModel({ k: o.k, cf: o.cf, cr: o.cr, approx: o.approx });
  const catalog = loadCatalog(o.catalog, { index: o.index, dataDir: o.dataDir });
  const capacity = parseCapacity(o.capacity, catalog.n);
  checkCapacity(capacity, cost.k);
  const trace = openTrace(o.trace, catalog, { force: o.force });
  return simulateCatalog(
    { catalog, cost, capacity, trace, policies: o.policies, seed: o.seed, neighbours: o.neighbours },
    onProgress,
  );
}

/**
 * Writes results.json (the run, its capacity and the command that made it), running-cost.csv,
 * running-cost.svg and report.html into `dir` (created if missing); returns the paths written.
 */
export function writeSimulationReports(dir: string, run: SimulationRun, command: string): string[] {
  checkOutputDir(dir, { label: "--out" });
  mkdirSync(dir, { recursive: true });
  const files: Array<[string, string]> = [
    ["results.json", `${JSON.stringify({ ...run.result, capacity: run.capacity, command }, null, 1)}\n`],
    ["running-cost.csv", seriesCsv(run.result.results)],
    ["running-cost.svg", runningCostSvg(run.result)],
    ["report.html", simulationHtml(run.result, run.capacity, command)],
  ];
  return files.map(([name, text]) => {
    const path = join(dir, name);
    // Each report atomic: a full disk keeps the previous run's file rather than a truncated one.
    writeFileAtomic(path, text, { label: "--out" });
    return path;
  });
}
