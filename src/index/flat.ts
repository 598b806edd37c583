/**
 * `flat`: the exact index. Vectors live in one contiguous row store (row = slot), with an
 * id <-> slot map; removal moves the last row into the hole (O(1)). Search scans every row.
 *
 * Two paths give the same results (tested against each other and a brute-force reference):
 * - "wasm-simd" (where WebAssembly SIMD loads): rows live in WebAssembly memory and the SIMD
 *   kernels (wasm/kernels.wat) compute float32 distances of a block of rows in place, l2 with
 *   early abandoning against the current k-th distance. JS reads the block's distances and, for
 *   the few rows whose float32 distance may reach the top-k (within a proven bound on float32
 *   rounding), recomputes the exact distance with the TypeScript kernel. So distances and
 *   ranking are bit-for-bit those of the reference, and the SIMD pass only decides which rows
 *   cannot matter.
 * - "typescript": the reference kernels (l2 with early-abandoning squared L2; see kernels.ts for
 *   why, and the measurement), ip as negative dot products, cos with norms cached at insertion.
 * Ties go to the smaller id (TopK). Runs in browsers and edge runtimes.
 */
import { TopK } from "../core/topk.js";
import { type Metric, norm } from "../core/vectors.js";
import { checkAdd, checkK, checkOptions, checkQueries, checkQuery, checkRemove, SlotMap } from "./common.js";
import { exactDistance, l2sqBounded } from "./kernels.js";
import { F32Rows } from "./rows.js";
import { decodeIndex, encodeIndex, section } from "./serial.js";
import type { Index, SearchOptions, SearchResult } from "./types.js";
import { KERNEL_BLOCK, type KernelPath } from "./wasm/simd.js";

/**
 * Relative error bound of a float32 SIMD distance over `stride` floats: each of the 16 lanes sums
 * stride/16 rounded terms, then 4 more roundings combine them; (stride/2 + 32) units of 2^-24 is
 * that bound with a margin of over 4x, and it also covers rounding the bound to float32.
 */
export function f32ErrorBound(stride: number): number {
  return (stride / 2 + 32) * 2 ** -24;
}

export class FlatIndex implements Index {
  readonly kind = "flat";
  readonly spec = "flat";
  readonly dim: number;
  readonly metric: Metric;
  private readonly slots: SlotMap;
  private readonly rows: F32Rows;
  /** Row norms (ip and cos; kept as doubles so they equal the reference's norms exactly). */
  private norms: Float64Array;

  constructor(dim: number, metric: Metric = "l2", capacity = 16) {
    this.dim = dim;
    this.metric = metric;
    this.slots = new SlotMap(capacity);
    this.rows = new F32Rows(dim, this.slots.ids.length);
    this.norms = new Float64Array(this.keepsNorms ? this.slots.ids.length : 0);
  }

  /** The scan path this index runs ("wasm-simd" or the "typescript" reference). */
  get kernel(): KernelPath {
    return this.rows.path;
  }

  /** cos needs norms for its distance; ip on the SIMD path for its float32 error bound. */
  private get keepsNorms(): boolean {
    return this.metric === "cos" || (this.metric === "ip" && this.rows.heap !== null);
  }

  get size(): number {
    return this.slots.size;
  }

  get bytes(): number {
    const n = this.slots.size;
    return this.rows.bytes(n) + (this.keepsNorms ? n * 8 : 0) + this.slots.bytes();
  }

  has(id: number): boolean {
    return this.slots.has(id);
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    checkAdd(ids, vectors, this.dim, (id) => this.slots.has(id), "flat");
    const cap = this.slots.growTo(ids.length);
    if (cap > 0) {
      this.rows.grow(cap, this.slots.size);
      if (this.keepsNorms) {
        const norms = new Float64Array(cap);
        norms.set(this.norms.subarray(0, this.slots.size));
        this.norms = norms;
      }
    }
    const dim = this.dim;
    for (let i = 0; i < ids.length; i++) {
      const s = this.slots.push(ids[i]);
      this.rows.set(s, vectors, i * dim);
      if (this.keepsNorms) this.norms[s] = norm(this.rows.data, dim, this.rows.offset(s));
    }
  }

  remove(ids: ArrayLike<number>): void {
    checkRemove(ids, (id) => this.slots.has(id), "flat");
    for (let i = 0; i < ids.length; i++) {
      const [s, last] = this.slots.swapRemove(ids[i]);
      if (s !== last) {
        this.rows.move(s, last);
        if (this.keepsNorms) this.norms[s] = this.norms[last];
      }
    }
  }

  search(query: Float32Array, k: number, options?: SearchOptions): SearchResult {
    checkQuery(query, this.dim, "flat");
    checkK(k, "flat");
    checkOptions(options, [], "flat");
    return this.scan(query, new TopK(Math.min(k, Math.max(1, this.size))), options?.filter);
  }

