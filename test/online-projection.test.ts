import { describe, expect, it } from "vitest";
import { isMammalsError } from "../src/core/errors.js";
import { Rng } from "../src/core/rng.js";
import { EntropicState } from "../src/online/entropic-state.js";
import { euclidProjectCappedSimplex } from "../src/online/euclid-projection.js";
import { EuclidState } from "../src/online/euclid-state.js";
import { klProjectCappedSimplex } from "../src/online/kl-projection.js";

/** Reference: y = min(1, m*yhat) with m found by bisection on sum = h (no sorting, no search rule). */
function klBisection(yhat: Float64Array, h: number): Float64Array {
  const f = (m: number) => yhat.reduce((s, v) => s + Math.min(1, m * v), 0);
  let lo = 0;
  let hi = 1;
  while (f(hi) < h) hi *= 2;
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < h) lo = mid;
    else hi = mid;
  }
  return yhat.map((v) => Math.min(1, hi * v));
}

/** Reference: y = clip(z - tau, 0, 1) with tau by bisection. */
function euclidBisection(z: Float64Array, h: number): Float64Array {
  const f = (t: number) => z.reduce((s, v) => s + Math.min(1, Math.max(0, v - t)), 0);
  let lo = Math.min(...z) - 1;
  let hi = Math.max(...z);
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    if (f(mid) > h) lo = mid;
    else hi = mid;
  }
  return z.map((v) => Math.min(1, Math.max(0, v - (lo + hi) / 2)));
}

/** KL divergence sum y log(y/q) - y + q (generalized), for the optimality check. */
function kl(y: Float64Array, q: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] > 0 ? y[i] * Math.log(y[i] / q[i]) : 0) - y[i] + q[i];
  return s;
}

function randomCase(rng: Rng) {
  const n = 2 + rng.int(30);
  const h = 1 + rng.int(n - 1);
  // Heavy-tailed values so that caps happen often.
  const v = Float64Array.from({ length: n }, () => Math.exp(3 * rng.normal()));
  return { n, h, v };
}

