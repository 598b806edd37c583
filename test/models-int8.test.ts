import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isMammalsError } from "../src/core/errors.js";
import { Rng } from "../src/core/rng.js";
import { loadDataset } from "../src/data/datasets.node.js";
import { takeRows } from "../src/data/types.js";
import { runQuantize } from "../src/jobs/quantize.node.js";
import type { DenseLayer } from "../src/models/engine/dense-layer.js";
import { Sequential } from "../src/models/engine/network.js";
import { accuracy } from "../src/models/evaluate.js";
import { quantizeModel } from "../src/models/int8/family.js";
import {
  gemmInt8,
  gemvInt8,
  MAX_INT8_FAN_IN,
  perChannelScales,
  quantizeInput,
  quantizeValue,
  requantize,
} from "../src/models/int8/kernels.js";
import { QuantizedNetwork } from "../src/models/int8/network.js";
import {
  calibrateInputScales,
  dequantizeStack,
  quantizeLayer,
  quantizeStack,
} from "../src/models/int8/quantize.js";
import { writeModelFile } from "../src/models/io/files.node.js";
import { decodeModelFile, encodeModelFile } from "../src/models/io/format.js";
import { loadModel, parseModelSpec, saveModel, trainModel } from "../src/models/registry.js";

function randInt8(rng: Rng, n: number, zeroFraction = 0.3): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() < zeroFraction ? 0 : rng.int(255) - 127;
  return a;
}

/** Random weights drawn input by input (j outer, c inner), stored out×in: W[c * inDim + j]. */
function randDense(rng: Rng, inDim: number, outDim: number, relu: boolean, std = 0.2): DenseLayer {
  const W = new Float32Array(inDim * outDim);
  for (let j = 0; j < inDim; j++) for (let c = 0; c < outDim; c++) W[c * inDim + j] = rng.normal() * std;
  const b = new Float32Array(outDim);
  for (let i = 0; i < outDim; i++) b[i] = rng.normal() * 0.1;
  return { inDim, outDim, W, b, relu };
}

/** Brute-force integer reference with BigInt (no possibility of silent wrap-around). */
function refAcc(wt: Int8Array, x: Int8Array, inDim: number, outDim: number, bias: Int32Array): number[] {
  const out: number[] = [];
  for (let c = 0; c < outDim; c++) {
    let s = BigInt(bias[c]);
    for (let j = 0; j < inDim; j++) s += BigInt(wt[j * outDim + c]) * BigInt(x[j]);
    out.push(Number(s));
  }
  return out;
}

function floatForward(layers: readonly DenseLayer[], x: Float32Array): Float64Array {
  let cur: Float64Array = Float64Array.from(x);
  for (const l of layers) {
    const y = new Float64Array(l.outDim);
    for (let c = 0; c < l.outDim; c++) {
      let s = l.b[c];
      for (let j = 0; j < l.inDim; j++) s += l.W[c * l.inDim + j] * cur[j];
      y[c] = l.relu ? Math.max(0, s) : s;
    }
    cur = y;
  }
  return cur;
}

