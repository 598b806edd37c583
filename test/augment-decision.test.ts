import { describe, expect, it } from "vitest";
import {
  type DecisionRecord,
  MemoryAugmentedModel,
  type MemoryAugmentedModelOptions,
  type Prediction,
} from "../src/augment/memory-augmented-model.js";
import { isMammalsError } from "../src/core/errors.js";
import { createIndex } from "../src/index/factory.js";
import { LabeledMemory } from "../src/memory/labeled-memory.js";
import { CentroidModel, clusters, ProbeModel } from "./edge-fixtures.js";
import { thrown } from "./error-fixtures.js";

/**
 * Probe model (p = [x0, 1 - x0]) with the model-only rule, so a prediction's calibration bin is
 * situation 0 x confidence decile. Forward terms: 2^-7 * 16 ms + 0.125 * errorCost 1 = 0.25 exactly.
 */
function probe(o: Partial<MemoryAugmentedModelOptions> = {}) {
  const memory = new LabeledMemory({
    index: createIndex("flat", 2),
    numClasses: 2,
    capacityItems: 16,
    admission: "all:upstreamTrust=0.5",
  });
  const mam = new MemoryAugmentedModel({
    model: new ProbeModel(2),
    memory,
    rule: "model-only",
    forward: { latencyWeight: 2 ** -7, upstreamLatencyMs: 16, upstreamErrorRate: 0.125 },
    ...o,
  });
  return { mam, memory };
}

function recordOf(p: Prediction, forwarded: boolean, upstreamLabel = -1, entryId = -1): DecisionRecord {
  return {
    key: p.key.slice(),
    modelProba: p.modelProba.slice(),
    bin: p.bin,
    localLabel: p.label,
    forwarded,
    upstreamLabel,
    entryId,
  };
}

