import { describe, expect, it } from "vitest";
import { AdaptiveRule } from "../src/augment/adaptive.js";
import { createCombinationRule, knnDistribution } from "../src/augment/combine.js";
import { randomProjectionKey, rawInputKey } from "../src/augment/keys.js";
import { MemoryAugmentedModel } from "../src/augment/memory-augmented-model.js";
import { isMammalsError } from "../src/core/errors.js";
import { l2sq } from "../src/core/vectors.js";
import { createIndex } from "../src/index/factory.js";
import {
  createLabeledNeighbours,
  LabeledMemory,
  type LabeledNeighbours,
} from "../src/memory/labeled-memory.js";
import { CentroidModel, clusters, ProbeModel } from "./edge-fixtures.js";

function neighbours(labels: number[], distances: number[], weights = labels.map(() => 1)): LabeledNeighbours {
  const nb = createLabeledNeighbours(labels.length);
  nb.count = labels.length;
  nb.labels.set(labels);
  nb.distances.set(distances);
  nb.weights.set(weights);
  return nb;
}

describe("knnDistribution", () => {
  it("is the trust-weighted softmax of negative distances over T (hand-computed)", () => {
    const out = new Float32Array(3);
    const mass = knnDistribution(neighbours([0, 1], [0, 1]), 1, out);
    const e = Math.exp(-1);
    expect(mass).toBeCloseTo(1 + e, 12);
    expect(out[0]).toBeCloseTo(1 / (1 + e), 6); // 0.7311
    expect(out[1]).toBeCloseTo(e / (1 + e), 6); // 0.2689
    expect(out[2]).toBe(0);
    // T = 2, weights 0.5 / 1, two votes for class 2: p2 = (0.5 e^0 + 1 e^-1) / (0.5 + e^-1 + e^-1.5) ...
    knnDistribution(neighbours([2, 2, 0], [1, 3, 4], [0.5, 1, 1]), 2, out);
    const w = [0.5, Math.exp(-1), Math.exp(-1.5)];
    const z = w[0] + w[1] + w[2];
    expect(out[2]).toBeCloseTo((w[0] + w[1]) / z, 6);
    expect(out[0]).toBeCloseTo(w[2] / z, 6);
  });
  it("is uniform with zero mass when nothing votes", () => {
    const out = new Float32Array(4);
    expect(knnDistribution(createLabeledNeighbours(3), 1, out)).toBe(0);
    expect(Array.from(out)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(knnDistribution(neighbours([1], [0], [0]), 1, out)).toBe(0);
  });
});

describe("combination rules via MemoryAugmentedModel", () => {
  // Probe model: p_model = [x0, 1 - x0]; keys = x (2-d); memory entries placed by hand.
  function setup(rule: string) {
    const memory = new LabeledMemory({
      index: createIndex("flat", 2),
      numClasses: 2,
      capacityItems: 10,
      admission: "all",
    });
    const mam = new MemoryAugmentedModel({
      model: new ProbeModel(2),
      memory,
      rule,
      errorCost: 2,
      normalizeDistances: false,
    });
    return { memory, mam };
  }
  function store(mam: MemoryAugmentedModel, key: number[], label: number) {
    const k = Float32Array.from(key);
    mam.offer(k, Float32Array.from([0.5, 0.5]), label, "feedback", false);
  }

  it("normalizes distances by the running mean nearest distance (learned from requests only)", () => {
    const memory = new LabeledMemory({
      index: createIndex("flat", 2),
      numClasses: 2,
      capacityItems: 10,
      admission: "all",
    });
    const mam = new MemoryAugmentedModel({
      model: new ProbeModel(2),
      memory,
      rule: "interpolate:lambda=0.25,T=1,k=2",
    });
    store(mam, [0, 0], 0);
    store(mam, [0, 1], 1);
    // First request: squared distances 0.04 and 1.04; the scale starts at d1 = 0.04.
    const p = mam.predict(Float32Array.from([0.2, 0]));
    expect(mam.distanceScale).toBeCloseTo(0.04, 6);
    expect(p.neighbours.distances[0]).toBeCloseTo(1, 5);
    expect(p.neighbours.distances[1]).toBeCloseTo(26, 4);
    const knn0 = 1 / (1 + Math.exp(-25));
    expect(p.proba[0]).toBeCloseTo(0.25 * knn0 + 0.75 * 0.2, 6);
    // Second request at d1 = 0.09: the scale moves 1% of the way.
    mam.predict(Float32Array.from([0.3, 0]));
    expect(mam.distanceScale).toBeCloseTo(0.99 * 0.04 + 0.01 * 0.09, 8);
    // Offers and feedback re-predictions do not move it.
    store(mam, [1, 1], 1);
    expect(mam.distanceScale).toBeCloseTo(0.99 * 0.04 + 0.01 * 0.09, 8);
  });

  it("interpolate: p = lambda p_knn + (1 - lambda) p_model, expected cost = (1 - max p) * errorCost", () => {
    const { mam } = setup("interpolate:lambda=0.25,T=1,k=2");
    // Query (0.2, 0): model [0.2, 0.8]; neighbours at squared distances 0.04 (label 0) and 1.04 (label 1).
    store(mam, [0, 0], 0);
    store(mam, [0, 1], 1);
    const p = mam.predict(Float32Array.from([0.2, 0]));
    const e = Math.exp(-1);
    const knn0 = 1 / (1 + e);
    const p0 = 0.25 * knn0 + 0.75 * 0.2;
    expect(p.lambda).toBe(0.25);
    expect(p.proba[0]).toBeCloseTo(p0, 6); // 0.3328
    expect(p.proba[1]).toBeCloseTo(1 - p0, 6); // 0.6672
    expect(p.label).toBe(1);
    expect(p.confidence).toBeCloseTo(1 - p0, 6);
    expect(p.expectedCost).toBeCloseTo(p0 * 2, 6);
    expect(p.neighbours.count).toBe(2);
    expect(Array.from(p.neighbours.labels)).toEqual([0, 1]);
  });

  it("interpolate falls back to the model on an empty memory; knn-only is uniform there", () => {
    const a = setup("interpolate:lambda=0.9").mam.predict(Float32Array.from([0.7, 0]));
    expect(a.lambda).toBe(0);
    expect(a.proba[0]).toBeCloseTo(0.7, 6);
    const b = setup("knn-only").mam.predict(Float32Array.from([0.7, 0]));
    expect(Array.from(b.proba)).toEqual([0.5, 0.5]);
    expect(b.expectedCost).toBe(1);
  });

  it("knn-only and model-only", () => {
    const { mam } = setup("knn-only:k=1,T=1");
    store(mam, [0, 0], 1);
    const p = mam.predict(Float32Array.from([0.9, 0]));
    expect(Array.from(p.proba)).toEqual([0, 1]);
    expect(p.expectedCost).toBe(0);
    const m = setup("model-only");
    store(m.mam, [0, 0], 1);
    const q = m.mam.predict(Float32Array.from([0.9, 0]));
    expect(q.retrieved).toBe(false);
    expect(q.proba[0]).toBeCloseTo(0.9, 6);
  });

  it("rejects bad inputs and unknown rules with MammalsErrors", () => {
    const { mam, memory } = setup("interpolate");
    for (const x of [new Float32Array(3), Float32Array.from([Number.NaN, 0])]) {
      let err: unknown;
      try {
        mam.predict(x);
      } catch (e) {
        err = e;
      }
      expect(isMammalsError(err)).toBe(true);
    }
    expect(memory.clock).toBe(0);
    expect(() => setup("nope")).toThrow(/unknown combination rule "nope"/);
    expect(() => setup("interpolate:lambda=2")).toThrow(/expected <= 1/);
    expect(() => setup("knn-only:lambda=0.5")).toThrow(/unknown parameter "lambda"/);
    expect(createCombinationRule("interpolate", { numClasses: 2 }).spec).toBe(
      "interpolate:lambda=0.25,T=1,k=8",
    );
  });
});

describe("adaptive rule", () => {
  it("computes lambda from its documented features and prior (hand-computed)", () => {
    const rule = new AdaptiveRule({ k: 2, T: 1, lr: 0.1, skipBelow: 0.05, seed: 1 }, 2);
    const model = Float32Array.from([0.2, 0.8]);
    const knn = Float32Array.from([0.75, 0.25]);
    const nb = neighbours([0, 1], [0.5, 2]);
    const lambda = rule.lambda(model, knn, nb);
    const h = -(0.2 * Math.log(0.2) + 0.8 * Math.log(0.8)) / Math.log(2);
    const phi = [1, 1 - Math.exp(-0.5), 0.25, 0.75, h, 0.8, 0, Math.fround(0.2)];
    const f = rule.lastFeatures();
    for (let i = 0; i < phi.length; i++) expect(f[i]).toBeCloseTo(phi[i], 6);
    const z = f.reduce((s, v, i) => s + v * rule.w[i], 0);
    expect(lambda).toBeCloseTo(1 / (1 + Math.exp(-z)), 12);
    // Seeded jitter: same seed, same weights; another seed, different ones; all within 0.01 of the prior.
    const again = new AdaptiveRule({ k: 2, T: 1, lr: 0.1, skipBelow: 0.05, seed: 1 }, 2);
    const other = new AdaptiveRule({ k: 2, T: 1, lr: 0.1, skipBelow: 0.05, seed: 2 }, 2);
    expect(Array.from(again.w)).toEqual(Array.from(rule.w));
    expect(Array.from(other.w)).not.toEqual(Array.from(rule.w));
  });

  it("learns online: lambda rises where the memory is right and the model wrong, the gate follows", () => {
    const rule = new AdaptiveRule({ k: 2, T: 1, lr: 0.5, skipBelow: 0.05, seed: 1 }, 2);
    const model = Float32Array.from([0.3, 0.7]);
    const knn = Float32Array.from([0.9, 0.1]);
    const nb = neighbours([0, 0], [0.1, 0.3]);
    const before = rule.lambda(model, knn, nb);
    for (let t = 0; t < 50; t++) rule.learn(model, knn, nb, 0, 1);
    expect(rule.lambda(model, knn, nb)).toBeGreaterThan(before + 0.3);
    expect(rule.updates).toBe(50);
    // Where the model is right and the memory wrong, lambda falls and the gate learns to skip retrieval.
    const rule2 = new AdaptiveRule({ k: 2, T: 1, lr: 0.5, skipBelow: 0.2, seed: 1 }, 2);
    const confident = Float32Array.from([0.99, 0.01]);
    const wrongKnn = Float32Array.from([0.2, 0.8]);
    const l0 = rule2.lambda(confident, wrongKnn, nb);
    expect(rule2.shouldRetrieve(confident)).toBe(true);
    for (let t = 0; t < 200; t++) rule2.learn(confident, wrongKnn, nb, 0, 1);
    expect(rule2.lambda(confident, wrongKnn, nb)).toBeLessThan(l0);
    expect(rule2.shouldRetrieve(confident)).toBe(false);
  });
});

describe("MemoryAugmentedModel against a brute-force reference", () => {
  it("equals the formula evaluated by exhaustive search, for embedding, raw and projected keys", () => {
    const C = 4;
    const D = 6;
    const { centroids, draw, rng } = clusters(9, C, D, 0.6);
    const model = new CentroidModel(centroids, C, [true, true, true, false], 1.5);
    const projection = randomProjectionKey(D, 3, 4);
    const keyOf = {
      embedding: (x: Float32Array) => model.embed(x),
      input: (x: Float32Array) => x.slice(),
      projection: (x: Float32Array) => {
        const o = new Float32Array(3);
        projection.extract(x, o);
        return o;
      },
    };
    for (const kind of ["embedding", "input", "projection"] as const) {
      const dim = kind === "projection" ? 3 : D;
      const memory = new LabeledMemory({
        index: createIndex("flat", dim),
        numClasses: C,
        capacityItems: 200,
        admission: "all",
      });
      const key = kind === "embedding" ? "embedding" : kind === "input" ? rawInputKey(D) : projection;
      const mam = new MemoryAugmentedModel({
        model,
        memory,
        rule: "interpolate:lambda=0.4,T=0.5,k=5",
        key,
        normalizeDistances: false,
      });
      const stored: { k: Float32Array; y: number }[] = [];
      for (let i = 0; i < 60; i++) {
        const y = rng.int(C);
        const x = draw(y);
        const k = keyOf[kind](x);
        mam.offer(k, model.predictProba(x), y, "feedback", false);
        stored.push({ k, y });
      }
      const out = mam.createPrediction();
      for (let q = 0; q < 20; q++) {
        const x = draw(rng.int(C));
        const p = mam.predict(x, out);
        const k = keyOf[kind](x);
        const near = stored
          .map((s) => ({ d: l2sq(k, s.k), y: s.y }))
          .sort((a, b) => a.d - b.d)
          .slice(0, 5);
        const pk = new Array(C).fill(0);
        let z = 0;
        for (const n of near) {
          const w = Math.exp(-(n.d - near[0].d) / 0.5);
          pk[n.y] += w;
          z += w;
        }
        const pm = model.predictProba(x);
        for (let y = 0; y < C; y++) expect(p.proba[y]).toBeCloseTo(0.4 * (pk[y] / z) + 0.6 * pm[y], 4);
      }
    }
  });
});
