import { describe, expect, it } from "vitest";
import { Rng } from "../src/core/rng.js";
import { loadDataset } from "../src/data/datasets.node.js";
import { takeRows } from "../src/data/types.js";
import { setInputMajorWeights } from "../src/models/engine/dense-layer.js";
import { Dense, ReLU } from "../src/models/engine/layers.js";
import { argmax, Sequential } from "../src/models/engine/network.js";
import { buildMlp } from "../src/models/families/mlp.js";
import {
  ProjectionTrainingTask,
  parseProjectionParams,
  TrainableProjectionNet,
  withRowIndex,
} from "../src/models/families/projection.js";
import {
  denseOverSetBits,
  generateHyperplanes,
  getBit,
  LshProjection,
  unpackBits,
} from "../src/models/families/projection-net.js";
import { quantizeModel } from "../src/models/int8/family.js";
import { decodeModelFile, encodeModelFile } from "../src/models/io/format.js";
import { createModel, loadModel, parseModelSpec, saveModel, trainModel } from "../src/models/registry.js";

function accuracy(
  m: { predictProbaBatch(x: Float32Array, n: number): Float32Array },
  x: Float32Array,
  y: Uint8Array,
  n: number,
) {
  const p = m.predictProbaBatch(x, n);
  let c = 0;
  for (let i = 0; i < n; i++) if (argmax(p, i * 10, 10) === y[i]) c++;
  return c / n;
}

describe("LSH projection", () => {
  it("packed bits equal the signs of brute-force dot products with the regenerated hyperplanes", () => {
    for (const planes of ["gaussian", "sparse"] as const) {
      const config = { inputDim: 50, T: 7, d: 9, seed: 42, planes };
      const rng = new Rng(1);
      const center = Float32Array.from({ length: 50 }, () => rng.next() * 0.3);
      const proj = new LshProjection(config, center);
      expect(proj.words).toBe(2); // 63 bits
      const again = new LshProjection(config, center);
      const other = new LshProjection({ ...config, seed: 43 });
      expect(Array.from(again.hyperplane(5))).toEqual(Array.from(proj.hyperplane(5)));
      expect(Array.from(other.hyperplane(5))).not.toEqual(Array.from(proj.hyperplane(5)));
      const raw = generateHyperplanes(config);
      for (let t = 0; t < 30; t++) {
        const x = Float32Array.from({ length: 50 }, () => (rng.next() < 0.4 ? 0 : rng.next()));
        const words = proj.project(x);
        expect(Array.from(again.project(x))).toEqual(Array.from(words));
        for (let k = 0; k < proj.bits; k++) {
          let s = 0;
          for (let j = 0; j < 50; j++) s += (x[j] - center[j]) * raw[j * proj.bits + k];
          if (Math.abs(s) > 1e-9) expect(getBit(words, k)).toBe(s > 0 ? 1 : 0);
        }
        // Unused high bits of the last word stay 0.
        expect(words[1] >>> (63 - 32)).toBe(0);
      }
      if (planes === "sparse") for (const v of raw) expect([-1, 0, 1]).toContain(v);
    }
  });

  it("the dense layer over set bits equals the dense product over 0/1 features", () => {
    const rng = new Rng(2);
    const bits = 70;
    const out = 9;
    const wt = Float32Array.from({ length: bits * out }, () => rng.normal());
    const b = Float32Array.from({ length: out }, () => rng.normal());
    const layer = { inDim: bits, outDim: out, W: new Float32Array(bits * out), b, relu: false };
    setInputMajorWeights(layer, wt);
    for (let t = 0; t < 20; t++) {
      const words = Uint32Array.from({ length: 3 }, () => rng.nextU32());
      words[2] &= (1 << (bits - 64)) - 1;
      const f = unpackBits(words, bits, new Float32Array(bits));
      const fast = denseOverSetBits(words, 3, layer, new Float32Array(out));
      for (let c = 0; c < out; c++) {
        let s = b[c];
        for (let j = 0; j < bits; j++) s += f[j] * wt[j * out + c];
        expect(fast[c]).toBeCloseTo(s, 4);
      }
    }
  });
});

