/**
 * Dense matrix kernels on row-major Float32Array for the training engine and batch inference.
 *
 * One micro-kernel does the work: C = A·Bᵀ computed as dot products of rows of A with rows of B,
 * because both operands are then read along contiguous memory. Dense weights are stored out×in
 * (one row per output unit), so the forward pass X·Wᵀ is exactly this shape. The two products the
 * backward pass needs (dX = dY·W and dW = dYᵀ·X) transpose their operands into a reused scratch
 * buffer first: the transpose costs O(size) while the product costs O(size · batch), so it is
 * noise, and every product then runs through the same tuned kernel.
 *
 * Blocking: a 4×4 register tile (16 independent accumulators, 8 loads per 16 multiply-adds) hides
 * the floating-point add latency that a single running sum would serialise on; rows of B are
 * walked in panels of at most `PANEL_BYTES` so the panel stays in L2 while every row of A visits
 * it. Accumulation is in double precision (JavaScript numbers), rounded to float32 once per
 * output, which makes the result independent of the blocking up to that one rounding.
 *
 * Large products run on a WebAssembly SIMD version of the same kernel (wasm-gemm.ts) when the
 * runtime supports it, several times faster; this file's JS kernel is the fallback and is
 * tested against the naive loop like the SIMD one.
 *
 * Scratch buffers are module-level and grow on demand; JavaScript is single-threaded per realm,
 * and no kernel calls back into user code, so sharing them is safe.
 */
import { check } from "../../core/errors.js";
import { modelKernelPath } from "../wasm/kernels.js";
import { wasmGemm } from "./wasm-gemm.js";

/** Bytes of B rows kept hot in cache per panel (about half a typical 512 KB L2). */
const PANEL_BYTES = 192 * 1024;

/**
 * C[m×n] = A[m×k] · B[n×k]ᵀ (+ C when `accumulate`). All row-major, all views starting at index 0.
 * `bias` (length n), when given, is added to every row of C (the Dense forward pass in one call).
 */
export function gemmABt(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  accumulate = false,
  bias?: Float32Array,
): void {
  checkSizes("gemmABt", a, m * k, b, n * k, c, m * n);
  if (bias !== undefined) check(bias.length >= n, () => `gemmABt: bias has ${bias.length} < ${n} entries`);
  if (m === 0 || n === 0) return;
  const simd = backend === "auto" && m * n * k >= WASM_MIN_MACS ? wasmGemm() : null;
  if (simd === null || k === 0) {
    gemmABtJs(a, b, c, m, n, k, accumulate, bias);
    return;
  }
  const target = accumulate ? scratch(2, m * n) : c;
  simd.abt(a, b, target, m, n, k);
  if (!accumulate && !bias) return;
  for (let i = 0; i < m; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++)
      c[o + j] = (accumulate ? c[o + j] + target[o + j] : target[o + j]) + (bias ? bias[j] : 0);
  }
}

/**
 * Whether gemmAB / gemmAtB hand their transposed operands to the SIMD kernel, which transposes
 * them while copying them in (one pass instead of two, same result bit for bit). Off on the
 * models' TypeScript path, so benchmarks can measure the engine as it was.
 */
function fusedTransposes(macs: number): boolean {
  return (
    backend === "auto" && macs >= WASM_MIN_MACS && modelKernelPath() === "wasm-simd" && wasmGemm() !== null
  );
}

/** Products smaller than this many multiply-adds stay in JS (the copies would dominate). */
const WASM_MIN_MACS = 4096;

export type GemmBackend = "auto" | "js";
let backend: GemmBackend = "auto";

/**
 * "auto" (default) runs large products on the WebAssembly SIMD kernel when the runtime has it;
 * "js" forces the pure-JS kernel (for tests and comparisons). Returns the previous setting.
 */
export function setGemmBackend(b: GemmBackend): GemmBackend {
  const prev = backend;
  backend = b;
  return prev;
}

/** Which kernel large products use right now: "wasm-simd" or "js". */
export function activeGemmBackend(): "wasm-simd" | "js" {
  return backend === "auto" && wasmGemm() !== null ? "wasm-simd" : "js";
}

