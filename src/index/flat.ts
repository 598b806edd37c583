/**
 * `flat`: the exact index. Vectors live in one contiguous Float32Array (row = slot), with an
 * id <-> slot map; removal moves the last row into the hole (O(1)). Search scans every row:
 * l2 with early-abandoning squared L2 (see kernels.ts for why, and the measurement), ip as
 * negative dot products, cos with norms cached at insertion. Distances are bit-for-bit those of
 * the brute-force reference, and ties go to the smaller id (TopK), so results equal it exactly.
 * Pure TypeScript: runs in browsers and edge runtimes.
 */
import { TopK } from "../core/topk.js";
import { type Metric, norm } from "../core/vectors.js";
import { checkAdd, checkK, checkOptions, checkQueries, checkQuery, checkRemove, SlotMap } from "./common.js";
import { exactDistance, l2sqBounded } from "./kernels.js";
import { decodeIndex, encodeIndex, section } from "./serial.js";
import type { Index, SearchOptions, SearchResult } from "./types.js";

export class FlatIndex implements Index {
  readonly kind = "flat";
  readonly spec = "flat";
  readonly dim: number;
  readonly metric: Metric;
  private readonly slots: SlotMap;
  /** capacity x dim, rows 0..size-1 in use. */
  private data: Float32Array;
  /** Row norms (cos only; kept as doubles so they equal the reference's norms exactly). */
  private norms: Float64Array;

  constructor(dim: number, metric: Metric = "l2", capacity = 16) {
    this.dim = dim;
    this.metric = metric;
    this.slots = new SlotMap(capacity);
    this.data = new Float32Array(this.slots.ids.length * dim);
    this.norms = new Float64Array(metric === "cos" ? this.slots.ids.length : 0);
  }

  get size(): number {
    return this.slots.size;
  }

  get bytes(): number {
    const n = this.slots.size;
    return n * this.dim * 4 + (this.metric === "cos" ? n * 8 : 0) + this.slots.bytes();
  }

  has(id: number): boolean {
    return this.slots.has(id);
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    checkAdd(ids, vectors, this.dim, (id) => this.slots.has(id), "flat");
    const cap = this.slots.growTo(ids.length);
    if (cap > 0) {
      const data = new Float32Array(cap * this.dim);
      data.set(this.data.subarray(0, this.slots.size * this.dim));
      this.data = data;
      if (this.metric === "cos") {
        const norms = new Float64Array(cap);
        norms.set(this.norms.subarray(0, this.slots.size));
        this.norms = norms;
      }
    }
    const dim = this.dim;
    for (let i = 0; i < ids.length; i++) {
      const s = this.slots.push(ids[i]);
      this.data.set(vectors.subarray(i * dim, (i + 1) * dim), s * dim);
      if (this.metric === "cos") this.norms[s] = norm(this.data, dim, s * dim);
    }
  }

  remove(ids: ArrayLike<number>): void {
    checkRemove(ids, (id) => this.slots.has(id), "flat");
    const dim = this.dim;
    for (let i = 0; i < ids.length; i++) {
      const [s, last] = this.slots.swapRemove(ids[i]);
      if (s !== last) {
        this.data.copyWithin(s * dim, last * dim, (last + 1) * dim);
        if (this.metric === "cos") this.norms[s] = this.norms[last];
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
    const { dim, data, metric } = this;
    const ids = this.slots.ids;
    const n = this.slots.size;
    if (metric === "l2") {
      for (let s = 0; s < n; s++) {
        if (filter !== undefined && !filter(ids[s])) continue;
        const bound = heap.worst();
        const d = l2sqBounded(q, 0, data, s * dim, dim, bound);
        // d > bound means abandoned (or simply too far); d === bound may still win on a smaller id.
        if (d <= bound) heap.push(ids[s], d);
      }
    } else {
      const qNorm = metric === "cos" ? norm(q) : 0;
      for (let s = 0; s < n; s++) {
        if (filter !== undefined && !filter(ids[s])) continue;
        heap.push(ids[s], exactDistance(metric, q, qNorm, data, s * dim, this.norms[s], dim));
      }
    }
    return heap.drain();
  }

  /** The stored vector of `id` (a copy), or undefined. */
  vector(id: number): Float32Array | undefined {
    const s = this.slots.slot(id);
    return s === undefined ? undefined : this.data.slice(s * this.dim, (s + 1) * this.dim);
  }

  serialize(): Uint8Array {
    const n = this.size;
    return encodeIndex(
      { kind: this.kind, spec: this.spec, dim: this.dim, metric: this.metric, size: n },
      { ids: this.slots.ids.subarray(0, n), vectors: this.data.subarray(0, n * this.dim) },
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
