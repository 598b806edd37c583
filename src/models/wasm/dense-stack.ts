/**
 * A stack of dense layers resident in a {@link ModelHeap}, run one example at a time by the
 * SIMD kernels: the float form ({@link FloatStackKernel}, for the MLPs and ProjectionNet's layers
 * above the bits) and the int8 form ({@link Int8StackKernel}, for the quantized models).
 *
 * Each layer's weights are copied in input-major (row j = the weights from input j), outputs
 * padded with zeros to a multiple of {@link LANES}; the output buffer of layer i is the input
 * buffer of layer i + 1 (the padding lanes are never read: a layer gathers only its first
 * `inDim` inputs). The copies are refreshed when the weights changed (see kernels.ts).
 */
import type { DenseLayer } from "../engine/dense-layer.js";
import { dequantize, requantize } from "../int8/kernels.js";
import type { QuantizedLayer } from "../int8/quantize.js";
import { HeapLayout, LANES, ModelHeap, roundUp } from "./kernels.js";

interface Slot {
  /** Byte offsets of the input-major weights, the bias and the output. */
  w: number;
  b: number;
  y: number;
  inDim: number;
  outDim: number;
  outP: number;
}

/** Float dense layers (each with its ReLU folded in) in a heap: x -> every layer's output. */
export class FloatStackKernel {
  private readonly slots: Slot[];
  /** Byte offsets of the input buffer and of the kernels' index scratch. */
  private readonly x: number;
  private readonly nz: number;

  private constructor(
    readonly heap: ModelHeap,
    readonly layers: readonly DenseLayer[],
    layout: { slots: Slot[]; x: number; nz: number },
  ) {
    this.slots = layout.slots;
    this.x = layout.x;
    this.nz = layout.nz;
  }

  /** The kernel for `layers`, or null where WebAssembly SIMD is unavailable. */
  static create(layers: readonly DenseLayer[]): FloatStackKernel | null {
    const L = new HeapLayout();
    const maxIn = Math.max(...layers.map((l) => l.inDim));
    const x = L.take(4 * roundUp(layers[0].inDim, 4));
    const nz = L.take(4 * maxIn);
    const slots = layers.map((l) => {
      const outP = roundUp(l.outDim, LANES);
      return {
        w: L.take(4 * l.inDim * outP),
        b: L.take(4 * outP),
        y: L.take(4 * outP),
        inDim: l.inDim,
        outDim: l.outDim,
        outP,
      };
    });
    const heap = ModelHeap.create(L);
    if (heap) heap.sources = layers.flatMap((l) => [l.W, l.b]);
    return heap && new FloatStackKernel(heap, layers, { slots, x, nz });
  }

  /** Copies the layers' current weights in (transposed to input-major, padded with zeros). */
  sync(): void {
    const f = this.heap.f32;
    this.layers.forEach((l, i) => {
      const s = this.slots[i];
      const w0 = s.w >> 2;
      const { inDim, outDim, outP } = s;
      const W = l.W;
      f.fill(0, w0, w0 + inDim * outP);
      for (let o = 0; o < outDim; o++) {
        const src = o * inDim;
        for (let j = 0; j < inDim; j++) f[w0 + j * outP + o] = W[src + j];
      }
      f.fill(0, s.b >> 2, (s.b >> 2) + outP);
      f.set(l.b, s.b >> 2);
    });
    this.heap.synced();
  }

  /** Float offset of the input buffer: callers may write the input there and call {@link run}. */
  get inputAt(): number {
    return this.x >> 2;
  }

  /** Float offset of layer i's output in heap.f32. */
  outputAt(i: number): number {
    return this.slots[i].y >> 2;
  }

  /**
   * Runs layers [0, upTo) on the input already in the heap (at {@link inputAt}); layer i's output
   * is then at heap.f32[outputAt(i) ..]. `input` overrides where layer 0 reads (a float offset).
   */
  run(upTo = this.slots.length, inputAt = this.inputAt): void {
    if (this.heap.stale) this.sync();
    const k = this.heap.k;
    let x = inputAt << 2;
    for (let i = 0; i < upTo; i++) {
      const s = this.slots[i];
      k.dense_f32(x, s.w, s.b, s.y, s.inDim, s.outP, this.layers[i].relu ? 1 : 0, this.nz);
      x = s.y;
    }
  }

