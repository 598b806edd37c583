/**
 * Oracles for the IDN gain (research brief §3.3 and §4.1, the [D] formulas): the compiled serving
 * rule against a from-scratch reference (test/idn-fixtures.ts), repository-only = 0, the relaxation
 * = the gain on integral points, the supergradient = finite differences away from kinks, and
 * offline-opt's exact search = a brute force over every feasible allocation.
 */
import { describe, expect, it } from "vitest";
import type { Rng } from "../src/core/rng.js";
import { TraceObjective } from "../src/idn/objective.js";
import { exactOptimum } from "../src/idn/policies/offline-opt.js";
import { addSupergradient, relaxedGain, SlotDemand, serveSlot } from "../src/idn/serving.js";
import { simulateIdn } from "../src/idn/simulator.js";
import { hostedOf, randomTrace, referenceGain, slotRequests, tinyInstance } from "./idn-fixtures.js";

function randomAllocation(rng: Rng, n: number, fractional: boolean): Float64Array {
  return Float64Array.from({ length: n }, () => (fractional ? rng.next() : rng.next() < 0.4 ? 1 : 0));
}

describe("IDN gain", () => {
  it("equals the from-scratch reference on integral and fractional allocations", () => {
    for (let seed = 1; seed <= 6; seed++) {
      const { rng, instance } = tinyInstance(seed, 20 + 40 * seed);
      const trace = randomTrace(instance, rng, 4);
      const demand = new SlotDemand(instance);
      for (let t = 0; t < trace.slots; t++) {
        demand.load(trace, t);
        for (const fractional of [false, true]) {
          const x = randomAllocation(rng, instance.pairCount, fractional);
          const ref = referenceGain(
            instance.topology,
            instance.catalog,
            instance.alpha,
            slotRequests(instance, trace, t),
            hostedOf(instance, x),
          );
          expect(serveSlot(demand, x)).toBeCloseTo(ref, 8);
        }
      }
    }
  });

  it("is 0 for repository-only, in the simulator too", () => {
    const { rng, instance } = tinyInstance(7);
    const trace = randomTrace(instance, rng, 5);
    const demand = new SlotDemand(instance).load(trace, 0);
    expect(serveSlot(demand, new Uint8Array(instance.pairCount))).toBe(0);
    const r = simulateIdn({ instance, trace, policies: ["repository-only", "infida"], seed: 1 });
    expect(r.results[0].avgGain).toBe(0);
    expect(r.results[0].loadsPerSlot).toBe(0);
    expect(r.results[1].avgGain).toBeGreaterThan(0);
  });

  it("the relaxation (generic chain functions) equals the serving rule, and equals G on integral points", () => {
    for (let seed = 10; seed < 16; seed++) {
      const { rng, instance } = tinyInstance(seed);
      const trace = randomTrace(instance, rng, 3);
      const demand = new SlotDemand(instance).load(trace, 1);
      for (let k = 0; k < 20; k++) {
        const y = randomAllocation(rng, instance.pairCount, k % 2 === 0);
        expect(relaxedGain(demand, y)).toBeCloseTo(serveSlot(demand, y), 9);
      }
      // L(x) = G(x) on integral points, and L is concave along a segment between two of them.
      const a = randomAllocation(rng, instance.pairCount, false);
      const b = randomAllocation(rng, instance.pairCount, false);
      const mid = a.map((v, i) => (v + b[i]) / 2);
      expect(relaxedGain(demand, mid)).toBeGreaterThanOrEqual(
        (serveSlot(demand, a) + serveSlot(demand, b)) / 2 - 1e-9,
      );
    }
  });

  it("the supergradient equals central finite differences away from kinks, and bounds every step", () => {
    let compared = 0;
    for (let seed = 20; seed < 28; seed++) {
      const { rng, instance } = tinyInstance(seed);
      const trace = randomTrace(instance, rng, 2);
      const demand = new SlotDemand(instance).load(trace, 0);
      const y = randomAllocation(rng, instance.pairCount, true);
      const grad = new Float64Array(instance.pairCount);
      addSupergradient(demand, y, grad, [], new Uint8Array(instance.pairCount));
      const L0 = serveSlot(demand, y);
      const h = 1e-6;
      for (let p = 0; p < instance.pairCount; p++) {
        const up = Float64Array.from(y);
        const down = Float64Array.from(y);
        up[p] += h;
        down[p] -= h;
        const fwd = (serveSlot(demand, up) - L0) / h;
        const bwd = (L0 - serveSlot(demand, down)) / h;
        // Supergradient inequality for any step, kink or not.
        for (const step of [0.3, -0.3]) {
          const z = Float64Array.from(y);
          z[p] = Math.min(1, Math.max(0, z[p] + step));
          expect(serveSlot(demand, z)).toBeLessThanOrEqual(L0 + grad[p] * (z[p] - y[p]) + 1e-7);
        }
        if (Math.abs(fwd - bwd) > 1e-4 * Math.max(1, Math.abs(fwd))) continue; // a kink: one-sided slopes differ
        expect(grad[p]).toBeCloseTo((fwd + bwd) / 2, 3);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(50);
  });
});

describe("offline-opt", () => {
  /** Every allocation within the budgets, evaluated with the from-scratch reference over the whole trace. */
  function bruteForce(seed: number): { best: number; exact: number; evaluated: number } | undefined {
    const { rng, instance } = tinyInstance(seed, 30 + 20 * seed, 2, 2);
    const n = instance.pairCount;
    if (n > 12) return undefined; // keep the brute force to at most 4096 allocations
    const trace = randomTrace(instance, rng, 6, 10);
    const slots = Array.from({ length: trace.slots }, (_, t) => slotRequests(instance, trace, t));
    let best = 0;
    let evaluated = 0;
    const x = new Uint8Array(n);
    for (let mask = 0; mask < 1 << n; mask++) {
      for (let p = 0; p < n; p++) x[p] = (mask >> p) & 1;
      let feasible = true;
      for (let v = 0; v < instance.nodeCount && feasible; v++)
        if (instance.usedMB(v, x) > instance.budgetMB[v] + 1e-9) feasible = false;
      if (!feasible) continue;
      evaluated++;
      const hosted = hostedOf(instance, x);
      const total = slots.reduce(
        (s, req) => s + referenceGain(instance.topology, instance.catalog, instance.alpha, req, hosted),
        0,
      );
      best = Math.max(best, total);
    }
    const exact = exactOptimum(instance, trace, 100_000);
    if (!exact) throw new Error("expected an exact search on the tiny instance");
    expect(exact.exact).toBe(true);
    expect(new TraceObjective(instance, trace).value(exact.x)).toBeCloseTo(exact.value, 9);
    for (let v = 0; v < instance.nodeCount; v++)
      expect(instance.usedMB(v, exact.x)).toBeLessThanOrEqual(instance.budgetMB[v] + 1e-9);
    return { best, exact: exact.value, evaluated };
  }

  it("its exact search equals a brute force over every feasible allocation (tiny instances)", () => {
    let checked = 0;
    for (let seed = 1; checked < 4; seed++) {
      const r = bruteForce(seed);
      if (!r) continue;
      expect(r.evaluated).toBeGreaterThan(10);
      expect(r.exact).toBeCloseTo(r.best, 6);
      checked++;
    }
  });

  it("reports exactness, and an upper bound at least its value when approximate", () => {
    const { rng, instance } = tinyInstance(5);
    const trace = randomTrace(instance, rng, 6);
    const approx = simulateIdn({
      instance,
      trace,
      policies: ["offline-opt:method=approximate", "offline-opt"],
      seed: 1,
    });
    const [a, e] = approx.results;
    expect(a.extra.exact).toBe(false);
    expect(e.extra.exact).toBe(true);
    expect(Number(a.extra.upperBound)).toBeGreaterThanOrEqual(e.avgGain - 1e-6); // the bound holds for the true optimum
    expect(a.avgGain).toBeLessThanOrEqual(e.avgGain + 1e-9);
  });
});
