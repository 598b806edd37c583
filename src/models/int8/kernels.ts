/**
 * Integer kernels for int8 inference: symmetric quantization, int8 x int8 -> int32 matrix-vector
 * and matrix-matrix products, and requantization of int32 accumulators to the next layer's int8.
 *
 * int8 weights are stored input-major (`wt[j * outDim + c]` is the weight from input j to output
 * c), the transpose of a float DenseLayer's out×in W: a product then adds one contiguous weight
 * row per non-zero input, so zero inputs cost nothing.
 * That matters here: about 80% of MNIST pixels and roughly half of post-ReLU activations are 0,
 * and ProjectionNet's bit features reduce the first layer to a sum of rows for the set bits.
 *
 * Overflow: |w|, |x| <= 127, so an accumulator over inDim inputs stays below
 * inDim * 127^2 + |bias| < 2^31 as long as inDim <= MAX_INT8_FAN_IN and |bias| <= 2^30
 * (both checked where layers are built).
 */
import { fail } from "../../core/errors.js";

/** Largest fan-in for which int32 accumulation cannot overflow (with |bias| <= 2^30). */
export const MAX_INT8_FAN_IN = Math.floor((2 ** 31 - 1 - 2 ** 30) / (127 * 127));
export const MAX_INT32_BIAS = 2 ** 30;

/**
 * round(v * invScale) clamped to [lo, 127]; the one rounding rule used everywhere: half away
 * from zero. Written with `| 0` truncation (after clamping, so it cannot wrap) rather than
 * Math.round: this runs once per input pixel on the serving path.
 */
export function quantizeValue(v: number, invScale: number, lo = -127): number {
  const r = v * invScale;
  if (r >= 0) return r >= 126.5 ? 127 : (r + 0.5) | 0;
  if (lo >= 0) return lo;
  const q = r <= -126.5 ? -127 : -((0.5 - r) | 0) | 0;
  return Math.max(q, lo);
}

/**
 * Quantizes n values of `x` (from offset xo) into `out` with one scale. Rejects non-finite values,
 * so a NaN input fails loudly instead of turning into a silent 0.
 */
export function quantizeInput(
  x: ArrayLike<number>,
  scale: number,
  out: Int8Array,
  n = out.length,
  xo = 0,
  oo = 0,
): Int8Array {
  const inv = 1 / scale;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    if (v === 0) out[oo + i] = 0;
    else if (Number.isFinite(v)) out[oo + i] = quantizeValue(v, inv);
    else fail("INVALID_ARGUMENT", `input value ${i} is ${v}; expected a finite number`);
  }
  return out;
}

/**
 * Per-output-channel symmetric scales of float weights W (out×in, a DenseLayer's layout):
 * scale_c = max_j |W[c, j]| / 127. An all-zero channel gets scale 1 (any scale represents it
 * exactly).
 */
export function perChannelScales(W: Float32Array, inDim: number, outDim: number): Float32Array {
  const s = new Float32Array(outDim);
  for (let c = 0; c < outDim; c++) {
    const o = c * inDim;
    let maxAbs = 0;
    for (let j = 0; j < inDim; j++) {
      const a = Math.abs(W[o + j]);
      if (a > maxAbs) maxAbs = a;
    }
    s[c] = maxAbs > 0 ? maxAbs / 127 : 1;
  }
  return s;
}

/**
 * int8 weights from float weights W (out×in) with the given per-channel scales, written
 * input-major (q[j * outDim + c]), the layout the integer kernels read.
 */
export function quantizeWeights(
  W: Float32Array,
  inDim: number,
  outDim: number,
  scales: Float32Array,
): Int8Array {
  const q = new Int8Array(inDim * outDim);
  for (let c = 0; c < outDim; c++) {
    const o = c * inDim;
    const inv = 1 / scales[c];
    for (let j = 0; j < inDim; j++) q[j * outDim + c] = quantizeValue(W[o + j], inv);
  }
  return q;
}

/** Indices of the non-zero inputs of the current row (grown on demand; JS is single-threaded). */
let nonZero = new Int32Array(1024);

/**
 * acc = bias + x * W for one int8 input row: int32 accumulation, zero inputs skipped. The
 * non-zero inputs are taken eight (then four) at a time, so each accumulator is read and written
 * once per eight weight rows rather than once per row (measured 2-2.5x faster than one row at a
 * time on Fashion-MNIST inputs).
 */
