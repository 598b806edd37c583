/**
 * `flat-i8`: an exact scan over int8 scalar-quantized vectors (4x less memory than `flat`), with
 * optional re-ranking of the best `rerank` int8 candidates by exact f32 distances.
 *
 * Quantization is global affine: one (lo, scale) pair for all dimensions, x ~ lo + scale*(c+128)
 * with c in [-128, 127]. Why global rather than per-dimension:
 * - distances between codes are then one scalar times an integer distance (sum (cq-cx)^2 or
 *   sum cq*cx plus cached per-row sums), so the scan is exact integer arithmetic with no
 *   per-dimension weights, and ranking in code space is exact (ties by smaller id);
 * - for 8-bit data such as MNIST pixels, with lo/hi learned as 0/1 the codes reproduce the
 *   pixels exactly, so int8 ranking is already the f32 ranking; per-dimension ranges would
 *   instead spend all 256 levels on near-constant border pixels and break that;
 * - re-ranking recovers exactness where the global range is coarse.
 * The range is fixed by the spec (lo, hi) or learned from the first non-empty add(); later
 * values outside it saturate (re-ranking repairs their order). For "cos", vectors are
 * normalized before quantization and the int8 distance approximates 1 - cos.
 * f32 copies are kept only when rerank > 0.
 *
 * The code scan has two paths with identical results (integer arithmetic is exact either way):
 * "wasm-simd", where the codes live in WebAssembly memory and the SIMD kernels (wasm/kernels.wat)
 * compute integer distances of a block of rows in place (l2 abandoning rows past the current
 * k-th), and the "typescript" reference (kernels.ts).
 */
import { fail } from "../core/errors.js";
import { TopK } from "../core/topk.js";
import { type Metric, norm } from "../core/vectors.js";
import { checkAdd, checkK, checkOptions, checkQueries, checkQuery, checkRemove, SlotMap } from "./common.js";
import { dotInt8, exactDistance, l2sqInt8Bounded } from "./kernels.js";
import { I8Rows } from "./rows.js";
import { decodeIndex, encodeIndex, section } from "./serial.js";
import type { Index, SearchOptions, SearchResult } from "./types.js";
import { KERNEL_BLOCK, type KernelPath } from "./wasm/simd.js";

export interface FlatI8Params {
  /** Candidates re-ranked with exact f32 distances (0 = none, and no f32 copies are kept). */
  rerank: number;
  /** Quantization range; learned from the first add() when undefined. */
  lo?: number;
  hi?: number;
}

export class FlatI8Index implements Index {
  readonly kind = "flat-i8";
  readonly dim: number;
  readonly metric: Metric;
  readonly rerank: number;
  private lo: number | undefined;
  private scale = 1;
  private readonly slots: SlotMap;
  private readonly codes: I8Rows;
  /** Per-row sum of codes (ip/cos need it for the affine offset terms). */
  private codeSums: Float64Array;
  /** f32 copies (only when rerank > 0) and their norms (cos). */
  private data: Float32Array;
  private norms: Float64Array;

  constructor(dim: number, metric: Metric = "l2", params: FlatI8Params = { rerank: 0 }, capacity = 16) {
    this.dim = dim;
    this.metric = metric;
    this.rerank = params.rerank;
    if (params.lo !== undefined || params.hi !== undefined) {
      if (params.lo === undefined || params.hi === undefined || !(params.hi > params.lo))
        fail(
          "INVALID_ARGUMENT",
          `flat-i8: expected both lo and hi with lo < hi, got lo=${params.lo} hi=${params.hi}`,
        );
      this.setRange(params.lo, params.hi);
    }
    this.slots = new SlotMap(capacity);
    const cap = this.slots.ids.length;
    this.codes = new I8Rows(dim, cap);
    this.codeSums = new Float64Array(cap);
    this.data = new Float32Array(this.rerank > 0 ? cap * dim : 0);
    this.norms = new Float64Array(this.rerank > 0 && metric === "cos" ? cap : 0);
  }

  get spec(): string {
    const range = this.lo === undefined ? "" : `,lo=${this.lo},hi=${this.lo + 255 * this.scale}`;
    return `flat-i8:rerank=${this.rerank}${range}`;
  }

  /** The code-scan path this index runs ("wasm-simd" or the "typescript" reference). */
  get kernel(): KernelPath {
    return this.codes.path;
  }

  get size(): number {
    return this.slots.size;
  }

  get bytes(): number {
    const n = this.slots.size;
    const f32 = this.rerank > 0 ? n * this.dim * 4 + (this.metric === "cos" ? n * 8 : 0) : 0;
    return this.codes.bytes(n) + n * 8 + f32 + this.slots.bytes();
  }

  has(id: number): boolean {
    return this.slots.has(id);
  }

  private setRange(lo: number, hi: number): void {
    this.lo = lo;
    this.scale = hi > lo ? (hi - lo) / 255 : 1;
  }

