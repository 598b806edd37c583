/**
 * The golden case of the cache policies (libCacheSim-style "golden numbers"): a fixed small seeded
 * catalog and trace, three capacities, both cost settings. Shared by test/golden-policies.test.ts,
 * which checks test/fixtures/sim-golden.json, and scripts/gen-golden-sim.ts, which regenerates it.
 * Not a test file itself.
 */
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { createCostModel } from "../src/caching/cost.js";
import { cachePolicies, capabilityOf, createCachePolicy } from "../src/caching/registry.js";
import { simulate } from "../src/caching/simulator.js";
import { generateTrace } from "../src/caching/traces.js";
import type { Catalog, CostModel } from "../src/caching/types.js";

export const GOLDEN = {
  catalog: "gauss:n=300,dim=4,seed=3,clusters=6,spread=0.3",
  trace: "irm:alpha=0.9,count=5000,seed=5,noise=0.05",
  capacities: [3, 15, 60],
  settings: [
    { name: "single", k: 1, cr: 0.5, approx: "identity" },
    { name: "knn", k: 3, cf: 0.5, approx: "identity" },
  ],
  /**
   * Every policy runs alone, at its default parameters, with this seed: its figures do not depend
   * on which other policies are registered or in what order.
   */
  seed: 1,
} as const;

/** Figures of one policy (by canonical spec) at one capacity in one setting. */
export interface GoldenRow {
  setting: string;
  policy: string;
  capacity: number;
  hits: number;
  fetched: number;
  moved: number;
  /** Total serving cost, rounded to 6 decimals. */
  totalCost: number;
}

/** Decimals kept of `totalCost` in the fixture. */
export const COST_DECIMALS = 6;

export function goldenCatalog(): Catalog {
  const g = gaussVectors(GOLDEN.catalog.slice("gauss:".length));
  return makeCatalog(g.canonical, g.vectors, g.dim, "flat");
}

export function goldenCost(setting: (typeof GOLDEN.settings)[number]): CostModel {
  return createCostModel({
    k: setting.k,
    cr: "cr" in setting ? setting.cr : undefined,
    cf: "cf" in setting ? setting.cf : undefined,
    approx: setting.approx,
  });
}

/** The policy name of a row (its spec up to ":"). */
export function rowPolicyName(row: GoldenRow): string {
  return row.policy.split(":")[0];
}

/**
 * Runs every named policy (default: every registered cache policy) in every golden setting it
 * declares, at every golden capacity. Rows in order setting, capacity, registry order.
 */
export function goldenRows(names: readonly string[] = cachePolicies.names()): GoldenRow[] {
  const catalog = goldenCatalog();
  const trace = generateTrace(GOLDEN.trace, catalog);
  const offline = {
    count: trace.info.count,
    *requests() {
      for (const r of trace.requests()) yield r.x;
    },
  };
  const rows: GoldenRow[] = [];
  for (const s of GOLDEN.settings) {
    const cost = goldenCost(s);
    const supported = names.filter((n) => cachePolicies.supports(n, capabilityOf(cost.setting)));
    for (const capacity of GOLDEN.capacities)
      for (const name of supported) {
        const policy = createCachePolicy(name, { capacity, catalog, cost, seed: GOLDEN.seed, offline });
        const [r] = simulate({ catalog, cost, policies: [policy], trace }).results;
        rows.push({
          setting: s.name,
          policy: r.policy,
          capacity,
          hits: Math.round(r.hitRatio * r.requests),
          fetched: r.fetched,
          moved: r.moved,
          totalCost: Number((r.avgCost * r.requests).toFixed(COST_DECIMALS)),
        });
      }
  }
  return rows;
}
