/**
 * Layers of the training engine: Dense (affine) and ReLU. The softmax and its cross-entropy
 * losses are in softmax.ts.
 *
 * A layer transforms a minibatch of n row-major rows. Layers hold no activations: the network
 * owns one buffer per layer boundary (see network.ts) and passes a layer its input and output
 * on the backward pass, so activation memory is visible in one place. Each layer owns its
 * parameter and gradient Float32Arrays as {@link Param}s; a gradient buffer is allocated on the
 * first backward pass that needs it, so a frozen tensor never costs gradient memory and memory
 * accounting can sum the buffers that actually exist.
 */
import { check } from "../../core/errors.js";
import type { Rng } from "../../core/rng.js";
import { gemmAB, gemmABt, gemmAtB } from "./matmul.js";

/** One trainable tensor with its gradient. */
export interface Param {
  /** Unique within a network, e.g. "dense0.weight". */
  readonly name: string;
  readonly shape: readonly number[];
  readonly value: Float32Array;
  /** Same length as value once allocated; null while the tensor has never needed a gradient. */
  grad: Float32Array | null;
  /** When false, backward passes skip this tensor's gradient and optimizers leave it alone. */
  trainable: boolean;
  /** Whether weight decay applies (weights yes, biases no). */
  readonly decay: boolean;
}

export function makeParam(name: string, shape: readonly number[], decay: boolean): Param {
  const size = shape.reduce((a, b) => a * b, 1);
  return { name, shape, value: new Float32Array(size), grad: null, trainable: true, decay };
}

/** The gradient buffer of a trainable param, allocated on first use. */
export function gradOf(p: Param): Float32Array {
  if (p.grad === null) p.grad = new Float32Array(p.value.length);
  return p.grad;
}

export interface Layer {
  readonly kind: string;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly params: readonly Param[];
  /** y[n×outputDim] = f(x[n×inputDim]). */
  forward(x: Float32Array, y: Float32Array, n: number): void;
  /**
   * Given the forward input x, output y and dL/dy, writes (overwrites) the gradients of the
   * trainable params and, when `dx` is not null, dL/dx. `dy` may be clobbered.
   */
  backward(x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number): void;
}

/**
 * y = x·Wᵀ + b with W stored out×in (row o = the weights of output unit o), the layout that makes
 * the forward pass and per-output-channel quantization read contiguous memory.
 */
export class Dense implements Layer {
  readonly kind = "dense";
  readonly weight: Param;
  readonly bias: Param;
  readonly params: readonly Param[];

  constructor(
    readonly inputDim: number,
    readonly outputDim: number,
    readonly name = "dense",
  ) {
    check(
      Number.isInteger(inputDim) && inputDim > 0 && Number.isInteger(outputDim) && outputDim > 0,
      () => `Dense: expected positive integer sizes, got ${inputDim}×${outputDim}`,
    );
    this.weight = makeParam(`${name}.weight`, [outputDim, inputDim], true);
    this.bias = makeParam(`${name}.bias`, [outputDim], false);
    this.params = [this.weight, this.bias];
  }

  /** He (Kaiming) normal init, std = sqrt(2 / fanIn), right for ReLU; biases zero. */
  initHe(rng: Rng, gain = 2): this {
    const std = Math.sqrt(gain / this.inputDim);
    const w = this.weight.value;
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
    this.bias.value.fill(0);
    return this;
  }

  forward(x: Float32Array, y: Float32Array, n: number): void {
    gemmABt(x, this.weight.value, y, n, this.outputDim, this.inputDim, false, this.bias.value);
  }

  backward(x: Float32Array, _y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number): void {
    const out = this.outputDim;
    if (this.weight.trainable) gemmAtB(dy, x, gradOf(this.weight), out, this.inputDim, n);
    if (this.bias.trainable) {
      const db = gradOf(this.bias);
      db.fill(0);
      for (let r = 0; r < n; r++) {
        const o = r * out;
        for (let j = 0; j < out; j++) db[j] += dy[o + j];
      }
    }
    if (dx) gemmAB(dy, this.weight.value, dx, n, this.inputDim, out);
  }