describe("int8 kernels", () => {
  it("gemv and gemm equal the exact integer reference, including extreme values", () => {
    const rng = new Rng(3);
    for (const [inDim, outDim, n] of [
      [1, 1, 1],
      [7, 5, 3],
      [64, 33, 9],
      [300, 17, 6],
    ]) {
      const wt = randInt8(rng, inDim * outDim, 0.1);
      const x = randInt8(rng, n * inDim);
      const bias = new Int32Array(outDim).map(() => rng.int(2 ** 20) - 2 ** 19);
      // Extremes: an all -127 row against all -127 weights gives the largest magnitude.
      x.fill(-127, 0, inDim);
      wt.fill(-127, 0, outDim);
      const acc = new Int32Array(n * outDim);
      gemmInt8(wt, x, n, inDim, outDim, bias, acc);
      for (let i = 0; i < n; i++) {
        const row = x.subarray(i * inDim, (i + 1) * inDim);
        const ref = refAcc(wt, row, inDim, outDim, bias);
        expect(Array.from(acc.subarray(i * outDim, (i + 1) * outDim))).toEqual(ref);
        const one = gemvInt8(wt, x, inDim, outDim, bias, new Int32Array(outDim), i * inDim);
        expect(Array.from(one)).toEqual(ref);
      }
    }
  });

  it("does not overflow at the largest allowed fan-in", () => {
    const inDim = MAX_INT8_FAN_IN;
    const wt = new Int8Array(inDim).fill(127);
    const x = new Int8Array(inDim).fill(127);
    const bias = new Int32Array([2 ** 30]);
    const acc = gemvInt8(wt, x, inDim, 1, bias, new Int32Array(1));
    expect(acc[0]).toBe(inDim * 127 * 127 + 2 ** 30);
  });

  it("quantizes symmetrically, rounding half away from zero and clamping", () => {
    expect(quantizeValue(0.5, 1)).toBe(1);
    expect(quantizeValue(-0.5, 1)).toBe(-1);
    expect(quantizeValue(1000, 1)).toBe(127);
    expect(quantizeValue(-1000, 1)).toBe(-127);
    expect(quantizeValue(-3, 1, 0)).toBe(0);
    const out = requantize(
      new Int32Array([100, -100, 5]),
      new Float32Array([0.5, 0.5, 0.1]),
      true,
      new Int8Array(3),
    );
    expect(Array.from(out)).toEqual([50, 0, 1]);
    expect(() => quantizeInput([0, Number.NaN], 0.1, new Int8Array(2))).toThrow(/finite/);
    // The fast rounding equals sign(r) * Math.round(|r|) clamped, on random values and exact halves.
    const rng = new Rng(8);
    for (let i = 0; i < 20000; i++) {
      const r = i % 2 === 0 ? (rng.next() - 0.5) * 400 : (rng.int(400) - 200) / 2;
      for (const lo of [-127, 0]) {
        const ref = Math.min(127, Math.max(lo, Math.sign(r) * Math.round(Math.abs(r))));
        expect(quantizeValue(r, 1, lo)).toBe(ref === 0 ? 0 : ref);
      }
    }
  });

  it("per-channel scales are max |W_c| / 127 per output channel", () => {
    const rng = new Rng(5);
    const l = randDense(rng, 20, 6, false);
    l.W.fill(0, 0, 0);
    for (let j = 0; j < 20; j++) l.W[5 * 20 + j] = 0; // an all-zero channel
    const s = perChannelScales(l.W, 20, 6);
    for (let c = 0; c < 5; c++) {
      let m = 0;
      for (let j = 0; j < 20; j++) m = Math.max(m, Math.abs(l.W[c * 20 + j]));
      expect(s[c]).toBeCloseTo(m / 127, 7);
    }
    expect(s[5]).toBe(1);
    const q = quantizeLayer(l, 0.01);
    for (let c = 0; c < 5; c++) {
      let maxQ = 0;
      for (let j = 0; j < 20; j++) maxQ = Math.max(maxQ, Math.abs(q.wt[j * 6 + c]));
      expect(maxQ).toBe(127); // the largest weight of each channel uses the full range
    }
    // Dequantized weights are within half a step of the originals.
    const [back] = dequantizeStack(quantizeStack([l], [0.01]));
    for (let j = 0; j < 20; j++)
      for (let c = 0; c < 6; c++)
        expect(Math.abs(back.W[c * 20 + j] - l.W[c * 20 + j])).toBeLessThanOrEqual(s[c] / 2 + 1e-7);
  });
});

