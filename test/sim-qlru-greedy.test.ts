/**
 * qlru-dc with a small q against greedy (offline local search, a local optimum) on a small
 * stationary catalog: a check of the claim in Garetto et al. (similarity caching), in the form our runs support.
 */
import { describe, expect, it } from "vitest";
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { createCostModel } from "../src/caching/cost.js";
import { qlruCta } from "../src/caching/cta.js";
import { generateTrace } from "../src/caching/traces.js";
import { runPolicies } from "./sim-fixtures.js";

describe("qlru-dc against greedy (offline local search)", () => {
  it("small q approaches greedy's cost on a small stationary catalog, far below lru and sim-lru", () => {
    // The claim (Garetto et al.) is that qlru-dc reaches a local optimum (= greedy's cost) as q -> 0.
    // Measured here (IRM alpha 0.9, n = 150, h = 10): the gap to greedy stays 13-15% for
    // q = 0.1 .. 0.0003 and up to 4e6 requests (n = 1000, h = 50, 10^6 requests: 0.1333 at
    // q = 0.01 and 0.1305 at q = 0.001 vs greedy 0.1178, 13% and 11% above; scripts/qlru-cta.ts),
    // and qlru-dc's final set is not swap-optimal, so this test checks the weaker statement that
    // holds; with exact-match costs (next test) the claim is checked against the
    // characteristic-time formula. See docs/sim.md.
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

  it("exact-match costs: qlru-dc is qLRU, matches the characteristic-time formula, whose q -> 0 limit is greedy", () => {
    // step:1e-6 makes every non-exact answer cost more than C_r, so qlru-dc reduces to qLRU (hit:
    // refresh w.p. 1, never insert; miss: insert w.p. q) and greedy to static LFU (top-h).
    // Oracle: under the characteristic-time approximation (CTA; exact as the cache grows) an object
    // requested w.p. p per request is stored w.p. q(1-e)/(e + q(1-e)), e = (1-p)^T, with T set so
    // occupancies sum to h (a two-state chain per object; src/caching/cta.ts derives it). As q -> 0 it tends to 1 above a popularity threshold and 0 below: the top h,
    // greedy's set. So the claim holds in the CTA limit, and at the q a run can reach
    // the simulation must match the formula. At h = 10 the simulation stays 4-10% below CTA (the
    // finite-cache effect: at each rare insertion the LRU victim is random among the stored
    // objects, so about one slot holds the last newcomer whatever q is); at h = 50 it is within 1%.
    const n = 1000;
    const h = 50;
    const count = 400_000;
    const g = gaussVectors(`n=${n},dim=2,seed=5`);
    const catalog = makeCatalog(g.canonical, g.vectors, g.dim, "flat");
    const cost = createCostModel({ k: 1, cr: 0.6, approx: "step:0.000001" });
    const trace = generateTrace(`irm:alpha=0.9,count=${count},seed=3`, catalog);
    const p = new Float64Array(n);
    for (const r of trace.requests()) p[r.row] += 1 / count;
    const qs = [0.1, 0.01];
    const { result } = runPolicies(
      catalog,
      cost,
      trace,
      [...qs.map((q) => `qlru-dc:q=${q}`), "greedy", "lru"],
      h,
    );
    const hitSecondHalf = (i: number) => {
      const s = result.results[i].series;
      const m = s.t.length;
      const half = Math.floor(m / 2);
      const c = (s.avgCost[m - 1] * s.t[m - 1] - s.avgCost[half] * s.t[half]) / (s.t[m - 1] - s.t[half]);
      return 1 - c / 0.6;
    };
    // measured: q = 0.1 0.4302 vs CTA 0.4296; q = 0.01 0.4775 vs CTA 0.4808
    for (let i = 0; i < qs.length; i++)
      expect(Math.abs(hitSecondHalf(i) - qlruCta(p, h, qs[i]).hitRatio)).toBeLessThan(0.01);
    // q = 0.1 and 0.01 differ by 0.05, so the check separates them (and plain LRU, q = 1)
    expect(qlruCta(p, h, 0.01).hitRatio - qlruCta(p, h, 0.1).hitRatio).toBeGreaterThan(0.04);
    // the CTA hit ratio rises as q falls, to the top-h popularity mass: greedy's hit ratio
    const topH = Array.from(p)
      .sort((a, b) => b - a)
      .slice(0, h)
      .reduce((a, b) => a + b, 0);
    const limits = [0.1, 0.01, 1e-3, 1e-5, 1e-9].map((q) => qlruCta(p, h, q).hitRatio);
    for (let i = 1; i < limits.length; i++) expect(limits[i]).toBeGreaterThan(limits[i - 1]);
    expect(Math.abs(limits[limits.length - 1] - topH)).toBeLessThan(0.002);
    expect(Math.abs(result.results[2].hitRatio - topH)).toBeLessThan(0.003);
    // LRU is q = 1 (Che's approximation): measured 0.3560 vs 0.3571 (scripts/qlru-cta.ts)
    expect(Math.abs(hitSecondHalf(3) - qlruCta(p, h, 1).hitRatio)).toBeLessThan(0.01);
  });
});

describe("qlruCta (characteristic-time approximation)", () => {
  const zipf = (n: number, alpha: number) => {
    const w = Float64Array.from({ length: n }, (_, i) => (i + 1) ** -alpha);
    const z = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / z);
  };
  it("stores h objects on average, more of the popular ones, and tends to the top h as q -> 0", () => {
    const p = zipf(500, 0.8);
    for (const q of [1, 0.1, 1e-3, 1e-8]) {
      const r = qlruCta(p, 20, q);
      expect(r.stored.reduce((a, b) => a + b, 0)).toBeCloseTo(20, 6);
      for (let i = 1; i < p.length; i++) expect(r.stored[i]).toBeLessThanOrEqual(r.stored[i - 1] + 1e-12);
    }
    const top = p.slice(0, 20).reduce((a, b) => a + b, 0);
    expect(qlruCta(p, 20, 1e-12).hitRatio).toBeCloseTo(top, 3);
    // LRU's well-known deficit against static LFU
    expect(qlruCta(p, 20, 1).hitRatio).toBeLessThan(0.95 * top);
  });
  it("rejects bad input with a clear error", () => {
    const p = zipf(10, 1);
    expect(() => qlruCta(p, 10, 0.1)).toThrow(/h must be an integer in \[1, 9\]/);
    expect(() => qlruCta(p, 3, 0)).toThrow(/q must be in \(0, 1\]/);
    expect(() => qlruCta(Float64Array.of(0.5, Number.NaN, 0.5), 1, 0.5)).toThrow(/popularities/);
  });
});
