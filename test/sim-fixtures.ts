/**
 * Shared helpers of the simulator tests and scripts (the golden case is in golden-sim.ts). Not a
 * test file itself.
 */
import { createCachePolicies } from "../src/caching/registry.js";
import { type SimResult, simulate } from "../src/caching/simulator.js";
import { makeTrace, type Trace } from "../src/caching/traces.js";
import type { CachePolicy, Catalog, CostModel } from "../src/caching/types.js";

export function runPolicies(
  catalog: Catalog,
  cost: CostModel,
  trace: Trace,
  specs: string[],
  capacity: number,
  seed = 1,
): { result: SimResult; policies: CachePolicy[] } {
  const offline = {
    count: trace.info.count,
    *requests() {
      for (const r of trace.requests()) yield r.x;
    },
  };
  const policies = createCachePolicies(specs, (i) => ({ capacity, catalog, cost, seed: seed + i, offline }));
  return { result: simulate({ catalog, cost, policies, trace }), policies };
}

/** A trace over explicit catalog rows (noise-free). */
export function rowTrace(catalog: Catalog, rows: number[]): Trace {
  return makeTrace({ dim: catalog.dim, count: rows.length, source: "rows" }, function* () {
    for (const r of rows) yield { x: catalog.row(r), row: r, origin: r };
  });
}
