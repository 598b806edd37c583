/**
 * The Adam update on the SIMD kernel (`adam` in dense.wat): float64 arithmetic two lanes at a
 * time in exactly the order of the TypeScript loop in engine/optim.ts, so the weights and
 * moments it writes are bit-identical to that loop's, about twice as fast (the square root and
 * the division dominate, and they run on two lanes at once).
 *
 * One shared heap holds a parameter's weights, gradient and two moments while it is updated;
 * it is replaced by a larger one when a larger parameter comes (JavaScript is single-threaded,
 * and the kernel calls back into nothing, so sharing it is safe).
 */
import { HeapLayout, ModelHeap, type ModelKernelExports, roundUp } from "./kernels.js";

let heap: ModelHeap | null = null;
let capacity = 0;

export interface AdamConstants {
  b1: number;
  b2: number;
  decay: number;
  stepSize: number;
  eps: number;
}

/**
 * Updates w, m and v in place from g; false (nothing done) where WebAssembly SIMD is unavailable.
 */
export function adamStepSimd(
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  c: AdamConstants,
): boolean {
  const n = w.length;
  if (n > capacity || heap === null) {
    const cap = roundUp(Math.max(n, 1024), 16);
    const layout = new HeapLayout();
    layout.take(4 * 4 * cap);
    heap = ModelHeap.create(layout);
    if (heap === null) return false;
    capacity = cap;
  }
  const f = heap.f32;
  const at = [0, capacity, 2 * capacity, 3 * capacity];
  f.set(w, at[0]);
  f.set(g, at[1]);
  f.set(m, at[2]);
  f.set(v, at[3]);
  // An odd length leaves one lane past the end: zeros there keep it finite and unused.
  if (n % 2 === 1) for (const a of at) f[a + n] = 0;
  const k: ModelKernelExports = heap.k;
  k.adam(
    0,
    4 * at[1],
    4 * at[2],
    4 * at[3],
    roundUp(n, 2),
    c.b1,
    1 - c.b1,
    c.b2,
    1 - c.b2,
    c.decay,
    c.stepSize,
    c.eps,
  );
  w.set(f.subarray(at[0], at[0] + n));
  m.set(f.subarray(at[2], at[2] + n));
  v.set(f.subarray(at[3], at[3] + n));
  return true;
}