  /** Writes the int8 code of v (normalized first for cos) into out[oo..). */
  private quantize(v: Float32Array, vo: number, out: Int8Array, oo: number): number {
    const { dim, scale } = this;
    const lo = this.lo ?? 0;
    const inv = this.metric === "cos" ? norm(v, dim, vo) : 1;
    const f = inv > 0 ? 1 / inv : 0;
    let sum = 0;
    for (let j = 0; j < dim; j++) {
      let u = Math.round((v[vo + j] * f - lo) / scale);
      if (u < 0) u = 0;
      else if (u > 255) u = 255;
      out[oo + j] = u - 128;
      sum += u - 128;
    }
    return sum;
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    checkAdd(ids, vectors, this.dim, (id) => this.slots.has(id), "flat-i8");
    if (ids.length === 0) return;
    const dim = this.dim;
    if (this.lo === undefined) this.learnRange(vectors);
    const cap = this.slots.growTo(ids.length);
    if (cap > 0) {
      const n = this.slots.size;
      const grow = <T extends Float32Array | Float64Array>(a: T, make: (m: number) => T, w: number) => {
        if (a.length === 0) return a;
        const b = make(cap * w);
        b.set(a.subarray(0, n * w));
        return b;
      };
      this.codes.grow(cap, n);
      this.codeSums = grow(this.codeSums, (m) => new Float64Array(m), 1);
      this.data = grow(this.data, (m) => new Float32Array(m), dim);
      this.norms = grow(this.norms, (m) => new Float64Array(m), 1);
    }
    for (let i = 0; i < ids.length; i++) {
      const s = this.slots.push(ids[i]);
      this.codeSums[s] = this.quantize(vectors, i * dim, this.codes.codes, this.codes.offset(s));
      if (this.rerank > 0) {
        this.data.set(vectors.subarray(i * dim, (i + 1) * dim), s * dim);
        if (this.metric === "cos") this.norms[s] = norm(this.data, dim, s * dim);
      }
    }
  }

