/**
 * The integral cache of a similarity-caching policy: at most `capacity` catalog objects, with
 * their vectors copied into one contiguous block so a scan over them stays in cache lines.
 * Every policy changes its stored set only through `add` / `remove`, so the shared loop can serve
 * from it and `checkConsistency` can verify it at the end of a run.
 *
 * Nearest-stored lookups are bounded by a distance beyond which no stored copy can be served
 * (cost model's `maxDistanceBelow`). They first walk the request's catalog neighbour list, which
 * the loop computed once for all policies: stored objects are catalog objects, so the stored
 * members of that list ARE the nearest stored objects up to the list's last distance (exactly so
 * when the catalog index is exact). Only when the list ends before the bound with too few stored
 * objects found does it fall back to an early-abandoning scan over the h stored vectors.
 */
import { fail } from "../core/errors.js";
import { l2sq } from "../core/vectors.js";
import { l2sqBounded } from "../index/kernels.js";
import { type PruningBasis, pruningBasisFor, pruningRow, toPruningSpace } from "./pruning.js";
import type { Catalog, Neighbours } from "./types.js";

export function makeNeighbours(capacity: number): Neighbours {
  return { count: 0, ids: new Int32Array(capacity), dists: new Float64Array(capacity) };
}

/**
 * Writes (d, id) into slot i of a list sorted by distance, ties by smaller id, after shifting
 * down the entries before i that sort after it (insertion sort's inner loop; slot i is free).
 */
export function insertSorted(out: Neighbours, i: number, d: number, id: number): void {
  while (i > 0 && (out.dists[i - 1] > d || (out.dists[i - 1] === d && out.ids[i - 1] > id))) {
    out.dists[i] = out.dists[i - 1];
    out.ids[i] = out.ids[i - 1];
    i--;
  }
  out.dists[i] = d;
  out.ids[i] = id;
}

export class StoredSet {
  readonly catalog: Catalog;
  readonly capacity: number;
  readonly dim: number;
  /** catalog id -> slot, -1 when not stored. */
  private readonly slotOf: Int32Array;
  /** slot -> catalog id, slots 0..size-1 in use. */
  private readonly idOf: Int32Array;
  /** capacity x dim copies of the stored vectors. */
  private readonly data: Float32Array;
  private count = 0;
  /** Number of fallback scans (for speed reports). */
  scans = 0;
  /** Exact pruning in high dimension: projected copies (capacity x p) and scratch space. */
  private readonly proj: PruningBasis | null;
  private readonly projData: Float64Array;
  private readonly qProj: Float64Array;

