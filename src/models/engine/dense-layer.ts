/**
 * The float dense layer, one representation for all of models/: y = max(0, W·x + b) (or without
 * the ReLU), W stored out×in row-major, so row o holds the weights of output unit o.
 *
 * Why out×in: it is the layout of the training engine's Dense params (the forward pass X·Wᵀ reads
 * rows of W), of ONNX's Gemm with transB = 1, and of per-output-channel int8 quantization (one
 * channel = one contiguous row). Who reads it:
 * - training: a Dense layer's params are views of a DenseLayer's arrays (`Dense.over`,
 *   `Dense.asDenseLayer`, `Sequential.denseLayers`), so the trained arrays are the ones the others read;
 * - int8: `quantizeLayer(DenseLayer, inScale)` builds the int8 layer, `dequantizeLayer` goes back;
 * - fine-tuning: tunes DenseLayers (views into a Sequential) in place;
 * - ONNX export: `exportMlpOnnx(DenseLayer[])`;
 * - ProjectionNet: its layers above the bits are DenseLayers.
 *
 * The single-row kernels here are the float forward passes of a DenseLayer. There are two
 * accumulation precisions on purpose: float networks sum in double and round once per output
 * ({@link denseForwardRow}); ProjectionNet and int8 calibration have always rounded to float32
 * after every addition ({@link denseForwardRowF32}), and their saved figures and calibrated
 * scales depend on that rounding.
 */
import { check, fail } from "../../core/errors.js";
import { markWeightsChanged } from "../wasm/kernels.js";

export interface DenseLayer {
  readonly inDim: number;
  readonly outDim: number;
  /** out×in row-major: W[o * inDim + j] is the weight from input j to output o. */
  readonly W: Float32Array;
  /** One bias per output. */
  readonly b: Float32Array;
  /** Whether a ReLU follows the affine map (the only activation the dense stacks use). */
  readonly relu: boolean;
}

/** A zero-initialized dense layer. */
export function denseLayer(inDim: number, outDim: number, relu: boolean): DenseLayer {
  check(
    Number.isInteger(inDim) && inDim > 0 && Number.isInteger(outDim) && outDim > 0,
    () => `dense layer: expected positive integer sizes, got ${inDim}×${outDim}`,
  );
  return { inDim, outDim, W: new Float32Array(outDim * inDim), b: new Float32Array(outDim), relu };
}

/**
 * Checks a stack of dense layers before it is quantized or exported: positive sizes, arrays of
 * the declared sizes, consecutive layers that chain, finite parameters. `context` starts every
 * message ("int8", "ONNX export"); `unit` names what a layer outputs in the chaining message.
 */
export function checkDenseChain(
  layers: readonly DenseLayer[],
  context: string,
  unit: "values" | "features" = "values",
): void {
  if (layers.length === 0)
    fail("INVALID_ARGUMENT", `${context}: expected at least one dense layer, got none`);
  layers.forEach((l, i) => {
    check(
      Number.isInteger(l.inDim) && Number.isInteger(l.outDim) && l.inDim > 0 && l.outDim > 0,
      () => `${context}: layer ${i} has dimensions ${l.inDim} x ${l.outDim}; expected positive integers`,
    );
    if (l.W.length !== l.inDim * l.outDim)
      fail(
        "DIMENSION_MISMATCH",
        `${context}: layer ${i} W has ${l.W.length} values, expected ${l.outDim}x${l.inDim}`,
      );
    if (l.b.length !== l.outDim)
      fail("DIMENSION_MISMATCH", `${context}: layer ${i} b has ${l.b.length} values, expected ${l.outDim}`);
    if (i > 0 && layers[i - 1].outDim !== l.inDim)
      fail(
        "DIMENSION_MISMATCH",
        `${context}: layer ${i - 1} outputs ${layers[i - 1].outDim} ${unit} but layer ${i} expects ${l.inDim}`,
      );
    for (const a of [l.W, l.b])
      for (let k = 0; k < a.length; k++)
        if (!Number.isFinite(a[k]))
          fail("INVALID_ARGUMENT", `${context}: layer ${i} has a non-finite parameter (${a[k]})`);
  });
}

/**
 * W transposed to input-major [in, out] (wt[j * outDim + o] = W[o * inDim + j]): the layout
 * ProjectionNet files store, kept so files written before stay byte-identical.
 */
