/**
 * Exact indexes (flat, flat-i8) against a brute-force reference: property tests over random data
 * of several dimensions and all metrics, through adds, removes, re-adds and filters; snapshot
 * round trips; and flat-i8's recall on the embedded MNIST.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../src/core/rng.js";
import { METRICS, type Metric } from "../src/core/vectors.js";
import { loadEmbeddedMnist } from "../src/data/datasets.node.js";
import { createIndex, deserializeIndex } from "../src/index/factory.js";
import type { Index } from "../src/index/types.js";
import { bruteForce, randomRows, recall, rowsOf, type Store } from "./index-reference.js";

interface Scenario {
  dim: number;
  n: number;
  metric: Metric;
  seed: number;
  k: number;
  removeFraction: number;
  filterMod: number;
}

const scenario = fc.record({
  dim: fc.constantFrom(1, 3, 4, 7, 16, 33, 130),
  n: fc.integer({ min: 0, max: 80 }),
  metric: fc.constantFrom(...METRICS),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  k: fc.integer({ min: 1, max: 15 }),
  removeFraction: fc.double({ min: 0, max: 0.9, noNaN: true }),
  filterMod: fc.integer({ min: 1, max: 4 }),
});

/**
 * Adds n rows with sparse, shuffled ids, removes a random part, re-adds some removed ids with new
 * vectors; returns the index and the reference store it should hold.
 */
function build(spec: string, s: Scenario, grid = false): { index: Index; store: Store; rng: Rng } {
  const rng = new Rng(s.seed);
  const index = createIndex(spec, s.dim, s.metric);
  const store: Store = new Map();
  const ids = Array.from(rng.permutation(s.n * 3).subarray(0, s.n));
  const rows = rowsOf(randomRows(rng, s.n, s.dim, grid), s.dim);
  // add in two batches so the index grows
  const half = Math.floor(s.n / 2);
  for (const [a, b] of [
    [0, half],
    [half, s.n],
  ]) {
    const flat = new Float32Array((b - a) * s.dim);
    for (let i = a; i < b; i++) {
      flat.set(rows[i], (i - a) * s.dim);
      store.set(ids[i], rows[i]);
    }
    index.add(ids.slice(a, b), flat);
  }
  const removed = ids.filter(() => rng.next() < s.removeFraction);
  index.remove(removed);
  for (const id of removed) store.delete(id);
  const readd = removed.filter(() => rng.next() < 0.5);
  const fresh = randomRows(rng, readd.length, s.dim, grid);
  index.add(readd, fresh);
  readd.forEach((id, i) => store.set(id, fresh.slice(i * s.dim, (i + 1) * s.dim)));
  return { index, store, rng };
}

function queries(rng: Rng, dim: number, grid = false): Float32Array {
  return randomRows(rng, 5, dim, grid);
}

function checkExact(spec: string, s: Scenario, grid = false, compareDistances = true): void {
  const { index, store, rng } = build(spec, s, grid);
  expect(index.size).toBe(store.size);
  for (const id of store.keys()) expect(index.has(id)).toBe(true);
  const qs = queries(rng, s.dim, grid);
  const filter = (id: number) => id % s.filterMod === 0;
  const batch = index.searchBatch(qs, s.k);
  rowsOf(qs, s.dim).forEach((q, i) => {
    const want = bruteForce(store, q, s.k, s.metric);
    const got = index.search(q, s.k);
    expect(got.ids).toEqual(want.ids);
    if (compareDistances) expect(got.distances).toEqual(want.distances);
    expect(batch[i]).toEqual(got);
    const wantF = bruteForce(store, q, s.k, s.metric, filter);
    expect(index.search(q, s.k, { filter }).ids).toEqual(wantF.ids);
  });
}

