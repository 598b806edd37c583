/**
 * int8 post-training quantization of float {@link DenseLayer} stacks (logreg, MLPs, ProjectionNet's
 * layers above the bits) into {@link QuantizedLayer}s, as on a microcontroller's real int8 graph:
 * - weights: symmetric, per output channel, s_W[c] = max_j |W[c, j]| / 127;
 * - activations: symmetric int8 with one calibrated scale per layer input (max-abs or a
 *   percentile of |activation| over a sample of training inputs);
 * - bias: int32 at scale s_in * s_W[c], so bias + sum(w * x) is pure integer arithmetic;
 * - int32 accumulation, then the next layer's int8 input by one multiply per channel
 *   (s_in * s_W[c] / s_next) with ReLU folded into the clamp; the last layer is dequantized to
 *   float logits for the softmax.
 * `bytes` counts what is stored: 1 byte per weight, 4 per scale, 4 per int32 bias.
 * The layers run in a QuantizedStack (stack.ts); the int8 models are in network.ts.
 */
import { check, fail } from "../../core/errors.js";
import { checkDenseChain, type DenseLayer, denseForwardRowF32 } from "../engine/dense-layer.js";
import { MAX_INT8_FAN_IN, MAX_INT32_BIAS, perChannelScales, quantizeWeights } from "./kernels.js";
import { QuantizedStack } from "./stack.js";

/**
 * The int8 form of a {@link DenseLayer}, built from one by {@link quantizeLayer} (or read back
 * from a model file): y[c] = s_W[c] · (Σ_j wt[j, c] · x̄_j + bias[c]) · s_x, with x = s_x · x̄.
 * The int8 stacks run it, and fine-tuning updates `wt` and `bias` in place.
 */
export interface QuantizedLayer {
  readonly inDim: number;
  readonly outDim: number;
  readonly relu: boolean;
  /** int8 weights, input-major (the transpose of DenseLayer.W): wt[j * outDim + c]. */
  readonly wt: Int8Array;
  /** Per-output-channel weight scales s_W. */
  readonly wScale: Float32Array;
  /** Scale s_x of this layer's int8 input. */
  readonly inScale: number;
  /** int32 bias in units of inScale * wScale[c]. */
  readonly bias: Int32Array;
}

/** Whether a layer is the int8 form (fine-tuning takes either). */
export function isQuantizedLayer(layer: DenseLayer | QuantizedLayer): layer is QuantizedLayer {
  return "wScale" in layer;
}

export type CalibrationMethod = "max" | "percentile";

export interface CalibrationOptions {
  method?: CalibrationMethod;
  /** For "percentile": the percentile of |activation| mapped to 127 (default 99.99). */
  percentile?: number;
}

/** Checks a float stack can be quantized: a valid chain, fan-in small enough for int32 sums. */
export function checkQuantizable(layers: readonly DenseLayer[]): void {
  checkDenseChain(layers, "int8");
  layers.forEach((l, i) => {
    if (l.inDim > MAX_INT8_FAN_IN)
      fail(
        "UNSUPPORTED",
        `int8: layer ${i} has fan-in ${l.inDim}; int32 accumulation allows <= ${MAX_INT8_FAN_IN}`,
      );
  });
}

/**
 * One activation scale per layer input, from the float network run on `n` calibration rows:
 * scale_l = (max or percentile of |input of layer l|) / 127. A layer whose inputs are all 0 on
 * the sample gets scale 1/127.
 */
export function calibrateInputScales(
  layers: readonly DenseLayer[],
  x: Float32Array,
  n: number,
  options: CalibrationOptions = {},
): Float32Array {
  checkQuantizable(layers);
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
      cur = denseForwardRowF32(layers[l], cur, bufs[l]);
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
export function quantizeLayer(layer: DenseLayer, inScale: number): QuantizedLayer {
  check(inScale > 0 && Number.isFinite(inScale), () => `int8: input scale must be > 0, got ${inScale}`);
  const { inDim, outDim } = layer;
  const wScale = perChannelScales(layer.W, inDim, outDim);
  // Raise a channel's weight scale where its int32 bias would not fit (|b| huge against tiny weights).
  for (let c = 0; c < outDim; c++) {
    const need = Math.abs(layer.b[c]) / (inScale * MAX_INT32_BIAS);
    if (need > wScale[c]) wScale[c] = Math.fround(need * (1 + 1e-6));
  }
  const wt = quantizeWeights(layer.W, inDim, outDim, wScale);
  const bias = new Int32Array(outDim);
  for (let c = 0; c < outDim; c++) {
    const r = layer.b[c] / (inScale * wScale[c]);
    bias[c] = r < 0 ? -Math.round(-r) : Math.round(r);
  }
  return { inDim, outDim, relu: layer.relu, wt, wScale, inScale, bias };
}

/** Quantizes a float stack with the given (calibrated) input scales, one per layer. */
export function quantizeStack(layers: readonly DenseLayer[], inScales: ArrayLike<number>): QuantizedStack {
  checkQuantizable(layers);
  if (inScales.length !== layers.length)
    fail("DIMENSION_MISMATCH", `int8: expected ${layers.length} input scales, got ${inScales.length}`);
  return new QuantizedStack(layers.map((l, i) => quantizeLayer(l, inScales[i])));
}

/** The float layer an int8 layer represents: W = s_W · W̄ (out×in), b = s_x · s_W · b̄. */
export function dequantizeLayer(l: QuantizedLayer): DenseLayer {
  const W = new Float32Array(l.inDim * l.outDim);
  for (let o = 0; o < l.outDim; o++)
    for (let j = 0; j < l.inDim; j++) W[o * l.inDim + j] = l.wt[j * l.outDim + o] * l.wScale[o];
  const b = new Float32Array(l.outDim);
  for (let c = 0; c < l.outDim; c++) b[c] = l.bias[c] * l.inScale * l.wScale[c];
  return { inDim: l.inDim, outDim: l.outDim, W, b, relu: l.relu };
}

/** The float layers an int8 stack represents. */
export function dequantizeStack(stack: QuantizedStack): DenseLayer[] {
  return stack.layers.map(dequantizeLayer);
}
