/**
 * A stack of int8 layers run with preallocated buffers, and its model-file tensors. The layers
 * come from quantize.ts (quantizeLayer over the float DenseLayers) or from a file; fine-tuning
 * updates their int8 weights and int32 biases in place.
 */
import { check, fail } from "../../core/errors.js";
import { type ModelFile, type Tensor, tensorOf } from "../io/format.js";
import { Int8StackKernel } from "../wasm/dense-stack.js";
import { modelKernelPath } from "../wasm/kernels.js";
import { dequantize, gemmInt8, gemvInt8, MAX_INT8_FAN_IN, quantizeInput, requantize } from "./kernels.js";
import type { QuantizedLayer } from "./quantize.js";

/**
 * A stack of int8 layers with preallocated buffers: int8 input in, float logits (and the float
 * input of the last layer, the embedding) out. Single-row calls allocate nothing.
 */
export class QuantizedStack {
  readonly layers: QuantizedLayer[];
  /** Per layer: s_in * s_W[c] (int32 accumulator -> float). */
  private readonly outScale: Float32Array[];
  /** Per hidden layer: s_in * s_W[c] / s_next (int32 accumulator -> next int8 input). */
  private readonly mult: Float32Array[];
  private readonly acts: Int8Array[];
  private readonly accs: Int32Array[];
  /** The SIMD form of the layers, made on the first single-row call that can use it. */
  private kernel: Int8StackKernel | null | undefined;

  constructor(layers: QuantizedLayer[]) {
    check(layers.length > 0, "int8: expected at least one layer");
    layers.forEach((l, i) => {
      if (l.wt.length !== l.inDim * l.outDim || l.wScale.length !== l.outDim || l.bias.length !== l.outDim)
        fail(
          "DIMENSION_MISMATCH",
          `int8: layer ${i} tensors do not match its shape ${l.inDim} x ${l.outDim}`,
        );
      if (i > 0 && layers[i - 1].outDim !== l.inDim)
        fail(
          "DIMENSION_MISMATCH",
          `int8: layer ${i - 1} outputs ${layers[i - 1].outDim}, layer ${i} expects ${l.inDim}`,
        );
      if (!(l.inScale > 0) || !Number.isFinite(l.inScale))
        fail("INVALID_ARGUMENT", `int8: layer ${i} input scale is ${l.inScale}; expected > 0`);
      if (l.inDim > MAX_INT8_FAN_IN)
        fail("UNSUPPORTED", `int8: layer ${i} fan-in ${l.inDim} > ${MAX_INT8_FAN_IN}`);
    });
    this.layers = layers;
    this.outScale = layers.map((l) => l.wScale.map((s) => l.inScale * s));
    this.mult = layers.map((_layer, i) =>
      i + 1 < layers.length ? this.outScale[i].map((s) => s / layers[i + 1].inScale) : new Float32Array(0),
    );
    this.acts = layers.map((l) => new Int8Array(l.inDim));
    this.accs = layers.map((l) => new Int32Array(l.outDim));
  }

  get inputDim(): number {
    return this.layers[0].inDim;
  }
  get outputDim(): number {
    return this.layers[this.layers.length - 1].outDim;
  }
  get embedDim(): number {
    return this.layers[this.layers.length - 1].inDim;
  }
  get inputScale(): number {
    return this.layers[0].inScale;
  }
  /** Stored bytes: int8 weights, float32 scales (one per channel + one per layer), int32 biases. */
  get bytes(): number {
    return this.layers.reduce((s, l) => s + l.wt.length + 4 * l.wScale.length + 4 * l.bias.length + 4, 0);
  }

  /** Quantizes a float input row with the first layer's input scale (rejects NaN / infinities). */
  quantizeInput(x: ArrayLike<number>, out = this.acts[0], xo = 0): Int8Array {
    return quantizeInput(x, this.layers[0].inScale, out, this.inputDim, xo);
  }

