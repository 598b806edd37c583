/**
 * Vector kernels on Float32Array. These are the inner loops of every index and model, so they
 * are written for the JIT: monomorphic typed arrays, 4-way unrolled accumulation, no allocation.
 */
import { fail } from "./errors.js";

export type Metric = "l2" | "ip" | "cos";
export const METRICS: readonly Metric[] = ["l2", "ip", "cos"];

/** Squared Euclidean distance between a[ao..ao+dim) and b[bo..bo+dim). */
export function l2sq(a: Float32Array, b: Float32Array, dim = a.length, ao = 0, bo = 0): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  const end4 = dim - (dim & 3);
  for (; i < end4; i += 4) {
    const d0 = a[ao + i] - b[bo + i];
    const d1 = a[ao + i + 1] - b[bo + i + 1];
    const d2 = a[ao + i + 2] - b[bo + i + 2];
    const d3 = a[ao + i + 3] - b[bo + i + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; i < dim; i++) {
    const d = a[ao + i] - b[bo + i];
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

/** Inner product of a[ao..ao+dim) and b[bo..bo+dim). */
export function dot(a: Float32Array, b: Float32Array, dim = a.length, ao = 0, bo = 0): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  const end4 = dim - (dim & 3);
  for (; i < end4; i += 4) {
    s0 += a[ao + i] * b[bo + i];
    s1 += a[ao + i + 1] * b[bo + i + 1];
    s2 += a[ao + i + 2] * b[bo + i + 2];
    s3 += a[ao + i + 3] * b[bo + i + 3];
  }
  for (; i < dim; i++) s0 += a[ao + i] * b[bo + i];
  return s0 + s1 + s2 + s3;
}

/** Euclidean norm of a[ao..ao+dim). */
export function norm(a: Float32Array, dim = a.length, ao = 0): number {
  return Math.sqrt(dot(a, a, dim, ao, ao));
}

/**
 * Cosine distance 1 - cos(a, b) given precomputed norms (a zero vector is at distance 1 from
 * everything, so it never wins a search by accident).
 */
export function cosineDistance(
  a: Float32Array,
  b: Float32Array,
  normA: number,
  normB: number,
  dim = a.length,
  ao = 0,
  bo = 0,
): number {
  const den = normA * normB;
  if (den === 0) return 1;
  return 1 - dot(a, b, dim, ao, bo) / den;
}

/** Norms of each row of a row-major n x dim matrix. */
export function rowNorms(
  data: Float32Array,
  dim: number,
  out = new Float32Array(data.length / dim),
): Float32Array {
  const n = data.length / dim;
  for (let i = 0; i < n; i++) out[i] = norm(data, dim, i * dim);
  return out;
}

/** Throws DIMENSION_MISMATCH / INVALID_ARGUMENT unless v has length dim and only finite values. */
export function checkVector(v: ArrayLike<number>, dim: number, what = "vector"): void {
  if (v.length !== dim) fail("DIMENSION_MISMATCH", `${what}: expected ${dim} values, got ${v.length}`);
  for (let i = 0; i < dim; i++) {
    const x = v[i];
    if (!Number.isFinite(x))
      fail("INVALID_ARGUMENT", `${what}: value ${i} is ${x}; expected a finite number`);
  }
}

/** Throws unless data is a whole number of rows of length dim with only finite values. */
export function checkMatrix(data: ArrayLike<number>, dim: number, what = "vectors"): number {
  if (!(dim > 0)) fail("INVALID_ARGUMENT", `${what}: dimension must be positive, got ${dim}`);
  if (data.length % dim !== 0)
    fail(
      "DIMENSION_MISMATCH",
      `${what}: ${data.length} values is not a whole number of rows of dimension ${dim}`,
    );
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!Number.isFinite(x))
      fail(
        "INVALID_ARGUMENT",
        `${what}: row ${Math.floor(i / dim)} column ${i % dim} is ${x}; expected a finite number`,
      );
  }
  return data.length / dim;
}

export function parseMetric(s: string): Metric {
  if ((METRICS as readonly string[]).includes(s)) return s as Metric;
  return fail("UNKNOWN_NAME", `unknown metric "${s}"; expected one of ${METRICS.join(", ")}`);
}
