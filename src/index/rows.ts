/**
 * Row storage shared by the indexes: row-major vectors at a fixed stride, in a KernelHeap's
 * WebAssembly memory when the SIMD kernels are available (so they scan the rows in place), in a
 * plain typed array otherwise. The stride pads each row with zeros to what the kernels read at
 * once (4 floats, 16 int8 codes); zeros add nothing to a squared distance or a dot product, so
 * padding changes no result. The TypeScript kernels read the same layout and ignore the padding.
 */
import { KERNEL_BLOCK, KernelHeap, type KernelPath, roundUp } from "./wasm/simd.js";

/** Byte layout of a heap's scratch area: query, one block of outputs, one block of slots. */
function scratch(queryBytes: number) {
  const queryAt = 0;
  const outAt = roundUp(queryBytes, 64);
  const slotsAt = outAt + KERNEL_BLOCK * 4;
  return { queryAt, outAt, slotsAt, bytes: slotsAt + KERNEL_BLOCK * 4 };
}

/** f32 rows (flat, tshnsw). Row `s` is data[base + s * stride .. + dim). */
export class F32Rows {
  readonly dim: number;
  /** Floats per row: dim rounded up to a multiple of 4. */
  readonly stride: number;
  readonly heap: KernelHeap | null;
  data: Float32Array;
  /** Float offset of row 0 in `data`. */
  readonly base: number;
  capacity: number;
  /** Byte offsets of the scratch area (heap only). */
  readonly queryAt: number;
  readonly outAt: number;
  readonly slotsAt: number;

  constructor(dim: number, capacity: number) {
    this.dim = dim;
    this.stride = roundUp(dim, 4);
    const s = scratch(this.stride * 4);
    this.queryAt = s.queryAt;
    this.outAt = s.outAt;
    this.slotsAt = s.slotsAt;
    this.heap = KernelHeap.create(s.bytes);
    this.capacity = capacity;
    if (this.heap) {
      this.heap.reserve(capacity * this.stride * 4);
      this.data = this.heap.f32;
      this.base = this.heap.dataAt >> 2;
    } else {
      this.data = new Float32Array(capacity * this.stride);
      this.base = 0;
    }
  }

  get path(): KernelPath {
    return this.heap ? "wasm-simd" : "typescript";
  }

  /** Grows to `capacity` rows keeping the first `used` (in place in the heap). */
  grow(capacity: number, used: number): void {
    if (capacity <= this.capacity) return;
    if (this.heap) {
      this.heap.reserve(capacity * this.stride * 4);
      this.data = this.heap.f32;
    } else {
      const data = new Float32Array(capacity * this.stride);
      data.set(this.data.subarray(0, used * this.stride));
      this.data = data;
    }
    this.capacity = capacity;
  }

  offset(slot: number): number {
    return this.base + slot * this.stride;
  }

  set(slot: number, src: Float32Array, srcOffset: number): void {
    this.data.set(src.subarray(srcOffset, srcOffset + this.dim), this.base + slot * this.stride);
  }

  /** Copies row `from` over row `to` (padding included, so it stays zero). */
  move(to: number, from: number): void {
    const o = this.base;
    this.data.copyWithin(o + to * this.stride, o + from * this.stride, o + (from + 1) * this.stride);
  }

  /** A copy of row `slot` (dim values). */
  row(slot: number): Float32Array {
    const o = this.base + slot * this.stride;
    return this.data.slice(o, o + this.dim);
  }

  /** The first `n` rows packed at stride dim (for snapshots). */
  packed(n: number): Float32Array {
    if (this.stride === this.dim) return this.data.subarray(this.base, this.base + n * this.dim);
    const out = new Float32Array(n * this.dim);
    for (let s = 0; s < n; s++)
      out.set(this.data.subarray(this.offset(s), this.offset(s) + this.dim), s * this.dim);
    return out;
  }

  /** Heap only: stages the query (zero-padded to the stride) where the kernels read it. */
  setQuery(q: Float32Array): void {
    const f32 = this.heap!.f32;
    const at = this.queryAt >> 2;
    f32.set(q.subarray(0, this.dim), at);
    f32.fill(0, at + this.dim, at + this.stride);
  }

