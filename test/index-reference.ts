/** Test helpers for the index tests: a brute-force reference and seeded data. */
import type { Rng } from "../src/core/rng.js";
import { cosineDistance, dot, l2sq, type Metric, norm } from "../src/core/vectors.js";
import type { SearchResult } from "../src/index/types.js";

/** A stored set: id -> vector, kept in insertion order. */
export type Store = Map<number, Float32Array>;

/** The exact k nearest neighbours by sorting every distance (ties by smaller id). */
export function bruteForce(
  store: Store,
  q: Float32Array,
  k: number,
  metric: Metric,
  filter?: (id: number) => boolean,
): SearchResult {
  const all: Array<[number, number]> = [];
  const qn = norm(q);
  for (const [id, x] of store) {
    if (filter && !filter(id)) continue;
    const d = metric === "l2" ? l2sq(q, x) : metric === "ip" ? -dot(q, x) : cosineDistance(q, x, qn, norm(x));
    all.push([id, d]);
  }
  all.sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  const top = all.slice(0, k);
  return { ids: top.map((t) => t[0]), distances: top.map((t) => t[1]) };
}

/** n x dim Gaussian rows, or integer rows in [0, 255] when `grid`. */
export function randomRows(rng: Rng, n: number, dim: number, grid = false): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = grid ? rng.int(256) : rng.normal();
  return out;
}

export function rowsOf(data: Float32Array, dim: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < data.length / dim; i++) out.push(data.slice(i * dim, (i + 1) * dim));
  return out;
}

/** Fraction of the reference ids found (recall@k over several queries). */
export function recall(got: SearchResult[], want: SearchResult[]): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < want.length; i++) {
    const g = new Set(got[i].ids);
    for (const id of want[i].ids) if (g.has(id)) hit++;
    total += want[i].ids.length;
  }
  return total === 0 ? 1 : hit / total;
}