/** The pure-JS blocked kernel behind {@link gemmABt} (same contract). */
export function gemmABtJs(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  accumulate = false,
  bias?: Float32Array,
): void {
  if (k === 0) {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) c[i * n + j] = (accumulate ? c[i * n + j] : 0) + (bias ? bias[j] : 0);
    return;
  }
  const panelRows = Math.max(4, (Math.floor(PANEL_BYTES / (4 * k)) >> 2) << 2);
  for (let j0 = 0; j0 < n; j0 += panelRows) {
    const j1 = Math.min(n, j0 + panelRows);
    const jEnd4 = j0 + ((j1 - j0) & ~3);
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      let j = j0;
      for (; j < jEnd4; j += 4) tile4x4(a, b, c, i, j, n, k, accumulate, bias);
      for (; j < j1; j++) for (let r = 0; r < 4; r++) single(a, b, c, i + r, j, n, k, accumulate, bias);
    }
    for (; i < m; i++) {
      let j = j0;
      for (; j < jEnd4; j += 4) tile1x4(a, b, c, i, j, n, k, accumulate, bias);
      for (; j < j1; j++) single(a, b, c, i, j, n, k, accumulate, bias);
    }
  }
}

/** C[m×n] = A[m×k] · B[k×n] (+ C when `accumulate`). Used for dX = dY·W. */
export function gemmAB(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  accumulate = false,
): void {
  checkSizes("gemmAB", a, m * k, b, k * n, c, m * n);
  if (!accumulate && fusedTransposes(m * n * k)) {
    wasmGemm()?.abt(a, b, c, m, n, k, false, true);
    return;
  }
  const bt = scratch(0, k * n);
  transpose(b, bt, k, n);
  gemmABt(a, bt, c, m, n, k, accumulate);
}

/** C[m×n] = A[k×m]ᵀ · B[k×n] (+ C when `accumulate`). Used for dW = dYᵀ·X. */
export function gemmAtB(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
  accumulate = false,
): void {
  checkSizes("gemmAtB", a, k * m, b, k * n, c, m * n);
  if (!accumulate && fusedTransposes(m * n * k)) {
    wasmGemm()?.abt(a, b, c, m, n, k, true, true);
    return;
  }
  const at = scratch(0, k * m);
  const bt = scratch(1, k * n);
  transpose(a, at, k, m);
  transpose(b, bt, k, n);
  gemmABt(at, bt, c, m, n, k, accumulate);
}

/** dst[cols×rows] = src[rows×cols]ᵀ, in 16×16 blocks so both sides stay in cache. */
export function transpose(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  check(
    src.length >= rows * cols && dst.length >= rows * cols,
    () => `transpose: buffers too short for ${rows}×${cols}`,
  );
  const B = 16;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const so = r * cols;
        for (let cc = c0; cc < c1; cc++) dst[cc * rows + r] = src[so + cc];
      }
    }
  }
}

/** The textbook triple loop, kept as the exact reference the tests and benchmarks compare with. */
export function naiveABt(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  m: number,
  n: number,
  k: number,
): void {
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
      c[i * n + j] = s;
    }
}

/**
 * Bytes the kernels currently hold outside the caller's buffers: the shared transpose scratch
 * and the SIMD module's linear memory (operand copies). Both grow to the largest product seen
 * and are reused, so a training step's peak memory includes this figure.
 */
export function scratchBytes(): number {
  return scratchBuffers.reduce((s, b) => s + b.byteLength, 0) + (wasmGemm()?.memoryBytes() ?? 0);
}

const scratchBuffers: Float32Array[] = [new Float32Array(0), new Float32Array(0), new Float32Array(0)];

function scratch(slot: number, length: number): Float32Array {
  if (scratchBuffers[slot].length < length) scratchBuffers[slot] = new Float32Array(length);
  return scratchBuffers[slot];
}

function checkSizes(
  what: string,
  a: Float32Array,
  na: number,
  b: Float32Array,
  nb: number,
  c: Float32Array,
  nc: number,
): void {
  if (a.length < na || b.length < nb || c.length < nc)
    check(false, `${what}: buffers too short: A ${a.length}/${na}, B ${b.length}/${nb}, C ${c.length}/${nc}`);
}