export function gemvInt8(
  wt: Int8Array,
  x: Int8Array,
  inDim: number,
  outDim: number,
  bias: Int32Array,
  acc: Int32Array,
  xo = 0,
): Int32Array {
  acc.set(bias);
  if (nonZero.length < inDim) nonZero = new Int32Array(inDim);
  const nz = nonZero;
  let m = 0;
  for (let j = 0; j < inDim; j++) if (x[xo + j] !== 0) nz[m++] = j;
  let t = 0;
  for (; t + 8 <= m; t += 8) {
    const o0 = nz[t] * outDim;
    const o1 = nz[t + 1] * outDim;
    const o2 = nz[t + 2] * outDim;
    const o3 = nz[t + 3] * outDim;
    const o4 = nz[t + 4] * outDim;
    const o5 = nz[t + 5] * outDim;
    const o6 = nz[t + 6] * outDim;
    const o7 = nz[t + 7] * outDim;
    const v0 = x[xo + nz[t]];
    const v1 = x[xo + nz[t + 1]];
    const v2 = x[xo + nz[t + 2]];
    const v3 = x[xo + nz[t + 3]];
    const v4 = x[xo + nz[t + 4]];
    const v5 = x[xo + nz[t + 5]];
    const v6 = x[xo + nz[t + 6]];
    const v7 = x[xo + nz[t + 7]];
    for (let c = 0; c < outDim; c++)
      acc[c] +=
        wt[o0 + c] * v0 +
        wt[o1 + c] * v1 +
        wt[o2 + c] * v2 +
        wt[o3 + c] * v3 +
        wt[o4 + c] * v4 +
        wt[o5 + c] * v5 +
        wt[o6 + c] * v6 +
        wt[o7 + c] * v7;
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
    const o0 = j0 * outDim;
    const o1 = j1 * outDim;
    const o2 = j2 * outDim;
    const o3 = j3 * outDim;
    for (let c = 0; c < outDim; c++)
      acc[c] += wt[o0 + c] * v0 + wt[o1 + c] * v1 + wt[o2 + c] * v2 + wt[o3 + c] * v3;
  }
  for (; t < m; t++) {
    const j = nz[t];
    const v = x[xo + j];
    const o = j * outDim;
    for (let c = 0; c < outDim; c++) acc[c] += wt[o + c] * v;
  }
  return acc;
}

/**
 * acc (n x outDim) = bias + X (n x inDim) * W, four rows at a time so each weight row loaded is
 * used four times; a block skips an input only when it is 0 in all four rows (pixels near the
 * image border are 0 in nearly every image, so this still skips most of them).
 */
export function gemmInt8(
  wt: Int8Array,
  x: Int8Array,
  n: number,
  inDim: number,
  outDim: number,
  bias: Int32Array,
  acc: Int32Array,
): Int32Array {
  for (let i = 0; i < n; i++) acc.set(bias, i * outDim);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x0 = i * inDim;
    const a0 = i * outDim;
    const a1 = a0 + outDim;
    const a2 = a1 + outDim;
    const a3 = a2 + outDim;
    for (let j = 0; j < inDim; j++) {
      const v0 = x[x0 + j];
      const v1 = x[x0 + inDim + j];
      const v2 = x[x0 + 2 * inDim + j];
      const v3 = x[x0 + 3 * inDim + j];
      if ((v0 | v1 | v2 | v3) === 0) continue;
      const o = j * outDim;
      for (let c = 0; c < outDim; c++) {
        const w = wt[o + c];
        acc[a0 + c] += w * v0;
        acc[a1 + c] += w * v1;
        acc[a2 + c] += w * v2;
        acc[a3 + c] += w * v3;
      }
    }
  }
  for (; i < n; i++) {
    const x0 = i * inDim;
    const a0 = i * outDim;
    for (let j = 0; j < inDim; j++) {
      const v = x[x0 + j];
      if (v === 0) continue;
      const o = j * outDim;
      for (let c = 0; c < outDim; c++) acc[a0 + c] += wt[o + c] * v;
    }
  }
  return acc;
}

/**
 * The next layer's int8 input from int32 accumulators: q_c = clamp(round(acc_c * mult_c)), with
 * mult_c = s_in * s_W[c] / s_out. ReLU is folded into the clamp (lower bound 0).
 */
export function requantize(
  acc: Int32Array,
  mult: Float32Array,
  relu: boolean,
  out: Int8Array,
  n = mult.length,
  ao = 0,
  oo = 0,
): Int8Array {
  const lo = relu ? 0 : -127;
  for (let c = 0; c < n; c++) out[oo + c] = quantizeValue(acc[ao + c], mult[c], lo);
  return out;
}

/** Float outputs from int32 accumulators: y_c = acc_c * s_in * s_W[c] (optionally ReLU). */
export function dequantize(
  acc: Int32Array,
  outScale: Float32Array,
  relu: boolean,
  out: Float32Array,
  n = outScale.length,
  ao = 0,
  oo = 0,
): Float32Array {
  for (let c = 0; c < n; c++) {
    const v = acc[ao + c] * outScale[c];
    out[oo + c] = relu && v < 0 ? 0 : v;
  }
  return out;
}
