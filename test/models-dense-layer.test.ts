/**
 * The shared float dense layer and the shared softmax: their kernels against plain reference
 * loops written in the historical arithmetic (so "the same result" means the same bits), the
 * views training hands out, and the checks every consumer relies on.
 */
import { describe, expect, it } from "vitest";
import { isMammalsError } from "../src/core/errors.js";
import { Rng } from "../src/core/rng.js";
import { createModel } from "../src/models/all.js";
import {
  checkDenseChain,
  type DenseLayer,
  denseForwardRow,
  denseForwardRowF32,
  denseLayer,
  gatherScratch,
  inputMajorWeights,
  setInputMajorWeights,
} from "../src/models/engine/dense-layer.js";
import { Dense, ReLU } from "../src/models/engine/layers.js";
import { Sequential } from "../src/models/engine/network.js";
import { softmaxInPlace, softmaxRows } from "../src/models/engine/softmax.js";
import { denseOverSetBits, LshProjection, ProjectionNet } from "../src/models/families/projection-net.js";
import { quantizeForDevice } from "../src/models/finetune/run.js";
import { dequantizeLayer, isQuantizedLayer, quantizeLayer } from "../src/models/int8/quantize.js";
import { denseLayersOf } from "../src/models/io/onnx-export.js";

function randomLayer(rng: Rng, inDim: number, outDim: number, relu: boolean): DenseLayer {
  const l = denseLayer(inDim, outDim, relu);
  for (let i = 0; i < l.W.length; i++) l.W[i] = rng.normal();
  for (let i = 0; i < outDim; i++) l.b[i] = rng.normal();
  return l;
}

/** Inputs with about half exact zeros, like images and post-ReLU activations. */
function sparseRow(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() < 0.5 ? 0 : rng.normal()));
}

