/**
 * Scan kernels for the exact indexes. `l2sqBounded` is the flat index's l2 inner loop: it is
 * `l2sq` with early abandoning. Once a query's top-k is full, most rows exceed the current k-th
 * distance long before the last dimension, so the partial sum is compared with that bound every
 * ABANDON_BLOCK dimensions. Partial sums of squares only grow, so abandoning is exact, and the
 * accumulation order is the one of core `l2sq`, so a row that is not abandoned gets bit-for-bit
 * the distance the brute-force reference computes (hence identical ranking, ties included).
 * On Fashion-MNIST (60000 x 784) this measured faster than both a plain l2sq scan and the
 * ||q||^2 + ||x||^2 - 2 q.x expansion with cached norms: see docs/benchmarks/index.md, section
 * "l2 kernel choice" (scripts/bench-index.ts).
 */
import { cosineDistance, dot, l2sq, type Metric } from "../core/vectors.js";

export const ABANDON_BLOCK = 128;

/** Squared L2 of a[ao..) and b[bo..), or any value > bound as soon as the partial sum exceeds it. */
export function l2sqBounded(
  a: Float32Array,
  ao: number,
  b: Float32Array,
  bo: number,
  dim: number,
  bound: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = dim - (dim & 3);
  let i = 0;
  while (i < end4) {
    const stop = Math.min(end4, i + ABANDON_BLOCK);
    for (; i < stop; i += 4) {
      const d0 = a[ao + i] - b[bo + i];
      const d1 = a[ao + i + 1] - b[bo + i + 1];
      const d2 = a[ao + i + 2] - b[bo + i + 2];
      const d3 = a[ao + i + 3] - b[bo + i + 3];
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    const partial = s0 + s1 + s2 + s3;
    if (partial > bound) return partial;
  }
  for (; i < dim; i++) {
    const d = a[ao + i] - b[bo + i];
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

/** Squared L2 between int8 codes, with the same early abandoning (exact integer arithmetic). */
export function l2sqInt8Bounded(q: Int8Array, x: Int8Array, xo: number, dim: number, bound: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const end4 = dim - (dim & 3);
  let i = 0;
  while (i < end4) {
    const stop = Math.min(end4, i + ABANDON_BLOCK);
    for (; i < stop; i += 4) {
      const d0 = q[i] - x[xo + i];
      const d1 = q[i + 1] - x[xo + i + 1];
      const d2 = q[i + 2] - x[xo + i + 2];
      const d3 = q[i + 3] - x[xo + i + 3];
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    if (s0 + s1 + s2 + s3 > bound) return s0 + s1 + s2 + s3;
  }
  for (; i < dim; i++) {
    const d = q[i] - x[xo + i];
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3;
}

/** Inner product of int8 codes (exact integer arithmetic). */
export function dotInt8(q: Int8Array, x: Int8Array, xo: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  const end2 = dim - (dim & 1);
  for (; i < end2; i += 2) {
    s0 += q[i] * x[xo + i];
    s1 += q[i + 1] * x[xo + i + 1];
  }
  if (i < dim) s0 += q[i] * x[xo + i];
  return s0 + s1;
}

/**
 * The exact distance of the Index contract between a query and a stored row, as the brute-force
 * reference computes it: squared L2, negative inner product, or 1 - cosine with cached norms.
 */
export function exactDistance(
  metric: Metric,
  q: Float32Array,
  qNorm: number,
  data: Float32Array,
  offset: number,
  rowNorm: number,
  dim: number,
): number {
  if (metric === "l2") return l2sq(q, data, dim, 0, offset);
  if (metric === "ip") return -dot(q, data, dim, 0, offset);
  return cosineDistance(q, data, qNorm, rowNorm, dim, 0, offset);
}
