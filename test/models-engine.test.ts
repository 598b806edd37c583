import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isMammalsError } from "../src/core/errors.js";
import { Rng } from "../src/core/rng.js";
import { loadDataset } from "../src/data/datasets.node.js";
import { takeRows } from "../src/data/types.js";
import {
  Adam,
  activeGemmBackend,
  createModel,
  Dense,
  type GemmBackend,
  gemmAB,
  gemmABt,
  gemmAtB,
  type Layer,
  naiveABt,
  parseModelSpec,
  ReLU,
  registerModelFamily,
  runTraining,
  type Sequential,
  Sgd,
  setGemmBackend,
  softCrossEntropy,
  softmaxCrossEntropy,
} from "../src/models/all.js";
import { accuracy } from "../src/models/evaluate.js";

function randArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-scale, scale);
  return a;
}

function expectCode(f: () => unknown, code: string, pattern?: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isMammalsError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    if (pattern) expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error(`expected a ${code} error`);
}

/** Reference products in float64 with the textbook loops. */
function refABt(a: Float32Array, b: Float32Array, m: number, n: number, k: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
      c[i * n + j] = s;
    }
  return c;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i]))))
      throw new Error(`index ${i}: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
}

describe.each(["auto", "js"] as const)("blocked GEMM kernels (backend %s)", (backend) => {
  let previous: GemmBackend = "auto";
  beforeAll(() => {
    previous = setGemmBackend(backend);
  });
  afterAll(() => {
    setGemmBackend(previous);
  });

  it("uses the kernel it says", () => {
    expect(activeGemmBackend()).toBe(backend === "js" ? "js" : "wasm-simd");
  });

  it("match the naive triple loop on odd sizes (property test)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 0, max: 41 }),
        fc.integer(),
        fc.boolean(),
        (m, n, k, seed, withBias) => {
          const rng = new Rng(seed);
          const a = randArray(rng, m * k);
          const b = randArray(rng, n * k);
          const bias = randArray(rng, n);
          const prior = randArray(rng, m * n);
          const ref = refABt(a, b, m, n, k);
          // C = A·Bᵀ (+ bias), then accumulate onto a prior C.
          const c = new Float32Array(m * n);
          gemmABt(a, b, c, m, n, k, false, withBias ? bias : undefined);
          expectClose(
            c,
            ref.map((v, i) => v + (withBias ? bias[i % n] : 0)),
            1e-5,
          );
          const acc = prior.slice();
          gemmABt(a, b, acc, m, n, k, true);
          expectClose(
            acc,
            ref.map((v, i) => v + prior[i]),
            1e-5,
          );
          // C = A·B with B = (Bᵀ stored k×n).
          const bT = new Float32Array(k * n);
          for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bT[p * n + j] = b[j * k + p];
          const c2 = new Float32Array(m * n);
          gemmAB(a, bT, c2, m, n, k);
          expectClose(c2, ref, 1e-5);
          // C = Aᵀ·B with A stored k×m.
          const aT = new Float32Array(k * m);
          for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) aT[p * m + i] = a[i * k + p];
          const c3 = new Float32Array(m * n);
          gemmAtB(aT, bT, c3, m, n, k);
          expectClose(c3, ref, 1e-5);
          // The exported naive reference agrees too.
          const c4 = new Float32Array(m * n);
          naiveABt(a, b, c4, m, n, k);
          expectClose(c4, ref, 1e-5);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("handles sizes larger than a register tile and a cache panel", () => {
    const rng = new Rng(3);
    const [m, n, k] = [37, 301, 515];
    const a = randArray(rng, m * k);
    const b = randArray(rng, n * k);
    const c = new Float32Array(m * n);
    gemmABt(a, b, c, m, n, k);
    expectClose(c, refABt(a, b, m, n, k), 1e-5);
  });

  it("rejects buffers that are too short", () => {
    expectCode(
      () => gemmABt(new Float32Array(3), new Float32Array(4), new Float32Array(4), 2, 2, 2),
      "INVALID_ARGUMENT",
    );
  });
});

/** Central finite difference of f with respect to v[i] (float32 steps as actually taken), in place. */
function fd(v: Float32Array, i: number, eps: number, f: () => number): number {
  const old = v[i];
  v[i] = old + eps;
  const hi = v[i];
  const up = f();
  v[i] = old - eps;
  const lo = v[i];
  const down = f();
  v[i] = old;
  return (up - down) / (hi - lo);
}

/** Loss = sum(r ⊙ layer(x)) so that dL/dy = r; checks dx and param grads by finite differences. */
function gradCheckLayer(layer: Layer, n: number, rng: Rng, xScale = 1): void {
  const x = randArray(rng, n * layer.inputDim, xScale);
  // Keep ReLU inputs away from the kink, where finite differences are meaningless.
  for (let i = 0; i < x.length; i++) if (Math.abs(x[i]) < 0.05) x[i] = 0.05 * Math.sign(x[i] || 1);
  const r = randArray(rng, n * layer.outputDim);
  const y = new Float32Array(n * layer.outputDim);
  const loss = () => {
    layer.forward(x, y, n);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += r[i] * y[i];
    return s;
  };
  loss();
  const dx = new Float32Array(x.length);
  layer.backward(x, y, r.slice(), dx, n);
  const eps = 1e-2;
  for (let i = 0; i < x.length; i++) expect(fd(x, i, eps, loss)).toBeCloseTo(dx[i], 3);
  for (const p of layer.params) {
    const g = p.grad!;
    expect(g).not.toBeNull();
    for (let i = 0; i < p.value.length; i++) expect(fd(p.value, i, eps, loss)).toBeCloseTo(g[i], 3);
  }
}

describe("gradients against finite differences", () => {
  it("Dense: weights, bias and input", () => {
    const rng = new Rng(11);
    gradCheckLayer(new Dense(7, 5).initHe(rng), 3, rng);
    gradCheckLayer(new Dense(1, 9).initHe(rng), 6, rng);
  });

  it("ReLU: input gradient away from the kink", () => {
    gradCheckLayer(new ReLU(13), 4, new Rng(12));
  });

  it("softmax cross-entropy (hard and soft targets), including huge logits", () => {
    const rng = new Rng(13);
    const n = 4;
    const k = 6;
    const logits = randArray(rng, n * k, 3);
    const labels = [0, 5, 2, 2];
    const g = new Float32Array(n * k);
    softmaxCrossEntropy(logits, labels, n, k, g, 0.7);
    for (let i = 0; i < logits.length; i++)
      expect(fd(logits, i, 1e-2, () => 0.7 * softmaxCrossEntropy(logits, labels, n, k, null))).toBeCloseTo(
        g[i],
        3,
      );
    const targets = new Float32Array(n * k);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += targets[r * k + j] = rng.next();
      for (let j = 0; j < k; j++) targets[r * k + j] /= s;
    }
    const gs = g.slice();
    softCrossEntropy(logits, targets, n, k, gs, 0.1, true);
    for (let i = 0; i < logits.length; i++) {
      const both = () =>
        0.7 * softmaxCrossEntropy(logits, labels, n, k, null) +
        0.1 * softCrossEntropy(logits, targets, n, k, null);
      expect(fd(logits, i, 1e-2, both)).toBeCloseTo(gs[i], 3);
    }
    // log-sum-exp keeps extreme logits finite: loss = 2000 exactly for the wrong class.
    const extreme = Float32Array.from([1000, -1000, 0]);
    const ge = new Float32Array(3);
    expect(softmaxCrossEntropy(extreme, [1], 1, 3, ge)).toBeCloseTo(2000, 6);
    expect(Array.from(ge)).toEqual([1, -1, 0]);
    expect(softmaxCrossEntropy(extreme, [0], 1, 3, null)).toBe(0);
  });

  it("whole network: every parameter of a 2-hidden-layer MLP", () => {
    const net = createModel("mlp:6,5", { inputDim: 4, numClasses: 3 }, 5) as Sequential;
    const rng = new Rng(14);
    const n = 5;
    const x = randArray(rng, n * 4, 2);
    const y = Uint8Array.from([0, 1, 2, 1, 0]);
    net.lossAndGrad(x, y, n);
    const grads = net.params().map((p) => p.grad!.slice());
    let checked = 0;
    net.params().forEach((p, pi) => {
      for (let i = 0; i < p.value.length; i++) {
        const num = fd(p.value, i, 1e-3, () => net.lossAndGrad(x, y, n));
        expect(Math.abs(num - grads[pi][i])).toBeLessThan(2e-3 + 2e-2 * Math.abs(grads[pi][i]));
        checked++;
      }
    });
    expect(checked).toBe(4 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3);
  });

  it("frozen params get no gradient buffer and the backward pass stops early", () => {
    const net = createModel("mlp:8", { inputDim: 5, numClasses: 3 }, 1) as Sequential;
    for (const p of net.params()) p.trainable = p.name.endsWith(".bias");
    net.params()[0].trainable = false;
    net.params()[1].trainable = false; // whole first layer frozen
    net.lossAndGrad(new Float32Array(10).fill(0.5), Uint8Array.from([0, 2]), 2);
    expect(net.params().map((p) => p.grad !== null)).toEqual([false, false, false, true]);
  });
});

describe("optimizers", () => {
  it("SGD with momentum and Adam follow their update rules (float64 reference)", () => {
    const mk = () => {
      const d = new Dense(2, 1);
      d.weight.value.set([1, -2]);
      d.bias.value.set([0.5]);
      return d;
    };
    const grad = (w: ArrayLike<number>) => Array.from(w, (v) => 2 * v - 1);
    // SGD momentum 0.9, lr 0.1, weight decay 0.01 on the weight only.
    const d = mk();
    const sgd = new Sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    const ref = { w: [1, -2], b: [0.5], vw: [0, 0], vb: [0] };
    for (let t = 0; t < 5; t++) {
      d.weight.grad = Float32Array.from(grad(d.weight.value));
      d.bias.grad = Float32Array.from(grad(d.bias.value));
      sgd.step(d.params);
      const gw = grad(ref.w);
      const gb = grad(ref.b);
      ref.vw = ref.vw.map((v, i) => 0.9 * v + gw[i] + 0.01 * ref.w[i]);
      ref.vb = ref.vb.map((v, i) => 0.9 * v + gb[i]);
      ref.w = ref.w.map((w, i) => w - 0.1 * ref.vw[i]);
      ref.b = ref.b.map((b, i) => b - 0.1 * ref.vb[i]);
    }
    expectClose(d.weight.value, ref.w, 1e-5);
    expectClose(d.bias.value, ref.b, 1e-5);
    expect(sgd.stateBuffers().length).toBe(2);
    expect(new Sgd({ lr: 0.1 }).stateBuffers()).toEqual([]);

    const e = mk();
    const adam = new Adam({ lr: 0.05 });
    let w = [1, -2];
    let m = [0, 0];
    let v = [0, 0];
    for (let t = 1; t <= 5; t++) {
      e.weight.grad = Float32Array.from(grad(e.weight.value));
      e.bias.grad = new Float32Array(1);
      adam.step(e.params);
      const g = grad(w);
      m = m.map((mi, i) => 0.9 * mi + 0.1 * g[i]);
      v = v.map((vi, i) => 0.999 * vi + 0.001 * g[i] * g[i]);
      w = w.map(
        (wi, i) => wi - (0.05 * (m[i] / (1 - 0.9 ** t))) / (Math.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8),
      );
    }
    expectClose(e.weight.value, w, 1e-5);
    expect(adam.stateBuffers().reduce((s, b) => s + b.byteLength, 0)).toBe((2 + 2 + 1 + 1) * 4);
  });

  it("reject bad hyper-parameters", () => {
    expectCode(() => new Adam({ lr: -1 }), "INVALID_ARGUMENT", /lr/);
    expectCode(() => new Sgd({ lr: 0.1, momentum: 1 }), "INVALID_ARGUMENT", /momentum/);
  });
});

describe("training", () => {
  const ds = loadDataset("mnist");
  const tiny = takeRows(
    ds.train,
    Array.from({ length: 60 }, (_, i) => i),
  );

  it("a small MLP overfits a tiny set to 100% training accuracy", () => {
    const net = createModel("mlp:32", { inputDim: 784, numClasses: 10 }, 2) as Sequential;
    runTraining(net, tiny, {
      epochs: 60,
      batchSize: 16,
      valFraction: 0,
      patience: 0,
      schedule: "constant",
      lr: 3e-3,
    });
    expect(net.evaluate(tiny)).toBe(1);
    expect(accuracy(net, tiny)).toBe(1);
  });

  it("is reproducible from the seed, and early stopping keeps the best validation weights", () => {
    const subset = takeRows(
      ds.train,
      Array.from({ length: 600 }, (_, i) => i),
    );
    const run = (seed: number) => {
      const net = createModel("mlp:16", { inputDim: 784, numClasses: 10 }, seed) as Sequential;
      const report = runTraining(net, subset, { epochs: 4, seed, valFraction: 0.2 });
      return { net, report };
    };
    const a = run(7);
    const b = run(7);
    const c = run(8);
    expect(a.net.params().map((p) => Array.from(p.value))).toEqual(
      b.net.params().map((p) => Array.from(p.value)),
    );
    expect(Array.from(a.net.params()[0].value)).not.toEqual(Array.from(c.net.params()[0].value));
    // The validation rows are the first 20% of the seeded permutation; the restored weights score the best epoch.
    const val = takeRows(subset, new Rng(7).permutation(600).subarray(0, 120));
    expect(a.net.evaluate(val)).toBe(a.report.bestValAccuracy);
    expect(a.report.bestValAccuracy).toBe(Math.max(...a.report.epochs.map((e) => e.valAccuracy)));
  });

  it("refuses NaN features and bad options before training", () => {
    const net = createModel("mlp:4", { inputDim: 784, numClasses: 10 }, 1) as Sequential;
    const bad = takeRows(tiny, [0, 1, 2]);
    bad.x[784 + 5] = Number.NaN;
    expectCode(() => runTraining(net, bad, { epochs: 1 }), "INVALID_ARGUMENT", /row 1 column 5 is NaN/);
    expectCode(() => runTraining(net, tiny, { epochs: 0 }), "INVALID_ARGUMENT", /epochs/);
    expectCode(() => runTraining(net, tiny, { valFraction: 1 }), "INVALID_ARGUMENT", /valFraction/);
  });

  it("SGD with momentum learns the embedded digits", () => {
    const train = takeRows(
      ds.train,
      Array.from({ length: 2000 }, (_, i) => i),
    );
    const test = takeRows(
      ds.test,
      Array.from({ length: 500 }, (_, i) => i),
    );
    const net = createModel("logreg", { inputDim: 784, numClasses: 10 }, 1) as Sequential;
    runTraining(net, train, { epochs: 5, optimizer: "sgd", lr: 0.1, valFraction: 0 });
    expect(net.evaluate(test)).toBeGreaterThan(0.8);
  });
});

describe("the Model contract of Sequential", () => {
  // 18 hidden units take the gather path of the single-example kernel (with a remainder), 8 the dense one.
  const net = createModel("mlp:18,8", { inputDim: 9, numClasses: 4 }, 3) as Sequential;
  const rng = new Rng(21);
  const n = 7;
  const x = randArray(rng, n * 9);
  // Zeros exercise the single-example path's zero skipping (images are about half zeros).
  for (let i = 0; i < x.length; i += 3) x[i] = 0;

  it("single-example and batch paths agree; probabilities sum to 1; out buffers are used", () => {
    const pb = net.predictProbaBatch(x, n);
    const eb = net.embedBatch(x, n);
    const out = new Float32Array(4);
    const eout = new Float32Array(8);
    for (let i = 0; i < n; i++) {
      const xi = x.subarray(i * 9, (i + 1) * 9);
      expect(net.predictProba(xi, out)).toBe(out);
      expectClose(out, pb.subarray(i * 4, (i + 1) * 4), 1e-5);
      expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expectClose(net.embed(xi, eout), eb.subarray(i * 8, (i + 1) * 8), 1e-5);
      const both = net.embedAndPredict(xi, eout, out);
      expect(both.embedding).toBe(eout);
      expectClose(both.proba, pb.subarray(i * 4, (i + 1) * 4), 1e-5);
      expectClose(both.embedding, eb.subarray(i * 8, (i + 1) * 8), 1e-5);
    }
    expect(net.embedDim).toBe(8);
    expect(net.bytes).toBe((9 * 18 + 18 + 18 * 8 + 8 + 8 * 4 + 4) * 4);
    // logreg embeds the input itself.
    const lr = createModel("logreg", { inputDim: 9, numClasses: 4 }, 1);
    expect(Array.from(lr.embed(x.subarray(0, 9)))).toEqual(Array.from(x.subarray(0, 9)));
  });

  it("rejects wrong lengths, NaN and bad out buffers with clear errors", () => {
    expectCode(() => net.predictProba(new Float32Array(8)), "DIMENSION_MISMATCH", /expected 9 values, got 8/);
    const bad = new Float32Array(9);
    bad[3] = Number.NaN;
    expectCode(() => net.predictProba(bad), "INVALID_ARGUMENT", /value 3 is NaN/);
    expectCode(() => net.embed(new Float32Array(9), new Float32Array(3)), "DIMENSION_MISMATCH", /out buffer/);
    expectCode(() => net.predictProbaBatch(new Float32Array(17), 2), "DIMENSION_MISMATCH");
    const badBatch = x.slice();
    badBatch[20] = Number.POSITIVE_INFINITY;
    expectCode(() => net.embedBatch(badBatch, n), "INVALID_ARGUMENT", /row 2 column 2/);
  });
});

describe("model specs", () => {
  it("parse into canonical form and build the right shapes", () => {
    expect(parseModelSpec("MLP: 256, 128").spec).toBe("mlp:256,128");
    expect(parseModelSpec("logreg").spec).toBe("logreg");
    const m = createModel("mlp:32", { inputDim: 784, numClasses: 10 });
    expect([m.kind, m.spec, m.inputDim, m.embedDim, m.numClasses]).toEqual(["mlp", "mlp:32", 784, 32, 10]);
  });

  it("reject unknown families and bad parameters", () => {
    expectCode(
      () => parseModelSpec("resnet:50"),
      "UNKNOWN_NAME",
      /unknown model family "resnet"; expected one of .*mlp/,
    );
    expectCode(() => parseModelSpec("mlp"), "INVALID_ARGUMENT", /hidden widths/);
    expectCode(() => parseModelSpec("mlp:32,x"), "INVALID_ARGUMENT", /"x"/);
    expectCode(() => parseModelSpec("mlp:0"), "INVALID_ARGUMENT");
    expectCode(() => parseModelSpec("logreg:3"), "INVALID_ARGUMENT", /no parameters/);
    expectCode(() => parseModelSpec(""), "INVALID_ARGUMENT");
    expectCode(() => createModel("mlp:4", { inputDim: 3, numClasses: 1 }), "INVALID_ARGUMENT", /2 classes/);
  });

  it("the registry refuses a second family with a taken name", () => {
    const fam = { ...parseModelSpec("logreg").family };
    expectCode(() => registerModelFamily(fam), "INVALID_ARGUMENT", /already registered/);
  });
});
