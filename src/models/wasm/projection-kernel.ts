/**
 * ProjectionNet's random projection on the SIMD kernels: x -> T*d sign bits as 0.0 / 1.0 floats
 * (the features the layers above read), in a {@link ModelHeap} of its own.
 *
 * Two forms, as the hyperplanes are stored (see families/projection-net.ts):
 * - {-1, 0, +1} hyperplanes, input-major lists (`project_pm`): float64 sums of ±x[j] in the same
 *   order as the TypeScript reference, so the bits are identical to it;
 * - Gaussian hyperplanes, dense input-major (`dense_f32` in sign-bit mode): float32 sums, so a
 *   bit can differ from the float64 reference where a sum is within rounding of 0.
 * The hyperplanes are fixed for the life of a projection, so they are copied in once.
 */
import { HeapLayout, LANES, ModelHeap, roundUp } from "./kernels.js";

/** {-1, 0, +1} hyperplanes input-major: input j adds to ent[off[2j] .. off[2j+1]), subtracts from ent[.. off[2j+2]). */
export interface SignedLists {
  off: Int32Array;
  ent: Int32Array;
}

export type ProjectionSource =
  | { kind: "signed"; lists: SignedLists; init: Float64Array }
  | { kind: "dense"; planes: Float32Array; bias: Float32Array };

export class ProjectionKernel {
  private constructor(
    private readonly heap: ModelHeap,
    private readonly inputDim: number,
    private readonly bits: number,
    private readonly at: {
      x: number;
      feat: number;
      off: number;
      ent: number;
      init: number;
      acc: number;
      w: number;
      b: number;
      nz: number;
      bitsP: number;
    },
    private readonly signed: boolean,
  ) {}

  /** The kernel for a projection of `inputDim` inputs to `bits` bits, or null without WebAssembly SIMD. */
  static create(inputDim: number, bits: number, source: ProjectionSource): ProjectionKernel | null {
    const L = new HeapLayout();
    const bitsP = roundUp(bits, LANES);
    const x = L.take(4 * inputDim);
    const feat = L.take(4 * bitsP);
    const nz = L.take(4 * inputDim);
    const signed = source.kind === "signed";
    const off = signed ? L.take(4 * source.lists.off.length) : 0;
    const ent = signed ? L.take(4 * source.lists.ent.length) : 0;
    const init = signed ? L.take(8 * bits) : 0;
    const acc = signed ? L.take(8 * bits) : 0;
    const w = signed ? 0 : L.take(4 * inputDim * bitsP);
    const b = signed ? 0 : L.take(4 * bitsP);
    const heap = ModelHeap.create(L);
    if (heap === null) return null;
    if (source.kind === "signed") {
      heap.i32.set(source.lists.off, off >> 2);
      heap.i32.set(source.lists.ent, ent >> 2);
      heap.f64.set(source.init, init >> 3);
    } else {
      const f = heap.f32;
      for (let j = 0; j < inputDim; j++)
        f.set(source.planes.subarray(j * bits, (j + 1) * bits), (w >> 2) + j * bitsP);
      f.set(source.bias, b >> 2);
    }
    heap.synced();
    return new ProjectionKernel(
      heap,
      inputDim,
      bits,
      { x, feat, off, ent, init, acc, w, b, nz, bitsP },
      signed,
    );
  }

  /** out[k] = 1 when bit k of x is set, else 0 (out: at least `bits` floats). */
  features(x: Float32Array, out: Float32Array): Float32Array {
    const { f32, k } = this.heap;
    const a = this.at;
    f32.set(x, a.x >> 2);
    if (this.signed) k.project_pm(a.x, this.inputDim, a.off, a.ent, a.init, a.acc, this.bits, a.feat);
    else k.dense_f32(a.x, a.w, a.b, a.feat, this.inputDim, a.bitsP, 2, a.nz);
    const f = a.feat >> 2;
    for (let i = 0; i < this.bits; i++) out[i] = f32[f + i];
    return out;
  }
}
