/**
 * The simulation use case, browser-safe part: capacity given as objects or a share of the catalog,
 * cache policies built from their specs with one seed each, one run of the single-pass simulator
 * (src/caching/simulator.ts) over a catalog and a trace already at hand, and the summary every
 * front end reports (the CLI's --json line, the service's response). simulate.node.ts adds
 * catalogs and traces named by spec or file.
 */
import { createCachePolicy } from "../caching/registry.js";
import { type PolicyResult, type SimResult, simulate } from "../caching/simulator.js";
import type { Trace } from "../caching/traces.js";
import type { CachePolicy, Catalog, CostModel } from "../caching/types.js";
import { fail } from "../core/errors.js";
import { parseInteger, parseNumber } from "./parse.js";
import type { OnProgress } from "./progress.js";

/** "600" objects, or "1%" of a catalog of n objects (rounded, at least 1). */
export function parseCapacity(s: string, n: number): number {
  const t = s.trim();
  if (t.endsWith("%")) {
    const p = parseNumber(t.slice(0, -1), "--capacity (percent)", { min: 0, max: 100 });
    return Math.max(1, Math.round((p / 100) * n));
  }
  return parseInteger(t, "--capacity", 1, n);
}

/**
 * One policy per spec, each with its own seed (seed + 7919 i, so adding a policy to a list leaves
 * the others' random choices unchanged). Offline policies get the trace's request vectors.
 */
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

export interface SimulationRun {
  result: SimResult;
  /** Cache size h in objects (a percentage resolved against the catalog). */
  capacity: number;
}

export interface CatalogSimulation {
  catalog: Catalog;
  cost: CostModel;
  trace: Trace;
  /** Cache policy specs, e.g. ["lru", "qlru-dc:q=0.05"]. */
  policies: string[];
  /** Cache size h in objects. */
  capacity: number;
  /** Seed of every policy's random choices. */
  seed: number;
  /** Catalog neighbours looked up once per request and shared (0: just k). */
  neighbours?: number;
}

/** Every answer has k objects, so a cache smaller than k could never serve one. */
export function checkCapacity(capacity: number, k: number): void {
  if (capacity < k) fail("INVALID_ARGUMENT", `--capacity ${capacity} is below --k ${k}`);
}

/** Checks the capacity against k, builds the policies and runs one pass of the trace. */
export function simulateCatalog(o: CatalogSimulation, onProgress?: OnProgress): SimulationRun {
  checkCapacity(o.capacity, o.cost.k);
  const policies = buildPolicies(o.policies, o.catalog, o.cost, o.capacity, o.seed, o.trace);
  const total = o.trace.info.count;
  const result = simulate({
    catalog: o.catalog,
    cost: o.cost,
    policies,
    trace: o.trace,
    neighbours: o.neighbours,
    onProgress: onProgress && ((done) => onProgress(done, total, "simulate")),
  });
  return { result, capacity: o.capacity };
}

/** A run without its running-cost series: what `simulate --json` prints. */
export type SimulationSummary = Omit<SimResult, "results"> & {
  capacity: number;
  results: Array<Omit<PolicyResult, "series">>;
};

export function summarizeSimulation(run: SimulationRun): SimulationSummary {
  const { results, ...rest } = run.result;
  return { ...rest, capacity: run.capacity, results: results.map(({ series: _s, ...r }) => r) };
}
