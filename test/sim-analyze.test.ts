/**
 * Catalog geometry estimators against known answers: TwoNN and the Levina-Bickel MLE recover the
 * dimension of Gaussian data (and of a low-dimensional subspace embedded in a larger space),
 * skewness against closed forms, and hubness growing with dimension (Radovanovic et al.).
 */
import { describe, expect, it } from "vitest";
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { analyzeCatalog, mleAtPoint, skewness, twoNNFromRatios } from "../src/caching/geometry.js";
import { Rng } from "../src/core/rng.js";

const gauss = (n: number, dim: number, seed = 1) => {
  const g = gaussVectors(`n=${n},dim=${dim},seed=${seed}`);
  return makeCatalog(g.canonical, g.vectors, g.dim, "flat");
};

describe("intrinsic dimension", () => {
  it.each([2, 5, 8])("TwoNN and MLE recover d = %i on Gaussian data", (d) => {
    const r = analyzeCatalog(gauss(3000, d), { sample: 800, k: 10 });
    expect(Math.abs(r.twoNN - d) / d).toBeLessThan(0.2);
    expect(Math.abs(r.mle - d) / d).toBeLessThan(0.2);
    expect(r.duplicates).toBe(0);
  });

  it("sees the 3-D subspace of data embedded in 30 dimensions", () => {
    const rng = new Rng(4);
    const n = 3000;
    const basis = Array.from({ length: 3 }, () => Array.from({ length: 30 }, () => rng.normal()));
    const v = new Float32Array(n * 30);
    for (let i = 0; i < n; i++) {
      const z = [rng.normal(), rng.normal(), rng.normal()];
      for (let j = 0; j < 30; j++)
        v[i * 30 + j] = z[0] * basis[0][j] + z[1] * basis[1][j] + z[2] * basis[2][j];
    }
    const r = analyzeCatalog(makeCatalog("sub3", v, 30), { sample: 800 });
    expect(r.twoNN).toBeGreaterThan(2.4);
    expect(r.twoNN).toBeLessThan(3.6);
    expect(r.mle).toBeGreaterThan(2.4);
    expect(r.mle).toBeLessThan(3.6);
  });

  it("formulas: TwoNN N / sum log mu; MLE at a point of equally spaced radii in 1-D", () => {
    expect(twoNNFromRatios([Math.E, Math.E ** 2])).toBeCloseTo(2 / 3, 12);
    // T_j = j (1-D uniform spacing): (k-1) / sum_{j<k} log(k / j)
    const T = [1, 2, 3, 4];
    expect(mleAtPoint(T, 4)).toBeCloseTo(3 / (Math.log(4) + Math.log(2) + Math.log(4 / 3)), 12);
  });
});

describe("distances and hubness", () => {
  it("skewness matches closed forms", () => {
    expect(skewness([1, 2, 3, 4])).toBeCloseTo(0, 12);
    expect(skewness([0, 0, 0, 1])).toBeCloseTo((0.1875 * 0.5) / 0.1875 ** 1.5, 9);
    const rng = new Rng(3);
    const exp = Array.from({ length: 200_000 }, () => -Math.log(1 - rng.next()));
    expect(skewness(exp)).toBeCloseTo(2, 1);
  });

  it("hubness grows with dimension; NN distances are ordered and positive", () => {
    const low = analyzeCatalog(gauss(1500, 3, 2), { sample: 1500, k: 10 });
    const high = analyzeCatalog(gauss(1500, 60, 2), { sample: 1500, k: 10 });
    expect(high.hubness).toBeGreaterThan(low.hubness + 0.5);
    expect(high.maxOccurrence).toBeGreaterThan(low.maxOccurrence);
    for (const r of [low, high]) {
      expect(r.nnDistance.min).toBeGreaterThan(0);
      expect(r.nnDistance.p10).toBeLessThanOrEqual(r.nnDistance.p50);
      expect(r.nnDistance.p50).toBeLessThanOrEqual(r.nnDistance.p90);
      expect(r.kthDistance.p50).toBeGreaterThan(r.nnDistance.p50);
    }
  });

  it("rejects k < 2 and catalogs too small for k", () => {
    expect(() => analyzeCatalog(gauss(50, 2), { k: 1 })).toThrow(/k must be an integer >= 2/);
    expect(() => analyzeCatalog(gauss(8, 2), { k: 10 })).toThrow(/too small for k = 10/);
  });
});
