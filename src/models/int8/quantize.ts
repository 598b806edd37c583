/**
 * int8 post-training quantization of dense stacks (logreg, MLPs, ProjectionNet's layers above the
 * bits), as on a microcontroller's real int8 graph:
 * - weights: symmetric, per output channel, s_W[c] = max_j |W[j, c]| / 127;
 * - activations: symmetric int8 with one calibrated scale per layer input (max-abs or a
 *   percentile of |activation| over a sample of training inputs);
 * - bias: int32 at scale s_in * s_W[c], so bias + sum(w * x) is pure integer arithmetic;
 * - int32 accumulation, then the next layer's int8 input by one multiply per channel
 *   (s_in * s_W[c] / s_next) with ReLU folded into the clamp; the last layer is dequantized to
 *   float logits for the softmax.
 * `bytes` counts what is stored: 1 byte per weight, 4 per scale, 4 per int32 bias.
 */
import { check, fail } from "../../core/errors.js";
import { softmaxInPlace, softmaxRows } from "../engine/softmax.js";
import { type ModelFile, type StorableModel, type Tensor, tensorOf } from "../io/format.js";
import type { Model } from "../types.js";
import {
  dequantize,
  gemmInt8,
  gemvInt8,
  MAX_INT8_FAN_IN,
  MAX_INT32_BIAS,
  perChannelScales,
  quantizeColumns,
  quantizeInput,
  requantize,
} from "./kernels.js";

/** A float dense layer, weights input-major: wt[j * outDim + c] is the weight from input j to c. */
export interface FloatDense {
  inDim: number;
  outDim: number;
  wt: Float32Array;
  b: Float32Array;
  relu: boolean;
}

export interface QuantizedLayer {
  inDim: number;
  outDim: number;
  relu: boolean;
  /** int8 weights, input-major like {@link FloatDense.wt}. */
  wt: Int8Array;
  /** Per-output-channel weight scales. */
  wScale: Float32Array;
  /** Scale of this layer's int8 input. */
  inScale: number;
  /** Bias at scale inScale * wScale[c]. */
  bias: Int32Array;
}

export type CalibrationMethod = "max" | "percentile";

export interface CalibrationOptions {
  method?: CalibrationMethod;
  /** For "percentile": the percentile of |activation| mapped to 127 (default 99.99). */
  percentile?: number;
}

/** Float forward pass of one layer for one row (input-major weights). */
export function denseForward(layer: FloatDense, x: Float32Array, out: Float32Array, xo = 0): Float32Array {
  const { inDim, outDim, wt } = layer;
  out.set(layer.b);
  for (let j = 0; j < inDim; j++) {
    const v = x[xo + j];
    if (v === 0) continue;
    const o = j * outDim;
    for (let c = 0; c < outDim; c++) out[c] += wt[o + c] * v;
  }
  if (layer.relu) for (let c = 0; c < outDim; c++) if (out[c] < 0) out[c] = 0;
  return out;
}

/** Checks a float stack: consistent shapes, finite values, fan-in small enough for int32 sums. */
export function checkFloatStack(layers: FloatDense[]): void {
  check(layers.length > 0, "int8: expected at least one dense layer, got none");
  layers.forEach((l, i) => {
    check(
      Number.isInteger(l.inDim) && Number.isInteger(l.outDim) && l.inDim > 0 && l.outDim > 0,
      () => `int8: layer ${i} has dimensions ${l.inDim} x ${l.outDim}; expected positive integers`,
    );
    if (l.wt.length !== l.inDim * l.outDim || l.b.length !== l.outDim)
      fail(
        "DIMENSION_MISMATCH",
        `int8: layer ${i} is ${l.inDim} x ${l.outDim} but has ${l.wt.length} weights and ${l.b.length} biases`,
      );
    if (i > 0 && layers[i - 1].outDim !== l.inDim)
      fail(
        "DIMENSION_MISMATCH",
        `int8: layer ${i - 1} outputs ${layers[i - 1].outDim} values but layer ${i} expects ${l.inDim}`,
      );
    if (l.inDim > MAX_INT8_FAN_IN)
      fail(
        "UNSUPPORTED",
        `int8: layer ${i} has fan-in ${l.inDim}; int32 accumulation allows <= ${MAX_INT8_FAN_IN}`,
      );
    for (const a of [l.wt, l.b])
      for (let k = 0; k < a.length; k++)
        if (!Number.isFinite(a[k]))
          fail("INVALID_ARGUMENT", `int8: layer ${i} has a non-finite parameter (${a[k]})`);
  });
}

/**
 * One activation scale per layer input, from the float network run on `n` calibration rows:
 * scale_l = (max or percentile of |input of layer l|) / 127. A layer whose inputs are all 0 on
 * the sample gets scale 1/127.
 */