describe("ProjectionNet joint training", () => {
  function tinyTask(lambdas: [number, number, number]) {
    const rng = new Rng(7);
    const n = 6;
    const dim = 12;
    const x = Float32Array.from({ length: n * dim }, () => rng.next());
    const y = Uint8Array.from({ length: n }, () => rng.int(3));
    const proj = new LshProjection({ inputDim: dim, T: 3, d: 4, seed: 5, planes: "gaussian" });
    const bits = proj.projectBatch(x, n);
    const trainer = buildMlp("mlp", "mlp:8", [8], { inputDim: dim, numClasses: 3 }, 3);
    const head = new Sequential("head", "head", [
      new Dense(12, 5, "fc").initHe(rng),
      new ReLU(5),
      new Dense(5, 3, "out").initHe(rng, 1),
    ]);
    for (const p of head.params()) for (let i = 0; i < p.value.length; i++) p.value[i] += 0.05 * rng.normal();
    const task = new ProjectionTrainingTask(trainer, head, proj, bits, lambdas);
    const split = withRowIndex({ x, y, n, dim });
    return { task, split, trainer, head };
  }

  function checkGradients(lambdas: [number, number, number], which: "head" | "trainer") {
    const { task, split, trainer, head } = tinyTask(lambdas);
    const net = which === "head" ? head : trainer;
    const loss = () => task.lossAndGrad(split.x, split.y, split.n);
    loss();
    const analytic = net.params().map((p) => Float64Array.from(p.grad ?? []));
    const eps = 1e-2;
    let checked = 0;
    net.params().forEach((p, pi) => {
      for (let i = 0; i < p.value.length; i += 3) {
        const old = p.value[i];
        p.value[i] = old + eps;
        const up = loss();
        p.value[i] = old - eps;
        const down = loss();
        p.value[i] = old;
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(numeric - analytic[pi][i])).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(10);
  }

  it("head gradients of the joint loss match finite differences", () => checkGradients([1, 0.1, 1], "head"));
  it("head gradients with distillation only match finite differences", () =>
    checkGradients([0, 1, 0], "head"));
  it("trainer gradients match finite differences (lambda2 = 0: soft targets are constants)", () =>
    checkGradients([1, 0, 1], "trainer"));

  it("learns MNIST digits from bits, saves and loads exactly, and quantizes to int8", () => {
    const ds = loadDataset("mnist");
    const train = takeRows(
      ds.train,
      Uint32Array.from({ length: 3000 }, (_, i) => i),
    );
    const test = takeRows(
      ds.test,
      Uint32Array.from({ length: 500 }, (_, i) => i),
    );
    const { model } = trainModel("projection:T=30,d=8,fc=32,trainer=32", train, 10, {
      epochs: 4,
      seed: 3,
      valFraction: 0.1,
      batchSize: 32,
      lr: 3e-3,
    });
    expect(model.spec).toBe("projection:T=30,d=8,fc=32,trainer=32");
    expect(model.bytes).toBe(4 * (240 * 32 + 32 + 32 * 10 + 10) + 4);
    const acc = accuracy(model, test.x, test.y, test.n);
    expect(acc).toBeGreaterThan(0.75);
    // Single and batch paths agree.
    const p1 = model.predictProba(test.x.subarray(0, 784));
    expect(Array.from(model.predictProbaBatch(test.x.subarray(0, 784), 1))).toEqual(Array.from(p1));
    expect(model.embed(test.x.subarray(0, 784)).length).toBe(32);

    const first50 = test.x.subarray(0, 50 * 784);
    const loaded = loadModel(saveModel(model));
    expect(Array.from(loaded.predictProbaBatch(first50, 50))).toEqual(
      Array.from(model.predictProbaBatch(first50, 50)),
    );

    const q = quantizeModel(model, train);
    expect(q.spec).toBe("int8:projection:T=30,d=8,fc=32,trainer=32");
    expect(q.bytes).toBe(240 * 32 + 32 * 10 + 8 * (32 + 10) + 8 + 4);
    expect(Math.abs(accuracy(q, test.x, test.y, test.n) - acc)).toBeLessThan(0.02);
    const qLoaded = loadModel(saveModel(q));
    expect(Array.from(qLoaded.predictProbaBatch(first50, 50))).toEqual(
      Array.from(q.predictProbaBatch(first50, 50)),
    );
    expect(Array.from(q.predictProba(test.x.subarray(0, 784)))).toEqual(
      Array.from(q.predictProbaBatch(test.x.subarray(0, 784), 1)),
    );
  });

  it("round-trips a centered net without a dense layer; embed is the bit vector", () => {
    const rng = new Rng(4);
    const params = parseProjectionParams("T=5,d=7,center=true");
    const center = Float32Array.from({ length: 20 }, () => rng.next());
    const net = new TrainableProjectionNet(params, { inputDim: 20, numClasses: 4 }, 99, center);
    for (const l of net.head)
      setInputMajorWeights(
        l,
        Float32Array.from({ length: l.W.length }, () => rng.normal()),
      );
    const x = Float32Array.from({ length: 20 }, () => rng.next());
    const loaded = loadModel(saveModel(net));
    expect(Array.from(loaded.predictProba(x))).toEqual(Array.from(net.predictProba(x)));
    const e = net.embed(x);
    expect(e.length).toBe(35);
    const words = net.projection.project(x);
    for (let k = 0; k < 35; k++) expect(e[k]).toBe(getBit(words, k));
    expect(net.bytes).toBe(4 * (35 * 4 + 4) + 4 + 4 * 20);
  });
});

describe("ProjectionNet errors", () => {
  it("rejects bad specs, inputs and files with clear errors", () => {
    expect(() => parseModelSpec("projection:T=0,d=10")).toThrow(/T: expected >= 1, got 0/);
    expect(() => parseModelSpec("projection:T=60,x=1")).toThrow(/unknown parameter "x"/);
    expect(() => parseModelSpec("projection:trainer=256-abc")).toThrow(/trainer widths/);
    expect(() => parseModelSpec("projection:lambda2=0,lambda3=0")).toThrow(/never learns/);
    expect(() => parseModelSpec("projection:planes=dense")).toThrow(/gaussian, sparse/);
    expect(parseModelSpec("projection:d=10,T=60,fc=128").spec).toBe("projection:T=60,d=10,fc=128");
    const net = createModel("projection:T=4,d=4", { inputDim: 10, numClasses: 3 }, 1);
    expect(() => net.predictProba(new Float32Array(9))).toThrow(/expected an input of 10 values, got 9/);
    const nan = new Float32Array(10);
    nan[3] = Number.NaN;
    expect(() => net.predictProba(nan)).toThrow(/finite/);
    expect(() => net.predictProbaBatch(new Float32Array(15), 2)).toThrow(/need 20 values, got 15/);
    const file = decodeModelFile(saveModel(net));
    file.meta.seed = "x";
    expect(() => loadModel(encodeModelFile(file))).toThrow(/meta.seed must be a number/);
    const file2 = decodeModelFile(saveModel(net));
    file2.tensors[0] = { ...file2.tensors[0], shape: [15, 3], data: new Float32Array(45) };
    expect(() => loadModel(encodeModelFile(file2))).toThrow(
      /layer0.weight" is f32 \[15, 3\], expected f32 \[16, 3\]/,
    );
    const bytes = saveModel(net);
    expect(() => loadModel(bytes.subarray(0, bytes.length - 8))).toThrow(/truncated/);
  });
});
