/**
 * The models' WebAssembly SIMD kernels: the embedded module is what dense.wat compiles to; the
 * float and int8 dense kernels against scalar references on odd sizes (property tests); every
 * model family gives the same logits on both paths (float within float32 tolerance, int8
 * identical) and the same arg-max on MNIST and Fashion-MNIST; the sparse projection against the
 * dense reference computation; the weight copies follow in-place updates; the SIMD Adam step is
 * bit-identical to the loop; projection files round-trip and refuse unknown formats.
 */
import { existsSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { compileWat } from "../scripts/build-wasm.js";
import { Rng } from "../src/core/rng.js";
import { DEBIAN_FASHION_DIR, loadDataset, loadEmbeddedMnist } from "../src/data/datasets.node.js";
import { type LabeledSplit, takeRows } from "../src/data/types.js";
import { type DenseLayer, denseLayer } from "../src/models/engine/dense-layer.js";
import { gemmAB, gemmAtB } from "../src/models/engine/matmul.js";
import { argmax, type Sequential } from "../src/models/engine/network.js";
import { Adam } from "../src/models/engine/optim.js";
import { LshProjection, type ProjectionNet } from "../src/models/families/projection-net.js";
import { finetuneModel } from "../src/models/finetune/run.js";
import { quantizeModel } from "../src/models/int8/family.js";
import { gemvInt8 } from "../src/models/int8/kernels.js";
import { decodeModelFile, encodeModelFile } from "../src/models/io/format.js";
import { loadModel, saveModel, trainModel } from "../src/models/registry.js";
import type { Model } from "../src/models/types.js";
import { DENSE_WASM_BASE64 } from "../src/models/wasm/dense.wasm.js";
import { FloatStackKernel, Int8StackKernel } from "../src/models/wasm/dense-stack.js";
import { markWeightsChanged, modelKernelPath, setModelKernelPath } from "../src/models/wasm/kernels.js";
import { errorOf } from "./error-fixtures.js";

afterEach(() => setModelKernelPath("auto"));

/** A layer with Gaussian weights and biases. */
function randomLayer(rng: Rng, inDim: number, outDim: number, relu: boolean): DenseLayer {
  const l = denseLayer(inDim, outDim, relu);
  for (let i = 0; i < l.W.length; i++) l.W[i] = rng.normal();
  for (let i = 0; i < l.b.length; i++) l.b[i] = rng.normal();
  return l;
}

/** An input with about a third exact zeros (the kernels skip them). */
function sparseInput(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() < 0.35 ? 0 : rng.normal()));
}

/** Both paths of one call: [typescript, wasm-simd]. */
function bothPaths<T>(f: () => T): [T, T] {
  setModelKernelPath("typescript");
  const ts = f();
  setModelKernelPath("auto");
  return [ts, f()];
}

describe("kernel module", () => {
  it("embeds exactly what dense.wat compiles to (rerun scripts/build-wasm-models.ts if not)", async () => {
    const path = "src/models/wasm/dense.wat";
    const bytes = await compileWat(readFileSync(path, "utf8"), path);
    expect(Buffer.from(bytes).toString("base64")).toBe(DENSE_WASM_BASE64);
  });

  it("loads synchronously in Node, and the TypeScript path can be forced", () => {
    expect(modelKernelPath()).toBe("wasm-simd");
    setModelKernelPath("typescript");
    expect(modelKernelPath()).toBe("typescript");
    setModelKernelPath("auto");
    expect(modelKernelPath()).toBe("wasm-simd");
  });
});

