/**
 * Loading the WebAssembly SIMD scan kernels (kernels.wat) and the memory they run on.
 *
 * The module is ~1.6 KB, embedded as base64 (kernels.wasm.ts), and compiled synchronously once
 * (`new WebAssembly.Module`: small enough for browsers' main-thread limit on synchronous
 * compilation), so the Index contract stays synchronous. Every index that uses the kernels owns
 * a `KernelHeap`: one WebAssembly.Memory with its own instance of the module. Its stored rows
 * live in that memory, after a fixed scratch area (query, one block of output distances, a list
 * of row slots), so a scan reads them in place and growing the index grows the memory without
 * moving the scratch area. Where WebAssembly SIMD is missing (or the TypeScript path is forced,
 * as tests and benchmarks do), `KernelHeap.create` returns null and indexes use the pure
 * TypeScript kernels, which remain the reference.
 */
import { embeddedWasmModule } from "../../core/wasm.js";
import { KERNELS_WASM_BASE64 } from "./kernels.wasm.js";

/** Which scan path an index runs: the SIMD kernels or the pure-TypeScript reference. */
export type KernelPath = "wasm-simd" | "typescript";

export interface KernelExports {
  l2sq_block(q: number, x: number, stride: number, dimb: number, n: number, out: number, bound: number): void;
  dot_block(q: number, x: number, stride: number, dimb: number, n: number, out: number): void;
  l2sq_rows(
    q: number,
    base: number,
    stride: number,
    dimb: number,
    slots: number,
    n: number,
    out: number,
  ): void;
  dot_rows(
    q: number,
    base: number,
    stride: number,
    dimb: number,
    slots: number,
    n: number,
    out: number,
  ): void;
  l2sq_i8_block(
    q: number,
    x: number,
    stride: number,
    dimb: number,
    n: number,
    out: number,
    bound: number,
  ): void;
  dot_i8_block(q: number, x: number, stride: number, dimb: number, n: number, out: number): void;
}

/** Rows (or listed slots) per kernel call; the output block stays in L1 while JS selects from it. */
export const KERNEL_BLOCK = 1024;
const PAGE = 65536;

let forced: KernelPath | undefined;

/** The compiled kernels, or null where WebAssembly SIMD is unavailable. */
export const kernelModule: () => WebAssembly.Module | null = embeddedWasmModule(KERNELS_WASM_BASE64);

/**
 * Forces the path of indexes created from now on ("auto" = SIMD where available). Existing
 * indexes keep theirs. For tests (the fallback must be checked) and benchmarks (side by side).
 */
export function setKernelPath(path: KernelPath | "auto"): void {
  forced = path === "auto" ? undefined : path;
}

/** The path a new index takes: "wasm-simd" when the module loads and nothing forces TypeScript. */
export function kernelPath(): KernelPath {
  if (forced === "typescript") return "typescript";
  return kernelModule() === null ? "typescript" : "wasm-simd";
}

/** Rounds n up to a multiple of m (a power of two). */
export const roundUp = (n: number, m: number) => (n + m - 1) & ~(m - 1);

/**
 * One WebAssembly memory with the kernels bound to it: a scratch area of `scratchBytes` at
 * offset 0, then a data area from `dataAt` that grows on demand. Typed views are refreshed
 * whenever the memory grows (growing detaches the old ones), so callers re-read them after
 * `reserve` and never keep them across calls that can grow.
 */
export class KernelHeap {
  readonly memory: WebAssembly.Memory;
  readonly k: KernelExports;
  /** Byte offset of the data area (64-byte aligned). */
  readonly dataAt: number;
  f32!: Float32Array;
  i32!: Int32Array;
  i16!: Int16Array;
  i8!: Int8Array;

  private constructor(module: WebAssembly.Module, scratchBytes: number) {
    this.dataAt = roundUp(scratchBytes, 64);
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((this.dataAt + 1) / PAGE) });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.k = instance.exports as unknown as KernelExports;
    this.refresh();
  }

  /** A heap, or null when the TypeScript path is in force (forced, or no WebAssembly SIMD). */
  static create(scratchBytes: number): KernelHeap | null {
    if (kernelPath() !== "wasm-simd") return null;
    return new KernelHeap(kernelModule()!, scratchBytes);
  }

  private refresh(): void {
    const b = this.memory.buffer;
    this.f32 = new Float32Array(b);
    this.i32 = new Int32Array(b);
    this.i16 = new Int16Array(b);
    this.i8 = new Int8Array(b);
  }

  /** Makes the data area at least `bytes` long (existing contents stay in place). */
  reserve(bytes: number): void {
    const need = this.dataAt + bytes;
    const have = this.memory.buffer.byteLength;
    if (need <= have) return;
    this.memory.grow(Math.ceil((need - have) / PAGE));
    this.refresh();
  }

  /** Bytes of the whole memory. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }
}
