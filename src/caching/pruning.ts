/**
 * Exact pruning for nearest-stored scans in high dimension. For an orthonormal P (p x dim),
 * |P x - P y| <= |x - y|, so the squared distance between p-dimensional projections is a lower
 * bound of the true one: a scan computes the cheap bound for every stored object and the full
 * distance only for those the bound cannot rule out. Results are exactly those of a full scan.
 * P spans the top principal directions of a seeded sample of the catalog (orthogonal iteration),
 * so the bound is tight on real data (most variance lies in a few directions).
 */
import { Rng } from "../core/rng.js";
import type { Catalog } from "./types.js";

export interface PruningBasis {
  /** Output dimension p. */
  p: number;
  dim: number;
  /** p x dim row-major, orthonormal rows. */
  basis: Float32Array;
  /** Lazily filled projections of catalog rows (n x p) and which are filled. */
  rows?: Float64Array;
  filled?: Uint8Array;
}

/** P (catalog row r), computed once per row and shared by every stored set over the catalog. */
export function pruningRow(pr: PruningBasis, catalog: Catalog, r: number): Float64Array {
  if (!pr.rows || !pr.filled) {
    pr.rows = new Float64Array(catalog.n * pr.p);
    pr.filled = new Uint8Array(catalog.n);
  }
  const out = pr.rows.subarray(r * pr.p, (r + 1) * pr.p);
  if (!pr.filled[r]) {
    toPruningSpace(pr, catalog.vectors, out, r * catalog.dim);
    pr.filled[r] = 1;
  }
  return out;
}

const cache = new WeakMap<Catalog, PruningBasis | null>();

/** The projection shared by every stored set over `catalog`, or null when dim is small enough to scan directly. */
export function pruningBasisFor(catalog: Catalog): PruningBasis | null {
  let p = cache.get(catalog);
  if (p === undefined) {
    p = catalog.dim > 48 ? principalBasis(catalog, 32, 1000, 6, 7) : null;
    cache.set(catalog, p);
  }
  return p;
}

/** Writes P x into out (length p). */
export function toPruningSpace<T extends Float32Array | Float64Array>(
  pr: PruningBasis,
  x: Float32Array,
  out: T,
  xo = 0,
): T {
  const { p, dim, basis } = pr;
  for (let i = 0; i < p; i++) {
    let s = 0;
    const bo = i * dim;
    for (let j = 0; j < dim; j++) s += basis[bo + j] * x[xo + j];
    out[i] = s;
  }
  return out;
}

/** Top-p principal directions of a sample of m rows by `iters` rounds of orthogonal iteration. */
export function principalBasis(
  catalog: Catalog,
  p: number,
  m: number,
  iters: number,
  seed: number,
): PruningBasis {
  const { dim } = catalog;
  const pp = Math.min(p, dim);
  const rng = new Rng(seed);
  const rows = rng.sample(catalog.n, Math.min(m, catalog.n));
  const mm = rows.length;
  // centred sample, mm x dim
  const mean = new Float64Array(dim);
  for (const r of rows) for (let j = 0; j < dim; j++) mean[j] += catalog.vectors[r * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= mm;
  const X = new Float64Array(mm * dim);
  rows.forEach((r, i) => {
    for (let j = 0; j < dim; j++) X[i * dim + j] = catalog.vectors[r * dim + j] - mean[j];
  });
  let Q = new Float64Array(pp * dim);
  for (let i = 0; i < Q.length; i++) Q[i] = rng.normal();
  orthonormalize(Q, pp, dim);
  const Y = new Float64Array(mm * pp);
  for (let it = 0; it < iters; it++) {
    // Y = X Q^T (mm x pp); Q' = Y^T X (pp x dim)
    for (let i = 0; i < mm; i++)
      for (let a = 0; a < pp; a++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += X[i * dim + j] * Q[a * dim + j];
        Y[i * pp + a] = s;
      }
    const Qn = new Float64Array(pp * dim);
    for (let i = 0; i < mm; i++)
      for (let a = 0; a < pp; a++) {
        const y = Y[i * pp + a];
        if (y === 0) continue;
        for (let j = 0; j < dim; j++) Qn[a * dim + j] += y * X[i * dim + j];
      }
    orthonormalize(Qn, pp, dim);
    Q = Qn;
  }
  return { p: pp, dim, basis: Float32Array.from(Q) };
}

/** Modified Gram-Schmidt on the rows of Q (p x dim); a degenerate row is replaced by a unit vector. */
function orthonormalize(Q: Float64Array, p: number, dim: number): void {
  let fresh = 0;
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < a; b++) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += Q[a * dim + j] * Q[b * dim + j];
      for (let j = 0; j < dim; j++) Q[a * dim + j] -= d * Q[b * dim + j];
    }
    let n = 0;
    for (let j = 0; j < dim; j++) n += Q[a * dim + j] ** 2;
    n = Math.sqrt(n);
    if (n < 1e-9) {
      Q.fill(0, a * dim, (a + 1) * dim);
      Q[a * dim + (fresh++ % dim)] = 1;
      a--; // re-orthogonalize the replacement
      continue;
    }
    for (let j = 0; j < dim; j++) Q[a * dim + j] /= n;
  }
}
