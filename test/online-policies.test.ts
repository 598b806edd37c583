import { describe, expect, it } from "vitest";
import { createCostModel, makeAnswer, serve } from "../src/caching/cost.js";
import type { GreedyLocalSearch } from "../src/caching/policies/greedy.js";
import type { StaticOpt } from "../src/caching/policies/static-opt.js";
import { cachePolicies, createCachePolicy } from "../src/caching/registry.js";
import { makeNeighbours, StoredSet } from "../src/caching/stored-set.js";
import { generateTrace, type Trace } from "../src/caching/traces.js";
import type { CacheContext, Catalog, CostModel, SimRequest } from "../src/caching/types.js";
import { catalogOf, contextFor, runPolicies } from "./sim-fixtures.js";

/** Average served cost of a FIXED cache over the trace, by the simulator's own serving rule. */
function fixedCacheCost(catalog: Catalog, cost: CostModel, trace: Trace, cache: readonly number[]): number {
  const store = new StoredSet(catalog, Math.max(1, cache.length));
  for (const o of cache) store.add(o);
  const req: SimRequest = { t: 0, x: new Float32Array(catalog.dim), catalog: makeNeighbours(catalog.n) };
  const ans = makeAnswer(cost.k);
  let total = 0;
  let t = 0;
  for (const r of trace.requests()) {
    req.t = t++;
    req.x = r.x;
    catalog.nearest(r.x, catalog.n, req.catalog);
    total += serve(cost, store, req, ans).cost;
  }
  return total / t;
}

function* subsets(n: number, h: number): Generator<number[]> {
  const idx = Array.from({ length: h }, (_, i) => i);
  for (;;) {
    yield [...idx];
    let j = h - 1;
    while (j >= 0 && idx[j] === n - h + j) j--;
    if (j < 0) return;
    idx[j]++;
    for (let i = j + 1; i < h; i++) idx[i] = idx[i - 1] + 1;
  }
}

const SETTINGS = [
  { name: "single", cost: () => createCostModel({ k: 1, cr: 0.8, approx: "identity" }) },
  { name: "knn", cost: () => createCostModel({ k: 2, cf: 0.5, approx: "identity" }) },
];

describe("online policies: registry", () => {
  it("parse their parameters, reject unknown keys and bad values, and describe themselves", () => {
    expect(cachePolicies.parse("acai:eta=0.1,rounding=coupled").canonical).toBe(
      "acai:eta=0.1,rounding=coupled,neighbours=0",
    );
    expect(cachePolicies.parse("oga:rounding=depround").canonical).toBe(
      "oga:eta=0,rounding=depround,neighbours=0",
    );
    expect(() => cachePolicies.parse("acai:foo=1")).toThrowError(
      expect.objectContaining({ code: "UNKNOWN_NAME" }),
    );
    expect(() => cachePolicies.parse("acai:rounding=round")).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => cachePolicies.parse("static-opt:exact=-1")).toThrowError(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    const text = cachePolicies.describe();
    for (const name of ["acai", "oga", "greedy", "static-opt"])
      expect(text).toContain(`${name} [single-answer, knn]`);
  });

  it("offline references refuse to run without the trace in advance", () => {
    const catalog = catalogOf("n=20,dim=2,seed=1");
    const cost = SETTINGS[0].cost();
    for (const name of ["greedy", "static-opt"])
      expect(() => createCachePolicy(name, { capacity: 3, catalog, cost, seed: 1 })).toThrowError(
        expect.objectContaining({ code: "INVALID_ARGUMENT" }),
      );
  });
});

describe("static-opt and greedy against brute force", () => {
  it.each(SETTINGS)(
    "$name: static-opt (exact) equals the best of all h-subsets; greedy+swap is within 1-1/e",
    ({ cost }) => {
      const c = cost();
      for (const seed of [1, 2, 3]) {
        const catalog = catalogOf(`n=9,dim=2,seed=${seed}`);
        const trace = generateTrace(`irm:alpha=1,count=120,seed=${seed},noise=0.3`, catalog);
        const h = 3;
        let best = Number.POSITIVE_INFINITY;
        for (const s of subsets(catalog.n, h)) best = Math.min(best, fixedCacheCost(catalog, c, trace, s));
        const empty = fixedCacheCost(catalog, c, trace, []);
        const exact = (createCachePolicy as (s: string, c: CacheContext) => StaticOpt)(
          "static-opt",
          contextFor(catalog, c, trace, h),
        );
        expect(exact.method).toMatch(/^exact/);
        expect(exact.hindsightCost).toBeCloseTo(best, 9);
        const approx = (createCachePolicy as (s: string, c: CacheContext) => StaticOpt)(
          "static-opt:exact=0",
          contextFor(catalog, c, trace, h),
        );
        expect(approx.method).toMatch(/^greedy/);
        expect(approx.hindsightCost).toBeGreaterThanOrEqual(best - 1e-9);
        expect(empty - approx.hindsightCost).toBeGreaterThanOrEqual((1 - 1 / Math.E) * (empty - best) - 1e-9);
      }
    },
  );

  it.each(SETTINGS)("$name: greedy ends at a local optimum (no single swap lowers the cost)", ({ cost }) => {
    const c = cost();
    const catalog = catalogOf("n=12,dim=2,seed=5");
    const trace = generateTrace("irm:alpha=0.8,count=150,seed=6,noise=0.3", catalog);
    const h = 4;
    const g = (createCachePolicy as (s: string, c: CacheContext) => GreedyLocalSearch)(
      "greedy",
      contextFor(catalog, c, trace, h),
    );
    const mine = fixedCacheCost(catalog, c, trace, g.objects);
    expect(g.hindsightCost).toBeCloseTo(mine, 9);
    for (let i = 0; i < h; i++)
      for (let o = 0; o < catalog.n; o++) {
        if (g.objects.includes(o)) continue;
        const swapped = [...g.objects];
        swapped[i] = o;
        expect(fixedCacheCost(catalog, c, trace, swapped)).toBeGreaterThanOrEqual(mine - 1e-9);
      }
  });
});

