/**
 * Shared helpers of the simulator tests and scripts (the golden case is in golden-sim.ts). Not a
 * test file itself.
 */

import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { createCachePolicies } from "../src/caching/registry.js";
import { type SimResult, simulate } from "../src/caching/simulator.js";
import { makeTrace, type Trace } from "../src/caching/traces.js";
import type { CacheContext, CachePolicy, Catalog, CostModel } from "../src/caching/types.js";

export function runPolicies(
  catalog: Catalog,
  cost: CostModel,
  trace: Trace,
  specs: string[],
  capacity: number,
  seed = 1,
): { result: SimResult; policies: CachePolicy[] } {
  const policies = createCachePolicies(specs, (i) => contextFor(catalog, cost, trace, capacity, seed + i));
  return { result: simulate({ catalog, cost, policies, trace }), policies };
}

/** A trace over explicit catalog rows (noise-free). */
export function rowTrace(catalog: Catalog, rows: number[]): Trace {
  return makeTrace({ dim: catalog.dim, count: rows.length, source: "rows" }, function* () {
    for (const r of rows) yield { x: catalog.row(r), row: r, origin: r };
  });
}

/** A seeded Gaussian catalog from its spec (`gauss:n=..,dim=..,seed=..`), searched exactly. */
export function catalogOf(spec: string): Catalog {
  const g = gaussVectors(spec);
  return makeCatalog(g.canonical, g.vectors, g.dim, "flat");
}

/** What a policy is built with: capacity, catalog, cost, seed, and the trace for offline references. */
export function contextFor(
  catalog: Catalog,
  cost: CostModel,
  trace: Trace,
  capacity: number,
  seed = 1,
): CacheContext {
  const offline = {
    count: trace.info.count,
    *requests() {
      for (const r of trace.requests()) yield r.x;
    },
  };
  return { capacity, catalog, cost, seed, offline };
}