describe("dense kernels against the scalar reference", () => {
  it("float: within float32 rounding of the float64 sums, ReLU applied, on odd sizes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 45 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 1e6 }),
        (inDim, outDim, relu, seed) => {
          const rng = new Rng(seed);
          const layer = randomLayer(rng, inDim, outDim, relu);
          const x = sparseInput(rng, inDim);
          const kernel = FloatStackKernel.create([layer])!;
          const at = kernel.forward(x);
          for (let o = 0; o < outDim; o++) {
            let s = layer.b[o];
            let mag = Math.abs(s);
            for (let j = 0; j < inDim; j++) {
              s += layer.W[o * inDim + j] * x[j];
              mag += Math.abs(layer.W[o * inDim + j] * x[j]);
            }
            const want = relu && s < 0 ? 0 : s;
            expect(Math.abs(kernel.heap.f32[at + o] - want)).toBeLessThanOrEqual(
              2 * 2 ** -24 * (inDim + 2) * mag,
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("int8: exactly the int32 accumulators of gemvInt8, on odd sizes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 45 }),
        fc.integer({ min: 1, max: 1e6 }),
        (inDim, outDim, seed) => {
          const rng = new Rng(seed);
          const wt = Int8Array.from({ length: inDim * outDim }, () => rng.int(255) - 127);
          const bias = Int32Array.from({ length: outDim }, () => rng.int(2000001) - 1000000);
          const x = Int8Array.from({ length: inDim }, () => (rng.next() < 0.4 ? 0 : rng.int(255) - 127));
          const layer = {
            inDim,
            outDim,
            relu: false,
            wt,
            bias,
            wScale: new Float32Array(outDim).fill(0.01),
            inScale: 0.02,
          };
          const kernel = Int8StackKernel.create([layer])!;
          const outScale = [new Float32Array(outDim).fill(1)];
          const logits = kernel.forward(x, outScale, [], new Float32Array(outDim));
          const acc = gemvInt8(wt, x, inDim, outDim, bias, new Int32Array(outDim));
          expect(Array.from(logits)).toEqual(Array.from(acc, (a) => Math.fround(a)));
        },
      ),
      { numRuns: 150 },
    );
  });
});

/** Logits-level agreement of the two paths on the rows of `split`. */
function compare(model: Model, split: LabeledSplit) {
  const k = model.numClasses;
  let maxDiff = 0;
  let sameArgmax = 0;
  const embedDiff = { max: 0 };
  for (let i = 0; i < split.n; i++) {
    const x = split.x.subarray(i * split.dim, (i + 1) * split.dim);
    const [pt, pw] = bothPaths(() => model.predictProba(x));
    const [et, ew] = bothPaths(() => model.embed(x));
    for (let j = 0; j < k; j++) maxDiff = Math.max(maxDiff, Math.abs(pt[j] - pw[j]));
    for (let j = 0; j < et.length; j++)
      embedDiff.max = Math.max(embedDiff.max, Math.abs(et[j] - ew[j]) / Math.max(1, Math.abs(et[j])));
    if (argmax(pt, 0, k) === argmax(pw, 0, k)) sameArgmax++;
  }
  return { maxDiff, embedMax: embedDiff.max, sameArgmax: sameArgmax / split.n };
}

const fashion = existsSync(`${DEBIAN_FASHION_DIR}/t10k-images-idx3-ubyte.gz`);

describe.each([
  ["MNIST (embedded)", true],
  ["Fashion-MNIST (Debian)", fashion],
])("both paths on %s", (name, available) => {
  const load = () => {
    const ds = name.startsWith("MNIST") ? loadEmbeddedMnist() : loadDataset("fashion-mnist");
    const pick = (s: LabeledSplit, n: number, from = 0) =>
      takeRows(
        s,
        Uint32Array.from({ length: n }, (_, i) => from + i),
      );
    return { train: pick(ds.train, 1500), test: pick(ds.test, 300) };
  };

  it.skipIf(!available)(
    "mlp, logreg, ProjectionNet (very sparse, Gaussian, fc) and their int8 forms: same logits within float tolerance (int8: identical), same arg-max",
    () => {
      const { train, test } = load();
      const specs = [
        "logreg",
        "mlp:32",
        "mlp:64,32",
        "projection:T=20,d=8,trainer=32",
        "projection:T=20,d=8,fc=32,trainer=32",
        "projection:T=20,d=8,trainer=32,planes=gaussian,center=true",
        "projection:T=20,d=8,trainer=32,planes=sparse",
      ];
      for (const spec of specs) {
        setModelKernelPath("typescript");
        const { model } = trainModel(spec, train, 10, { epochs: 2, seed: 3 });
        const q = quantizeModel(model, train);
        setModelKernelPath("auto");
        const float = compare(model, test);
        expect(float.maxDiff, spec).toBeLessThan(2e-5);
        expect(float.embedMax, spec).toBeLessThan(2e-5);
        // Gaussian projections sum in float32 on the SIMD path: a bit may flip on a tie.
        expect(float.sameArgmax, spec).toBeGreaterThanOrEqual(spec.includes("gaussian") ? 0.99 : 1);
        const int8 = compare(q, test);
        if (spec.includes("gaussian")) expect(int8.sameArgmax, q.spec).toBeGreaterThanOrEqual(0.99);
        else {
          expect(int8.maxDiff, q.spec).toBe(0);
          expect(int8.embedMax, q.spec).toBe(0);
        }
      }
    },
    120_000,
  );
});

describe("sparse projection", () => {
  it("bits equal the signs of float64 dot products with the hyperplanes, on both paths", () => {
    const ds = loadEmbeddedMnist();
    for (const planes of ["very-sparse", "sparse", "gaussian"] as const) {
      const center = Float32Array.from({ length: 784 }, (_, j) => (j % 7) / 20);
      const proj = new LshProjection({ inputDim: 784, T: 12, d: 7, seed: 9, planes }, center);
      const hyper = Array.from({ length: proj.bits }, (_, k) => proj.hyperplane(k));
      if (planes !== "gaussian") {
        const nonZero = hyper.reduce((s, h) => s + h.filter((v) => v !== 0).length, 0) / proj.bits;
        // Very sparse: about sqrt(784) = 28 inputs per hyperplane; sparse: a third of them.
        if (planes === "very-sparse") expect(nonZero).toBeGreaterThan(20);
        if (planes === "very-sparse") expect(nonZero).toBeLessThan(36);
        if (planes === "sparse") expect(Math.abs(nonZero / 784 - 1 / 3)).toBeLessThan(0.03);
        for (const h of hyper) for (const v of h) expect([-1, 0, 1]).toContain(v);
      }
      let near = 0;
      for (let i = 0; i < 200; i++) {
        const x = ds.test.x.subarray(i * 784, (i + 1) * 784);
        const [ft, fw] = bothPaths(() => proj.features(x, new Float32Array(proj.bits)));
        for (let k = 0; k < proj.bits; k++) {
          let s = 0;
          for (let j = 0; j < 784; j++) s += (x[j] - center[j]) * hyper[k][j];
          const want = s > 0 ? 1 : 0;
          // Sums within rounding of 0 (not exact ties: those give 0 everywhere) may go either way.
          if (s !== 0 && Math.abs(s) < 1e-4) {
            near++;
            continue;
          }
          expect(ft[k]).toBe(want);
          expect(fw[k]).toBe(want);
        }
        if (planes !== "gaussian") expect(Array.from(fw)).toEqual(Array.from(ft));
      }
      // Rare: centred sums that cancel in exact arithmetic (under 0.5% of the 200 x 84 bits).
      expect(near, planes).toBeLessThan(0.005 * 200 * proj.bits);
    }
  });

  it("refuses non-finite input on both paths", () => {
    const proj = new LshProjection({ inputDim: 5, T: 2, d: 3, seed: 1, planes: "very-sparse" });
    const x = Float32Array.of(1, 0, Number.NaN, 0, 2);
    for (const path of ["typescript", "auto"] as const) {
      setModelKernelPath(path);
      expect(errorOf(() => proj.features(x, new Float32Array(6)))?.message).toMatch(
        /input value 2 is NaN; expected a finite number/,
      );
    }
  });
});

describe("weights resident in WebAssembly memory", () => {
  it("follow in-place updates announced by markWeightsChanged (training, fine-tuning, loading)", () => {
    const ds = loadEmbeddedMnist();
    const train = takeRows(
      ds.train,
      Uint32Array.from({ length: 400 }, (_, i) => i),
    );
    const { model } = trainModel("mlp:16", train, 10, { epochs: 1, seed: 2 });
    const net = model as Sequential;
    const x = train.x.subarray(0, 784);
    const before = net.predictProba(x);
    const w = net.params()[0].value;
    for (let i = 0; i < w.length; i++) w[i] *= -1;
    markWeightsChanged();
    const [ts, simd] = bothPaths(() => net.predictProba(x));
    expect(Array.from(simd)).not.toEqual(Array.from(before));
    for (let j = 0; j < 10; j++) expect(simd[j]).toBeCloseTo(ts[j], 5);
    // Training again (the optimizer announces its steps) is seen too.
    trainModel("mlp:16", train, 10, { epochs: 1, seed: 2 });
    const reloaded = loadModel(saveModel(net)) as Sequential;
    const [a, b] = bothPaths(() => reloaded.predictProba(x));
    for (let j = 0; j < 10; j++) expect(b[j]).toBeCloseTo(a[j], 5);
  });

  it("fine-tuning in place (float and int8) is seen by the SIMD path", () => {
    const ds = loadEmbeddedMnist();
    const rows = (from: number, n: number) =>
      takeRows(
        ds.train,
        Uint32Array.from({ length: n }, (_, i) => from + i),
      );
    const train = rows(0, 400);
    const adapt = rows(1000, 200);
    const { model } = trainModel("mlp:16", train, 10, { epochs: 1, seed: 2 });
    const q = quantizeModel(model, train);
    const x = adapt.x.subarray(0, 784);
    for (const m of [model, q]) {
      const before = m.predictProba(x);
      finetuneModel(m, adapt, {
        scheme: "full",
        budgetBytes: 1e9,
        optimizer: "auto",
        epochs: 2,
        batch: 16,
        lr: 0.05,
        seed: 1,
        qas: true,
      });
      const [ts, simd] = bothPaths(() => m.predictProba(x));
      expect(Array.from(simd), m.spec).not.toEqual(Array.from(before));
      for (let j = 0; j < 10; j++) expect(Math.abs(simd[j] - ts[j]), m.spec).toBeLessThan(1e-5);
    }
  });

  it("gemmAB and gemmAtB with the transposes fused into the SIMD kernel's copies are bit-identical", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 1e6 }),
        (m, n, k, seed) => {
          const rng = new Rng(seed);
          const a = Float32Array.from({ length: m * k }, () => rng.normal());
          const b = Float32Array.from({ length: k * n }, () => rng.normal());
          const at = Float32Array.from({ length: k * m }, () => rng.normal());
          const [ab1, ab2] = bothPaths(() => {
            const c = new Float32Array(m * n);
            gemmAB(a, b, c, m, n, k);
            return c;
          });
          const [atb1, atb2] = bothPaths(() => {
            const c = new Float32Array(m * n);
            gemmAtB(at, b, c, m, n, k);
            return c;
          });
          expect(Buffer.from(ab2.buffer).equals(Buffer.from(ab1.buffer))).toBe(true);
          expect(Buffer.from(atb2.buffer).equals(Buffer.from(atb1.buffer))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("a copy is refreshed only when its own arrays (or unnamed weights) changed", () => {
    const rng = new Rng(5);
    const mine = [randomLayer(rng, 9, 7, true), randomLayer(rng, 7, 3, false)];
    const other = randomLayer(rng, 4, 4, false);
    const kernel = FloatStackKernel.create(mine)!;
    kernel.sync();
    expect(kernel.heap.stale).toBe(false);
    markWeightsChanged(other.W, other.b);
    expect(kernel.heap.stale).toBe(false);
    markWeightsChanged(mine[1].b);
    expect(kernel.heap.stale).toBe(true);
    kernel.sync();
    markWeightsChanged();
    expect(kernel.heap.stale).toBe(true);
    // A refreshed copy computes with the new weights.
    mine[1].b[2] += 10;
    markWeightsChanged(mine[1].b);
    const x = sparseInput(rng, 9);
    const at = kernel.forward(x);
    const ref = FloatStackKernel.create(mine)!;
    const refAt = ref.forward(x);
    expect(kernel.heap.f32[at + 2]).toBe(ref.heap.f32[refAt + 2]);
  });

  it("the SIMD Adam step is bit-identical to the TypeScript loop (odd sizes, weight decay)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 1e6 }), (n, seed) => {
        const rng = new Rng(seed);
        const init = Float32Array.from({ length: n }, () => rng.normal());
        const grads = Array.from({ length: 3 }, () =>
          Float32Array.from({ length: n }, () => rng.normal() * 0.1),
        );
        const run = () => {
          const p = {
            name: "w",
            shape: [n],
            value: init.slice(),
            grad: new Float32Array(n),
            trainable: true,
            decay: true,
          };
          const opt = new Adam({ lr: 0.01, weightDecay: 0.1 });
          for (const g of grads) {
            p.grad.set(g);
            opt.step([p]);
          }
          return [p.value, ...opt.stateBuffers()];
        };
        const [ts, simd] = bothPaths(run);
        ts.forEach((a, i) => expect(Buffer.from(simd[i].buffer).equals(Buffer.from(a.buffer))).toBe(true));
      }),
      { numRuns: 60 },
    );
  });
});