export function inputMajorWeights(layer: DenseLayer): Float32Array {
  const { inDim, outDim, W } = layer;
  const wt = new Float32Array(inDim * outDim);
  for (let o = 0; o < outDim; o++) for (let j = 0; j < inDim; j++) wt[j * outDim + o] = W[o * inDim + j];
  return wt;
}

/** Sets W from input-major weights (the inverse of {@link inputMajorWeights}). */
export function setInputMajorWeights(layer: DenseLayer, wt: ArrayLike<number>): void {
  const { inDim, outDim, W } = layer;
  if (wt.length !== inDim * outDim)
    fail("DIMENSION_MISMATCH", `dense layer: ${wt.length} weights for ${inDim}×${outDim}`);
  for (let j = 0; j < inDim; j++) for (let o = 0; o < outDim; o++) W[o * inDim + j] = wt[j * outDim + o];
  markWeightsChanged(W);
}

/** Index and value buffers a single-row forward pass gathers the non-zero inputs into. */
export interface GatherScratch {
  readonly index: Int32Array;
  readonly value: Float32Array;
}

export function gatherScratch(inDim: number): GatherScratch {
  return { index: new Int32Array(inDim), value: new Float32Array(inDim) };
}

/** Output count from which {@link denseForwardRow} gathers the non-zero inputs first. */
const GATHER_MIN_OUTPUTS = 16;

/**
 * y = W·x + b for one row (then max(0, ·) when `relu`), summed in double and rounded to float32
 * once per output: the float networks' serving path. Images and ReLU outputs are about half
 * zeros (MNIST digits four fifths), so zero inputs are skipped; with `scratch` and enough outputs
 * to amortize it, the non-zero inputs are gathered once and every output sums over those only.
 * Either way each output adds the same terms in the same order, so the result does not depend
 * on the path taken. Allocates nothing.
 */
export function denseForwardRow(
  layer: DenseLayer,
  x: Float32Array,
  y: Float32Array,
  relu: boolean,
  scratch: GatherScratch | null,
): void {
  const { W: w, b, inDim: k, outDim: out } = layer;
  if (scratch === null || out < GATHER_MIN_OUTPUTS) {
    denseForwardRowInPlace(layer, x, y, relu);
    return;
  }
  const idx = scratch.index;
  const val = scratch.value;
  let nz = 0;
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
function denseForwardRowInPlace(layer: DenseLayer, x: Float32Array, y: Float32Array, relu: boolean): void {
  const { W: w, b, inDim: k, outDim: out } = layer;
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

/** Non-zero input indices for denseForwardRowF32 (grown on demand; JS is single-threaded). */
let nonZero = new Int32Array(1024);

/**
 * y = W·x[xo .. xo + inDim) + b for one row (then the layer's ReLU), rounding the running sum
 * to float32 after every addition, zero inputs skipped: ProjectionNet's output layer and int8
 * calibration. Four outputs at a time keep their sums in registers while the non-zero inputs
 * are walked once. Returns y.
 */
export function denseForwardRowF32(
  layer: DenseLayer,
  x: ArrayLike<number>,
  y: Float32Array,
  xo = 0,
): Float32Array {
  const { W: w, b, inDim: k, outDim: out } = layer;
  if (nonZero.length < k) nonZero = new Int32Array(k);
  const idx = nonZero;
  let nz = 0;
  for (let p = 0; p < k; p++) if (x[xo + p] !== 0) idx[nz++] = p;
  const f32 = Math.fround;
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
      const v = x[xo + p];
      s0 = f32(s0 + w[w0 + p] * v);
      s1 = f32(s1 + w[w1 + p] * v);
      s2 = f32(s2 + w[w2 + p] * v);
      s3 = f32(s3 + w[w3 + p] * v);
    }
    y[o] = s0;
    y[o + 1] = s1;
    y[o + 2] = s2;
    y[o + 3] = s3;
  }
  for (; o < out; o++) {
    const w0 = o * k;
    let s = b[o];
    for (let t = 0; t < nz; t++) s = f32(s + w[w0 + idx[t]] * x[xo + idx[t]]);
    y[o] = s;
  }
  if (layer.relu) for (let c = 0; c < out; c++) if (y[c] < 0) y[c] = 0;
  return y;
}