describe("acai and oga in the simulator", () => {
  it("keep exactly h objects, pass their invariant checks, and detect a corrupted store", () => {
    const catalog = catalogOf("n=150,dim=4,seed=2,clusters=5,spread=0.3");
    for (const s of SETTINGS) {
      const cost = s.cost();
      const trace = generateTrace("irm:alpha=0.9,count=800,seed=3,noise=0.1", catalog);
      const specs = ["acai", "oga", "acai:rounding=madow", "oga:rounding=depround", "greedy", "static-opt"];
      const { result, policies } = runPolicies(catalog, cost, trace, specs, 8);
      for (const p of policies) expect(p.store.size).toBe(8);
      // Fresh draws every request move far more objects than the coupled rounding.
      const moved = Object.fromEntries(
        result.results.map((r) => [
          r.policy.split(":")[0] + r.policy.split("rounding=")[1]?.split(",")[0],
          r.moved,
        ]),
      );
      expect(moved.acaimadow).toBeGreaterThan(3 * moved.acaicoupled);
      const acai = policies[0];
      acai.store.remove(acai.store.ids()[0]);
      expect(() => acai.checkInvariants()).toThrowError(expect.objectContaining({ code: "STATE" }));
    }
  });

  it("time-averaged regret against static-opt shrinks with T on the adversarial round-robin trace; lru's does not", () => {
    // Exact-match costs (step:0): serving costs 0 from the object itself, 1 otherwise. A cycle over
    // m = h + 1 objects makes LRU miss every request; the best fixed cache misses 1/(h+1).
    const catalog = catalogOf("n=200,dim=4,seed=3");
    const cost = createCostModel({ k: 1, cr: 1, approx: "step:0" });
    const h = 10;
    const regret: Record<string, number[]> = { lru: [], acai: [], oga: [] };
    for (const T of [1000, 4000, 16000]) {
      const trace = generateTrace(`adversarial:m=${h + 1},count=${T},seed=2`, catalog);
      // acai:eta=0 is the regret-optimal step sqrt(2 ln(N/h)/T) the guarantee is about; acai's
      // default (a constant step tuned for IRM traces) trades that guarantee for speed.
      const { result } = runPolicies(catalog, cost, trace, ["static-opt", "lru", "acai:eta=0", "oga"], h);
      const opt = result.results[0].avgCost;
      expect(opt).toBeCloseTo(1 / (h + 1), 2);
      // Regret includes the movement the policy caused (c_f-equivalent = C_r per object).
      result.results.slice(1).forEach((r, i) => {
        regret[["lru", "acai", "oga"][i]].push(r.avgCostWithMovement - opt);
      });
    }
    console.log("time-averaged regret (T = 1000, 4000, 16000):", JSON.stringify(regret));
    for (const name of ["acai", "oga"]) {
      const [a, b, c] = regret[name];
      expect(b).toBeLessThan(a);
      expect(c).toBeLessThan(b);
      expect(c).toBeLessThan(0.5 * a);
    }
    const [l1, , l3] = regret.lru;
    expect(l3).toBeGreaterThan(0.8);
    expect(l3).toBeGreaterThan(0.95 * l1);
  });

  it("acai's default step (eta = 1) learns an IRM trace that the regret-optimal step barely moves on", () => {
    // The regret-optimal eta* = sqrt(2 ln(N/h)/T) (eta = 0) is 0.034 here: objects enter only
    // after ~ln(N/h)/eta* = 135 full-gradient requests. Oracle: static-opt bounds both from below.
    const catalog = catalogOf("n=2000,dim=4,seed=4,clusters=20,spread=0.3");
    const cost = createCostModel({ k: 1, cr: 0.3 });
    const trace = generateTrace("irm:alpha=0.9,count=8000,seed=6", catalog);
    const { result, policies } = runPolicies(catalog, cost, trace, ["acai", "acai:eta=0", "static-opt"], 20);
    expect(policies[0].spec).toBe("acai:eta=1,rounding=coupled,neighbours=0");
    const [tuned, theory, opt] = result.results.map((r) => r.avgCost);
    expect(opt).toBeLessThan(tuned);
    expect(tuned).toBeLessThan(0.95 * theory); // measured 0.230 vs 0.258 (static-opt 0.197)
  });
});