function tile4x4(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  i: number,
  j: number,
  n: number,
  k: number,
  acc: boolean,
  bias: Float32Array | undefined,
): void {
  const a0 = i * k;
  const a1 = a0 + k;
  const a2 = a1 + k;
  const a3 = a2 + k;
  const b0 = j * k;
  const b1 = b0 + k;
  const b2 = b1 + k;
  const b3 = b2 + k;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let p = 0; p < k; p++) {
    const x0 = a[a0 + p];
    const x1 = a[a1 + p];
    const x2 = a[a2 + p];
    const x3 = a[a3 + p];
    const y0 = b[b0 + p];
    const y1 = b[b1 + p];
    const y2 = b[b2 + p];
    const y3 = b[b3 + p];
    c00 += x0 * y0;
    c01 += x0 * y1;
    c02 += x0 * y2;
    c03 += x0 * y3;
    c10 += x1 * y0;
    c11 += x1 * y1;
    c12 += x1 * y2;
    c13 += x1 * y3;
    c20 += x2 * y0;
    c21 += x2 * y1;
    c22 += x2 * y2;
    c23 += x2 * y3;
    c30 += x3 * y0;
    c31 += x3 * y1;
    c32 += x3 * y2;
    c33 += x3 * y3;
  }
  if (bias) {
    const e0 = bias[j],
      e1 = bias[j + 1],
      e2 = bias[j + 2],
      e3 = bias[j + 3];
    c00 += e0;
    c01 += e1;
    c02 += e2;
    c03 += e3;
    c10 += e0;
    c11 += e1;
    c12 += e2;
    c13 += e3;
    c20 += e0;
    c21 += e1;
    c22 += e2;
    c23 += e3;
    c30 += e0;
    c31 += e1;
    c32 += e2;
    c33 += e3;
  }
  let o = i * n + j;
  if (acc) {
    c[o] += c00;
    c[o + 1] += c01;
    c[o + 2] += c02;
    c[o + 3] += c03;
    o += n;
    c[o] += c10;
    c[o + 1] += c11;
    c[o + 2] += c12;
    c[o + 3] += c13;
    o += n;
    c[o] += c20;
    c[o + 1] += c21;
    c[o + 2] += c22;
    c[o + 3] += c23;
    o += n;
    c[o] += c30;
    c[o + 1] += c31;
    c[o + 2] += c32;
    c[o + 3] += c33;
  } else {
    c[o] = c00;
    c[o + 1] = c01;
    c[o + 2] = c02;
    c[o + 3] = c03;
    o += n;
    c[o] = c10;
    c[o + 1] = c11;
    c[o + 2] = c12;
    c[o + 3] = c13;
    o += n;
    c[o] = c20;
    c[o + 1] = c21;
    c[o + 2] = c22;
    c[o + 3] = c23;
    o += n;
    c[o] = c30;
    c[o + 1] = c31;
    c[o + 2] = c32;
    c[o + 3] = c33;
  }
}

function tile1x4(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  i: number,
  j: number,
  n: number,
  k: number,
  acc: boolean,
  bias: Float32Array | undefined,
): void {
  const a0 = i * k;
  const b0 = j * k;
  const b1 = b0 + k;
  const b2 = b1 + k;
  const b3 = b2 + k;
  let c0 = 0,
    c1 = 0,
    c2 = 0,
    c3 = 0;
  for (let p = 0; p < k; p++) {
    const x = a[a0 + p];
    c0 += x * b[b0 + p];
    c1 += x * b[b1 + p];
    c2 += x * b[b2 + p];
    c3 += x * b[b3 + p];
  }
  if (bias) {
    c0 += bias[j];
    c1 += bias[j + 1];
    c2 += bias[j + 2];
    c3 += bias[j + 3];
  }
  const o = i * n + j;
  if (acc) {
    c[o] += c0;
    c[o + 1] += c1;
    c[o + 2] += c2;
    c[o + 3] += c3;
  } else {
    c[o] = c0;
    c[o + 1] = c1;
    c[o + 2] = c2;
    c[o + 3] = c3;
  }
}

function single(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  i: number,
  j: number,
  n: number,
  k: number,
  acc: boolean,
  bias: Float32Array | undefined,
): void {
  const a0 = i * k;
  const b0 = j * k;
  let s0 = 0,
    s1 = 0;
  let p = 0;
  for (; p + 2 <= k; p += 2) {
    s0 += a[a0 + p] * b[b0 + p];
    s1 += a[a0 + p + 1] * b[b0 + p + 1];
  }
  if (p < k) s0 += a[a0 + p] * b[b0 + p];
  let s = s0 + s1;
  if (bias) s += bias[j];
  const o = i * n + j;
  c[o] = acc ? c[o] + s : s;
}
