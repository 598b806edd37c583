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

  it("the gap is qLRU's own finite-cache limit: with exact-match costs it is plain qLRU, and it stays above LFU", () => {
    // step:1e-6 makes every non-exact answer cost more than C_r, so qlru-dc reduces to qLRU (hit:
    // refresh w.p. 1, never insert; miss: insert w.p. q) and greedy to LFU (top-h popularity).
    // qLRU -> LFU as q -> 0 only under the characteristic-time approximation (h -> infinity): at an
    // insertion the evicted object is the one refreshed longest ago, and refresh ages are
    // memoryless, so at h = 10 a popular object keeps a q-independent chance of eviction.
    const g = gaussVectors("n=150,dim=2,seed=5");
    const catalog = makeCatalog(g.canonical, g.vectors, g.dim, "flat");
    const cost = createCostModel({ k: 1, cr: 0.6, approx: "step:0.000001" });
    const trace = generateTrace("irm:alpha=0.9,count=200000,seed=3", catalog);
    const { result } = runPolicies(catalog, cost, trace, ["qlru-dc:q=0.001", "greedy", "lfu", "lru"], 10);
    const secondHalf = (i: number) => {
      const s = result.results[i].series;
      const n = s.t.length;
      const h = Math.floor(n / 2);
      return (s.avgCost[n - 1] * s.t[n - 1] - s.avgCost[h] * s.t[h]) / (s.t[n - 1] - s.t[h]);
    };
    const [qlru, greedy, lfu, lru] = [0, 1, 2, 3].map(secondHalf);
    // Oracle: greedy keeps the h most requested objects, as LFU does up to its churn at the
    // top-h boundary (online lfu, admit=always: measured 2% above greedy).
    expect(Math.abs(greedy - lfu)).toBeLessThan(0.03 * greedy);
    // Measured 6.7% above greedy (8% with 10^6 requests and q = 1e-4): the size of the
    // similarity gap above, so no similarity-specific bug is needed to explain it.
    expect(qlru).toBeGreaterThan(1.03 * greedy);
    expect(qlru).toBeGreaterThan(lfu);
    expect(qlru).toBeLessThan(1.2 * greedy);
    expect(qlru).toBeLessThan(0.9 * lru);
  });
});