  /**
   * Single-example forward without the blocked kernel's overheads (the serving hot path).
   * Images and ReLU outputs are about half zeros (MNIST digits four fifths), so the nonzero
   * inputs are gathered first and each output sums over those only; the index buffers are
   * allocated once per layer, so a call allocates nothing.
   */
  forwardOne(x: Float32Array, y: Float32Array, relu: boolean): void {
    const w = this.weight.value;
    const b = this.bias.value;
    const k = this.inputDim;
    const out = this.outputDim;
    if (this.nzIndex === null) {
      this.nzIndex = new Int32Array(k);
      this.nzValue = new Float32Array(k);
    }
    const idx = this.nzIndex;
    const val = this.nzValue as Float32Array;
    let nz = 0;
    if (out < GATHER_MIN_OUTPUTS) {
      this.forwardOneDense(x, y, relu);
      return;
    }
    for (let p = 0; p < k; p++) {
      const v = x[p];
      if (v !== 0) {
        idx[nz] = p;
        val[nz++] = v;
      }
    }
    let o = 0;
    for (; o + 4 <= out; o += 4) {
      const w0 = o * k;
      const w1 = w0 + k;
      const w2 = w1 + k;
      const w3 = w2 + k;
      let s0 = b[o];
      let s1 = b[o + 1];
      let s2 = b[o + 2];
      let s3 = b[o + 3];
      for (let t = 0; t < nz; t++) {
        const p = idx[t];
        const v = val[t];
        s0 += v * w[w0 + p];
        s1 += v * w[w1 + p];
        s2 += v * w[w2 + p];
        s3 += v * w[w3 + p];
      }
      y[o] = relu && s0 < 0 ? 0 : s0;
      y[o + 1] = relu && s1 < 0 ? 0 : s1;
      y[o + 2] = relu && s2 < 0 ? 0 : s2;
      y[o + 3] = relu && s3 < 0 ? 0 : s3;
    }
    for (; o < out; o++) {
      const w0 = o * k;
      let s = b[o];
      for (let t = 0; t < nz; t++) s += val[t] * w[w0 + idx[t]];
      y[o] = relu && s < 0 ? 0 : s;
    }
  }

  /** Few outputs (logistic regression) do not amortize the gather: skip zeros in place instead. */
  private forwardOneDense(x: Float32Array, y: Float32Array, relu: boolean): void {
    const w = this.weight.value;
    const b = this.bias.value;
    const k = this.inputDim;
    const out = this.outputDim;
    let o = 0;
    for (; o + 4 <= out; o += 4) {
      const w0 = o * k;
      const w1 = w0 + k;
      const w2 = w1 + k;
      const w3 = w2 + k;
      let s0 = b[o];
      let s1 = b[o + 1];
      let s2 = b[o + 2];
      let s3 = b[o + 3];
      for (let p = 0; p < k; p++) {
        const v = x[p];
        if (v === 0) continue;
        s0 += v * w[w0 + p];
        s1 += v * w[w1 + p];
        s2 += v * w[w2 + p];
        s3 += v * w[w3 + p];
      }
      y[o] = relu && s0 < 0 ? 0 : s0;
      y[o + 1] = relu && s1 < 0 ? 0 : s1;
      y[o + 2] = relu && s2 < 0 ? 0 : s2;
      y[o + 3] = relu && s3 < 0 ? 0 : s3;
    }
    for (; o < out; o++) {
      const w0 = o * k;
      let s = b[o];
      for (let p = 0; p < k; p++) s += x[p] * w[w0 + p];
      y[o] = relu && s < 0 ? 0 : s;
    }
  }

  private nzIndex: Int32Array | null = null;
  private nzValue: Float32Array | null = null;
}

/** Output count from which the single-example path gathers nonzero inputs first. */
const GATHER_MIN_OUTPUTS = 16;

/** y = max(0, x). Its backward pass reads the saved output: dx = dy where y > 0. */
export class ReLU implements Layer {
  readonly kind = "relu";
  readonly params: readonly Param[] = [];
  readonly outputDim: number;

  constructor(readonly inputDim: number) {
    this.outputDim = inputDim;
  }

  forward(x: Float32Array, y: Float32Array, n: number): void {
    const len = n * this.inputDim;
    for (let i = 0; i < len; i++) {
      const v = x[i];
      // biome-ignore lint/complexity/useMathMinMax: a compare is cheaper than a call in this hot loop.
      y[i] = v > 0 ? v : 0;
    }
  }

  backward(_x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array | null, n: number): void {
    if (!dx) return;
    const len = n * this.inputDim;
    for (let i = 0; i < len; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
  }
}
