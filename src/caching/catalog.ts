/**
 * Catalogs for the similarity-caching simulator: n objects (vectors) with a k-NN index over them.
 * Distances are Euclidean (not squared) and always computed by one kernel (core/vectors l2sq), so
 * the catalog, every stored set and the brute-force test oracles agree bit for bit.
 * Browser-safe; loading named datasets and files is in catalog.node.ts.
 */
import { fail } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { type ParamSchema, parseParams } from "../core/spec.js";
import { l2sq } from "../core/vectors.js";
import { createIndex } from "../index/factory.js";
import type { Index } from "../index/types.js";
import { insertSorted } from "./stored-set.js";
import type { Catalog, Neighbours } from "./types.js";

export const EUCLIDEAN = "euclidean (L2, not squared)";

class VectorCatalog implements Catalog {
  readonly distanceName = EUCLIDEAN;
  readonly n: number;
  private built: Index | undefined;
  /** Seconds spent building the index (0 until first use). */
  buildSeconds = 0;

  constructor(
    readonly name: string,
    readonly vectors: Float32Array,
    readonly dim: number,
    readonly indexSpec: string,
  ) {
    this.n = vectors.length / dim;
  }

  /** Built on first use: a run whose requests are all catalog rows with k = 1 never needs it. */
  get index(): Index {
    if (!this.built) {
      const t0 = performance.now();
      const index = createIndex(this.indexSpec, this.dim, "l2");
      index.add(
        Int32Array.from({ length: this.n }, (_, i) => i),
        this.vectors,
      );
      this.built = index;
      this.buildSeconds = (performance.now() - t0) / 1000;
    }
    return this.built;
  }

  row(i: number): Float32Array {
    return this.vectors.subarray(i * this.dim, (i + 1) * this.dim);
  }

  distance(x: Float32Array, i: number): number {
    return Math.sqrt(l2sq(x, this.vectors, this.dim, 0, i * this.dim));
  }

  nearest(x: Float32Array, k: number, out: Neighbours): Neighbours {
    const kk = Math.min(k, this.n, out.ids.length);
    const r = this.index.search(x, kk);
    // Recompute with the shared kernel, then re-sort: an index's own distances may differ in the
    // last bit, and ties must break by smaller id everywhere.
    const m = r.ids.length;
    for (let j = 0; j < m; j++) {
      const id = r.ids[j];
      insertSorted(out, j, this.distance(x, id), id);
    }
    out.count = m;
    return out;
  }
}

/**
 * A catalog over `vectors` (not copied: keep `vectors` unchanged). The index is built on first use.
 * `indexSpec` is any index-factory spec; "flat" is exact, "hnsw:..." needs index/factory.node.js imported.
 */
export function makeCatalog(name: string, vectors: Float32Array, dim: number, indexSpec = "flat"): Catalog {
  if (!(dim > 0) || vectors.length === 0 || vectors.length % dim !== 0)
    fail(
      "INVALID_ARGUMENT",
      `catalog ${name}: ${vectors.length} values is not a non-empty n x ${dim} matrix`,
    );
  for (let i = 0; i < vectors.length; i++)
    if (!Number.isFinite(vectors[i]))
      fail("INVALID_ARGUMENT", `catalog ${name}: value ${i} (row ${Math.floor(i / dim)}) is ${vectors[i]}`);
  // Validate the spec now (a bad spec fails before any work), build lazily.
  const canonical = createIndex(indexSpec, dim, "l2").spec;
  return new VectorCatalog(name, vectors, dim, canonical);
}

export const GAUSS_SCHEMA = {
  n: { type: "int", default: 1000, min: 1, description: "number of objects" },
  dim: { type: "int", default: 8, min: 1, description: "dimension" },
  seed: { type: "int", default: 1, description: "random seed" },
  clusters: {
    type: "int",
    default: 0,
    min: 0,
    description: "0: i.i.d. N(0, 1) coordinates; C > 0: a mixture of C Gaussian blobs",
  },
  spread: { type: "number", default: 0.2, min: 0, description: "blob standard deviation (clusters > 0)" },
} satisfies ParamSchema;

/** Vectors of `gauss:n=..,dim=..,seed=..[,clusters=C,spread=S]` (seeded). */
export function gaussVectors(params: string): { vectors: Float32Array; dim: number; canonical: string } {
  const p = parseParams(params, GAUSS_SCHEMA, "catalog gauss");
  const rng = new Rng(p.seed);
  const v = new Float32Array(p.n * p.dim);
  if (p.clusters === 0) for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  else {
    const centers = new Float32Array(p.clusters * p.dim);
    for (let i = 0; i < centers.length; i++) centers[i] = rng.normal();
    for (let i = 0; i < p.n; i++) {
      const c = rng.int(p.clusters);
      for (let j = 0; j < p.dim; j++) v[i * p.dim + j] = centers[c * p.dim + j] + p.spread * rng.normal();
    }
  }
  const canonical = `gauss:n=${p.n},dim=${p.dim},seed=${p.seed}${p.clusters ? `,clusters=${p.clusters},spread=${p.spread}` : ""}`;
  return { vectors: v, dim: p.dim, canonical };
}
