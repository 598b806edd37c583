/**
 * A WebAssembly SIMD kernel for C = A·Bᵀ, the engine's hot loop, with the pure-JS kernel in
 * matmul.ts as fallback and reference.
 *
 * JavaScript cannot use SIMD and converts every float32 it loads to a double; a 128-bit
 * f32x4 kernel does four multiply-adds per instruction on float32 directly, which makes
 * training several times faster. The module is tiny, so it is assembled here from its opcodes
 * (no toolchain, no binary blob to trust) and compiled synchronously once. WebAssembly SIMD is
 * available in Node >= 16 and every current browser; where it is not, `wasmGemm` is null and
 * callers use the JS kernel.
 *
 * Operands are copied into the module's memory with rows padded with zeros to a multiple of 4
 * floats (k), A to an even number of rows and B to a multiple of 4 rows, so the kernel has no
 * remainder loops; the copies cost O(size) against the product's O(size · k).
 *
 * Numerics: each output is four float32 partial sums (one per lane) added at the end, so results
 * differ from the float64-accumulating JS kernel by float32 rounding (relative ~1e-6 · sqrt(k)).
 */

import { warnOnce } from "../../core/warnings.js";

/** Kernel signature: abt(a, b, c, mp, j0, j1, kb, ldc) over byte offsets; see `kernelBody`. */
type AbtKernel = (
  a: number,
  b: number,
  c: number,
  mp: number,
  j0: number,
  j1: number,
  kb: number,
  ldc: number,
) => void;

// Opcodes used below.
const I32 = 0x7f;
const V128 = 0x7b;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const LOCAL_TEE = 0x22;
const I32_CONST = 0x41;
const I32_ADD = 0x6a;
const I32_MUL = 0x6c;
const I32_LT_U = 0x49;
const F32_ADD = 0x92;
const F32_STORE = 0x38;
const LOOP = 0x03;
const BR_IF = 0x0d;
const END = 0x0b;
const EMPTY = 0x40;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00];
const V128_CONST = [SIMD, 0x0c];
const F32X4_EXTRACT = [SIMD, 0x1f];
const F32X4_ADD = [SIMD, 0xe4, 0x01];
const F32X4_MUL = [SIMD, 0xe6, 0x01];

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const str = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// Parameter and local indices.
const A = 0;
const B = 1;
const C = 2;
const MP = 3;
const J0 = 4;
const J1 = 5;
const KB = 6;
const LDC = 7;
const I = 8;
const J = 9;
const P = 10;
const PA0 = 11;
const PA1 = 12;
const PB = [13, 14, 15, 16];
const CROW = 17;
const X0 = 18;
const X1 = 19;
const Y = 20;
const ACC = [21, 22, 23, 24, 25, 26, 27, 28]; // ACC[r * 4 + jj] for tile row r, column jj

/**
 * for i in [0, mp) step 2, for j in [j0, j1) step 4: a 2×4 tile of C, eight f32x4 accumulators
 * over k (kb bytes per row); row i of A at a + i·kb, row j of B at b + j·kb, C[i][j] at
 * c + (i·ldc + j)·4. Requires mp even ≥ 2, j1 - j0 a positive multiple of 4, kb a positive
 * multiple of 16.
 */
