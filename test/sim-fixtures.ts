/**
 * Shared setup of the simulator tests and of scripts/gen-golden-sim.ts: the golden case (a fixed
 * catalog, trace and cost model) and small helpers. Not a test file itself.
 */

import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { createCostModel } from "../src/caching/cost.js";
import { createCachePolicy } from "../src/caching/registry.js";
import { type SimResult, simulate } from "../src/caching/simulator.js";
import { generateTrace, makeTrace, type Trace } from "../src/caching/traces.js";
import type { CachePolicy, Catalog, CostModel } from "../src/caching/types.js";

export const GOLDEN = {
  catalog: "gauss:n=300,dim=4,seed=3,clusters=6,spread=0.3",
  trace: "irm:alpha=0.9,count=5000,seed=5,noise=0.05",
  capacities: [3, 15, 60],
  settings: [
    { name: "single", k: 1, cr: 0.5, approx: "identity" },
    { name: "knn", k: 3, cf: 0.5, approx: "identity" },
  ],
  policies: ["lru", "sim-lru"],
} as const;

export function goldenCatalog(): Catalog {
  const g = gaussVectors(GOLDEN.catalog.slice("gauss:".length));
  return makeCatalog(g.canonical, g.vectors, g.dim, "flat");
}

export interface GoldenRow {
  setting: string;
  policy: string;
  capacity: number;
  hits: number;
  fetched: number;
  moved: number;
  totalCost: number;
}

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
  const policies = specs.map((s, i) =>
    createCachePolicy(s, { capacity, catalog, cost, seed: seed + i, offline }),
  );
  return { result: simulate({ catalog, cost, policies, trace }), policies };
}

export function goldenRows(): GoldenRow[] {
  const catalog = goldenCatalog();
  const trace = generateTrace(GOLDEN.trace, catalog);
  const rows: GoldenRow[] = [];
  for (const s of GOLDEN.settings) {
    const cost = createCostModel({
      k: s.k,
      cr: "cr" in s ? s.cr : undefined,
      cf: "cf" in s ? s.cf : undefined,
      approx: s.approx,
    });
    for (const h of GOLDEN.capacities) {
      const { result } = runPolicies(catalog, cost, trace, [...GOLDEN.policies], h);
      for (const r of result.results)
        rows.push({
          setting: s.name,
          policy: r.policy,
          capacity: h,
          hits: Math.round(r.hitRatio * r.requests),
          fetched: r.fetched,
          moved: r.moved,
          totalCost: Number((r.avgCost * r.requests).toFixed(6)),
        });
    }
  }
  return rows;
}

/** A trace over explicit catalog rows (noise-free). */
export function rowTrace(catalog: Catalog, rows: number[]): Trace {
  return makeTrace({ dim: catalog.dim, count: rows.length, source: "rows" }, function* () {
    for (const r of rows) yield { x: catalog.row(r), row: r, origin: r };
  });
}