describe("int8 networks", () => {
  it("calibrated scales map the max |activation| of each layer input to 127", () => {
    const rng = new Rng(9);
    const layers = [randDense(rng, 30, 16, true), randDense(rng, 16, 4, false)];
    const n = 50;
    const x = new Float32Array(n * 30).map(() => rng.next());
    const scales = calibrateInputScales(layers, x, n);
    let maxIn = 0;
    let maxHidden = 0;
    for (let i = 0; i < n; i++) {
      const row = x.subarray(i * 30, (i + 1) * 30);
      for (const v of row) maxIn = Math.max(maxIn, v);
      for (const v of floatForward([layers[0]], row)) maxHidden = Math.max(maxHidden, v);
    }
    expect(scales[0]).toBeCloseTo(maxIn / 127, 6);
    expect(scales[1]).toBeCloseTo(maxHidden / 127, 5);
    const p = calibrateInputScales(layers, x, n, { method: "percentile", percentile: 50 });
    expect(p[0]).toBeLessThan(scales[0]);
  });

  it("quantized outputs track the float network; batch equals single", () => {
    const rng = new Rng(11);
    const layers = [
      randDense(rng, 64, 32, true, 0.15),
      randDense(rng, 32, 16, true, 0.25),
      randDense(rng, 16, 5, false, 0.3),
    ];
    const n = 200;
    const x = new Float32Array(n * 64).map(() => (rng.next() < 0.5 ? 0 : rng.next()));
    const net = QuantizedNetwork.fromFloat(layers, x, n, { kind: "mlp", spec: "mlp:32,16" });
    expect(net.spec).toBe("int8:mlp:32,16");
    expect(net.bytes).toBe(64 * 32 + 32 * 16 + 16 * 5 + 8 * (32 + 16 + 5) + 4 * 3);
    const batch = net.predictProbaBatch(x, n);
    const emb = net.embedBatch(x, n);
    let agree = 0;
    for (let i = 0; i < n; i++) {
      const row = x.subarray(i * 64, (i + 1) * 64);
      const ref = floatForward(layers, row);
      const m = Math.max(...ref);
      const e = ref.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, b) => a + b, 0);
      const { proba, embedding } = net.embedAndPredict(row);
      for (let c = 0; c < 5; c++) {
        expect(Math.abs(proba[c] - e[c] / sum)).toBeLessThan(0.03);
        expect(batch[i * 5 + c]).toBeCloseTo(proba[c], 6);
      }
      expect(Array.from(emb.subarray(i * 16, (i + 1) * 16))).toEqual(Array.from(embedding));
      if (argmax(proba) === argmax(Array.from(ref))) agree++;
    }
    expect(agree / n).toBeGreaterThan(0.95);
  });

  it("rejects bad inputs with clear errors", () => {
    const rng = new Rng(1);
    const l = randDense(rng, 4, 3, false);
    const net = QuantizedNetwork.fromFloat([l], new Float32Array(8).fill(0.5), 2, {
      kind: "logreg",
      spec: "logreg",
    });
    expect(() => net.predictProba(new Float32Array(5))).toThrow(/expected an input of 4 values, got 5/);
    expect(() => net.predictProba(Float32Array.of(0, Number.NaN, 0, 0))).toThrow(/finite/);
    expect(() => net.predictProbaBatch(new Float32Array(7), 2)).toThrow(/need 8 values, got 7/);
    expect(() => quantizeStack([l, randDense(rng, 5, 2, false)], [1, 1])).toThrow(
      /outputs 3 values but layer 1 expects 5/,
    );
    const bad = { ...l, W: l.W.slice() };
    bad.W[2 * 4] = Number.POSITIVE_INFINITY;
    try {
      quantizeStack([bad], [1]);
      expect.unreachable();
    } catch (e) {
      expect(isMammalsError(e, "INVALID_ARGUMENT")).toBe(true);
    }
    expect(() => calibrateInputScales([l], new Float32Array(3), 1)).toThrow(/need 4 values, got 3/);
  });
});

