/**
 * Oracles for the simulator's speed-ups (issue 16): the fast paths give exactly what the plain
 * references give. lazyGreedy's heap against the sorted-array lazy greedy it replaced; a catalog
 * (and its index) shared across configurations against a fresh catalog per configuration, as
 * scripts/sim-results.ts now runs. swapLocalSearch's dense corrections are checked by the golden
 * figures of greedy and static-opt (test/golden-policies.test.ts), which did not move.
 */
import { describe, expect, it } from "vitest";
import "../src/index/factory.node.js";
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { createCostModel } from "../src/caching/cost.js";
import { buildRequestTable, lazyGreedy, type RequestTable } from "../src/caching/policies/offline.js";
import { generateTrace } from "../src/caching/traces.js";
import { simulateCatalog } from "../src/jobs/simulate.js";
import { catalogOf, contextFor } from "./sim-fixtures.js";

/** The lazy greedy as it was: a sorted array, shift and splice. */
function lazyGreedyReference(table: RequestTable, member: Uint8Array, h: number): number[] {
  const chosen: number[] = [];
  const gainOf = (o: number) => {
    const reqs = new Set<number>(table.requestsOf(o));
    let before = 0;
    for (const r of reqs) before += table.weight[r] * table.cost1(r, member);
    member[o] = 1;
    let after = 0;
    for (const r of reqs) after += table.weight[r] * table.cost1(r, member);
    member[o] = 0;
    return -(after - before);
  };
  const bounds = Array.from(table.relevant).map((o) => ({ o, g: gainOf(o), at: 0 }));
  bounds.sort((a, b) => b.g - a.g || a.o - b.o);
  while (chosen.length < h && bounds.length > 0) {
    const top = bounds[0];
    if (top.at !== chosen.length) {
      top.g = gainOf(top.o);
      top.at = chosen.length;
      bounds.shift();
      let i = 0;
      while (i < bounds.length && (bounds[i].g > top.g || (bounds[i].g === top.g && bounds[i].o < top.o)))
        i++;
      bounds.splice(i, 0, top);
      continue;
    }
    bounds.shift();
    if (top.g <= 0) break;
    member[top.o] = 1;
    chosen.push(top.o);
  }
  return chosen;
}

describe("offline references: fast paths equal their references", () => {
  it("lazyGreedy's heap picks the same objects in the same order as the sorted-array lazy greedy", () => {
    const catalog = catalogOf("n=1500,dim=4,seed=7,clusters=12,spread=0.3");
    for (const cost of [createCostModel({ k: 1, cr: 0.3 }), createCostModel({ k: 3, cf: 0.3 })]) {
      for (const traceSpec of [
        "irm:alpha=0.8,count=3000,seed=2",
        "shift:alpha=0.9,phases=3,count=3000,seed=4",
      ]) {
        const trace = generateTrace(traceSpec, catalog);
        for (const h of [5, 60, 400]) {
          const ctx = contextFor(catalog, cost, trace, h);
          const table = buildRequestTable("greedy", ctx, { neighbours: 32, maxRequests: 0, seed: 1 });
          const fast = lazyGreedy(table, new Uint8Array(catalog.n), h);
          const ref = lazyGreedyReference(table, new Uint8Array(catalog.n), h);
          expect(fast).toEqual(ref);
          expect(fast.length).toBeGreaterThan(0);
        }
      }
    }
  });

  it("a catalog shared across configurations gives the same tables as a fresh catalog per configuration", () => {
    const spec = "n=4000,dim=8,seed=3,clusters=20,spread=0.3";
    const fresh = () => {
      const g = gaussVectors(spec);
      return makeCatalog(g.canonical, g.vectors, g.dim, "hnsw:M=8,efConstruction=32,efSearch=32");
    };
    const shared = fresh();
    const policies = ["lru", "sim-lru", "ftpl", "acai", "hedge", "greedy"];
    const configs = [
      { k: 1, capacity: 40, trace: "irm:alpha=0.8,count=600,seed=1" },
      { k: 4, capacity: 80, trace: "shift:alpha=0.8,phases=2,count=600,seed=2" },
      { k: 1, capacity: 40, trace: "irm:alpha=0.8,count=600,seed=1" },
    ];
    const strip = (cat: ReturnType<typeof fresh>, c: (typeof configs)[number]) =>
      simulateCatalog({
        catalog: cat,
        cost: createCostModel(c.k === 1 ? { k: 1, cr: 0.4 } : { k: c.k, cf: 0.4 }),
        capacity: c.capacity,
        trace: generateTrace(c.trace, cat),
        policies,
        seed: 1,
        neighbours: 50,
      }).result.results.map((r) => [r.policy, r.avgCost, r.hitRatio, r.fetched, r.moved]);
    for (const c of configs) expect(strip(shared, c)).toEqual(strip(fresh(), c));
  });
});