  /** Heap only: squared L2 of the staged query to rows first..first+n-1 into the output block. */
  l2Block(first: number, n: number, bound: number): void {
    const b = this.stride * 4;
    this.heap!.k.l2sq_block(this.queryAt, this.heap!.dataAt + first * b, b, b, n, this.outAt, bound);
  }

  /** Heap only: dot products of the staged query with rows first..first+n-1. */
  dotBlock(first: number, n: number): void {
    const b = this.stride * 4;
    this.heap!.k.dot_block(this.queryAt, this.heap!.dataAt + first * b, b, b, n, this.outAt);
  }

  /** Heap only: distances of the staged query to the n <= KERNEL_BLOCK slots in the slot block. */
  l2Rows(n: number): void {
    const b = this.stride * 4;
    this.heap!.k.l2sq_rows(this.queryAt, this.heap!.dataAt, b, b, this.slotsAt, n, this.outAt);
  }

  dotRows(n: number): void {
    const b = this.stride * 4;
    this.heap!.k.dot_rows(this.queryAt, this.heap!.dataAt, b, b, this.slotsAt, n, this.outAt);
  }

  /** Bytes of the stored rows (padding included). */
  bytes(n: number): number {
    return n * this.stride * 4;
  }
}

export const MAX_I8_SIMD_DIM = 32768;

/** int8 code rows (flat-i8). Row `s` is codes[base + s * stride .. + dim). */
export class I8Rows {
  readonly dim: number;
  /** Codes per row: dim rounded up to a multiple of 16. */
  readonly stride: number;
  readonly heap: KernelHeap | null;
  codes: Int8Array;
  readonly base: number;
  capacity: number;
  readonly queryAt: number;
  readonly outAt: number;

  constructor(dim: number, capacity: number) {
    this.dim = dim;
    this.stride = roundUp(dim, 16);
    // The query is staged widened to i16 (2 bytes per code).
    const s = scratch(this.stride * 2);
    this.queryAt = s.queryAt;
    this.outAt = s.outAt;
    // i32 sums of squared code differences (<= 65025 each) cannot overflow below this dim.
    this.heap = dim <= MAX_I8_SIMD_DIM ? KernelHeap.create(s.bytes) : null;
    this.capacity = capacity;
    if (this.heap) {
      this.heap.reserve(capacity * this.stride);
      this.codes = this.heap.i8;
      this.base = this.heap.dataAt;
    } else {
      this.codes = new Int8Array(capacity * this.stride);
      this.base = 0;
    }
  }

  get path(): KernelPath {
    return this.heap ? "wasm-simd" : "typescript";
  }

  grow(capacity: number, used: number): void {
    if (capacity <= this.capacity) return;
    if (this.heap) {
      this.heap.reserve(capacity * this.stride);
      this.codes = this.heap.i8;
    } else {
      const codes = new Int8Array(capacity * this.stride);
      codes.set(this.codes.subarray(0, used * this.stride));
      this.codes = codes;
    }
    this.capacity = capacity;
  }

  offset(slot: number): number {
    return this.base + slot * this.stride;
  }

  move(to: number, from: number): void {
    const o = this.base;
    this.codes.copyWithin(o + to * this.stride, o + from * this.stride, o + (from + 1) * this.stride);
  }

  packed(n: number): Int8Array {
    const out = new Int8Array(n * this.dim);
    for (let s = 0; s < n; s++)
      out.set(this.codes.subarray(this.offset(s), this.offset(s) + this.dim), s * this.dim);
    return out;
  }

  /** Heap only: stages the query's codes, widened to i16 and zero-padded. */
  setQuery(code: Int8Array): void {
    const i16 = this.heap!.i16;
    const at = this.queryAt >> 1;
    for (let j = 0; j < this.dim; j++) i16[at + j] = code[j];
    i16.fill(0, at + this.dim, at + this.stride);
  }

  /** Heap only: integer squared L2 to rows first..first+n-1 (abandoned rows: any value > bound). */
  l2Block(first: number, n: number, bound: number): void {
    const b = this.stride;
    this.heap!.k.l2sq_i8_block(this.queryAt, this.heap!.dataAt + first * b, b, b, n, this.outAt, bound);
  }

  dotBlock(first: number, n: number): void {
    const b = this.stride;
    this.heap!.k.dot_i8_block(this.queryAt, this.heap!.dataAt + first * b, b, b, n, this.outAt);
  }

  bytes(n: number): number {
    return n * this.stride;
  }
}
