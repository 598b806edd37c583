/**
 * qlru-dc with a small q against greedy (offline local search, a local optimum) on a small
 * stationary catalog: the check of the brief's [R] claim, in the form our runs support.
 */
import { describe, expect, it } from "vitest";
import { gaussVectors, makeCatalog } from "../src/sim/catalog.js";
import { createCostModel } from "../src/sim/cost.js";
import { generateTrace } from "../src/sim/traces.js";
import { runPolicies } from "./sim-fixtures.js";

describe("qlru-dc against greedy (offline local search)", () => {
  it("small q approaches greedy's cost on a small stationary catalog, far below lru and sim-lru", () => {
    // The brief's [R] claim is that qlru-dc reaches a local optimum (= greedy's cost) as q -> 0.
    // Measured here (IRM alpha 0.9, n = 150, h = 10): the gap to greedy stays 13-15% for
    // q = 0.1 .. 0.0003 and up to 4e6 requests, and qlru-dc's final set is not swap-optimal, so
    // this test checks the weaker statement that holds; see docs/sim.md.
    const g = gaussVectors("n=150,dim=2,seed=5");
    const catalog = makeCatalog(g.canonical, g.vectors, g.dim, "flat");
    const cost = createCostModel({ k: 1, cr: 0.6 });
    const trace = generateTrace("irm:alpha=0.9,count=200000,seed=3", catalog);
    const { result } = runPolicies(catalog, cost, trace, ["qlru-dc:q=0.01", "greedy", "lru", "sim-lru"], 10);
    const secondHalf = (i: number) => {
      const s = result.results[i].series;
      const n = s.t.length;
      const h = Math.floor(n / 2);
      return (s.avgCost[n - 1] * s.t[n - 1] - s.avgCost[h] * s.t[h]) / (s.t[n - 1] - s.t[h]);
    };
    const [qlru, greedy, lru, simLru] = [0, 1, 2, 3].map(secondHalf);
    expect(greedy).toBeLessThan(qlru);
    expect(qlru).toBeLessThan(1.2 * greedy);
    expect(qlru).toBeLessThan(0.9 * Math.min(lru, simLru));
  });
});
