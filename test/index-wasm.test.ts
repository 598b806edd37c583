/**
 * The WebAssembly SIMD scan kernels: the embedded module is what kernels.wat compiles to; each
 * kernel against the scalar reference on odd sizes and random data; flat and flat-i8 give the
 * same results on both paths (and equal brute force) on random data, the embedded MNIST and
 * Fashion-MNIST when installed; the TypeScript fallback is forced and checked.
 */
import { existsSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { compileWat } from "../scripts/build-wasm.js";
import { Rng } from "../src/core/rng.js";
import { dot, l2sq, METRICS, type Metric } from "../src/core/vectors.js";
import { DEBIAN_FASHION_DIR, loadDataset, loadEmbeddedMnist } from "../src/data/datasets.node.js";
import { createIndex } from "../src/index/factory.js";
import { FlatIndex, f32ErrorBound } from "../src/index/flat.js";
import { FlatI8Index } from "../src/index/flat-i8.js";
import { dotInt8, l2sqInt8Bounded } from "../src/index/kernels.js";
import { F32Rows, I8Rows } from "../src/index/rows.js";
import type { Index } from "../src/index/types.js";
import { KERNELS_WASM_BASE64 } from "../src/index/wasm/kernels.wasm.js";
import { kernelPath, setKernelPath } from "../src/index/wasm/simd.js";
import { bruteForce, randomRows, rowsOf, type Store } from "./index-reference.js";

afterEach(() => setKernelPath("auto"));

describe("kernel module", () => {
  it("embeds exactly what kernels.wat compiles to (rerun scripts/build-wasm.ts if not)", async () => {
    const wat = readFileSync("src/index/wasm/kernels.wat", "utf8");
    const bytes = await compileWat(wat);
    expect(Buffer.from(bytes).toString("base64")).toBe(KERNELS_WASM_BASE64);
  });

  it("loads synchronously in Node, and the TypeScript path can be forced", () => {
    expect(kernelPath()).toBe("wasm-simd");
    expect(new FlatIndex(3).kernel).toBe("wasm-simd");
    setKernelPath("typescript");
    expect(kernelPath()).toBe("typescript");
    expect(new FlatIndex(3).kernel).toBe("typescript");
    expect(new FlatI8Index(3).kernel).toBe("typescript");
    setKernelPath("auto");
    expect(new FlatI8Index(3).kernel).toBe("wasm-simd");
  });
});

describe("kernels against the scalar reference", () => {
  const dims = fc.integer({ min: 1, max: 300 });
  it("f32 l2sq and dot blocks are within the float32 error bound of the exact sums", () => {
    fc.assert(
      fc.property(dims, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 1e6 }), (dim, n, seed) => {
        const rng = new Rng(seed);
        const data = randomRows(rng, n, dim);
        const q = randomRows(rng, 1, dim);
        const rows = new F32Rows(dim, n);
        for (let s = 0; s < n; s++) rows.set(s, data, s * dim);
        rows.setQuery(q);
        const eps = f32ErrorBound(rows.stride);
        const out = () => rows.heap!.f32.subarray(rows.outAt >> 2, (rows.outAt >> 2) + n);
        rows.l2Block(0, n, Number.POSITIVE_INFINITY);
        const l2 = Array.from(out());
        rows.dotBlock(0, n);
        const ip = Array.from(out());
        // listed rows, in reverse order
        for (let i = 0; i < n; i++) rows.heap!.i32[(rows.slotsAt >> 2) + i] = n - 1 - i;
        rows.l2Rows(n);
        const l2Listed = Array.from(out());
        for (let s = 0; s < n; s++) {
          const exact = l2sq(q, data, dim, 0, s * dim);
          expect(Math.abs(l2[s] - exact)).toBeLessThanOrEqual(eps * exact + 1e-30);
          expect(l2Listed[n - 1 - s]).toBe(l2[s]);
          let absSum = 0;
          for (let j = 0; j < dim; j++) absSum += Math.abs(q[j] * data[s * dim + j]);
          expect(Math.abs(ip[s] - dot(q, data, dim, 0, s * dim))).toBeLessThanOrEqual(eps * absSum + 1e-30);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("l2sq abandons only rows whose distance exceeds the bound", () => {
    const rng = new Rng(5);
    const dim = 517;
    const n = 50;
    const data = randomRows(rng, n, dim);
    const q = randomRows(rng, 1, dim);
    const rows = new F32Rows(dim, n);
    for (let s = 0; s < n; s++) rows.set(s, data, s * dim);
    rows.setQuery(q);
    const bound = 2 * dim;
    rows.l2Block(0, n, bound);
    for (let s = 0; s < n; s++) {
      const got = rows.heap!.f32[(rows.outAt >> 2) + s];
      const exact = l2sq(q, data, dim, 0, s * dim);
      if (got > bound) expect(exact).toBeGreaterThan(bound * (1 - 1e-5));
      else expect(Math.abs(got - exact)).toBeLessThanOrEqual(exact * 1e-4);
    }
  });

  it("int8 l2sq and dot blocks equal the integer reference exactly", () => {
    fc.assert(
      fc.property(dims, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 1e6 }), (dim, n, seed) => {
        const rng = new Rng(seed);
        const rows = new I8Rows(dim, n);
        const flat = new Int8Array(n * dim);
        for (let i = 0; i < flat.length; i++) flat[i] = rng.int(256) - 128;
        for (let s = 0; s < n; s++) rows.codes.set(flat.subarray(s * dim, (s + 1) * dim), rows.offset(s));
        const q = new Int8Array(dim);
        for (let j = 0; j < dim; j++) q[j] = rng.int(256) - 128;
        rows.setQuery(q);
        const out = () => Array.from(rows.heap!.i32.subarray(rows.outAt >> 2, (rows.outAt >> 2) + n));
        rows.l2Block(0, n, 0x7fffffff);
        const l2 = out();
        rows.dotBlock(0, n);
        const ip = out();
        for (let s = 0; s < n; s++) {
          expect(l2[s]).toBe(l2sqInt8Bounded(q, flat, s * dim, dim, Number.POSITIVE_INFINITY));
          expect(ip[s]).toBe(dotInt8(q, flat, s * dim, dim));
        }
        // the extreme codes: -128 against 127 in every dimension
        rows.codes.fill(-128, rows.offset(0), rows.offset(0) + dim);
        rows.setQuery(new Int8Array(dim).fill(127));
        rows.l2Block(0, 1, 0x7fffffff);
        expect(rows.heap!.i32[rows.outAt >> 2]).toBe(255 * 255 * dim);
      }),
      { numRuns: 60 },
    );
  });
});

/** The same adds, removes and queries on both paths; results must be identical and exact. */
function bothPaths(spec: string, dim: number, n: number, metric: Metric, seed: number, grid: boolean) {
  const rng = new Rng(seed);
  const data = randomRows(rng, n, dim, grid);
  const ids = Array.from(rng.permutation(3 * n).subarray(0, n));
  const build = (path: "typescript" | "auto") => {
    setKernelPath(path);
    const index = createIndex(spec, dim, metric);
    setKernelPath("auto");
    index.add(ids, data);
    index.remove(ids.filter((_, i) => i % 7 === 3));
    return index;
  };
  const ts = build("typescript");
  const simd = build("auto");
  expect((ts as FlatIndex).kernel).toBe("typescript");
  expect((simd as FlatIndex).kernel).toBe("wasm-simd");
  const store: Store = new Map();
  ids.forEach((id, i) => {
    if (i % 7 !== 3) store.set(id, data.slice(i * dim, (i + 1) * dim));
  });
  return { ts, simd, store, queries: randomRows(rng, 4, dim, grid) };
}

describe("flat and flat-i8: SIMD path = TypeScript path = brute force", () => {
  const sizes = fc.record({
    dim: fc.constantFrom(1, 3, 5, 15, 17, 31, 63, 65, 130, 257),
    n: fc.integer({ min: 1, max: 2500 }),
    metric: fc.constantFrom(...METRICS),
    seed: fc.integer({ min: 1, max: 1e6 }),
    k: fc.integer({ min: 1, max: 12 }),
    grid: fc.boolean(),
  });

  it("flat: identical ids and distances, with and without a filter", () => {
    fc.assert(
      fc.property(sizes, ({ dim, n, metric, seed, k, grid }) => {
        const { ts, simd, store, queries } = bothPaths("flat", dim, n, metric, seed, grid);
        const filter = (id: number) => id % 3 !== 0;
        for (const q of rowsOf(queries, dim)) {
          const want = bruteForce(store, q, k, metric);
          expect(simd.search(q, k)).toEqual(want);
          expect(ts.search(q, k)).toEqual(want);
          expect(simd.search(q, k, { filter })).toEqual(bruteForce(store, q, k, metric, filter));
        }
      }),
      { numRuns: 40 },
    );
  });

  it("flat-i8: identical ids and distances with and without re-ranking", () => {
    fc.assert(
      fc.property(sizes, ({ dim, n, metric, seed, k, grid }) => {
        for (const spec of ["flat-i8", "flat-i8:rerank=30"]) {
          const { ts, simd, queries } = bothPaths(spec, dim, n, metric, seed, grid);
          for (const q of rowsOf(queries, dim)) expect(simd.search(q, k)).toEqual(ts.search(q, k));
        }
      }),
      { numRuns: 25 },
    );
  });
});

/** Top-10 of every query from both paths of both exact kinds on real data. */
function realData(base: Float32Array, queries: Float32Array, dim: number) {
  const n = base.length / dim;
  const ids = Array.from({ length: n }, (_, i) => i);
  for (const spec of ["flat", "flat-i8:rerank=40"]) {
    const make = (path: "typescript" | "auto"): Index => {
      setKernelPath(path);
      const index = createIndex(spec, dim, "l2");
      setKernelPath("auto");
      index.add(ids, base);
      return index;
    };
    const ts = make("typescript");
    const simd = make("auto");
    const a = simd.searchBatch(queries, 10);
    const b = ts.searchBatch(queries, 10);
    expect(a).toEqual(b);
  }
}

function pixels(x: Float32Array, scale: number, rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let i = 0; i < out.length; i++) out[i] = x[i] * scale;
  return out;
}

describe("real data: the same top-10 on both paths", () => {
  it("embedded MNIST (5,000-row base, 30 queries)", () => {
    const ds = loadEmbeddedMnist();
    const dim = ds.train.dim;
    const nb = Math.min(5_000, ds.train.n);
    realData(pixels(ds.train.x, ds.rawScale, nb, dim), pixels(ds.test.x, ds.rawScale, 30, dim), dim);
  });

  it.runIf(existsSync(DEBIAN_FASHION_DIR))(
    "Fashion-MNIST (20,000-row base, 10 queries)",
    () => {
      const ds = loadDataset("fashion-mnist");
      const dim = ds.train.dim;
      realData(pixels(ds.train.x, ds.rawScale, 20_000, dim), pixels(ds.test.x, ds.rawScale, 10, dim), dim);
    },
    60_000,
  );
});