  /**
   * Runs the int8 layers on one int8 input (by default the buffer quantizeInput filled) and writes
   * float logits; when `embed` is given, also the dequantized input of the last layer.
   */
  forward(q0: Int8Array, logits: Float32Array, embed?: Float32Array): Float32Array {
    if (modelKernelPath() === "wasm-simd") {
      if (this.kernel === undefined) this.kernel = Int8StackKernel.create(this.layers);
      if (this.kernel !== null) return this.kernel.forward(q0, this.outScale, this.mult, logits, embed);
    }
    const L = this.layers.length;
    let q = q0;
    for (let l = 0; l < L; l++) {
      const layer = this.layers[l];
      if (l === L - 1 && embed) for (let j = 0; j < layer.inDim; j++) embed[j] = q[j] * layer.inScale;
      const acc = gemvInt8(layer.wt, q, layer.inDim, layer.outDim, layer.bias, this.accs[l]);
      if (l === L - 1) dequantize(acc, this.outScale[l], layer.relu, logits);
      else q = requantize(acc, this.mult[l], layer.relu, this.acts[l + 1]);
    }
    return logits;
  }

  /** Batch version over n row-major int8 inputs (4-row blocked GEMM). */
  forwardBatch(q0: Int8Array, n: number, logits: Float32Array, embed?: Float32Array): Float32Array {
    const L = this.layers.length;
    let q = q0;
    for (let l = 0; l < L; l++) {
      const layer = this.layers[l];
      if (l === L - 1 && embed) for (let k = 0; k < n * layer.inDim; k++) embed[k] = q[k] * layer.inScale;
      const acc = gemmInt8(
        layer.wt,
        q,
        n,
        layer.inDim,
        layer.outDim,
        layer.bias,
        new Int32Array(n * layer.outDim),
      );
      if (l === L - 1) {
        for (let i = 0; i < n; i++)
          dequantize(
            acc,
            this.outScale[l],
            layer.relu,
            logits,
            layer.outDim,
            i * layer.outDim,
            i * layer.outDim,
          );
      } else {
        const next = new Int8Array(n * layer.outDim);
        for (let i = 0; i < n; i++)
          requantize(acc, this.mult[l], layer.relu, next, layer.outDim, i * layer.outDim, i * layer.outDim);
        q = next;
      }
    }
    return logits;
  }
}

/**
 * An int8 stack as model-file tensors: per layer `layerI.weight` (i8, [in, out], input-major),
 * `layerI.wScale` (f32, [out]), `layerI.bias` (i32, [out]), and `inScales` (f32, one per layer).
 */
export function stackTensors(stack: QuantizedStack): Tensor[] {
  const t: Tensor[] = stack.layers.flatMap((l, i) => [
    { name: `layer${i}.weight`, shape: [l.inDim, l.outDim], data: l.wt },
    { name: `layer${i}.wScale`, shape: [l.outDim], data: l.wScale },
    { name: `layer${i}.bias`, shape: [l.outDim], data: l.bias },
  ]);
  t.push({
    name: "inScales",
    shape: [stack.layers.length],
    data: Float32Array.from(stack.layers, (l) => l.inScale),
  });
  return t;
}

/**
 * Reads an int8 stack whose layer sizes must be `dims` (dims[0] inputs, then each layer's
 * outputs) with ReLU after every layer but the last; rejects missing, extra or misshapen tensors.
 */
export function stackFromFile(file: ModelFile, dims: readonly number[]): QuantizedStack {
  const L = dims.length - 1;
  const expected = new Set(["inScales"]);
  for (let i = 0; i < L; i++) for (const k of ["weight", "wScale", "bias"]) expected.add(`layer${i}.${k}`);
  for (const t of file.tensors)
    if (!expected.has(t.name) && t.name !== "center")
      fail("BAD_FILE", `int8 model file: unexpected tensor "${t.name}" for ${file.spec}`);
  const inScales = tensorOf<Float32Array>(file, "inScales", "f32", [L]);
  const layers: QuantizedLayer[] = [];
  for (let i = 0; i < L; i++) {
    const [inDim, outDim] = [dims[i], dims[i + 1]];
    const wScale = tensorOf<Float32Array>(file, `layer${i}.wScale`, "f32", [outDim]);
    for (const s of wScale)
      if (!(s > 0) || !Number.isFinite(s))
        fail("BAD_FILE", `int8 model file: layer ${i} has weight scale ${s}; expected > 0`);
    layers.push({
      inDim,
      outDim,
      relu: i < L - 1,
      wt: tensorOf<Int8Array>(file, `layer${i}.weight`, "i8", [inDim, outDim]),
      wScale,
      inScale: inScales[i],
      bias: tensorOf<Int32Array>(file, `layer${i}.bias`, "i32", [outDim]),
    });
  }
  try {
    return new QuantizedStack(layers);
  } catch (e) {
    return fail("BAD_FILE", `int8 model file: ${(e as Error).message}`);
  }
}