export function calibrateInputScales(
  layers: FloatDense[],
  x: Float32Array,
  n: number,
  options: CalibrationOptions = {},
): Float32Array {
  checkFloatStack(layers);
  const method = options.method ?? "max";
  const p = options.percentile ?? 99.99;
  check(method === "max" || method === "percentile", () => `int8: unknown calibration method "${method}"`);
  check(p > 0 && p <= 100, () => `int8: percentile must be in (0, 100], got ${p}`);
  check(Number.isInteger(n) && n > 0, () => `int8: expected at least one calibration row, got ${n}`);
  const inDim = layers[0].inDim;
  if (x.length < n * inDim)
    fail(
      "DIMENSION_MISMATCH",
      `int8: ${n} calibration rows of ${inDim} need ${n * inDim} values, got ${x.length}`,
    );
  const abs = layers.map((l) => new Float32Array(n * l.inDim));
  const bufs = layers.map((l) => new Float32Array(l.outDim));
  for (let i = 0; i < n; i++) {
    let cur = x.subarray(i * inDim, (i + 1) * inDim);
    for (let l = 0; l < layers.length; l++) {
      const a = abs[l];
      const d = layers[l].inDim;
      for (let j = 0; j < d; j++) {
        const v = cur[j];
        if (!Number.isFinite(v))
          fail("INVALID_ARGUMENT", `int8: calibration row ${i} has a non-finite value`);
        a[i * d + j] = Math.abs(v);
      }
      cur = denseForward(layers[l], cur, bufs[l]);
    }
  }
  const scales = new Float32Array(layers.length);
  for (let l = 0; l < layers.length; l++) {
    const a = abs[l];
    let range: number;
    if (method === "max") {
      range = 0;
      for (let k = 0; k < a.length; k++) if (a[k] > range) range = a[k];
    } else {
      a.sort();
      range = a[Math.min(a.length - 1, Math.ceil((p / 100) * a.length) - 1)];
    }
    scales[l] = range > 0 ? range / 127 : 1 / 127;
  }
  return scales;
}

/** Quantizes one float layer given the scale of its int8 input. */
export function quantizeLayer(layer: FloatDense, inScale: number): QuantizedLayer {
  check(inScale > 0 && Number.isFinite(inScale), () => `int8: input scale must be > 0, got ${inScale}`);
  const { inDim, outDim } = layer;
  const wScale = perChannelScales(layer.wt, inDim, outDim);
  // Raise a channel's weight scale where its int32 bias would not fit (|b| huge against tiny weights).
  for (let c = 0; c < outDim; c++) {
    const need = Math.abs(layer.b[c]) / (inScale * MAX_INT32_BIAS);
    if (need > wScale[c]) wScale[c] = Math.fround(need * (1 + 1e-6));
  }
  const wt = quantizeColumns(layer.wt, inDim, outDim, wScale);
  const bias = new Int32Array(outDim);
  for (let c = 0; c < outDim; c++) {
    const r = layer.b[c] / (inScale * wScale[c]);
    bias[c] = r < 0 ? -Math.round(-r) : Math.round(r);
  }
  return { inDim, outDim, relu: layer.relu, wt, wScale, inScale, bias };
}

/** Quantizes a float stack with the given (calibrated) input scales, one per layer. */
export function quantizeStack(layers: FloatDense[], inScales: ArrayLike<number>): QuantizedStack {
  checkFloatStack(layers);
  if (inScales.length !== layers.length)
    fail("DIMENSION_MISMATCH", `int8: expected ${layers.length} input scales, got ${inScales.length}`);
  return new QuantizedStack(layers.map((l, i) => quantizeLayer(l, inScales[i])));
}

/** The float layers an int8 stack represents (weights and biases dequantized). */
export function dequantizeStack(stack: QuantizedStack): FloatDense[] {
  return stack.layers.map((l) => {
    const wt = new Float32Array(l.wt.length);
    for (let j = 0; j < l.inDim; j++)
      for (let c = 0; c < l.outDim; c++) wt[j * l.outDim + c] = l.wt[j * l.outDim + c] * l.wScale[c];
    const b = new Float32Array(l.outDim);
    for (let c = 0; c < l.outDim; c++) b[c] = l.bias[c] * l.inScale * l.wScale[c];
    return { inDim: l.inDim, outDim: l.outDim, wt, b, relu: l.relu };
  });
}

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

/** The caller's output buffer after checking its length, or a new one. */
export function outBuffer(out: Float32Array | undefined, length: number, what: string): Float32Array {
  if (out === undefined) return new Float32Array(length);
  if (out.length !== length)
    fail("DIMENSION_MISMATCH", `${what}: out buffer has ${out.length} entries, expected ${length}`);
  return out;
}

export interface QuantizedNetworkInfo {
  /** Family of the float model it came from ("logreg", "mlp", ...). */
  kind: string;
  /** Spec of the float model it came from. */
  spec: string;
}