function expectCode(f: () => unknown, code: string, message: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isMammalsError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected a ${code} error`);
}

describe("DenseLayer kernels", () => {
  it("denseForwardRow sums each output in double over the non-zero inputs, rounding once", () => {
    const rng = new Rng(1);
    for (const [inDim, outDim] of [
      [7, 3],
      [30, 15],
      [30, 16],
      [50, 37],
    ])
      for (const relu of [false, true]) {
        const l = randomLayer(rng, inDim, outDim, relu);
        const x = sparseRow(rng, inDim);
        const ref = new Float32Array(outDim);
        for (let o = 0; o < outDim; o++) {
          let s = l.b[o];
          for (let j = 0; j < inDim; j++) if (x[j] !== 0) s += x[j] * l.W[o * inDim + j];
          ref[o] = relu && s < 0 ? 0 : s;
        }
        const gathered = new Float32Array(outDim);
        const inPlace = new Float32Array(outDim);
        denseForwardRow(l, x, gathered, relu, gatherScratch(inDim));
        denseForwardRow(l, x, inPlace, relu, null);
        expect(Array.from(gathered)).toEqual(Array.from(ref));
        expect(Array.from(inPlace)).toEqual(Array.from(ref));
      }
  });

  it("denseForwardRowF32 equals input-major float32 accumulation bit for bit", () => {
    const rng = new Rng(2);
    for (const [inDim, outDim] of [
      [9, 2],
      [40, 13],
      [64, 32],
    ])
      for (const relu of [false, true]) {
        const l = randomLayer(rng, inDim, outDim, relu);
        const x = sparseRow(rng, inDim + 5);
        // The arithmetic ProjectionNet and int8 calibration always used: one weight row per
        // non-zero input added into a float32 output buffer.
        const wt = inputMajorWeights(l);
        const ref = Float32Array.from(l.b);
        for (let j = 0; j < inDim; j++) {
          const v = x[5 + j];
          if (v === 0) continue;
          for (let c = 0; c < outDim; c++) ref[c] += wt[j * outDim + c] * v;
        }
        if (relu) for (let c = 0; c < outDim; c++) if (ref[c] < 0) ref[c] = 0;
        const y = denseForwardRowF32(l, x, new Float32Array(outDim), 5);
        expect(Array.from(y)).toEqual(Array.from(ref));
      }
  });

  it("denseOverSetBits equals float32 accumulation of the set bits' weights bit for bit", () => {
    const rng = new Rng(3);
    const bits = 75;
    for (const relu of [false, true]) {
      const l = randomLayer(rng, bits, 11, relu);
      const wt = inputMajorWeights(l);
      for (let t = 0; t < 10; t++) {
        const words = Uint32Array.from({ length: 3 }, () => rng.nextU32());
        words[2] &= (1 << (bits - 64)) - 1;
        const ref = Float32Array.from(l.b);
        for (let j = 0; j < bits; j++)
          if ((words[j >>> 5] >>> (j & 31)) & 1) for (let c = 0; c < 11; c++) ref[c] += wt[j * 11 + c];
        if (relu) for (let c = 0; c < 11; c++) if (ref[c] < 0) ref[c] = 0;
        expect(Array.from(denseOverSetBits(words, 3, l, new Float32Array(11)))).toEqual(Array.from(ref));
      }
    }
  });

  it("input-major weights are the transpose, and setting them back restores W", () => {
    const rng = new Rng(4);
    const l = randomLayer(rng, 5, 3, false);
    const wt = inputMajorWeights(l);
    for (let o = 0; o < 3; o++) for (let j = 0; j < 5; j++) expect(wt[j * 3 + o]).toBe(l.W[o * 5 + j]);
    const copy = denseLayer(5, 3, false);
    setInputMajorWeights(copy, wt);
    expect(Array.from(copy.W)).toEqual(Array.from(l.W));
    expectCode(
      () => setInputMajorWeights(copy, new Float32Array(14)),
      "DIMENSION_MISMATCH",
      /14 weights for 5×3/,
    );
  });

  it("checkDenseChain names the caller, the layer and what is wrong", () => {
    const rng = new Rng(5);
    const a = randomLayer(rng, 4, 3, true);
    const b = randomLayer(rng, 3, 2, false);
    checkDenseChain([a, b], "test");
    expectCode(
      () => checkDenseChain([], "int8"),
      "INVALID_ARGUMENT",
      /^int8: expected at least one dense layer/,
    );
    expectCode(
      () => checkDenseChain([a, randomLayer(rng, 5, 2, false)], "ctx", "features"),
      "DIMENSION_MISMATCH",
      /^ctx: layer 0 outputs 3 features but layer 1 expects 5$/,
    );
    expectCode(
      () => checkDenseChain([{ ...a, W: new Float32Array(11) }], "ctx"),
      "DIMENSION_MISMATCH",
      /layer 0 W has 11 values, expected 3x4/,
    );
    const bad = { ...b, b: Float32Array.of(0, Number.NaN) };
    expectCode(
      () => checkDenseChain([a, bad], "ctx"),
      "INVALID_ARGUMENT",
      /layer 1 has a non-finite parameter/,
    );
  });
});

describe("DenseLayer views", () => {
  it("Dense.over trains the layer's own arrays; asDenseLayer hands the same arrays back", () => {
    const layer = denseLayer(6, 4, true);
    const dense = Dense.over(layer, "fc").initHe(new Rng(6));
    expect(dense.weight.value).toBe(layer.W);
    expect(dense.bias.value).toBe(layer.b);
    expect(layer.W.some((v) => v !== 0)).toBe(true);
    const view = dense.asDenseLayer(true);
    expect(view.W).toBe(layer.W);
    expect(view.relu).toBe(true);
    // The batched engine forward and the single-row kernel agree on the shared arrays.
    const x = sparseRow(new Rng(7), 6);
    const batched = new Float32Array(4);
    dense.forward(x, batched, 1);
    const single = new Float32Array(4);
    denseForwardRow(layer, x, single, false, null);
    for (let o = 0; o < 4; o++) expect(single[o]).toBeCloseTo(batched[o], 5);
    expectCode(
      () => new Dense(6, 4, "x", { W: new Float32Array(5), b: new Float32Array(4) }),
      "DIMENSION_MISMATCH",
      /5 weights and 4 biases for 6×4/,
    );
  });

  it("Sequential.denseLayers folds each ReLU into its Dense layer and shares the params", () => {
    const net = createModel("mlp:8,5", { inputDim: 10, numClasses: 3 }, 1) as Sequential;
    const layers = net.denseLayers("test");
    expect(layers.map((l) => [l.inDim, l.outDim, l.relu])).toEqual([
      [10, 8, true],
      [8, 5, true],
      [5, 3, false],
    ]);
    const params = net.params();
    layers.forEach((l, i) => {
      expect(l.W).toBe(params[2 * i].value);
      expect(l.b).toBe(params[2 * i + 1].value);
    });
    expect(denseLayersOf(net)[0].W).toBe(layers[0].W);
    const odd = new Sequential("odd", "odd", [new ReLU(4), new Dense(4, 2)]);
    expectCode(
      () => odd.denseLayers("fine-tuning"),
      "UNSUPPORTED",
      /^fine-tuning: layer 0 of odd is a "relu" layer/,
    );
  });

  it("the int8 layer is made from a DenseLayer and dequantizes back to one", () => {
    const rng = new Rng(8);
    const l = randomLayer(rng, 12, 5, true);
    const q = quantizeLayer(l, 0.05);
    expect(isQuantizedLayer(q)).toBe(true);
    expect(isQuantizedLayer(l)).toBe(false);
    const back = dequantizeLayer(q);
    expect([back.inDim, back.outDim, back.relu]).toEqual([12, 5, true]);
    for (let o = 0; o < 5; o++)
      for (let j = 0; j < 12; j++)
        expect(Math.abs(back.W[o * 12 + j] - l.W[o * 12 + j])).toBeLessThanOrEqual(q.wScale[o] / 2 + 1e-7);
  });

  it("models without a dense form are refused by export and device quantization", () => {
    const projection = createModel("projection:T=2,d=4", { inputDim: 6, numClasses: 3 }, 1);
    expectCode(() => denseLayersOf(projection), "UNSUPPORTED", /ONNX export supports logreg \/ MLP/);
    expectCode(
      () => quantizeForDevice(projection, { x: new Float32Array(6), y: new Uint8Array(1), n: 1, dim: 6 }, 1),
      "UNSUPPORTED",
      /expected logreg or mlp/,
    );
    const mlp = createModel("mlp:4", { inputDim: 6, numClasses: 3 }, 1);
    const q = quantizeForDevice(
      mlp,
      { x: new Float32Array(12).fill(0.5), y: new Uint8Array(2), n: 2, dim: 6 },
      2,
    );
    expectCode(
      () => quantizeForDevice(q, { x: new Float32Array(6), y: new Uint8Array(1), n: 1, dim: 6 }, 1),
      "INVALID_ARGUMENT",
      /already int8/,
    );
  });

  it("ProjectionNet takes a ReLU on its hidden layer and none on its output layer", () => {
    const proj = new LshProjection({ inputDim: 6, T: 2, d: 4, seed: 1, planes: "gaussian" });
    expect(() => new ProjectionNet("p", proj, [denseLayer(8, 5, false), denseLayer(5, 3, false)])).toThrow(
      /dense layer 0 must end in a ReLU/,
    );
    expect(() => new ProjectionNet("p", proj, [denseLayer(8, 3, true)])).toThrow(
      /dense layer 0 must not end in a ReLU/,
    );
  });
});

describe("the softmax", () => {
  it("rows are exp(z - max) / sum, finite for huge logits, in place or not", () => {
    const rng = new Rng(9);
    const n = 50;
    const k = 7;
    const logits = Float32Array.from({ length: n * k }, () => rng.normal() * 10);
    logits.set([1000, -1000, 999, 0, 3, -3, 88.5], 0);
    const proba = new Float32Array(n * k);
    softmaxRows(logits, proba, n, k);
    for (let r = 0; r < n; r++) {
      const row = Array.from(logits.subarray(r * k, (r + 1) * k));
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const p = proba[r * k + j];
        expect(Number.isFinite(p)).toBe(true);
        expect(Math.abs(p - e[j] / s)).toBeLessThanOrEqual(1e-7);
        sum += p;
      }
      expect(Math.abs(sum - 1)).toBeLessThan(1e-6);
    }
    const inPlace = logits.slice();
    softmaxRows(inPlace, inPlace, n, k);
    expect(Array.from(inPlace)).toEqual(Array.from(proba));
    const one = logits.slice(k, 2 * k);
    expect(softmaxInPlace(one)).toBe(one);
    expect(Array.from(one)).toEqual(Array.from(proba.subarray(k, 2 * k)));
  });
});