describe("ProjectionNet files", () => {
  const ds = loadEmbeddedMnist();
  const train = takeRows(
    ds.train,
    Uint32Array.from({ length: 300 }, (_, i) => i),
  );

  it("very sparse nets (the default) round-trip with projectionFormat 2 and the same outputs", () => {
    const { model } = trainModel("projection:T=10,d=6,trainer=16", train, 10, { epochs: 1, seed: 4 });
    expect((model as ProjectionNet).projection.config.planes).toBe("very-sparse");
    const bytes = saveModel(model);
    expect(decodeModelFile(bytes).meta.projectionFormat).toBe(2);
    const back = loadModel(bytes);
    expect(back.spec).toBe("projection:T=10,d=6,trainer=16");
    const x = train.x.subarray(0, 784);
    expect(Array.from(back.predictProba(x))).toEqual(Array.from(model.predictProba(x)));
    const q = quantizeModel(model, train);
    const qBack = loadModel(saveModel(q));
    expect(qBack.spec).toBe("int8:projection:T=10,d=6,trainer=16");
    expect(Array.from(qBack.predictProba(x))).toEqual(Array.from(q.predictProba(x)));
  });

  it("a file of an unknown projection format is refused with the versions this code reads", () => {
    const { model } = trainModel("projection:T=4,d=4,trainer=8", train, 10, { epochs: 1, seed: 4 });
    const file = decodeModelFile(saveModel(model));
    const future = encodeModelFile({ ...file, meta: { ...file.meta, projectionFormat: 3 } });
    expect(errorOf(() => loadModel(future))?.message).toMatch(
      /projectionFormat 3 is not one this version reads \(1 or 2\)/,
    );
  });
});