  searchBatch(queries: Float32Array, k: number, options?: SearchOptions): SearchResult[] {
    const nq = checkQueries(queries, this.dim, "flat");
    checkK(k, "flat");
    checkOptions(options, [], "flat");
    const heap = new TopK(Math.min(k, Math.max(1, this.size)));
    const out: SearchResult[] = new Array(nq);
    for (let i = 0; i < nq; i++)
      out[i] = this.scan(queries.subarray(i * this.dim, (i + 1) * this.dim), heap, options?.filter);
    return out;
  }

  /** Exact scan of every stored row into `heap` (reset first). */
  private scan(q: Float32Array, heap: TopK, filter?: (id: number) => boolean): SearchResult {
    heap.reset();
    if (this.slots.size > 0 && this.rows.heap !== null) this.scanSimd(q, heap, filter);
    else this.scanTs(q, heap, filter);
    return heap.drain();
  }

  /** The reference path. */
  private scanTs(q: Float32Array, heap: TopK, filter?: (id: number) => boolean): void {
    const { dim, metric } = this;
    const { data, base, stride } = this.rows;
    const ids = this.slots.ids;
    const n = this.slots.size;
    if (metric === "l2") {
      for (let s = 0; s < n; s++) {
        if (filter !== undefined && !filter(ids[s])) continue;
        const bound = heap.worst();
        const d = l2sqBounded(q, 0, data, base + s * stride, dim, bound);
        // d > bound means abandoned (or simply too far); d === bound may still win on a smaller id.
        if (d <= bound) heap.push(ids[s], d);
      }
    } else {
      const qNorm = metric === "cos" ? norm(q) : 0;
      for (let s = 0; s < n; s++) {
        if (filter !== undefined && !filter(ids[s])) continue;
        heap.push(ids[s], exactDistance(metric, q, qNorm, data, base + s * stride, this.norms[s], dim));
      }
    }
  }

  /**
   * The SIMD path: float32 distances of each block of rows from the kernels; the exact distance
   * (TypeScript) only for rows whose float32 distance is within the error bound of the current
   * k-th distance. A row skipped this way has an exact distance strictly above the k-th.
   */
  private scanSimd(q: Float32Array, heap: TopK, filter?: (id: number) => boolean): void {
    const { dim, metric, rows } = this;
    const ids = this.slots.ids;
    const n = this.slots.size;
    const eps = f32ErrorBound(rows.stride);
    const slack = 1 + 2 * eps;
    rows.setQuery(q);
    const { data, base, stride } = rows;
    const out = rows.heap!.f32;
    const outAt = rows.outAt >> 2;
    const norms = this.norms;
    const qNorm = metric === "l2" ? 0 : norm(q);
    for (let first = 0; first < n; first += KERNEL_BLOCK) {
      const count = Math.min(KERNEL_BLOCK, n - first);
      if (metric === "l2") {
        rows.l2Block(first, count, heap.worst() * slack);
        let bound = Math.fround(heap.worst() * slack);
        for (let r = 0; r < count; r++) {
          if (out[outAt + r] > bound) continue;
          const s = first + r;
          if (filter !== undefined && !filter(ids[s])) continue;
          heap.push(ids[s], l2sqBounded(q, 0, data, base + s * stride, dim, heap.worst()));
          bound = Math.fround(heap.worst() * slack);
        }
      } else {
        rows.dotBlock(first, count);
        const cos = metric === "cos";
        for (let r = 0; r < count; r++) {
          const s = first + r;
          const rn = norms[s];
          // |float32 dot - exact dot| <= eps * |q| |x|, so the distance is off by at most that
          // (ip) or eps (cos, after dividing by the norms).
          let lower: number;
          if (cos) lower = qNorm * rn === 0 ? 1 : 1 - out[outAt + r] / (qNorm * rn) - 2 * eps;
          else lower = -out[outAt + r] - 2 * eps * qNorm * rn;
          if (lower > heap.worst()) continue;
          if (filter !== undefined && !filter(ids[s])) continue;
          heap.push(ids[s], exactDistance(metric, q, qNorm, data, base + s * stride, rn, dim));
        }
      }
    }
  }

  /** The stored vector of `id` (a copy), or undefined. */
  vector(id: number): Float32Array | undefined {
    const s = this.slots.slot(id);
    return s === undefined ? undefined : this.rows.row(s);
  }

  serialize(): Uint8Array {
    const n = this.size;
    return encodeIndex(
      { kind: this.kind, spec: this.spec, dim: this.dim, metric: this.metric, size: n },
      { ids: this.slots.ids.subarray(0, n), vectors: this.rows.packed(n) },
    );
  }

  static fromSnapshot(bytes: Uint8Array): FlatIndex {
    const { header, sections } = decodeIndex(bytes);
    const index = new FlatIndex(header.dim, header.metric, header.size);
    const ids = section(sections, "ids", Float64Array, header.size);
    index.add(ids, section(sections, "vectors", Float32Array, header.size * header.dim));
    return index;
  }
}
