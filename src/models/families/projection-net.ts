/**
 * ProjectionNet (Ravi 2017): T projection functions of d sign bits each,
 * P^t_k(x) = [<x - center, r_{t,k}> > 0], from fixed random hyperplanes regenerated from a stored
 * seed (never stored as weights), packed 32 to a Uint32 word; then optionally one dense layer
 * (ReLU) and a softmax layer over the T*d bits taken as 0/1 features.
 *
 * Why the layer above the bits is cheap: with 0/1 features, W·x is the sum of the weight columns
 * of the set bits, so the first trainable layer costs (#set bits) x outDim additions and no
 * multiply. The layers above the bits are the shared float DenseLayers (W out×in); the sums run
 * in float32 (rounded after every addition), which the saved figures depend on.
 * The projection itself is the expensive part (T*d dot products with the input); hyperplanes are
 * kept input-major so that zero pixels (most of an MNIST digit) cost nothing.
 *
 * `bytes` counts what is stored: the trainable layers (4 bytes per float32 parameter, or the int8
 * form's bytes), the 4-byte seed, and the optional per-feature centering vector as float32.
 */
import { check, fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { type DenseLayer, denseForwardRowF32 } from "../engine/dense-layer.js";
import { checkBatchShape } from "../engine/network.js";
import { softmaxInPlace } from "../engine/softmax.js";
import type { Model } from "../types.js";
import { FloatStackKernel } from "../wasm/dense-stack.js";
import { modelKernelPath } from "../wasm/kernels.js";
import { ProjectionKernel, type SignedLists } from "../wasm/projection-kernel.js";

export type HyperplaneKind = "gaussian" | "sparse" | "very-sparse";
export const HYPERPLANE_KINDS: readonly HyperplaneKind[] = ["gaussian", "sparse", "very-sparse"];

export interface ProjectionConfig {
  inputDim: number;
  /** Number of projection functions. */
  T: number;
  /** Bits per projection function. */
  d: number;
  seed: number;
  /**
   * Gaussian entries; sparse ±1 (Achlioptas: ±1 with probability 1/6 each, else 0); or very
   * sparse ±1 (Li, Hastie & Church 2006: ±1 with probability 1/(2 sqrt(inputDim)) each, else 0,
   * about sqrt(inputDim) inputs per hyperplane).
   */
  planes: HyperplaneKind;
}

/** The fixed random projection x -> T*d packed sign bits. */
export class LshProjection {
  readonly config: ProjectionConfig;
  readonly inputDim: number;
  readonly bits: number;
  readonly words: number;
  /** Subtracted from x before projecting (null = none); e.g. the training mean. */
  readonly center: Float32Array | null;
  /** Gaussian hyperplanes input-major: planes[j * bits + k] is coordinate j of hyperplane k. */
  private readonly planes: Float32Array | null;
  /** ±1 hyperplanes input-major as lists (sparse kinds): only the non-zero entries are visited. */
  private readonly lists: SignedLists | null;
  /** The SIMD form (made on first use; null where unavailable). */
  private kernel: ProjectionKernel | null | undefined;
  /** <center, r_k>, so that <x - center, r_k> = <x, r_k> - offset[k] with sparse x. */
  private readonly offset: Float64Array;
  private readonly acc: Float64Array;
  private readonly nonZero: Int32Array;

  constructor(config: ProjectionConfig, center: Float32Array | null = null) {
    const { inputDim, T, d, seed, planes } = config;
    for (const [k, v] of [
      ["inputDim", inputDim],
      ["T", T],
      ["d", d],
    ] as const)
      check(Number.isInteger(v) && v > 0, () => `projection: ${k} must be a positive integer, got ${v}`);
    check(Number.isFinite(seed), () => `projection: seed must be a finite number, got ${seed}`);
    if (!HYPERPLANE_KINDS.includes(planes))
      fail(
        "UNKNOWN_NAME",
        `projection: unknown hyperplane kind "${planes}"; expected ${HYPERPLANE_KINDS.join(" or ")}`,
      );
    if (center && center.length !== inputDim)
      fail("DIMENSION_MISMATCH", `projection: center has ${center.length} values, expected ${inputDim}`);
    this.config = { ...config };
    this.inputDim = inputDim;
    this.bits = T * d;
    this.words = Math.ceil(this.bits / 32);
    this.center = center;
    const dense = generateHyperplanes(config);
    this.lists = planes === "gaussian" ? null : signedLists(dense, inputDim, this.bits);
    this.planes = this.lists ? null : dense;
    this.offset = new Float64Array(this.bits);
    if (center) {
      for (let j = 0; j < inputDim; j++) {
        const c = center[j];
        if (c === 0) continue;
        const o = j * this.bits;
        for (let k = 0; k < this.bits; k++) this.offset[k] += c * dense[o + k];
      }
    }
    this.acc = new Float64Array(this.bits);
    this.nonZero = new Int32Array(inputDim);
  }

  /** Hyperplane k as a dense vector (for tests and inspection). */
  hyperplane(k: number): Float32Array {
    check(
      Number.isInteger(k) && k >= 0 && k < this.bits,
      () => `projection: hyperplane ${k} not in [0, ${this.bits})`,
    );
    const r = new Float32Array(this.inputDim);
    const { planes, lists } = this;
    if (planes) for (let j = 0; j < this.inputDim; j++) r[j] = planes[j * this.bits + k];
    else if (lists)
      for (let j = 0; j < this.inputDim; j++)
        for (let e = lists.off[2 * j]; e < lists.off[2 * j + 2]; e++)
          if (lists.ent[e] === k) r[j] = e < lists.off[2 * j + 1] ? 1 : -1;
    return r;
  }

  /** Whether the hyperplanes are stored as ±1 lists (the sparse kinds) rather than dense floats. */
  get signed(): boolean {
    return this.lists !== null;
  }

  /**
   * The bits of x as 0/1 floats in out[0 .. bits): on the SIMD kernel when the model path is
   * "wasm-simd" (identical bits for the ±1 kinds; Gaussian sums in float32 there), else from
   * {@link project}. Rejects non-finite input.
   */
  features(
    x: Float32Array,
    out: Float32Array,
    words: Uint32Array = new Uint32Array(this.words),
  ): Float32Array {
    const kernel = modelKernelPath() === "wasm-simd" ? this.simd() : null;
    if (kernel === null) return unpackBits(this.project(x, words), this.bits, out);
    for (let j = 0; j < this.inputDim; j++)
      if (!Number.isFinite(x[j]))
        fail("INVALID_ARGUMENT", `projection: input value ${j} is ${x[j]}; expected a finite number`);
    return kernel.features(x, out);
  }

  private simd(): ProjectionKernel | null {
    if (this.kernel === undefined) {
      const init = Float64Array.from(this.offset, (o) => -o);
      this.kernel = this.lists
        ? ProjectionKernel.create(this.inputDim, this.bits, { kind: "signed", lists: this.lists, init })
        : ProjectionKernel.create(this.inputDim, this.bits, {
            kind: "dense",
            planes: this.planes as Float32Array,
            bias: Float32Array.from(init),
          });
    }
    return this.kernel;
  }

  /** Packs the bits of x (row at offset xo) into out[oo .. oo + words). Rejects non-finite input. */
  project(x: ArrayLike<number>, out: Uint32Array = new Uint32Array(this.words), xo = 0, oo = 0): Uint32Array {
    const bits = this.bits;
    const acc = this.acc;
    const nz = this.nonZero;
    let m = 0;
    for (let j = 0; j < this.inputDim; j++) {
      const v = x[xo + j];
      if (v === 0) continue;
      if (!Number.isFinite(v))
        fail("INVALID_ARGUMENT", `projection: input value ${j} is ${v}; expected a finite number`);
      nz[m++] = j;
    }
    for (let k = 0; k < bits; k++) acc[k] = -this.offset[k];
    if (this.lists) {
      // ±1 hyperplanes: add or subtract each non-zero input where its lists say, in input order.
      const { off, ent } = this.lists;
      for (let t = 0; t < m; t++) {
        const j = nz[t];
        const v = x[xo + j];
        const mid = off[2 * j + 1];
        const end = off[2 * j + 2];
        let e = off[2 * j];
        for (; e < mid; e++) acc[ent[e]] += v;
        for (; e < end; e++) acc[ent[e]] -= v;
      }
      return packSigns(acc, bits, out, oo, this.words);
    }
    const planes = this.planes as Float32Array;
    // Eight (then four) non-zero inputs per pass over the accumulators: an eighth of the
    // read-modify-writes of one input at a time (measured 2x+ faster on Fashion-MNIST).
    let t = 0;
    for (; t + 8 <= m; t += 8) {
      const v0 = x[xo + nz[t]];
      const v1 = x[xo + nz[t + 1]];
      const v2 = x[xo + nz[t + 2]];
      const v3 = x[xo + nz[t + 3]];
      const v4 = x[xo + nz[t + 4]];
      const v5 = x[xo + nz[t + 5]];
      const v6 = x[xo + nz[t + 6]];
      const v7 = x[xo + nz[t + 7]];
      const o0 = nz[t] * bits;
      const o1 = nz[t + 1] * bits;
      const o2 = nz[t + 2] * bits;
      const o3 = nz[t + 3] * bits;
      const o4 = nz[t + 4] * bits;
      const o5 = nz[t + 5] * bits;
      const o6 = nz[t + 6] * bits;
      const o7 = nz[t + 7] * bits;
      for (let k = 0; k < bits; k++)
        acc[k] +=
          v0 * planes[o0 + k] +
          v1 * planes[o1 + k] +
          v2 * planes[o2 + k] +
          v3 * planes[o3 + k] +
          v4 * planes[o4 + k] +
          v5 * planes[o5 + k] +
          v6 * planes[o6 + k] +
          v7 * planes[o7 + k];
    }
    for (; t + 4 <= m; t += 4) {
      const j0 = nz[t];
      const j1 = nz[t + 1];
      const j2 = nz[t + 2];
      const j3 = nz[t + 3];
      const v0 = x[xo + j0];
      const v1 = x[xo + j1];
      const v2 = x[xo + j2];
      const v3 = x[xo + j3];
      const o0 = j0 * bits;
      const o1 = j1 * bits;
      const o2 = j2 * bits;
      const o3 = j3 * bits;
      for (let k = 0; k < bits; k++)
        acc[k] += v0 * planes[o0 + k] + v1 * planes[o1 + k] + v2 * planes[o2 + k] + v3 * planes[o3 + k];
    }
    for (; t < m; t++) {
      const v = x[xo + nz[t]];
      const o = nz[t] * bits;
      for (let k = 0; k < bits; k++) acc[k] += v * planes[o + k];
    }
    return packSigns(acc, bits, out, oo, this.words);
  }

  /** n x words packed bits for n row-major inputs. */
  projectBatch(x: Float32Array, n: number): Uint32Array {
    if (x.length !== n * this.inputDim)
      fail(
        "DIMENSION_MISMATCH",
        `projection: ${n} rows of ${this.inputDim} need ${n * this.inputDim} values, got ${x.length}`,
      );
    const out = new Uint32Array(n * this.words);
    for (let i = 0; i < n; i++) this.project(x, out, i * this.inputDim, i * this.words);
    return out;
  }
}

/** Bit k of out (from word oo) = acc[k] > 0. */
function packSigns(
  acc: Float64Array,
  bits: number,
  out: Uint32Array,
  oo: number,
  words: number,
): Uint32Array {
  out.fill(0, oo, oo + words);
  for (let k = 0; k < bits; k++) if (acc[k] > 0) out[oo + (k >>> 5)] |= 1 << (k & 31);
  return out;
}

/** ±1 input-major hyperplanes as lists: for input j, the hyperplanes where it is +1, then -1. */
export function signedLists(planes: Float32Array, inputDim: number, bits: number): SignedLists {
  const off = new Int32Array(2 * inputDim + 1);
  let count = 0;
  for (let i = 0; i < planes.length; i++) if (planes[i] !== 0) count++;
  const ent = new Int32Array(count);
  let e = 0;
  for (let j = 0; j < inputDim; j++) {
    const o = j * bits;
    off[2 * j] = e;
    for (let k = 0; k < bits; k++) if (planes[o + k] === 1) ent[e++] = k;
    off[2 * j + 1] = e;
    for (let k = 0; k < bits; k++) if (planes[o + k] === -1) ent[e++] = k;
  }
  off[2 * inputDim] = e;
  return { off, ent };
}

/** T*d hyperplanes from the seed, generated hyperplane by hyperplane, stored input-major. */
export function generateHyperplanes(config: ProjectionConfig): Float32Array {
  const { inputDim, T, d, seed, planes: kind } = config;
  const bits = T * d;
  const rng = new Rng(seed);
  const planes = new Float32Array(inputDim * bits);
  // Very sparse (Li, Hastie & Church 2006): s = sqrt(inputDim), ±1 with probability 1/(2s) each.
  const density = 1 / Math.sqrt(inputDim);
  for (let k = 0; k < bits; k++) {
    for (let j = 0; j < inputDim; j++) {
      let v: number;
      if (kind === "gaussian") v = rng.normal();
      else if (kind === "very-sparse") v = rng.next() < density ? ((rng.nextU32() & 1) === 0 ? 1 : -1) : 0;
      else {
        const u = rng.nextU32() % 6;
        v = u === 0 ? 1 : u === 1 ? -1 : 0;
      }
      planes[j * bits + k] = v;
    }
  }
  return planes;
}

/** Bit k of packed words at offset wo. */
export function getBit(words: Uint32Array, k: number, wo = 0): number {
  return (words[wo + (k >>> 5)] >>> (k & 31)) & 1;
}

/** Expands packed bits to 0/1 values (float or int8). */
export function unpackBits<A extends Float32Array | Int8Array>(
  words: Uint32Array,
  bits: number,
  out: A,
  wo = 0,
  oo = 0,
): A {
  for (let k = 0; k < bits; k++) out[oo + k] = (words[wo + (k >>> 5)] >>> (k & 31)) & 1;
  return out;
}

/**
 * acc = b + the sum over set bits j of column j of W (then the layer's ReLU): a dense layer over
 * 0/1 bit features without a single multiply. The set bits are listed first (into `setBits`,
 * at least layer.inDim long), then four outputs at a time sum their weights in float32, in
 * ascending bit order, keeping the sums in registers: measured about twice as fast as adding
 * one input-major weight row per set bit into the output buffer, with the same roundings.
 */
export function denseOverSetBits(
  words: Uint32Array,
  nWords: number,
  layer: DenseLayer,
  acc: Float32Array,
  setBits: Int32Array = new Int32Array(layer.inDim),
): Float32Array {
  const { W: w, b, inDim: k, outDim: out } = layer;
  let nz = 0;
  for (let i = 0; i < nWords; i++) {
    let m = words[i];
    while (m !== 0) {
      const low = m & -m;
      setBits[nz++] = (i << 5) + 31 - Math.clz32(low);
      m ^= low;
    }
  }
  const f32 = Math.fround;
  let c = 0;
  for (; c + 4 <= out; c += 4) {
    const w0 = c * k;
    const w1 = w0 + k;
    const w2 = w1 + k;
    const w3 = w2 + k;
    let s0 = b[c];
    let s1 = b[c + 1];
    let s2 = b[c + 2];
    let s3 = b[c + 3];
    for (let t = 0; t < nz; t++) {
      const j = setBits[t];
      s0 = f32(s0 + w[w0 + j]);
      s1 = f32(s1 + w[w1 + j]);
      s2 = f32(s2 + w[w2 + j]);
      s3 = f32(s3 + w[w3 + j]);
    }
    acc[c] = s0;
    acc[c + 1] = s1;
    acc[c + 2] = s2;
    acc[c + 3] = s3;
  }
  for (; c < out; c++) {
    const w0 = c * k;
    let s = b[c];
    for (let t = 0; t < nz; t++) s = f32(s + w[w0 + setBits[t]]);
    acc[c] = s;
  }
  if (layer.relu) for (let o = 0; o < out; o++) if (acc[o] < 0) acc[o] = 0;
  return acc;
}

/** A trained ProjectionNet (float): projection + 1 or 2 dense layers over the bits. */
export class ProjectionNet implements Model {
  readonly kind = "projection";
  readonly spec: string;
  /** Fixed after training (training replaces it once when it learns a centering vector). */
  projection: LshProjection;
  /** head[0] reads the T*d bits; with a dense layer, head = [fc (ReLU), softmax layer]. */
  readonly head: readonly DenseLayer[];
  private readonly words: Uint32Array;
  private readonly setBits: Int32Array;
  private readonly hidden: Float32Array;
  /** The SIMD form of the head and a view of its input buffer (made on first use). */
  private headKernel: { kernel: FloatStackKernel; input: Float32Array } | null | undefined;

  constructor(spec: string, projection: LshProjection, head: readonly DenseLayer[]) {
    check(
      head.length === 1 || head.length === 2,
      () => `projection: expected 1 or 2 dense layers, got ${head.length}`,
    );
    if (head[0].inDim !== projection.bits)
      fail(
        "DIMENSION_MISMATCH",
        `projection: first dense layer expects ${head[0].inDim} inputs, projection has ${projection.bits} bits`,
      );
    if (head.length === 2 && head[1].inDim !== head[0].outDim)
      fail(
        "DIMENSION_MISMATCH",
        `projection: dense layers ${head[0].outDim} -> ${head[1].inDim} do not chain`,
      );
    head.forEach((l, i) => {
      check(
        l.relu === i < head.length - 1,
        () => `projection: dense layer ${i} must ${i < head.length - 1 ? "" : "not "}end in a ReLU`,
      );
      if (l.W.length !== l.inDim * l.outDim || l.b.length !== l.outDim)
        fail(
          "DIMENSION_MISMATCH",
          `projection: dense layer ${i} tensors do not match ${l.inDim} x ${l.outDim}`,
        );
    });
    this.spec = spec;
    this.projection = projection;
    this.head = head;
    this.words = new Uint32Array(projection.words);
    this.setBits = new Int32Array(projection.bits);
    this.hidden = new Float32Array(head[0].outDim);
  }

  get inputDim(): number {
    return this.projection.inputDim;
  }
  get numClasses(): number {
    return this.head[this.head.length - 1].outDim;
  }
  /** The fc layer's output with a dense layer, else the T*d bits as 0/1. */
  get embedDim(): number {
    return this.head[this.head.length - 1].inDim;
  }
  get bytes(): number {
    const params = this.head.reduce((s, l) => s + l.W.length + l.b.length, 0);
    return 4 * params + 4 + (this.projection.center ? 4 * this.projection.inputDim : 0);
  }

  predictProba(x: Float32Array, out = new Float32Array(this.numClasses)): Float32Array {
    return this.forward(x, null, out);
  }

  embed(x: Float32Array, out = new Float32Array(this.embedDim)): Float32Array {
    this.forward(x, out, null);
    return out;
  }

  embedAndPredict(
    x: Float32Array,
    embedOut = new Float32Array(this.embedDim),
    probaOut = new Float32Array(this.numClasses),
  ): { embedding: Float32Array; proba: Float32Array } {
    this.forward(x, embedOut, probaOut);
    return { embedding: embedOut, proba: probaOut };
  }

  predictProbaBatch(x: Float32Array, n: number): Float32Array {
    const k = this.numClasses;
    const out = new Float32Array(n * k);
    this.checkBatch(x, n);
    for (let i = 0; i < n; i++)
      this.forward(
        x.subarray(i * this.inputDim, (i + 1) * this.inputDim),
        null,
        out.subarray(i * k, (i + 1) * k),
      );
    return out;
  }

  embedBatch(x: Float32Array, n: number): Float32Array {
    const e = this.embedDim;
    const out = new Float32Array(n * e);
    this.checkBatch(x, n);
    for (let i = 0; i < n; i++)
      this.forward(
        x.subarray(i * this.inputDim, (i + 1) * this.inputDim),
        out.subarray(i * e, (i + 1) * e),
        null,
      );
    return out;
  }

  private forward(x: Float32Array, embed: Float32Array | null, proba: Float32Array | null): Float32Array {
    if (x.length !== this.inputDim)
      fail(
        "DIMENSION_MISMATCH",
        `${this.spec}: expected an input of ${this.inputDim} values, got ${x.length}`,
      );
    if (modelKernelPath() === "wasm-simd") {
      if (this.headKernel === undefined) {
        const kernel = FloatStackKernel.create(this.head);
        this.headKernel = kernel && {
          kernel,
          input: kernel.heap.f32.subarray(kernel.inputAt, kernel.inputAt + this.projection.bits),
        };
      }
      if (this.headKernel !== null) return this.forwardSimd(this.headKernel, x, embed, proba);
    }
    const words = this.projection.project(x, this.words);
    const first = this.head[0];
    if (this.head.length === 1) {
      if (embed) unpackBits(words, this.projection.bits, embed);
      if (!proba) return embed as Float32Array;
      denseOverSetBits(words, this.projection.words, first, proba, this.setBits);
      return softmaxInPlace(proba);
    }
    const h = denseOverSetBits(words, this.projection.words, first, this.hidden, this.setBits);
    if (embed) embed.set(h);
    if (!proba) return embed as Float32Array;
    return softmaxInPlace(denseForwardRowF32(this.head[1], h, proba));
  }

  /** forward on the SIMD kernels: the bits go straight into the head's input buffer. */
  private forwardSimd(
    simd: { kernel: FloatStackKernel; input: Float32Array },
    x: Float32Array,
    embed: Float32Array | null,
    proba: Float32Array | null,
  ): Float32Array {
    const { kernel, input } = simd;
    this.projection.features(x, input, this.words);
    const f = kernel.heap.f32;
    const last = this.head.length - 1;
    if (proba || last > 0) kernel.run(proba ? last + 1 : last);
    if (embed) {
      const at = last === 0 ? kernel.inputAt : kernel.outputAt(0);
      for (let j = 0; j < embed.length; j++) embed[j] = f[at + j];
    }
    if (!proba) return embed as Float32Array;
    const at = kernel.outputAt(last);
    for (let j = 0; j < proba.length; j++) proba[j] = f[at + j];
    return softmaxInPlace(proba);
  }

  private checkBatch(x: Float32Array, n: number): void {
    checkBatchShape(this.spec, x, n, this.inputDim);
  }
}
