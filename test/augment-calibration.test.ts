import { describe, expect, it } from "vitest";
import { ErrorCalibrator } from "../src/augment/calibration.js";
import type { Prediction } from "../src/augment/memory-augmented-model.js";
import { createLabeledNeighbours } from "../src/memory/labeled-memory.js";

function prediction(confidence: number, model: number[], knn: number[] | null, d1 = 1): Prediction {
  const nb = createLabeledNeighbours(2);
  if (knn) {
    nb.count = 1;
    nb.distances[0] = d1;
  }
  return {
    proba: new Float32Array(model.length),
    label: 0,
    confidence,
    expectedCost: 0,
    lambda: knn ? 0.5 : 0,
    retrieved: knn !== null,
    modelProba: Float32Array.from(model),
    knnProba: Float32Array.from(knn ?? model.map(() => 0)),
    key: new Float32Array(1),
    neighbours: nb,
    bin: -1,
    errorRate: 0,
    upstreamErrorRate: Number.NaN,
    upstreamLatencyMs: Number.NaN,
    forwardCost: Number.POSITIVE_INFINITY,
    serveLocally: true,
  };
}

describe("ErrorCalibrator", () => {
  it("bins by situation (none, agree near/far, disagree near/far) and confidence decile", () => {
    const c = new ErrorCalibrator();
    expect(c.bin(prediction(0.95, [0.9, 0.1], null))).toBe(9);
    expect(c.bin(prediction(0.55, [0.9, 0.1], [1, 0], 0.2))).toBe(10 + 5);
    expect(c.bin(prediction(0.55, [0.9, 0.1], [1, 0], 0.7))).toBe(20 + 5);
    expect(c.bin(prediction(0.55, [0.9, 0.1], [0, 1], 0.2))).toBe(30 + 5);
    expect(c.bin(prediction(1, [0.9, 0.1], [0, 1], 3))).toBe(40 + 9);
  });

  it("is the posterior mean with the uncalibrated rate as prior, over decayed counts", () => {
    const c = new ErrorCalibrator({ priorWeight: 4, decay: 0.5 });
    expect(c.errorRate(3, 0.8)).toBeCloseTo(0.2, 12);
    c.record(3, false); // n = 1, e = 1
    c.record(3, true); // n = 1.5, e = 0.5
    c.record(3, false); // n = 1.75, e = 1.25
    expect(c.errorRate(3, 0.8)).toBeCloseTo((1.25 + 4 * 0.2) / (1.75 + 4), 12);
    expect(c.errorRate(4, 0.8)).toBeCloseTo(0.2, 12); // other bins untouched
    // Brute force: many observations at a 30% error rate pull the estimate to 0.3.
    const d = new ErrorCalibrator({ decay: 1 });
    for (let i = 0; i < 1000; i++) d.record(0, i % 10 >= 3);
    expect(d.errorRate(0, 0.99)).toBeCloseTo((300 + 4 * 0.01) / 1004, 12);
  });

  it("tracks the upstream's error per bin, starting from its overall rate", () => {
    const c = new ErrorCalibrator({ priorWeight: 2, decay: 1 });
    expect(c.upstreamErrorRate(7, 0.1)).toBeCloseTo(0.1, 12);
    c.recordUpstream(7, false);
    c.recordUpstream(7, false);
    expect(c.upstreamErrorRate(7, 0.1)).toBeCloseTo((2 + 0.2) / 4, 12);
    expect(() => c.recordUpstream(999, true)).toThrow(/calibration bin/);
    expect(() => new ErrorCalibrator({ decay: 0 })).toThrow(/decay/);
  });
});