  constructor(catalog: Catalog, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      fail("INVALID_ARGUMENT", `cache capacity must be a positive integer, got ${capacity}`);
    if (capacity > catalog.n)
      fail("INVALID_ARGUMENT", `cache capacity ${capacity} exceeds the catalog size ${catalog.n}`);
    this.catalog = catalog;
    this.capacity = capacity;
    this.dim = catalog.dim;
    this.slotOf = new Int32Array(catalog.n).fill(-1);
    this.idOf = new Int32Array(capacity);
    this.data = new Float32Array(capacity * catalog.dim);
    this.proj = capacity > 8 ? pruningBasisFor(catalog) : null;
    const p = this.proj?.p ?? 0;
    this.projData = new Float64Array(capacity * p);
    this.qProj = new Float64Array(p);
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  has(id: number): boolean {
    return this.slotOf[id] >= 0;
  }

  /** Stored ids in slot order (a view, valid until the next add/remove). */
  ids(): Int32Array {
    return this.idOf.subarray(0, this.count);
  }

  add(id: number): void {
    if (!(id >= 0 && id < this.catalog.n && Number.isInteger(id)))
      fail("UNKNOWN_ID", `stored set: id ${id} is not a catalog object (0..${this.catalog.n - 1})`);
    if (this.slotOf[id] >= 0) fail("DUPLICATE_ID", `stored set: object ${id} is stored already`);
    if (this.count >= this.capacity)
      fail("CAPACITY", `stored set: cannot add ${id}, the cache holds its capacity of ${this.capacity}`);
    const s = this.count++;
    this.slotOf[id] = s;
    this.idOf[s] = id;
    this.data.set(this.catalog.row(id), s * this.dim);
    if (this.proj) this.projData.set(pruningRow(this.proj, this.catalog, id), s * this.proj.p);
  }

  remove(id: number): void {
    const s = id >= 0 && id < this.catalog.n ? this.slotOf[id] : -1;
    if (s < 0) fail("UNKNOWN_ID", `stored set: object ${id} is not stored`);
    const last = --this.count;
    if (s !== last) {
      const moved = this.idOf[last];
      this.idOf[s] = moved;
      this.slotOf[moved] = s;
      this.data.copyWithin(s * this.dim, last * this.dim, (last + 1) * this.dim);
      const p = this.proj?.p ?? 0;
      if (p) this.projData.copyWithin(s * p, last * p, (last + 1) * p);
    }
    this.slotOf[id] = -1;
  }

  /** Removes everything. */
  clear(): void {
    for (let s = 0; s < this.count; s++) this.slotOf[this.idOf[s]] = -1;
    this.count = 0;
  }

  /**
   * The up-to-k nearest stored objects of x within distance `maxDist` (inclusive), closest first,
   * ties by smaller id, written into `out`. `hint` is x's catalog neighbour list (closest first);
   * `row` the catalog row x equals, if known (-1 otherwise), which saves projecting x.
   */
  nearest(
    x: Float32Array,
    k: number,
    maxDist: number,
    hint: Neighbours,
    out: Neighbours,
    row = -1,
  ): Neighbours {
    out.count = 0;
    if (k <= 0 || this.count === 0 || maxDist < 0) return out;
    const kk = Math.min(k, out.ids.length);
    for (let j = 0; j < hint.count; j++) {
      const d = hint.dists[j];
      if (d > maxDist) return out;
      const id = hint.ids[j];
      if (this.slotOf[id] >= 0) {
        out.ids[out.count] = id;
        out.dists[out.count] = d;
        if (++out.count === kk) return out;
      }
    }
    // The list ended inside the radius with too few stored objects: a stored object outside the
    // list is farther than the list's last entry but may still be within maxDist. Scan them all.
    if (hint.count >= this.catalog.n || out.count === this.count) return out;
    this.scans++;
    return this.proj ? this.scanProjected(x, kk, maxDist, out, row) : this.scan(x, kk, maxDist, out);
  }

  /** Exact bounded top-k scan over the stored vectors (the reference for `nearest`). */
  scan(x: Float32Array, k: number, maxDist: number, out: Neighbours): Neighbours {
    out.count = 0;
    const maxSq = maxDist === Number.POSITIVE_INFINITY ? maxDist : maxDist * maxDist;
    for (let s = 0; s < this.count; s++) this.consider(x, s, k, maxDist, maxSq, out);
    return out;
  }

  /**
   * The same result as {@link scan}, pruned by projected lower bounds: a slot's full distance is
   * computed only when its bound does not exceed the current k-th distance (or the radius).
   */
  scanProjected(x: Float32Array, k: number, maxDist: number, out: Neighbours, row = -1): Neighbours {
    const pr = this.proj as PruningBasis;
    const p = pr.p;
    out.count = 0;
    const maxSq = maxDist === Number.POSITIVE_INFINITY ? maxDist : maxDist * maxDist;
    const q = row >= 0 ? pruningRow(pr, this.catalog, row) : toPruningSpace(pr, x, this.qProj);
    const pd = this.projData;
    const n = this.count;
    // one pass: a bounded lower bound per slot (abandoned once it exceeds the current k-th
    // distance), the full distance only where the bound does not rule the slot out
    let bound = maxSq;
    for (let s = 0; s < n; s++) {
      let acc = 0;
      const o = s * p;
      const lim = bound / (1 - 1e-4);
      for (let j = 0; j < p; j++) {
        const d = q[j] - pd[o + j];
        acc += d * d;
        if (acc > lim) break;
      }
      // shave a relative 1e-4 so rounding (float32 basis) never prunes a true candidate
      if (acc * (1 - 1e-4) > bound) continue;
      this.consider(x, s, k, maxDist, maxSq, out);
      if (out.count === k) bound = Math.min(maxSq, out.dists[k - 1] ** 2);
    }
    return out;
  }

  /** Inserts slot s into the sorted top-k `out` if it belongs there. */
  private consider(
    x: Float32Array,
    s: number,
    k: number,
    maxDist: number,
    maxSq: number,
    out: Neighbours,
  ): void {
    const dim = this.dim;
    const bound = out.count < k ? maxSq : Math.min(maxSq, out.dists[k - 1] ** 2);
    const sq = l2sqBounded(x, 0, this.data, s * dim, dim, bound);
    if (sq > bound) return;
    // Recompute with the reference kernel so distances equal Catalog.distance bit for bit.
    const d = Math.sqrt(l2sq(x, this.data, dim, 0, s * dim));
    if (d > maxDist) return;
    const id = this.idOf[s];
    let i: number;
    if (out.count < k) i = out.count++;
    else {
      i = k - 1;
      if (d > out.dists[i] || (d === out.dists[i] && id > out.ids[i])) return;
    }
    insertSorted(out, i, d, id);
  }

  /** Throws STATE unless the id maps, the count and the vector copies agree with the catalog. */
  checkConsistency(owner: string): void {
    if (this.count > this.capacity)
      fail("STATE", `${owner}: stores ${this.count} objects, capacity ${this.capacity}`);
    let mapped = 0;
    for (let id = 0; id < this.slotOf.length; id++) {
      const s = this.slotOf[id];
      if (s < 0) continue;
      mapped++;
      if (s >= this.count || this.idOf[s] !== id)
        fail("STATE", `${owner}: object ${id} maps to slot ${s}, which holds ${this.idOf[s]}`);
    }
    if (mapped !== this.count)
      fail("STATE", `${owner}: ${mapped} objects mapped but ${this.count} slots in use`);
    const row = this.catalog.vectors;
    for (let s = 0; s < this.count; s++) {
      const off = this.idOf[s] * this.dim;
      for (let j = 0; j < this.dim; j++)
        if (this.data[s * this.dim + j] !== row[off + j])
          fail("STATE", `${owner}: stored copy of object ${this.idOf[s]} differs from the catalog`);
    }
  }
}