describe("KL projection onto the capped simplex", () => {
  it("lands in [0,1], sums to h and agrees with a bisection reference", () => {
    const rng = new Rng(11);
    let capsSeen = 0;
    for (let c = 0; c < 500; c++) {
      const { h, v } = randomCase(rng);
      const y = klProjectCappedSimplex(v, h);
      const ref = klBisection(v, h);
      let s = 0;
      for (let i = 0; i < y.length; i++) {
        expect(y[i]).toBeGreaterThanOrEqual(0);
        expect(y[i]).toBeLessThanOrEqual(1);
        expect(Math.abs(y[i] - ref[i])).toBeLessThan(1e-9);
        s += y[i];
        if (y[i] === 1) capsSeen++;
      }
      expect(Math.abs(s - h)).toBeLessThan(1e-9 * h);
    }
    expect(capsSeen).toBeGreaterThan(100); // the cap branch was exercised
  });

  it("is idempotent on feasible points and beats random feasible points in KL", () => {
    const rng = new Rng(12);
    for (let c = 0; c < 200; c++) {
      const { h, v } = randomCase(rng);
      const y = klProjectCappedSimplex(v, h);
      const y2 = klProjectCappedSimplex(y, h);
      for (let i = 0; i < y.length; i++) expect(Math.abs(y2[i] - y[i])).toBeLessThan(1e-10);
      // Any other feasible point (a projection of a perturbed vector) is no closer in KL.
      const other = klProjectCappedSimplex(
        v.map((x) => x * Math.exp(0.3 * rng.normal())),
        h,
      );
      expect(kl(y, v)).toBeLessThanOrEqual(kl(other, v) + 1e-9);
    }
  });

  it("rejects inputs it cannot project, with a typed error", () => {
    const bad = [
      () => klProjectCappedSimplex([0.5, -1, 2], 1),
      () => klProjectCappedSimplex([1, 0, 0], 2),
      () => klProjectCappedSimplex([1, 1], 3),
      () => klProjectCappedSimplex([1, Number.NaN], 1),
    ];
    for (const f of bad)
      expect(() => f()).toThrowError(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    try {
      klProjectCappedSimplex([1, 0, 0], 2);
    } catch (e) {
      expect(isMammalsError(e, "INVALID_ARGUMENT")).toBe(true);
    }
  });
});

describe("Euclidean projection onto the capped simplex", () => {
  it("agrees with a bisection reference and is idempotent", () => {
    const rng = new Rng(21);
    for (let c = 0; c < 500; c++) {
      const n = 2 + rng.int(30);
      const h = 1 + rng.int(n - 1);
      const z = Float64Array.from({ length: n }, () => 2 * rng.normal());
      const y = euclidProjectCappedSimplex(z, h);
      const ref = euclidBisection(z, h);
      let s = 0;
      for (let i = 0; i < n; i++) {
        expect(Math.abs(y[i] - ref[i])).toBeLessThan(1e-9);
        s += y[i];
      }
      expect(Math.abs(s - h)).toBeLessThan(1e-9 * h);
      const y2 = euclidProjectCappedSimplex(y, h);
      for (let i = 0; i < n; i++) expect(Math.abs(y2[i] - y[i])).toBeLessThan(1e-10);
    }
  });
});

/** Runs random sparse steps through a lazy state and the dense projection side by side. */
function lazyVsDense(
  kind: "kl" | "euclid",
  n: number,
  h: number,
  steps: number,
  eta: number,
  seed: number,
): number {
  const rng = new Rng(seed);
  const state = kind === "kl" ? new EntropicState(n, h) : new EuclidState(n, h);
  let dense: Float64Array = new Float64Array(n).fill(h / n);
  let worst = 0;
  const changed: number[] = [];
  for (let t = 0; t < steps; t++) {
    const c = 1 + rng.int(6);
    const objs = Array.from({ length: c }, () => rng.int(n));
    // Concentrate gradients on a few "popular" objects so some get capped.
    if (rng.next() < 0.5) objs[0] = rng.int(Math.min(n, h + 2));
    const grad = objs.map(() => rng.next() * 2);
    const z = Float64Array.from(dense);
    for (let j = 0; j < c; j++) {
      if (kind === "kl") z[objs[j]] *= Math.exp(eta * grad[j]);
      else z[objs[j]] += eta * grad[j];
    }
    dense = kind === "kl" ? klProjectCappedSimplex(z, h) : euclidProjectCappedSimplex(z, h);
    changed.length = 0;
    state.step(objs, grad, c, eta, changed);
    const lazy = state.toDense();
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(lazy[i] - dense[i]));
    expect(Math.abs(state.total() - h)).toBeLessThan(1e-8 * h);
  }
  return worst;
}

describe("lazy fractional states (O(candidates) steps)", () => {
  it("EntropicState equals the dense mirror-ascent step + KL projection", () => {
    expect(lazyVsDense("kl", 40, 5, 400, 0.8, 1)).toBeLessThan(1e-9);
    expect(lazyVsDense("kl", 12, 6, 400, 2, 2)).toBeLessThan(1e-9);
    expect(lazyVsDense("kl", 200, 3, 300, 0.3, 3)).toBeLessThan(1e-9);
  });
  it("EuclidState equals the dense gradient step + Euclidean projection", () => {
    expect(lazyVsDense("euclid", 40, 5, 400, 0.3, 4)).toBeLessThan(1e-9);
    expect(lazyVsDense("euclid", 12, 6, 400, 1, 5)).toBeLessThan(1e-9);
    expect(lazyVsDense("euclid", 200, 3, 300, 0.05, 6)).toBeLessThan(1e-9);
  });
  it("EntropicState survives scale underflow by renormalising", () => {
    const s = new EntropicState(50, 2);
    const changed: number[] = [];
    // A huge gradient on two objects drives everyone else's y (and the scale) to ~0 quickly.
    for (let t = 0; t < 200; t++) s.step([t % 50, (t + 7) % 50], [300, 300], 2, 1, changed);
    const y = s.toDense();
    expect(Math.abs(y.reduce((a, b) => a + b, 0) - 2)).toBeLessThan(1e-9);
    expect(y.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});