describe("int8 on MNIST", () => {
  const ds = loadDataset("mnist");
  const train = takeRows(
    ds.train,
    Uint32Array.from({ length: 3000 }, (_, i) => i),
  );
  const test = takeRows(
    ds.test,
    Uint32Array.from({ length: 1000 }, (_, i) => i),
  );

  it("a quantized MLP tracks its float model on MNIST, and saves / loads exactly", () => {
    const { model } = trainModel("mlp:64", train, 10, { epochs: 3, seed: 2, batchSize: 32, lr: 2e-3 });
    expect(model).toBeInstanceOf(Sequential);
    const q = quantizeModel(model, train, { rows: 500 });
    expect(q.spec).toBe("int8:mlp:64");
    expect(q.bytes).toBe(784 * 64 + 64 * 10 + 8 * (64 + 10) + 8);
    // Float reference computed independently of the int8 code path.
    const layers = (model as Sequential).denseLayers("test");
    let maxDiff = 0;
    for (let i = 0; i < 200; i++) {
      const x = test.x.subarray(i * 784, (i + 1) * 784);
      const p = model.predictProba(x);
      const pq = q.predictProba(x);
      for (let c = 0; c < 10; c++) maxDiff = Math.max(maxDiff, Math.abs(p[c] - pq[c]));
      const ref = floatForward(layers, x);
      expect(argmax(ref)).toBe(argmax(p));
    }
    expect(maxDiff).toBeLessThan(0.1);
    const fAcc = accuracy(model, test);
    expect(fAcc).toBeGreaterThan(0.85);
    expect(Math.abs(accuracy(q, test) - fAcc)).toBeLessThan(0.01);
    const loaded = loadModel(saveModel(q));
    expect(loaded.spec).toBe("int8:mlp:64");
    expect(Array.from(loaded.predictProbaBatch(test.x.subarray(0, 784 * 20), 20))).toEqual(
      Array.from(q.predictProbaBatch(test.x.subarray(0, 784 * 20), 20)),
    );
    expect(Array.from(loaded.embed(test.x.subarray(0, 784)))).toEqual(
      Array.from(q.embed(test.x.subarray(0, 784))),
    );
  });

  it("trains int8:logreg through the registry; `mammals quantize` reports before and after", () => {
    const { model } = trainModel("int8:logreg", train, 10, { epochs: 2, seed: 1, batchSize: 32, lr: 3e-3 });
    expect(model.spec).toBe("int8:logreg");
    expect(model.bytes).toBe(784 * 10 + 8 * 10 + 4);
    expect(model.embedDim).toBe(784);
    expect(accuracy(model, test)).toBeGreaterThan(0.8);
    expect(loadModel(saveModel(model)).spec).toBe("int8:logreg");

    const dir = mkdtempSync(join(tmpdir(), "mammals-int8-"));
    try {
      const { model: f } = trainModel("mlp:16", train, 10, { epochs: 2, seed: 1, batchSize: 32, lr: 3e-3 });
      writeModelFile(join(dir, "f.mammals"), f);
      const r = runQuantize({
        input: join(dir, "f.mammals"),
        output: join(dir, "q.mammals"),
        dataset: "mnist",
        calibRows: 300,
        calibration: "percentile",
        percentile: 99.9,
        seed: 1,
      });
      expect(r.model).toBe("mlp:16");
      expect(r.quantized).toBe("int8:mlp:16");
      expect(r.floatBytes).toBe(4 * (784 * 16 + 16 + 16 * 10 + 10));
      expect(r.int8Bytes).toBe(784 * 16 + 16 * 10 + 8 * 26 + 8);
      expect(Math.abs(r.accuracyDropPoints)).toBeLessThan(2);
      expect(r.calibration).toBe("percentile:99.9");
      expect(() =>
        runQuantize({
          ...r,
          input: join(dir, "q.mammals"),
          output: join(dir, "qq.mammals"),
          dataset: "mnist",
          calibRows: 10,
          calibration: "max",
          percentile: 1,
          seed: 1,
        }),
      ).toThrow(/already quantized/);
      expect(() =>
        runQuantize({
          input: join(dir, "nope.mammals"),
          output: join(dir, "x.mammals"),
          dataset: "mnist",
          calibRows: 10,
          calibration: "max",
          percentile: 1,
          seed: 1,
        }),
      ).toThrow(/no such model file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects bad int8 specs and corrupt int8 files", () => {
    expect(() => parseModelSpec("int8")).toThrow(/expected the spec of a float model/);
    expect(() => parseModelSpec("int8:int8:mlp:32")).toThrow(/already an int8 spec/);
    expect(() => parseModelSpec("int8:cnn:3")).toThrow(/unknown model family "cnn"/);
    const rng = new Rng(3);
    const net = QuantizedNetwork.fromFloat(
      [randDense(rng, 784, 8, true), randDense(rng, 8, 10, false)],
      train.x,
      50,
      {
        kind: "mlp",
        spec: "mlp:8",
      },
    );
    const file = decodeModelFile(saveModel(net));
    const w = file.tensors.findIndex((t) => t.name === "layer0.weight");
    file.tensors[w] = { ...file.tensors[w], data: new Float32Array(784 * 8) };
    expect(() => loadModel(encodeModelFile(file))).toThrow(
      /"layer0.weight" is f32 \[784, 8\], expected i8 \[784, 8\]/,
    );
    const file2 = decodeModelFile(saveModel(net));
    const s = file2.tensors.findIndex((t) => t.name === "layer1.wScale");
    file2.tensors[s] = { ...file2.tensors[s], data: new Float32Array(10) };
    expect(() => loadModel(encodeModelFile(file2))).toThrow(/weight scale 0; expected > 0/);
    const file3 = decodeModelFile(saveModel(net));
    file3.spec = "int8:mlp:9";
    expect(() => loadModel(encodeModelFile(file3))).toThrow(
      /"layer0.wScale" is f32 \[8\], expected f32 \[9\]/,
    );
    expect(() => quantizeModel(net, train)).toThrow(/already quantized/);
  });
});

function argmax(a: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
  return b;
}
