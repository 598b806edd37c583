/**
 * hnsw (usearch adapter) against the brute-force reference: exact on small data with a large
 * efSearch, high recall on larger data, through removes, re-adds and filters; per-search
 * efSearch; snapshot round trips; and guards for known usearch bugs (batch search with k < dim,
 * k > size).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Rng } from "../src/core/rng.js";
import { METRICS, type Metric } from "../src/core/vectors.js";
import { loadEmbeddedMnist } from "../src/data/datasets.node.js";
import { createIndex, deserializeIndex } from "../src/index/factory.node.js";
import type { Index, SearchResult } from "../src/index/types.js";
import { bruteForce, randomRows, recall, rowsOf, type Store } from "./index-reference.js";

function filled(spec: string, dim: number, n: number, metric: Metric, seed: number) {
  const rng = new Rng(seed);
  const index = createIndex(spec, dim, metric);
  const data = randomRows(rng, n, dim);
  const ids = Array.from(rng.permutation(n * 2).subarray(0, n));
  index.add(ids, data);
  const store: Store = new Map(rowsOf(data, dim).map((v, i) => [ids[i], v]));
  return { index, store, rng, ids };
}

function expectSameNeighbours(index: Index, store: Store, qs: Float32Array, k: number, metric: Metric) {
  const dim = index.dim;
  rowsOf(qs, dim).forEach((q, i) => {
    const want = bruteForce(store, q, k, metric);
    const got = index.search(q, k);
    expect(got.ids, `query ${i}`).toEqual(want.ids);
    got.distances.forEach((d, j) => expect(d).toBeCloseTo(want.distances[j], 3));
  });
}

describe("hnsw", () => {
  const smallCase = fc.record({
    dim: fc.constantFrom(2, 5, 16, 33),
    n: fc.integer({ min: 1, max: 120 }),
    metric: fc.constantFrom(...METRICS),
    seed: fc.integer({ min: 1, max: 100000 }),
    k: fc.integer({ min: 1, max: 12 }),
  });
  const SMALL = "hnsw:M=16,efConstruction=200,efSearch=512";

  it("is exact on small data with efSearch >= size (all metrics, filters)", () => {
    fc.assert(
      fc.property(smallCase, (s) => {
        const { index, store, rng } = filled(SMALL, s.dim, s.n, s.metric, s.seed);
        const qs = randomRows(rng, 4, s.dim);
        expectSameNeighbours(index, store, qs, s.k, s.metric);
        const filter = (id: number) => id % 3 !== 0;
        for (const q of rowsOf(qs, s.dim))
          expect(index.search(q, s.k, { filter }).ids).toEqual(
            bruteForce(store, q, s.k, s.metric, filter).ids,
          );
      }),
      { numRuns: 40, seed: 5 },
    );
  });

  it("keeps recall >= 0.99 through removes and re-adds (usearch is not always exact there)", () => {
    const got: SearchResult[] = [];
    const want: SearchResult[] = [];
    fc.assert(
      fc.property(smallCase, (s) => {
        const { index, store, rng, ids } = filled(SMALL, s.dim, s.n, s.metric, s.seed);
        const removed = ids.filter(() => rng.next() < 0.3);
        index.remove(removed);
        for (const id of removed) store.delete(id);
        const back = removed.filter(() => rng.next() < 0.5);
        const fresh = randomRows(rng, back.length, s.dim);
        index.add(back, fresh);
        back.forEach((id, i) => store.set(id, fresh.slice(i * s.dim, (i + 1) * s.dim)));
        expect(index.size).toBe(store.size);
        const filter = (id: number) => id % 3 !== 0;
        for (const q of rowsOf(randomRows(rng, 4, s.dim), s.dim)) {
          for (const f of [undefined, filter]) {
            const r = index.search(q, s.k, { filter: f });
            // never a removed or filtered-out id, and as many as the reference finds
            for (const id of r.ids) expect(store.has(id) && (!f || f(id))).toBe(true);
            const ref = bruteForce(store, q, s.k, s.metric, f);
            expect(r.ids.length).toBe(ref.ids.length);
            got.push(r);
            want.push(ref);
          }
        }
      }),
      { numRuns: 60, seed: 6 },
    );
    expect(recall(got, want)).toBeGreaterThanOrEqual(0.99);
  });

  it("reaches recall@10 >= 0.99 on an MNIST sample, and per-search efSearch trades recall", () => {
    const ds = loadEmbeddedMnist();
    const dim = ds.train.dim;
    const n = 3000;
    const index = createIndex("hnsw:M=16,efConstruction=128,efSearch=128", dim);
    index.add(
      Array.from({ length: n }, (_, i) => i),
      ds.train.x.subarray(0, n * dim),
    );
    const store: Store = new Map(rowsOf(ds.train.x.subarray(0, n * dim), dim).map((v, i) => [i, v]));
    const qs = ds.test.x.subarray(0, 100 * dim);
    const want = rowsOf(qs, dim).map((q) => bruteForce(store, q, 10, "l2"));
    const atDefault = recall(index.searchBatch(qs, 10), want);
    const low = recall(index.searchBatch(qs, 10, { efSearch: 10 }), want);
    const high = recall(index.searchBatch(qs, 10, { efSearch: 400 }), want);
    expect(atDefault).toBeGreaterThanOrEqual(0.99);
    expect(high).toBeGreaterThanOrEqual(atDefault);
    expect(low).toBeLessThan(high);
    // the per-search view is dropped on change: a new vector is found right away
    index.add([n], qs.subarray(0, dim));
    expect(index.search(qs.subarray(0, dim), 1, { efSearch: 400 }).ids).toEqual([n]);
  });

  it("guards usearch's batch-search bugs: k < dim and k > size give valid, per-query-equal results", () => {
    for (const [n, k] of [
      [50, 3],
      [7, 20],
      [1, 5],
    ]) {
      const dim = 32;
      const { index, store, rng } = filled("hnsw:efSearch=256", dim, n, "l2", n + k);
      const qs = randomRows(rng, 25, dim);
      const batch = index.searchBatch(qs, k);
      rowsOf(qs, dim).forEach((q, i) => {
        expect(batch[i]).toEqual(index.search(q, k));
        expect(batch[i].ids.length).toBe(Math.min(k, n));
        for (const id of batch[i].ids) expect(store.has(id)).toBe(true);
        expect(batch[i].ids).toEqual(bruteForce(store, q, k, "l2").ids);
      });
    }
  });

  it("answers an empty index with no neighbours", () => {
    const index = createIndex("hnsw", 3);
    expect(index.search(new Float32Array(3), 4)).toEqual({ ids: [], distances: [] });
    index.add([1], new Float32Array([1, 2, 3]));
    index.remove([1]);
    expect(index.search(new Float32Array(3), 4, { efSearch: 99 })).toEqual({ ids: [], distances: [] });
  });

  it("round-trips through serialize/deserializeIndex with identical results", () => {
    for (const metric of METRICS) {
      const { index, rng } = filled("hnsw:M=8,efConstruction=64,efSearch=40", 24, 400, metric, 9);
      index.remove([...Array(20).keys()].filter((id) => index.has(id)));
      const copy = deserializeIndex(index.serialize());
      expect(copy.spec).toBe(index.spec);
      expect(copy.size).toBe(index.size);
      const qs = randomRows(rng, 20, 24);
      expect(copy.searchBatch(qs, 10)).toEqual(index.searchBatch(qs, 10));
      expect(copy.searchBatch(qs, 10, { efSearch: 200 })).toEqual(
        index.searchBatch(qs, 10, { efSearch: 200 }),
      );
    }
  });
});
