/**
 * Loading the models' WebAssembly SIMD kernels (dense.wat), the memory they run on, and the
 * switch between them and the pure-TypeScript forward passes.
 *
 * The module is ~1.3 KB, embedded as base64 (dense.wasm.ts) and compiled synchronously once
 * (`new WebAssembly.Module`), so the Model contract stays synchronous. Every model that uses the
 * kernels owns a {@link ModelHeap}: one WebAssembly.Memory with its own instance of the module,
 * holding its weights in the layout the kernels read (input-major, outputs padded to 16 lanes)
 * and the scratch buffers of one forward pass. The heap is a copy: the TypeScript arrays (a
 * DenseLayer's W and b, an int8 layer's wt and bias) stay the models' weights, the ones training,
 * fine-tuning, quantization and files read and write. Code that changes weights in place calls
 * {@link markWeightsChanged} with the arrays it changed (the optimizers, the trainer, the
 * fine-tuner and the file loaders do), and a heap holding a copy of one of them refreshes it
 * before its next forward pass; other models' heaps are not touched (a check of their own arrays,
 * only after some change happened anywhere).
 *
 * The path is chosen per call: {@link setModelKernelPath} switches every model at once (tests
 * force the TypeScript path to compare the two, benchmarks measure both in one run). Where
 * WebAssembly SIMD is missing, the TypeScript path, which remains the reference, is used.
 */
import { embeddedWasmModule } from "../../core/wasm.js";
import { DENSE_WASM_BASE64 } from "./dense.wasm.js";

/** Which forward path the models run: the SIMD kernels or the pure-TypeScript reference. */
export type ModelKernelPath = "wasm-simd" | "typescript";

export interface ModelKernelExports {
  dense_f32(
    x: number,
    w: number,
    b: number,
    y: number,
    inDim: number,
    outP: number,
    relu: number,
    nz: number,
  ): void;
  dense_i8(x: number, w: number, b: number, acc: number, inDim: number, outP: number, nz: number): void;
  adam(
    w: number,
    g: number,
    m: number,
    v: number,
    n: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    decay: number,
    step: number,
    eps: number,
  ): void;
  project_pm(
    x: number,
    inDim: number,
    off: number,
    ent: number,
    init: number,
    acc: number,
    bits: number,
    feat: number,
  ): void;
}

const PAGE = 65536;
/** Output lanes the dense kernels compute at a time: layers are padded to a multiple of this. */
export const LANES = 16;

let forced: ModelKernelPath | undefined;
let revision = 0;
/** Revision of the last change to each weights buffer (keyed by ArrayBuffer: views share it). */
const changedAt = new WeakMap<ArrayBufferLike, number>();
/** Revision of the last change announced without saying which arrays (every copy is refreshed). */
let changedAll = 0;

/** The compiled kernels, or null where WebAssembly SIMD is unavailable. */
export const modelKernelModule: () => WebAssembly.Module | null = embeddedWasmModule(DENSE_WASM_BASE64);

/**
 * Forces the forward path of every model from the next call on ("auto" = SIMD where available).
 * For tests (the fallback must be checked) and benchmarks (both paths side by side).
 */
export function setModelKernelPath(path: ModelKernelPath | "auto"): void {
  forced = path === "auto" ? undefined : path;
}

/** The path forward passes take now: "wasm-simd" when the module loads and nothing forces TypeScript. */
export function modelKernelPath(): ModelKernelPath {
  if (forced === "typescript") return "typescript";
  return modelKernelModule() === null ? "typescript" : "wasm-simd";
}

/**
 * Says that these weight arrays were changed in place (with no argument: some weights, which
 * refreshes every copy), so the kernels' copies of them are refreshed before their next use.
 * Cheap; call it around every in-place update.
 */
export function markWeightsChanged(...arrays: ArrayBufferView[]): void {
  revision++;
  if (arrays.length === 0) changedAll = revision;
  for (const a of arrays) changedAt.set(a.buffer, revision);
}

/** The number of {@link markWeightsChanged} calls so far: a heap is current if it synced after the last. */
export function weightsRevision(): number {
  return revision;
}

/** Rounds n up to a multiple of m (a power of two). */
export const roundUp = (n: number, m: number) => (n + m - 1) & ~(m - 1);

/** Byte offsets of the areas a model asks for, 64-byte aligned, before its heap is made. */
export class HeapLayout {
  bytes = 0;
  /** Reserves `bytes` bytes and returns their offset. */
  take(bytes: number): number {
    const at = this.bytes;
    this.bytes = roundUp(at + Math.max(bytes, 1), 64);
    return at;
  }
}

/**
 * One WebAssembly memory of a fixed size with the kernels bound to it. It never grows, so the
 * typed views stay valid for its lifetime.
 */
export class ModelHeap {
  readonly memory: WebAssembly.Memory;
  readonly k: ModelKernelExports;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly i8: Int8Array;
  /** weightsRevision() when the weights were last copied in (-1: never). */
  syncedRevision = -1;
  /** The arrays the heap holds copies of (set by its owner). */
  sources: readonly ArrayBufferView[] = [];

  private constructor(module: WebAssembly.Module, bytes: number) {
    this.memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / PAGE)) });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.k = instance.exports as unknown as ModelKernelExports;
    const b = this.memory.buffer;
    this.f32 = new Float32Array(b);
    this.f64 = new Float64Array(b);
    this.i32 = new Int32Array(b);
    this.i8 = new Int8Array(b);
  }

  /**
   * A heap for `layout`, or null when WebAssembly SIMD is unavailable or the memory cannot be
   * had (a huge model on a small device): the caller then stays on the TypeScript path.
   */
  static create(layout: HeapLayout): ModelHeap | null {
    const module = modelKernelModule();
    if (module === null) return null;
    try {
      return new ModelHeap(module, layout.bytes);
    } catch (e) {
      if (e instanceof RangeError) return null;
      throw e;
    }
  }

  /**
   * Whether the weights changed since they were last copied in. Only when something changed
   * somewhere are the heap's own arrays looked up; if none of them changed, the heap is current.
   */
  get stale(): boolean {
    const synced = this.syncedRevision;
    if (synced === revision) return false;
    if (synced < 0 || changedAll > synced) return true;
    for (const a of this.sources) if ((changedAt.get(a.buffer) ?? -1) > synced) return true;
    this.syncedRevision = revision;
    return false;
  }

  /** Records that the weights were just copied in. */
  synced(): void {
    this.syncedRevision = revision;
  }

  /** Bytes of the whole memory. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }
}
