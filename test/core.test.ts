import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isMammalsError } from "../src/core/errors.js";
import { Rng } from "../src/core/rng.js";
import { parseParams, splitSpec } from "../src/core/spec.js";
import { TopK } from "../src/core/topk.js";
import { cosineDistance, dot, l2sq, norm } from "../src/core/vectors.js";

describe("Rng", () => {
  it("is reproducible from its seed and differs across seeds", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(xa).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(xa).not.toEqual(Array.from({ length: 5 }, () => c.next()));
  });
  it("draws uniform values with the right mean and normals with unit variance", () => {
    const r = new Rng(7);
    let s = 0;
    let s2 = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) s += r.next();
    expect(Math.abs(s / n - 0.5)).toBeLessThan(0.005);
    s = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02);
  });
  it("samples distinct values", () => {
    const r = new Rng(1);
    for (const [n, m] of [
      [10, 10],
      [1000, 7],
      [50, 20],
    ]) {
      const s = r.sample(n, m);
      expect(new Set(s).size).toBe(m);
      for (const v of s) expect(v).toBeLessThan(n);
    }
  });
});

describe("kernels", () => {
  it("match naive formulas on random vectors of odd and even lengths", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 37 }),
        (xs) => {
          const a = Float32Array.from(xs);
          const b = Float32Array.from(xs.map((x, i) => x * 0.5 - i));
          let l = 0;
          let d = 0;
          for (let i = 0; i < a.length; i++) {
            l += (a[i] - b[i]) ** 2;
            d += a[i] * b[i];
          }
          expect(l2sq(a, b)).toBeCloseTo(l, 1);
          expect(dot(a, b)).toBeCloseTo(d, 1);
          const na = norm(a);
          const nb = norm(b);
          if (na > 0 && nb > 0) expect(cosineDistance(a, b, na, nb)).toBeCloseTo(1 - d / (na * nb), 4);
        },
      ),
    );
  });
});

describe("TopK", () => {
  it("returns the k smallest in order, ties by id, like a full sort", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 10 }),
        (ds, k) => {
          const t = new TopK(k);
          ds.forEach((d, i) => t.push(i, d));
          const got = t.drain();
          const want = ds
            .map((d, i) => ({ d, i }))
            .sort((a, b) => a.d - b.d || a.i - b.i)
            .slice(0, k);
          expect(got.ids).toEqual(want.map((w) => w.i));
          expect(got.distances).toEqual(want.map((w) => w.d));
        },
      ),
    );
  });
});

describe("spec strings", () => {
  const schema = {
    eta: { type: "number", default: 0.1, description: "step", min: 0 },
    rounding: { type: "enum", default: "coupled", values: ["madow", "coupled"], description: "r" },
  } as const;
  it("parses, fills defaults and converts", () => {
    const { name, rest } = splitSpec("ACAI:eta=0.5");
    expect(name).toBe("acai");
    expect(parseParams(rest, schema, "acai")).toEqual({ eta: 0.5, rounding: "coupled" });
  });
  it("rejects unknown keys, bad numbers and bad enum values with clear messages", () => {
    const expectErr = (s: string, re: RegExp) => {
      try {
        parseParams(s, schema, "acai");
        throw new Error("no error");
      } catch (e) {
        expect(isMammalsError(e)).toBe(true);
        expect((e as Error).message).toMatch(re);
      }
    };
    expectErr("etta=1", /unknown parameter "etta"; expected one of eta, rounding/);
    expectErr("eta=abc", /expected a finite number, got "abc"/);
    expectErr("eta=-1", /expected >= 0, got -1/);
    expectErr("rounding=x", /expected one of madow, coupled, got "x"/);
  });
});