/**
 * The Model contract over a {@link QuantizedStack}, written once for every int8 model: a subclass
 * only says how an input (or a batch) becomes the stack's int8 input, validating it on the way.
 * `embed` is the dequantized input of the last layer.
 */
export abstract class QuantizedStackModel implements Model {
  readonly kind = "int8";
  abstract readonly spec: string;
  abstract readonly inputDim: number;
  abstract readonly bytes: number;
  readonly stack: QuantizedStack;
  private readonly scratchLogits: Float32Array;

  constructor(stack: QuantizedStack) {
    this.stack = stack;
    this.scratchLogits = new Float32Array(stack.outputDim);
  }

  /** The stack's int8 input for one row (validated; may reuse an internal buffer). */
  protected abstract stackInput(x: Float32Array): Int8Array;
  /** The stack's int8 inputs for n rows (validated; a new array). */
  protected abstract stackInputBatch(x: Float32Array, n: number): Int8Array;

  get embedDim(): number {
    return this.stack.embedDim;
  }
  get numClasses(): number {
    return this.stack.outputDim;
  }

  predictProba(x: Float32Array, out?: Float32Array): Float32Array {
    const proba = outBuffer(out, this.numClasses, `${this.spec} predictProba`);
    this.stack.forward(this.stackInput(x), proba);
    return softmaxInPlace(proba);
  }

  embed(x: Float32Array, out?: Float32Array): Float32Array {
    return this.embedAndPredict(x, out, this.scratchLogits).embedding;
  }

  embedAndPredict(
    x: Float32Array,
    embedOut?: Float32Array,
    probaOut?: Float32Array,
  ): { embedding: Float32Array; proba: Float32Array } {
    const embedding = outBuffer(embedOut, this.embedDim, `${this.spec} embedOut`);
    const proba = outBuffer(probaOut, this.numClasses, `${this.spec} probaOut`);
    this.stack.forward(this.stackInput(x), proba, embedding);
    return { embedding, proba: softmaxInPlace(proba) };
  }

  predictProbaBatch(x: Float32Array, n: number): Float32Array {
    const k = this.numClasses;
    const out = new Float32Array(n * k);
    this.stack.forwardBatch(this.stackInputBatch(x, n), n, out);
    softmaxRows(out, out, n, k);
    return out;
  }

  embedBatch(x: Float32Array, n: number): Float32Array {
    const emb = new Float32Array(n * this.embedDim);
    this.stack.forwardBatch(this.stackInputBatch(x, n), n, new Float32Array(n * this.numClasses), emb);
    return emb;
  }

  /** Throws unless x has inputDim values. */
  protected checkRow(x: Float32Array): void {
    if (x.length !== this.inputDim)
      fail(
        "DIMENSION_MISMATCH",
        `${this.spec}: expected an input of ${this.inputDim} values, got ${x.length}`,
      );
  }
}

/**
 * An int8 network over float inputs: the input is quantized with the calibrated first-layer scale
 * and every layer runs in int8/int32.
 */
export class QuantizedNetwork extends QuantizedStackModel implements StorableModel {
  readonly spec: string;
  readonly sourceKind: string;
  readonly sourceSpec: string;

  constructor(stack: QuantizedStack, info: QuantizedNetworkInfo) {
    super(stack);
    this.sourceKind = info.kind;
    this.sourceSpec = info.spec;
    this.spec = `int8:${info.spec}`;
  }

  /** Quantizes a float stack, calibrating activation scales on n rows of `calib`. */
  static fromFloat(
    layers: FloatDense[],
    calib: Float32Array,
    n: number,
    info: QuantizedNetworkInfo,
    options: CalibrationOptions = {},
  ): QuantizedNetwork {
    return new QuantizedNetwork(quantizeStack(layers, calibrateInputScales(layers, calib, n, options)), info);
  }

  get inputDim(): number {
    return this.stack.inputDim;
  }
  get bytes(): number {
    return this.stack.bytes;
  }

  protected stackInput(x: Float32Array): Int8Array {
    this.checkRow(x);
    return this.stack.quantizeInput(x);
  }

  toModelFile(): ModelFile {
    return {
      family: "int8",
      spec: this.spec,
      inputDim: this.inputDim,
      numClasses: this.numClasses,
      embedDim: this.embedDim,
      meta: { source: this.sourceKind, relu: this.stack.layers.map((l) => l.relu) },
      tensors: stackTensors(this.stack),
    };
  }

  protected stackInputBatch(x: Float32Array, n: number): Int8Array {
    check(
      Number.isInteger(n) && n >= 0,
      () => `${this.spec}: batch size must be a non-negative integer, got ${n}`,
    );
    if (x.length !== n * this.inputDim)
      fail(
        "DIMENSION_MISMATCH",
        `${this.spec}: ${n} rows of ${this.inputDim} need ${n * this.inputDim} values, got ${x.length}`,
      );
    return quantizeInput(x, this.stack.inputScale, new Int8Array(x.length), x.length);
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