describe("flat", () => {
  it("equals brute force (all metrics, several dims, removes, re-adds, filters)", () => {
    fc.assert(
      fc.property(scenario, (s) => checkExact("flat", s)),
      { numRuns: 120, seed: 42 },
    );
  });

  it("breaks distance ties by smaller id, like the reference", () => {
    const index = createIndex("flat", 2);
    // four points at the same distance from the origin, added in scrambled id order
    index.add([9, 3, 7, 1], new Float32Array([1, 0, 0, 1, -1, 0, 0, -1]));
    expect(index.search(new Float32Array([0, 0]), 3)).toEqual({ ids: [1, 3, 7], distances: [1, 1, 1] });
  });

  it("round-trips through serialize/deserializeIndex with identical results", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { index, rng } = build("flat", s);
        const copy = deserializeIndex(index.serialize());
        expect(copy.spec).toBe(index.spec);
        expect(copy.size).toBe(index.size);
        expect(copy.metric).toBe(s.metric);
        const qs = queries(rng, s.dim);
        expect(copy.searchBatch(qs, s.k)).toEqual(index.searchBatch(qs, s.k));
      }),
      { numRuns: 30, seed: 7 },
    );
  });
});

describe("flat-i8", () => {
  it("with re-ranking of every candidate equals brute force exactly", () => {
    fc.assert(
      fc.property(scenario, (s) => checkExact("flat-i8:rerank=400", s)),
      { numRuns: 80, seed: 43 },
    );
  });

  it("without re-ranking ranks exactly when quantization is lossless (integer data, l2 and ip)", () => {
    fc.assert(
      fc.property(
        scenario.filter((s) => s.metric !== "cos"),
        // codes equal the data, so int8 distances are the exact distances
        (s) => checkExact("flat-i8:lo=0,hi=255", s, true),
      ),
      { numRuns: 60, seed: 44 },
    );
  });

  it("round-trips through serialize/deserializeIndex with identical results", () => {
    for (const spec of ["flat-i8", "flat-i8:rerank=10"]) {
      fc.assert(
        fc.property(scenario, (s) => {
          const { index, rng } = build(spec, s);
          const copy = deserializeIndex(index.serialize());
          expect(copy.spec).toBe(index.spec);
          expect(copy.size).toBe(index.size);
          const qs = queries(rng, s.dim);
          expect(copy.searchBatch(qs, s.k)).toEqual(index.searchBatch(qs, s.k));
        }),
        { numRuns: 20, seed: 8 },
      );
    }
  });

  it("keeps f32 copies only when re-ranking, and uses over 3x less memory than flat without them", () => {
    const rng = new Rng(3);
    const data = randomRows(rng, 100, 256);
    const ids = Array.from({ length: 100 }, (_, i) => i);
    const sizes = ["flat", "flat-i8", "flat-i8:rerank=20"].map((spec) => {
      const ix = createIndex(spec, 256);
      ix.add(ids, data);
      return ix.bytes;
    });
    expect(sizes[1]).toBeLessThan(sizes[0] / 3);
    expect(sizes[2]).toBeGreaterThan(sizes[0]);
  });

  it("reaches recall@10 >= 0.99 with re-ranking on an MNIST sample (embedded dataset)", () => {
    const ds = loadEmbeddedMnist();
    const rng = new Rng(11);
    const baseRows = rng.sample(ds.train.n, 3000);
    const dim = ds.train.dim;
    const base = new Float32Array(baseRows.length * dim);
    const store: Store = new Map();
    baseRows.forEach((r, i) => {
      const v = ds.train.x.subarray(r * dim, (r + 1) * dim);
      base.set(v, i * dim);
      store.set(i, v.slice());
    });
    // Noisy queries, so the quantization range does not cover them exactly (a harder case than pixels).
    const qs = new Float32Array(50 * dim);
    for (let i = 0; i < 50; i++)
      for (let j = 0; j < dim; j++) qs[i * dim + j] = ds.test.x[i * dim + j] + 0.05 * rng.normal();
    for (const metric of METRICS) {
      const index = createIndex("flat-i8:rerank=40", dim, metric);
      index.add(
        Array.from({ length: baseRows.length }, (_, i) => i),
        base,
      );
      const got = index.searchBatch(qs, 10);
      const want = rowsOf(qs, dim).map((q) => bruteForce(store, q, 10, metric));
      expect(recall(got, want)).toBeGreaterThanOrEqual(0.99);
    }
  });
});