describe("MemoryAugmentedModel owns the serve-or-forward decision", () => {
  it("returns the answer, the calibrated local cost and the forward cost in one Prediction (hand-computed)", () => {
    const { mam } = probe();
    const p = mam.predict(Float32Array.from([0.75, 0]));
    expect([p.label, p.confidence, p.bin]).toEqual([0, 0.75, 7]); // situation 0, decile 7
    expect([p.errorRate, p.expectedCost]).toEqual([0.25, 0.25]); // prior = 1 - confidence
    expect([p.upstreamErrorRate, p.upstreamLatencyMs, p.forwardCost]).toEqual([0.125, 16, 0.25]);
    expect(p.serveLocally).toBe(false); // a tie forwards
    expect(mam.forwardCost()).toBe(0.25);

    // Feedback: the local answer (0) and the upstream's (0) were both wrong (true label 1).
    const outcome = mam.feedback(recordOf(p, true, 0), 1);
    expect(outcome).toEqual({ admitted: true, storedAnswer: "absent" });
    // Calibrator (priorWeight 4): bin 7 has n = 1, errors = 1 -> (1 + 4 * 0.25) / (1 + 4) = 0.4.
    // Upstream overall: (0.125 * 20 + 1) / 21 = 1/6; in bin 7: (1 + 4 * (1/6)) / (1 + 4) = 1/3.
    const q = mam.predict(Float32Array.from([0.75, 0]));
    expect(q.bin).toBe(7);
    expect(q.errorRate).toBeCloseTo(0.4, 12);
    expect(q.expectedCost).toBeCloseTo(0.4, 12);
    expect(q.upstreamErrorRate).toBeCloseTo(1 / 3, 12);
    expect(q.forwardCost).toBeCloseTo(0.125 + 1 / 3, 12);
    expect(q.serveLocally).toBe(true);
    expect(mam.upstreamErrorRate()).toBeCloseTo(1 / 6, 12);
    expect(mam.forwardCost()).toBeCloseTo(0.125 + 1 / 6, 12);
    // Another bin keeps its priors, with the upstream's new overall rate.
    const r = mam.predict(Float32Array.from([0.95, 0]));
    expect(r.bin).toBe(9);
    expect(r.errorRate).toBeCloseTo(0.05, 6);
    expect(r.upstreamErrorRate).toBeCloseTo(1 / 6, 12);
    // An observed latency moves E[latency]: the prior counts as one observation.
    mam.recordUpstreamLatency(40);
    expect(mam.predict(Float32Array.from([0.95, 0])).upstreamLatencyMs).toBe(28);
    expect(mam.forwardCost()).toBeCloseTo(2 ** -7 * 28 + 1 / 6, 12);
  });

  it("without calibration: P(error) = 1 - confidence whatever the feedback; the upstream's rate still learns", () => {
    const { mam } = probe({ calibrate: false });
    expect(mam.calibrator).toBe(null);
    const p = mam.predict(Float32Array.from([0.6, 0]));
    expect(p.bin).toBe(-1);
    expect(p.errorRate).toBe(1 - p.confidence);
    mam.feedback(recordOf(p, true, 0), 1);
    const q = mam.predict(Float32Array.from([0.6, 0]));
    expect(q.errorRate).toBe(1 - q.confidence);
    expect(q.upstreamErrorRate).toBeCloseTo(3.5 / 21, 12);
    expect(q.forwardCost).toBe(mam.forwardCost());
  });

  it("without forward terms there is nowhere to forward: forward cost +Infinity, always served locally", () => {
    const { mam } = probe({ forward: undefined });
    const p = mam.predict(Float32Array.from([0.5, 0]));
    expect(p.forwardCost).toBe(Number.POSITIVE_INFINITY);
    expect(p.serveLocally).toBe(true);
    expect(Number.isNaN(p.upstreamErrorRate) && Number.isNaN(p.upstreamLatencyMs)).toBe(true);
    expect(
      isMammalsError(
        thrown(() => mam.recordUpstreamLatency(5)),
        "STATE",
      ),
    ).toBe(true);
  });

  it("rejects bad forward terms and latencies with typed errors", () => {
    for (const [forward, message] of [
      [{ latencyWeight: -1, upstreamLatencyMs: 1 }, /latencyWeight: expected a finite number >= 0, got -1/],
      [{ latencyWeight: Number.NaN, upstreamLatencyMs: 1 }, /latencyWeight/],
      [{ latencyWeight: 0, upstreamLatencyMs: -1 }, /upstreamLatencyMs: expected .* got -1/],
      [
        { latencyWeight: 0, upstreamLatencyMs: 1, upstreamErrorRate: 2 },
        /upstreamErrorRate: expected in \[0, 1\], got 2/,
      ],
      [{ latencyWeight: 0, upstreamLatencyMs: 1, upstreamPriorWeight: 0 }, /upstreamPriorWeight/],
    ] as const) {
      const e = thrown(() => probe({ forward }));
      expect(isMammalsError(e, "INVALID_ARGUMENT")).toBe(true);
      expect((e as Error).message).toMatch(message);
    }
    const { mam } = probe();
    for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(
        isMammalsError(
          thrown(() => mam.recordUpstreamLatency(ms)),
          "INVALID_ARGUMENT",
        ),
      ).toBe(true);
    expect(mam.upstreamEstimate?.observed).toEqual({ latencySumMs: 0, latencies: 0, judged: 0, right: 0 });
  });

  it("matches a recomputation from the calibrator and the upstream estimate on every request", () => {
    const C = 4;
    const D = 6;
    const { centroids, draw, rng } = clusters(7, C, D, 0.6);
    const memory = new LabeledMemory({
      index: createIndex("flat", D),
      numClasses: C,
      capacityItems: 40,
      admission: "ib2",
    });
    const mam = new MemoryAugmentedModel({
      model: new CentroidModel(centroids, C, [true, true, true, false], 1),
      memory,
      rule: "adaptive",
      errorCost: 3,
      forward: { latencyWeight: 0.01, upstreamLatencyMs: 20 },
    });
    const cal = mam.calibrator!;
    const up = mam.upstreamEstimate!;
    let served = 0;
    for (let t = 0; t < 400; t++) {
      const y = rng.int(C);
      const p = mam.predict(draw(y));
      const bin = cal.bin(p);
      const errorRate = cal.errorRate(bin, p.confidence);
      const upstreamErrorRate = cal.upstreamErrorRate(bin, up.errorRate);
      expect(p.bin).toBe(bin);
      expect(p.expectedCost).toBe(errorRate * 3);
      expect(p.forwardCost).toBe(0.01 * up.latencyMs + upstreamErrorRate * 3);
      expect(p.serveLocally).toBe(p.expectedCost < p.forwardCost);
      if (p.serveLocally) served++;
      else mam.recordUpstreamLatency(10 + rng.int(30));
      // The upstream knows every class but errs on 1 request in 10.
      const upstreamLabel = p.serveLocally ? -1 : rng.next() < 0.9 ? y : (y + 1) % C;
      if (t % 2 === 0) mam.feedback(recordOf(p, !p.serveLocally, upstreamLabel), y);
    }
    // Both branches were exercised, and the calibrator learned from the feedback.
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThan(400);
    expect(cal.counts().reduce((s, v) => s + v, 0)).toBeGreaterThan(100);
  });
});

