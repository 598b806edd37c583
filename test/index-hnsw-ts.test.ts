/**
 * hnsw-ts (the browser-safe HNSW) against the exact reference: exact on small data with a wide
 * beam, recall on the embedded MNIST, removals, filters, snapshot round trips, and the same
 * behaviour on the forced TypeScript path.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { Rng } from "../src/core/rng.js";
import { METRICS, type Metric } from "../src/core/vectors.js";
import { loadEmbeddedMnist } from "../src/data/datasets.node.js";
import { createIndex, deserializeIndex } from "../src/index/factory.js";
import type { HnswTsIndex } from "../src/index/hnsw-ts.js";
import { setKernelPath } from "../src/index/wasm/simd.js";
import { bruteForce, randomRows, recall, rowsOf, type Store } from "./index-reference.js";

afterEach(() => setKernelPath("auto"));

function filled(spec: string, dim: number, n: number, metric: Metric, seed: number) {
  const rng = new Rng(seed);
  const index = createIndex(spec, dim, metric);
  const data = randomRows(rng, n, dim);
  const ids = Array.from(rng.permutation(n * 2).subarray(0, n));
  index.add(ids, data);
  const store: Store = new Map(rowsOf(data, dim).map((v, i) => [ids[i], v]));
  return { index, store, rng, ids };
}

describe("hnsw-ts", () => {
  it("is registered, browser-safe and reports its kernel path", () => {
    const index = createIndex("hnsw-ts:M=8,efConstruction=40", 4);
    expect(index.kind).toBe("hnsw-ts");
    expect(index.spec).toBe("hnsw-ts:M=8,efConstruction=40,efSearch=64,seed=1");
    expect((index as HnswTsIndex).kernel).toBe("wasm-simd");
    setKernelPath("typescript");
    expect((createIndex("hnsw-ts", 4) as HnswTsIndex).kernel).toBe("typescript");
  });

  it("finds the exact neighbours on small data when the beam covers it (all metrics, both paths)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2, 5, 16, 33),
        fc.integer({ min: 1, max: 150 }),
        fc.constantFrom(...METRICS),
        fc.integer({ min: 1, max: 1e6 }),
        fc.boolean(),
        (dim, n, metric, seed, ts) => {
          setKernelPath(ts ? "typescript" : "auto");
          const { index, store, rng } = filled("hnsw-ts:M=8,efSearch=200", dim, n, metric, seed);
          for (const q of rowsOf(randomRows(rng, 3, dim), dim)) {
            const want = bruteForce(store, q, 5, metric);
            const got = index.search(q, 5);
            expect(got.ids).toEqual(want.ids);
            got.distances.forEach((d, j) => expect(d).toBeCloseTo(want.distances[j], 4));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("never returns removed ids, honours filters, and takes re-added ids", () => {
    const { index, store, rng, ids } = filled("hnsw-ts:M=8,efSearch=100", 8, 400, "l2", 3);
    const removed = ids.filter((_, i) => i % 3 === 0);
    index.remove(removed);
    for (const id of removed) store.delete(id);
    expect(index.size).toBe(store.size);
    const fresh = randomRows(rng, 10, 8);
    index.add(removed.slice(0, 10), fresh);
    removed.slice(0, 10).forEach((id, i) => store.set(id, fresh.slice(i * 8, (i + 1) * 8)));
    const filter = (id: number) => id % 2 === 0;
    const qs = randomRows(rng, 20, 8);
    const got = index.searchBatch(qs, 10);
    const want = rowsOf(qs, 8).map((q) => bruteForce(store, q, 10, "l2"));
    expect(recall(got, want)).toBeGreaterThanOrEqual(0.95);
    for (const r of got) for (const id of r.ids) expect(store.has(id)).toBe(true);
    for (const q of rowsOf(qs, 8)) {
      const r = index.search(q, 10, { filter });
      expect(r.ids.length).toBe(10);
      for (const id of r.ids) expect(id % 2).toBe(0);
    }
  });

  it("round-trips through serialize/deserializeIndex with identical results, and keeps growing", () => {
    const { index, rng } = filled("hnsw-ts:M=6,efConstruction=30", 12, 300, "cos", 9);
    index.remove([index.search(randomRows(rng, 1, 12), 1).ids[0]]);
    const copy = deserializeIndex(index.serialize());
    expect(copy.kind).toBe("hnsw-ts");
    expect(copy.spec).toBe(index.spec);
    expect(copy.size).toBe(index.size);
    const qs = randomRows(rng, 10, 12);
    expect(copy.searchBatch(qs, 7)).toEqual(index.searchBatch(qs, 7));
    copy.add([10_000], randomRows(rng, 1, 12));
    expect(copy.has(10_000)).toBe(true);
  });

  it("reaches recall@10 >= 0.95 on an MNIST sample (embedded dataset), on both paths", () => {
    const ds = loadEmbeddedMnist();
    const dim = ds.train.dim;
    const n = 1500;
    const base = ds.train.x.slice(0, n * dim);
    const store: Store = new Map(rowsOf(base, dim).map((v, i) => [i, v]));
    const qs = ds.test.x.slice(0, 30 * dim);
    const want = rowsOf(qs, dim).map((q) => bruteForce(store, q, 10, "l2"));
    for (const path of ["auto", "typescript"] as const) {
      setKernelPath(path);
      const index = createIndex("hnsw-ts:M=12,efConstruction=48,efSearch=32", dim);
      index.add(
        Array.from({ length: n }, (_, i) => i),
        base,
      );
      expect(recall(index.searchBatch(qs, 10), want)).toBeGreaterThanOrEqual(0.95);
    }
  });
});