  /** Copies x in and runs every layer; returns the float offset of the last layer's output. */
  forward(x: Float32Array): number {
    this.heap.f32.set(x, this.inputAt);
    this.run();
    return this.outputAt(this.slots.length - 1);
  }
}

/**
 * int8 layers in a heap: an int8 input in, float logits out (and the dequantized input of the
 * last layer, the embedding). The kernels compute the exact int32 accumulators; requantization
 * between layers and the final dequantization are the TypeScript functions of int8/kernels.ts,
 * so the result is identical to the TypeScript path's.
 */
export class Int8StackKernel {
  private readonly slots: (Slot & { x: number })[];
  private readonly nz: number;

  private constructor(
    readonly heap: ModelHeap,
    readonly layers: readonly QuantizedLayer[],
    layout: { slots: (Slot & { x: number })[]; nz: number },
  ) {
    this.slots = layout.slots;
    this.nz = layout.nz;
  }

  static create(layers: readonly QuantizedLayer[]): Int8StackKernel | null {
    const L = new HeapLayout();
    const nz = L.take(4 * Math.max(...layers.map((l) => l.inDim)));
    const slots = layers.map((l) => {
      const outP = roundUp(l.outDim, LANES);
      return {
        x: L.take(roundUp(l.inDim, 16)),
        w: L.take(l.inDim * outP),
        b: L.take(4 * outP),
        y: L.take(4 * outP),
        inDim: l.inDim,
        outDim: l.outDim,
        outP,
      };
    });
    const heap = ModelHeap.create(L);
    if (heap) heap.sources = layers.flatMap((l) => [l.wt, l.bias]);
    return heap && new Int8StackKernel(heap, layers, { slots, nz });
  }

  /** Copies the layers' current int8 weights and int32 biases in (padded with zeros). */
  sync(): void {
    const { i8, i32 } = this.heap;
    this.layers.forEach((l, i) => {
      const s = this.slots[i];
      const { inDim, outDim, outP } = s;
      if (outP === outDim) i8.set(l.wt, s.w);
      else {
        i8.fill(0, s.w, s.w + inDim * outP);
        for (let j = 0; j < inDim; j++) i8.set(l.wt.subarray(j * outDim, (j + 1) * outDim), s.w + j * outP);
      }
      i32.fill(0, s.b >> 2, (s.b >> 2) + outP);
      i32.set(l.bias, s.b >> 2);
    });
    this.heap.synced();
  }

  /**
   * Runs the stack on the int8 input q0 with the per-layer factors of the TypeScript stack
   * (outScale: accumulator -> float; mult: accumulator -> next int8 input).
   */
  forward(
    q0: Int8Array,
    outScale: readonly Float32Array[],
    mult: readonly Float32Array[],
    logits: Float32Array,
    embed?: Float32Array,
  ): Float32Array {
    if (this.heap.stale) this.sync();
    const { i8, i32, k } = this.heap;
    const last = this.slots.length - 1;
    const inDim = this.slots[0].inDim;
    if (q0.length === inDim) i8.set(q0, this.slots[0].x);
    else for (let j = 0; j < inDim; j++) i8[this.slots[0].x + j] = q0[j];
    for (let l = 0; l <= last; l++) {
      const s = this.slots[l];
      const layer = this.layers[l];
      if (l === last && embed) for (let j = 0; j < s.inDim; j++) embed[j] = i8[s.x + j] * layer.inScale;
      k.dense_i8(s.x, s.w, s.b, s.y, s.inDim, s.outP, this.nz);
      if (l === last) dequantize(i32, outScale[l], layer.relu, logits, s.outDim, s.y >> 2, 0);
      else requantize(i32, mult[l], layer.relu, i8, s.outDim, s.y >> 2, this.slots[l + 1].x);
    }
    return logits;
  }
}