describe("MemoryAugmentedModel.feedback", () => {
  it("confirms a stored upstream answer, removes a contradicted one, reports an evicted one as absent", () => {
    const { mam, memory } = probe();
    const p = mam.predict(Float32Array.from([0.6, 0]));
    const stored = mam.offer(p.key, p.modelProba, 0, "upstream", true);
    expect(stored.admitted).toBe(true);
    expect([memory.source(stored.id), memory.weight(stored.id)]).toEqual(["upstream", 0.5]);
    expect(mam.feedback(recordOf(p, true, 0, stored.id), 0)).toEqual({
      admitted: true,
      storedAnswer: "confirmed",
    });
    expect([memory.size, memory.source(stored.id), memory.weight(stored.id)]).toEqual([1, "feedback", 1]);

    const q = mam.predict(Float32Array.from([0.6, 3]));
    const wrong = mam.offer(q.key, q.modelProba, 0, "upstream", true);
    expect(mam.feedback(recordOf(q, true, 0, wrong.id), 1)).toEqual({
      admitted: true,
      storedAnswer: "contradicted",
    });
    expect(memory.has(wrong.id)).toBe(false);
    expect(memory.stats.removals).toBe(1);
    const ids = memory.ids();
    expect(ids.length).toBe(2);
    expect([memory.label(ids[1]), memory.source(ids[1])]).toEqual([1, "feedback"]);

    const gone = mam.offer(q.key, q.modelProba, 0, "upstream", true).id;
    memory.remove(gone); // e.g. evicted before the true label came back
    expect(mam.feedback(recordOf(q, true, 0, gone), 1).storedAnswer).toBe("absent");
    memory.checkInvariants();
  });

  it("rejects a bad label or calibration bin with a typed error and changes nothing", () => {
    const { mam, memory } = probe({ rule: "adaptive:k=2" });
    const p = mam.predict(Float32Array.from([0.6, 0]));
    const stored = mam.offer(p.key, p.modelProba, 0, "upstream", true).id;
    mam.feedback(recordOf(p, true, 0, -1), 1);
    const state = () =>
      JSON.stringify({
        cal: Object.values(mam.calibrator!.state).map((a) => Array.from(a)),
        up: mam.upstreamEstimate!.observed,
        rule: (mam.rule as unknown as { w: Float64Array }).w,
        ids: memory.ids(),
        sources: memory.ids().map((id) => memory.source(id)),
        stats: memory.stats,
        clock: memory.clock,
      });
    const before = state();
    const record = recordOf(p, true, 0, stored);
    for (const label of [2, -1, 0.5, Number.NaN]) {
      const e = thrown(() => mam.feedback(record, label));
      expect(isMammalsError(e, "INVALID_ARGUMENT")).toBe(true);
      expect((e as Error).message).toMatch(/feedback label: expected an integer in \[0, 2\)/);
    }
    for (const bin of [-1, 50, 0.5]) {
      const e = thrown(() => mam.feedback({ ...record, bin }, 1));
      expect(isMammalsError(e, "INVALID_ARGUMENT")).toBe(true);
      expect((e as Error).message).toMatch(/calibration bin/);
    }
    expect(state()).toBe(before);
  });
});
