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
import { check, fail } from "../../core/errors.js";
import type { Rng } from "../../core/rng.js";
import { markWeightsChanged } from "../wasm/kernels.js";
import { type DenseLayer, denseForwardRow, type GatherScratch, gatherScratch } from "./dense-layer.js";
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

/** A param over `value` (a new zero array by default). */
export function makeParam(
  name: string,
  shape: readonly number[],
  decay: boolean,
  value: Float32Array = new Float32Array(shape.reduce((a, b) => a * b, 1)),
): Param {
  return { name, shape, value, grad: null, trainable: true, decay };
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
 * The trainable form of a {@link DenseLayer}: y = x·Wᵀ + b, W stored out×in (row o = the weights
 * of output unit o). Its `weight` and `bias` params are the arrays of a DenseLayer, so training
 * writes the very arrays quantization, fine-tuning and export read. The ReLU a DenseLayer may
 * carry is a separate engine layer here, because the backward pass needs its output.
 */
export class Dense implements Layer {
  readonly kind = "dense";
  readonly weight: Param;
  readonly bias: Param;
  readonly params: readonly Param[];
  /** The params' arrays as a DenseLayer (without the ReLU, which is a separate engine layer). */
  private readonly view: DenseLayer;
  /** Gather buffers of the single-row path, made on its first call. */
  private scratch: GatherScratch | null = null;

  constructor(
    readonly inputDim: number,
    readonly outputDim: number,
    readonly name = "dense",
    arrays?: { W: Float32Array; b: Float32Array },
  ) {
    check(
      Number.isInteger(inputDim) && inputDim > 0 && Number.isInteger(outputDim) && outputDim > 0,
      () => `Dense: expected positive integer sizes, got ${inputDim}×${outputDim}`,
    );
    if (arrays && (arrays.W.length !== inputDim * outputDim || arrays.b.length !== outputDim))
      fail(
        "DIMENSION_MISMATCH",
        `Dense: ${arrays.W.length} weights and ${arrays.b.length} biases for ${inputDim}×${outputDim}`,
      );
    this.weight = makeParam(`${name}.weight`, [outputDim, inputDim], true, arrays?.W);
    this.bias = makeParam(`${name}.bias`, [outputDim], false, arrays?.b);
    this.params = [this.weight, this.bias];
    this.view = { inDim: inputDim, outDim: outputDim, W: this.weight.value, b: this.bias.value, relu: false };
  }

  /** A Dense layer training `layer`'s own arrays in place (its ReLU is not included). */
  static over(layer: DenseLayer, name: string): Dense {
    return new Dense(layer.inDim, layer.outDim, name, layer);
  }

  /** He (Kaiming) normal init, std = sqrt(2 / fanIn), right for ReLU; biases zero. */
  initHe(rng: Rng, gain = 2): this {
    const std = Math.sqrt(gain / this.inputDim);
    const w = this.weight.value;
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
    this.bias.value.fill(0);
    markWeightsChanged(this.weight.value, this.bias.value);
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
   * Single-example forward without the blocked kernel's overheads (the serving hot path), with
   * the ReLU that follows this layer fused in when `relu`. Allocates nothing: the gather buffers
   * are made once per layer.
   */
  forwardOne(x: Float32Array, y: Float32Array, relu: boolean): void {
    if (this.scratch === null) this.scratch = gatherScratch(this.inputDim);
    denseForwardRow(this.view, x, y, relu, this.scratch);
  }

  /** This layer's weights as the shared float representation: views of its params, no copy. */
  asDenseLayer(relu: boolean): DenseLayer {
    return { ...this.view, relu };
  }
}

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