  private learnRange(vectors: Float32Array): void {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    const dim = this.dim;
    for (let r = 0; r < vectors.length / dim; r++) {
      const f = this.metric === "cos" ? norm(vectors, dim, r * dim) : 1;
      const inv = f > 0 ? 1 / f : 0;
      for (let j = r * dim; j < (r + 1) * dim; j++) {
        const x = vectors[j] * inv;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    this.setRange(lo, hi);
  }

  remove(ids: ArrayLike<number>): void {
    checkRemove(ids, (id) => this.slots.has(id), "flat-i8");
    const dim = this.dim;
    for (let i = 0; i < ids.length; i++) {
      const [s, last] = this.slots.swapRemove(ids[i]);
      if (s === last) continue;
      this.codes.move(s, last);
      this.codeSums[s] = this.codeSums[last];
      if (this.rerank > 0) {
        this.data.copyWithin(s * dim, last * dim, (last + 1) * dim);
        if (this.metric === "cos") this.norms[s] = this.norms[last];
      }
    }
  }

  search(query: Float32Array, k: number, options?: SearchOptions): SearchResult {
    checkQuery(query, this.dim, "flat-i8");
    checkK(k, "flat-i8");
    this.checkSearchOptions(options);
    return this.searchOne(query, k, options);
  }

  searchBatch(queries: Float32Array, k: number, options?: SearchOptions): SearchResult[] {
    const nq = checkQueries(queries, this.dim, "flat-i8");
    checkK(k, "flat-i8");
    this.checkSearchOptions(options);
    const out: SearchResult[] = new Array(nq);
    for (let i = 0; i < nq; i++)
      out[i] = this.searchOne(queries.subarray(i * this.dim, (i + 1) * this.dim), k, options);
    return out;
  }

  private checkSearchOptions(options?: SearchOptions): void {
    checkOptions(options, ["rerank"], "flat-i8");
    if (options?.rerank !== undefined && options.rerank > 0 && this.rerank === 0)
      fail(
        "UNSUPPORTED",
        `flat-i8.search: rerank=${options.rerank} needs f32 copies, but this index was built with rerank=0; build it as "flat-i8:rerank=N"`,
      );
  }

  private searchOne(q: Float32Array, k: number, options?: SearchOptions): SearchResult {
    const n = this.size;
    if (n === 0) return { ids: [], distances: [] };
    const rerank = options?.rerank ?? this.rerank;
    const candidates = new TopK(Math.min(n, Math.max(k, rerank)));
    const qCode = new Int8Array(this.dim);
    const qSum = this.quantize(q, 0, qCode, 0);
    this.scanCodes(qCode, qSum, candidates, options?.filter);
    if (rerank === 0) {
      const res = candidates.drain();
      if (res.ids.length > k) {
        res.ids.length = k;
        res.distances.length = k;
      }
      return res;
    }
    // Exact f32 distances for the candidates, then the final top-k.
    const { ids: cand } = candidates.drain();
    const top = new TopK(Math.min(k, cand.length || 1));
    const qNorm = this.metric === "cos" ? norm(q) : 0;
    for (const id of cand) {
      const s = this.slots.slot(id)!;
      top.push(id, exactDistance(this.metric, q, qNorm, this.data, s * this.dim, this.norms[s], this.dim));
    }
    return top.drain();
  }

  /** Exact scan in code space; pushes approximate distances in the contract's units. */
  private scanCodes(qCode: Int8Array, qSum: number, heap: TopK, filter?: (id: number) => boolean): void {
    const { dim, scale } = this;
    const rows = this.codes;
    const { codes, base, stride } = rows;
    const ids = this.slots.ids;
    const n = this.slots.size;
    const s2 = scale * scale;
    const simd = rows.heap !== null;
    const out = simd ? rows.heap!.i32 : undefined;
    const outAt = rows.outAt >> 2;
    if (simd) rows.setQuery(qCode);
    if (this.metric === "l2") {
      // Integer distances into the heap (exact ranking, integer ties by id), scaled afterwards.
      if (out !== undefined) {
        for (let first = 0; first < n; first += KERNEL_BLOCK) {
          const count = Math.min(KERNEL_BLOCK, n - first);
          const w = heap.worst();
          rows.l2Block(first, count, w === Number.POSITIVE_INFINITY ? 0x7fffffff : w);
          for (let r = 0; r < count; r++) {
            const d = out[outAt + r];
            if (d > heap.worst()) continue;
            const s = first + r;
            if (filter !== undefined && !filter(ids[s])) continue;
            heap.push(ids[s], d);
          }
        }
      } else {
        for (let s = 0; s < n; s++) {
          if (filter !== undefined && !filter(ids[s])) continue;
          const bound = heap.worst();
          const d = l2sqInt8Bounded(qCode, codes, base + s * stride, dim, bound);
          if (d <= bound) heap.push(ids[s], d);
        }
      }
      for (let i = 0; i < heap.size; i++) heap.dists[i] *= s2;
      return;
    }
    // x ~ a + scale*c with a = lo + 128*scale, so q.x ~ dim*a^2 + a*scale*(sum cq + sum cx) + scale^2 * cq.cx
    const a = (this.lo ?? 0) + 128 * scale;
    const qBase = dim * a * a + a * scale * qSum;
    const offset = this.metric === "cos" ? 1 : 0;
    for (let first = 0; first < n; first += KERNEL_BLOCK) {
      const count = Math.min(KERNEL_BLOCK, n - first);
      if (out !== undefined) rows.dotBlock(first, count);
      for (let r = 0; r < count; r++) {
        const s = first + r;
        if (filter !== undefined && !filter(ids[s])) continue;
        const cqx = out !== undefined ? out[outAt + r] : dotInt8(qCode, codes, base + s * stride, dim);
        heap.push(ids[s], offset - (qBase + a * scale * this.codeSums[s] + s2 * cqx));
      }
    }
  }

  serialize(): Uint8Array {
    const n = this.size;
    const sections: Record<string, Int8Array | Float32Array | Float64Array> = {
      ids: this.slots.ids.subarray(0, n),
      codes: this.codes.packed(n),
    };
    if (this.rerank > 0) sections.vectors = this.data.subarray(0, n * this.dim);
    return encodeIndex(
      {
        kind: this.kind,
        spec: this.spec,
        dim: this.dim,
        metric: this.metric,
        size: n,
        rerank: this.rerank,
        lo: this.lo ?? null,
        scale: this.scale,
      },
      sections,
    );
  }

  static fromSnapshot(bytes: Uint8Array): FlatI8Index {
    const { header, sections } = decodeIndex(bytes);
    const { dim, size } = header;
    const rerank = Number(header.rerank);
    const index = new FlatI8Index(dim, header.metric, { rerank }, size);
    const ids = section(sections, "ids", Float64Array, size);
    const codes = section(sections, "codes", Int8Array, size * dim);
    const vectors = rerank > 0 ? section(sections, "vectors", Float32Array, size * dim) : undefined;
    if (typeof header.lo === "number") {
      index.lo = header.lo;
      index.scale = Number(header.scale);
    }
    // Codes are restored verbatim (re-quantizing could differ if values were clipped).
    index.slots.growTo(size);
    const cap = index.slots.ids.length;
    index.codes.grow(cap, 0);
    index.codeSums = new Float64Array(cap);
    if (rerank > 0) {
      index.data = new Float32Array(cap * dim);
      if (header.metric === "cos") index.norms = new Float64Array(cap);
    }
    for (let s = 0; s < size; s++) {
      index.slots.push(ids[s]);
      let sum = 0;
      for (let j = s * dim; j < (s + 1) * dim; j++) sum += codes[j];
      index.codeSums[s] = sum;
    }
    for (let s = 0; s < size; s++)
      index.codes.codes.set(codes.subarray(s * dim, (s + 1) * dim), index.codes.offset(s));
    if (vectors) {
      index.data.set(vectors);
      if (header.metric === "cos")
        for (let s = 0; s < size; s++) index.norms[s] = norm(index.data, dim, s * dim);
    }
    return index;
  }
}
