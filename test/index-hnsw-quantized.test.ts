/**
 * hnsw with quantized storage (f16, i8 with one affine range) and exact f32 re-ranking, and the
 * batch path on several threads, against the brute-force reference: exact top-k on small data
 * with a large efSearch, recall on MNIST, the i8 distance error within its stated bound,
 * snapshots, and the option checks.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../src/core/rng.js";
import { l2sq } from "../src/core/vectors.js";
import { loadEmbeddedMnist } from "../src/data/datasets.node.js";
import { createIndex, deserializeIndex, type HnswIndex } from "../src/index/factory.node.js";
import { errorOf } from "./error-fixtures.js";
import { bruteForce, randomRows, recall, rowsOf, type Store } from "./index-reference.js";

function filled(spec: string, dim: number, n: number, seed: number, grid = false) {
  const rng = new Rng(seed);
  const index = createIndex(spec, dim, "l2");
  const data = randomRows(rng, n, dim, grid);
  const ids = Array.from(rng.permutation(n * 2).subarray(0, n));
  index.add(ids, data);
  const store: Store = new Map(rowsOf(data, dim).map((v, i) => [ids[i], v]));
  return { index, store, rng };
}

describe("hnsw quantized storage", () => {
  const EXACT = "M=16,efConstruction=200,efSearch=400";

  it("re-ranked f16 and i8 give the exact top-k and exact distances on small data", () => {
    for (const q of ["f16", "i8"]) {
      for (const [dim, n, seed] of [
        [5, 150, 1],
        [33, 300, 2],
        [64, 250, 3],
      ]) {
        const { index, store, rng } = filled(`hnsw:${EXACT},quantization=${q},rerank=40`, dim, n, seed);
        for (const v of rowsOf(randomRows(rng, 10, dim), dim)) {
          const want = bruteForce(store, v, 10, "l2");
          const got = index.search(v, 10);
          expect(got.ids, `${q} dim ${dim}`).toEqual(want.ids);
          got.distances.forEach((d, j) => expect(d).toBeCloseTo(want.distances[j], 4));
        }
      }
    }
  });

  it("i8 codes of 0..255 integer data rank like the exact index (254 steps: at most half a level off)", () => {
    const dim = 48;
    const { index, store, rng } = filled(`hnsw:${EXACT},quantization=i8`, dim, 400, 4, true);
    expect(index.spec).toMatch(/quantization=i8,lo=0,hi=255$/);
    const got = [];
    const want = [];
    const step = 255 / 254;
    for (const v of rowsOf(randomRows(rng, 30, dim, true), dim)) {
      const r = index.search(v, 10);
      got.push(r);
      want.push(bruteForce(store, v, 10, "l2"));
      // Each coordinate of q - x is off by at most one step after rounding both: |d| within sqrt(dim) steps.
      r.ids.forEach((id, j) => {
        const exact = Math.sqrt(l2sq(v, store.get(id)!));
        expect(Math.abs(Math.sqrt(r.distances[j]) - exact)).toBeLessThanOrEqual(step * Math.sqrt(dim) + 1e-9);
      });
    }
    expect(recall(got, want)).toBeGreaterThanOrEqual(0.97);
  });

  it("reaches recall@10 >= 0.95 on an MNIST sample with f16, i8 and i8 + re-ranking", () => {
    const ds = loadEmbeddedMnist();
    const dim = ds.train.dim;
    const n = 3000;
    const base = ds.train.x.subarray(0, n * dim);
    const store: Store = new Map(rowsOf(base, dim).map((v, i) => [i, v]));
    const qs = ds.test.x.subarray(0, 60 * dim);
    const want = rowsOf(qs, dim).map((q) => bruteForce(store, q, 10, "l2"));
    for (const extra of ["quantization=f16", "quantization=i8", "quantization=i8,rerank=20"]) {
      const index = createIndex(`hnsw:M=16,efConstruction=128,efSearch=64,${extra}`, dim);
      index.add(
        Array.from({ length: n }, (_, i) => i),
        base,
      );
      const got = index.searchBatch(qs, 10);
      expect(recall(got, want), extra).toBeGreaterThanOrEqual(0.95);
      if (extra.includes("rerank"))
        got.forEach((r, i) =>
          r.ids.forEach((id, j) =>
            expect(r.distances[j]).toBeCloseTo(l2sq(qs.subarray(i * dim, (i + 1) * dim), store.get(id)!), 3),
          ),
        );
    }
  });

  it("searchBatch on two threads answers as search does, per query", () => {
    for (const extra of ["", ",quantization=f16", ",quantization=i8,rerank=15"]) {
      const dim = 24;
      // The default efSearch: the primary graph, whose add() reserved one search context.
      const { index, rng } = filled(`hnsw:efSearch=64,searchThreads=2${extra}`, dim, 500, 5);
      const qs = randomRows(rng, 400, dim);
      const batch = index.searchBatch(qs, 7);
      rowsOf(qs, dim).forEach((q, i) => expect(batch[i]).toEqual(index.search(q, 7)));
      (index as HnswIndex).setSearchThreads(1);
      expect(index.searchBatch(qs, 7, { efSearch: 128 })).toEqual(
        rowsOf(qs, dim).map((q) => index.search(q, 7, { efSearch: 128 })),
      );
    }
  });

  it("round-trips quantized indexes (learned range, f32 copy) through serialize", () => {
    for (const extra of [
      "quantization=f16",
      "quantization=i8",
      "quantization=i8,rerank=12",
      "quantization=f16,rerank=12",
    ]) {
      const dim = 20;
      const { index, rng } = filled(`hnsw:M=8,efConstruction=64,efSearch=40,${extra}`, dim, 300, 6);
      index.remove([...Array(30).keys()].filter((id) => index.has(id)));
      const copy = deserializeIndex(index.serialize());
      expect(copy.spec).toBe(index.spec);
      expect(copy.size).toBe(index.size);
      expect(copy.bytes).toBe(index.bytes);
      const qs = randomRows(rng, 15, dim);
      expect(copy.searchBatch(qs, 10)).toEqual(index.searchBatch(qs, 10));
      // A new vector after the restore is coded with the same range.
      const v = qs.slice(0, dim);
      copy.add([9999], v);
      expect(copy.search(v, 1).ids).toEqual([9999]);
    }
  });

  it("rejects options that cannot apply, naming what was expected, and builds nothing", () => {
    expect(errorOf(() => createIndex("hnsw:rerank=10", 4)).message).toMatch(
      /rerank=10 needs quantization=f16 or i8.*got quantization=f32/,
    );
    expect(errorOf(() => createIndex("hnsw:quantization=i8", 4, "ip")).message).toMatch(
      /i8 supports metric l2 only.*got metric ip/,
    );
    expect(errorOf(() => createIndex("hnsw:quantization=i8,lo=1", 4)).message).toMatch(
      /both lo and hi with lo < hi, got lo=1 hi=undefined/,
    );
    expect(errorOf(() => createIndex("hnsw:quantization=f16,lo=0,hi=1", 4)).message).toMatch(
      /lo\/hi set the i8 range; quantization is f16/,
    );
    expect(errorOf(() => createIndex("hnsw:quantization=f8", 4)).message).toMatch(
      /f32\|f16\|i8|f32, f16, i8/,
    );
    const index = createIndex("hnsw", 4) as HnswIndex;
    expect(errorOf(() => index.setSearchThreads(-1)).message).toMatch(/expected an integer >= 0, got -1/);
  });
});