function kernelBody(): number[] {
  const get = (l: number) => [LOCAL_GET, l];
  const set = (l: number) => [LOCAL_SET, l];
  const load = (base: number) => [...get(base), ...get(P), I32_ADD, ...V128_LOAD, 2, 0];
  const code: number[] = [];
  const emit = (...xs: (number | number[])[]) => {
    for (const x of xs) Array.isArray(x) ? code.push(...x) : code.push(x);
  };
  emit(I32_CONST, sleb(0), set(I));
  emit(LOOP, EMPTY); // $I
  emit(get(J0), set(J));
  emit(LOOP, EMPTY); // $J
  emit(get(A), get(I), get(KB), I32_MUL, I32_ADD, LOCAL_TEE, PA0, get(KB), I32_ADD, set(PA1));
  emit(get(B), get(J), get(KB), I32_MUL, I32_ADD, set(PB[0]));
  for (let t = 1; t < 4; t++) emit(get(PB[t - 1]), get(KB), I32_ADD, set(PB[t]));
  for (const acc of ACC) emit(V128_CONST, new Array(16).fill(0), set(acc));
  emit(I32_CONST, sleb(0), set(P));
  emit(LOOP, EMPTY); // $P
  emit(load(PA0), set(X0), load(PA1), set(X1));
  for (let jj = 0; jj < 4; jj++) {
    emit(load(PB[jj]), set(Y));
    for (let r = 0; r < 2; r++) {
      const acc = ACC[r * 4 + jj];
      emit(get(acc), get(r === 0 ? X0 : X1), get(Y), F32X4_MUL, F32X4_ADD, set(acc));
    }
  }
  emit(get(P), I32_CONST, sleb(16), I32_ADD, LOCAL_TEE, P, get(KB), I32_LT_U, BR_IF, 0);
  emit(END); // $P
  // crow = c + (i·ldc + j)·4; row 1 of the tile is ldc·4 bytes further.
  emit(get(C), get(I), get(LDC), I32_MUL, get(J), I32_ADD, I32_CONST, sleb(4), I32_MUL, I32_ADD, set(CROW));
  for (let r = 0; r < 2; r++) {
    if (r === 1) emit(get(CROW), get(LDC), I32_CONST, sleb(4), I32_MUL, I32_ADD, set(CROW));
    for (let jj = 0; jj < 4; jj++) {
      const acc = ACC[r * 4 + jj];
      emit(get(CROW));
      emit(get(acc), F32X4_EXTRACT, 0, get(acc), F32X4_EXTRACT, 1, F32_ADD);
      emit(get(acc), F32X4_EXTRACT, 2, get(acc), F32X4_EXTRACT, 3, F32_ADD, F32_ADD);
      emit(F32_STORE, 2, ...uleb(jj * 4));
    }
  }
  emit(get(J), I32_CONST, sleb(4), I32_ADD, LOCAL_TEE, J, get(J1), I32_LT_U, BR_IF, 0);
  emit(END); // $J
  emit(get(I), I32_CONST, sleb(2), I32_ADD, LOCAL_TEE, I, get(MP), I32_LT_U, BR_IF, 0);
  emit(END); // $I
  emit(END); // function
  const locals = [
    [...uleb(CROW - I + 1), I32],
    [...uleb(Y - X0 + 1 + ACC.length), V128],
  ];
  return [...vec(locals), ...code];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const params = new Array(8).fill(I32);
  const type = [0x60, ...vec(params.map((p) => [p])), ...vec([])];
  const memoryImport = [...str("env"), ...str("memory"), 0x02, 0x00, ...uleb(1)];
  const body = kernelBody();
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type])),
    ...section(2, vec([memoryImport])),
    ...section(3, vec([uleb(0)])),
    ...section(7, vec([[...str("abt"), 0x00, ...uleb(0)]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

export interface WasmGemm {
  /**
   * C[m×n] = A[m×k]·B[n×k]ᵀ, overwriting C. With `aT` A is given transposed (k×m), with `bT`
   * B is (k×n): the operand is transposed while it is copied into the module's memory, which
   * saves the separate transpose pass and gives the same result bit for bit.
   */
  abt(
    a: Float32Array,
    b: Float32Array,
    c: Float32Array,
    m: number,
    n: number,
    k: number,
    aT?: boolean,
    bT?: boolean,
  ): void;
  /** Bytes of the module's linear memory (grows to the largest operands seen). */
  memoryBytes(): number;
}

const PAGE = 65536;
/** Rows of B per call, so the B panel stays in L2 while all of A streams past it. */
const PANEL_BYTES = 192 * 1024;

function instantiate(): WasmGemm | null {
  if (typeof WebAssembly !== "object") return null;
  const bytes = moduleBytes();
  if (!WebAssembly.validate(bytes)) return null;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const kernel = instance.exports.abt as AbtKernel;
  let f32 = new Float32Array(memory.buffer);
  const ensure = (floats: number) => {
    const need = floats * 4;
    if (need > memory.buffer.byteLength) {
      memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      f32 = new Float32Array(memory.buffer);
    }
  };
  /** Copies rows×k of src into the heap at float offset `at` with row stride kp (zero padded). */
  const put = (src: Float32Array, rows: number, k: number, kp: number, paddedRows: number, at: number) => {
    if (kp === k) f32.set(src.subarray(0, rows * k), at);
    else for (let r = 0; r < rows; r++) f32.set(src.subarray(r * k, r * k + k), at + r * kp);
    // Zero what the kernel reads beyond the data: row padding, and rows added to round up.
    if (kp !== k) for (let r = 0; r < rows; r++) f32.fill(0, at + r * kp + k, at + (r + 1) * kp);
    f32.fill(0, at + rows * kp, at + paddedRows * kp);
  };
  /** Like put, from src given transposed (k×rows), in 16×16 blocks so both sides stay in cache. */
  const putT = (src: Float32Array, rows: number, k: number, kp: number, paddedRows: number, at: number) => {
    const B = 16;
    for (let r0 = 0; r0 < rows; r0 += B) {
      const r1 = Math.min(rows, r0 + B);
      for (let p0 = 0; p0 < k; p0 += B) {
        const p1 = Math.min(k, p0 + B);
        for (let r = r0; r < r1; r++) {
          const o = at + r * kp;
          for (let p = p0; p < p1; p++) f32[o + p] = src[p * rows + r];
        }
      }
    }
    if (kp !== k) for (let r = 0; r < rows; r++) f32.fill(0, at + r * kp + k, at + (r + 1) * kp);
    f32.fill(0, at + rows * kp, at + paddedRows * kp);
  };
  return {
    abt(a, b, c, m, n, k, aT = false, bT = false) {
      const kp = (k + 3) & ~3;
      const mp = (m + 1) & ~1;
      const np = (n + 3) & ~3;
      const aAt = 0;
      const bAt = mp * kp;
      const cAt = bAt + np * kp;
      ensure(cAt + mp * np);
      (aT ? putT : put)(a, m, k, kp, mp, aAt);
      (bT ? putT : put)(b, n, k, kp, np, bAt);
      const panel = Math.max(4, (Math.floor(PANEL_BYTES / (4 * kp)) >> 2) << 2);
      for (let j0 = 0; j0 < np; j0 += panel)
        kernel(aAt * 4, bAt * 4, cAt * 4, mp, j0, Math.min(np, j0 + panel), kp * 4, np);
      if (np === n) c.set(f32.subarray(cAt, cAt + m * n));
      else for (let i = 0; i < m; i++) c.set(f32.subarray(cAt + i * np, cAt + i * np + n), i * n);
    },
    memoryBytes: () => memory.buffer.byteLength,
  };
}

let cached: WasmGemm | null | undefined;
let unavailable: string | undefined;

/** The SIMD kernel, or null where WebAssembly SIMD is unavailable. */
export function wasmGemm(): WasmGemm | null {
  if (cached === undefined) {
    try {
      cached = instantiate();
      if (!cached) unavailable = "this runtime has no WebAssembly SIMD";
    } catch (e) {
      // Typically a Content-Security-Policy without 'wasm-unsafe-eval': a 2x slowdown, said once.
      cached = null;
      unavailable = `WebAssembly could not be compiled (${(e as Error)?.message ?? e})`;
      warnOnce(
        "MAMMALS_WASM_FALLBACK",
        `${unavailable}; the model engine uses its JavaScript kernel, about 2x slower ` +
          "(a Content-Security-Policy needs 'wasm-unsafe-eval' for the fast kernel)",
      );
    }
  }
  return cached;
}

/** Why the WebAssembly kernel is not used (undefined when it is); see also activeGemmBackend. */
export function wasmKernelUnavailable(): string | undefined {
  wasmGemm();
  return unavailable;
}
