/**
 * The local side of an edge node: a small Model plus a LabeledMemory plus a combination rule plus
 * the calibration of its errors, and the owner of the serve-or-forward decision. `predict(x)` runs
 * the model once (embedding and probabilities share the forward pass), searches the memory by the
 * key, mixes the two distributions, and returns in one Prediction the answer and what it costs
 * to trust it or not:
 *   confidence    = max_y p(y)
 *   errorRate     = P(local answer wrong): calibrated from feedback per situation (calibration.ts),
 *                   or 1 - confidence with `calibrate: false`
 *   expectedCost  = errorRate * errorCost
 *   forwardCost   = latencyWeight * E[upstream latency ms] + P(upstream wrong) * errorCost, with
 *                   P(upstream wrong) per calibration bin when calibrating (errors correlate), else
 *                   overall (forward-cost.ts); +Infinity without forward terms (nowhere to forward)
 *   serveLocally  = expectedCost < forwardCost (a tie forwards).
 * Whoever forwards reports what it saw (`recordUpstreamLatency`, `feedback`), and every estimate
 * the decision reads is updated here.
 * Every buffer of the hot path is preallocated: pass the same `out` Prediction to predict() and the
 * only allocation left is the index's search result.
 */
import { check, fail } from "../core/errors.js";
import { checkVector } from "../core/vectors.js";
import {
  createLabeledNeighbours,
  type ExampleSource,
  type FeedbackEffect,
  type LabeledMemory,
  type LabeledNeighbours,
  type OfferResult,
} from "../memory/labeled-memory.js";
import type { Model } from "../models/types.js";
import { type CalibratorOptions, ErrorCalibrator } from "./calibration.js";
import { type CombinationRule, createCombinationRule, knnDistribution } from "./combine.js";
import { type ForwardTerms, UpstreamEstimate } from "./forward-cost.js";
import type { InputKey } from "./keys.js";

export interface Prediction {
  /** The combined distribution. */
  proba: Float32Array;
  label: number;
  /** max_y proba[y]. */
  confidence: number;
  /** Weight given to p_knn (0 when the memory was not searched or returned nothing usable). */
  lambda: number;
  retrieved: boolean;
  modelProba: Float32Array;
  /** Valid when `retrieved`. */
  knnProba: Float32Array;
  /** The memory key of the input. */
  key: Float32Array;
  neighbours: LabeledNeighbours;
  // The serve-or-forward decision and the inputs that explain it.
  /** Calibration bin (situation x confidence decile, calibration.ts); -1 without calibration. */
  bin: number;
  /** P(local answer wrong): the calibrated rate of the bin, or 1 - confidence without calibration. */
  errorRate: number;
  /** errorRate * errorCost: the expected cost of answering locally. */
  expectedCost: number;
  /** P(upstream answer wrong) on inputs of this bin (overall without calibration); NaN without forward terms. */
  upstreamErrorRate: number;
  /** E[upstream latency] (ms); NaN without forward terms. */
  upstreamLatencyMs: number;
  /** latencyWeight * upstreamLatencyMs + upstreamErrorRate * errorCost; +Infinity without forward terms. */
  forwardCost: number;
  /** expectedCost < forwardCost: answer locally (a tie forwards). */
  serveLocally: boolean;
}

/**
 * What the local side needs, when the true label arrives, about a request it decided earlier
 * (the caller keeps these, e.g. in the edge node's ring of recent requests).
 */
export interface DecisionRecord {
  /** The memory key and model distribution of the input (Prediction.key / modelProba). */
  key: Float32Array;
  modelProba: Float32Array;
  /** Prediction.bin at decision time. */
  bin: number;
  /** The local prediction's label: what calibration judges, whether or not it was served. */
  localLabel: number;
  forwarded: boolean;
  /** The upstream's label, or -1 when not forwarded. */
  upstreamLabel: number;
  /** The memory entry that stored the upstream's answer (OfferResult.id), or -1. */
  entryId: number;
}

export interface FeedbackOutcome {
  /** Whether the memory now holds the example with its true label (confirmed or newly admitted). */
  admitted: boolean;
  /** What the true label did to the stored upstream answer; "absent" if none is stored (any more). */
  storedAnswer: FeedbackEffect | "absent";
}

export interface MemoryAugmentedModelOptions {
  model: Model;
  memory: LabeledMemory;
  /** A rule or its spec, e.g. "interpolate:lambda=0.25,T=1,k=8" (default "adaptive"). */
  rule?: CombinationRule | string;
  /** Cost of a wrong answer (the unit of expected cost). Default 1. */
  errorCost?: number;
  /** "embedding" (default) or a key computed from the raw input (keys.ts). */
  key?: "embedding" | InputKey;
  /** Seed for the rule's initial jitter when `rule` is a spec string. */
  seed?: number;
  /**
   * Divide neighbour distances by a running mean of the nearest-neighbour distance before the rule
   * sees them, so temperatures and distance features mean the same whatever the key's scale (an
   * MLP embedding's squared distances are in the tens, raw pixels' in the hundreds). Default true.
   */
  normalizeDistances?: boolean;
  /** Estimate P(local error) from feedback instead of trusting 1 - confidence. Default true. */
  calibrate?: boolean | CalibratorOptions;
  /**
   * What forwarding to an upstream costs (latency weight and priors). Without it there is nowhere
   * to forward: forwardCost is +Infinity and every prediction is served locally.
   */
  forward?: ForwardTerms;
}

export class MemoryAugmentedModel {
  readonly model: Model;
  readonly memory: LabeledMemory;
  readonly rule: CombinationRule;
  readonly errorCost: number;
  readonly keyDim: number;
  readonly numClasses: number;
  private readonly inputKey: InputKey | null;
  private readonly scratch: Prediction;
  readonly normalizeDistances: boolean;
  /** Running mean of the nearest neighbour's distance over real requests (0 before the first). */
  distanceScale = 0;
  /** P(local error) and P(upstream error) per situation, learned from feedback; null: 1 - confidence. */
  readonly calibrator: ErrorCalibrator | null;
  /** The upstream's latency and overall error rate as observed; null without forward terms. */
  readonly upstreamEstimate: UpstreamEstimate | null;

  constructor(o: MemoryAugmentedModelOptions) {
    this.model = o.model;
    this.memory = o.memory;
    this.numClasses = o.model.numClasses;
    check(
      o.memory.numClasses === this.numClasses,
      () => `memory has ${o.memory.numClasses} classes, model ${this.numClasses}; expected the same`,
    );
    this.errorCost = o.errorCost ?? 1;
    check(
      Number.isFinite(this.errorCost) && this.errorCost > 0,
      () => `errorCost: expected > 0, got ${this.errorCost}`,
    );
    this.rule =
      typeof o.rule === "object"
        ? o.rule
        : createCombinationRule(o.rule ?? "adaptive", { numClasses: this.numClasses, seed: o.seed });
    this.inputKey = o.key === undefined || o.key === "embedding" ? null : o.key;
    this.keyDim = this.inputKey ? this.inputKey.dim : o.model.embedDim;
    check(
      o.memory.dim === this.keyDim,
      () => `memory keys have ${o.memory.dim} dimensions, the model's key ${this.keyDim}; expected the same`,
    );
    this.normalizeDistances = o.normalizeDistances ?? true;
    const cal = o.calibrate ?? true;
    this.calibrator = cal === false ? null : new ErrorCalibrator(cal === true ? {} : cal);
    this.upstreamEstimate = o.forward ? new UpstreamEstimate(o.forward) : null;
    this.scratch = this.createPrediction();
  }

  /** Buffers for one prediction; reuse them across calls to keep the hot path allocation-free. */
  createPrediction(): Prediction {
    const c = this.numClasses;
    return {
      proba: new Float32Array(c),
      label: 0,
      confidence: 0,
      lambda: 0,
      retrieved: false,
      modelProba: new Float32Array(c),
      knnProba: new Float32Array(c),
      key: new Float32Array(this.keyDim),
      neighbours: createLabeledNeighbours(Math.max(1, this.rule.k)),
      bin: -1,
      errorRate: 0,
      expectedCost: 0,
      upstreamErrorRate: Number.NaN,
      upstreamLatencyMs: Number.NaN,
      forwardCost: Number.POSITIVE_INFINITY,
      serveLocally: true,
    };
  }

  /**
   * Predicts x (length model.inputDim, finite values; otherwise a MammalsError) and decides whether
   * to serve the answer locally (see the file comment).
   */
  predict(x: Float32Array, out: Prediction = this.createPrediction()): Prediction {
    checkVector(x, this.model.inputDim, "input");
    if (this.inputKey) {
      this.model.predictProba(x, out.modelProba);
      this.inputKey.extract(x, out.key);
    } else {
      this.model.embedAndPredict(x, out.key, out.modelProba);
    }
    return this.combine(out, true);
  }

  /**
   * Re-predicts from a stored key and model distribution (no model call), against the memory as it
   * is now; used for offers and feedback. Does not count as a use of the neighbours.
   */
  predictFromParts(
    key: Float32Array,
    modelProba: Float32Array,
    out: Prediction = this.createPrediction(),
  ): Prediction {
    if (out.key !== key) out.key.set(key);
    if (out.modelProba !== modelProba) out.modelProba.set(modelProba);
    return this.combine(out, false);
  }

  /**
   * The cost of forwarding an input of calibration bin `bin` (-1: before knowing the input, with the
   * upstream's overall error rate): latencyWeight * E[latency] + P(upstream wrong) * errorCost.
   * +Infinity without forward terms. The one place this cost is computed.
   */
  forwardCost(bin = -1): number {
    const u = this.upstreamEstimate;
    if (!u) return Number.POSITIVE_INFINITY;
    return u.latencyWeight * u.latencyMs + this.upstreamErrorRate(bin) * this.errorCost;
  }

  /** P(upstream answer wrong) for inputs of `bin` (-1 or no calibration: overall); NaN without forward terms. */
  upstreamErrorRate(bin = -1): number {
    const u = this.upstreamEstimate;
    if (!u) return Number.NaN;
    return this.calibrator && bin >= 0 ? this.calibrator.upstreamErrorRate(bin, u.errorRate) : u.errorRate;
  }

  /** Records the latency (ms, finite, >= 0) of an answered forward; it moves E[upstream latency]. */
  recordUpstreamLatency(ms: number): void {
    if (!this.upstreamEstimate)
      fail("STATE", "recordUpstreamLatency: expected a model built with forward terms, got none");
    this.upstreamEstimate.recordLatency(ms);
  }

  /**
   * The true label of an earlier request: judges the local answer (and the upstream's, when it was
   * forwarded) for calibration, teaches the rule, then confirms or removes the stored upstream
   * answer and offers the example with source "feedback" (unless it was confirmed). A bad label or
   * calibration bin: MammalsError, nothing changes. The rule's learning step and the offer search
   * the memory for the same key: the memory answers that search once (LabeledMemory.reusingSearches).
   */
  feedback(r: DecisionRecord, label: number): FeedbackOutcome {
    return this.memory.reusingSearches(() => this.judgeAndLearn(r, label));
  }

  private judgeAndLearn(r: DecisionRecord, label: number): FeedbackOutcome {
    const c = this.numClasses;
    check(
      Number.isInteger(label) && label >= 0 && label < c,
      () => `feedback label: expected an integer in [0, ${c}), got ${label}`,
    );
    const cal = this.calibrator;
    if (cal) {
      // record() checks the bin before it changes anything, and it is the first change here.
      // Feedback is a sample of all requests, forwarded or not: the local answer is what is calibrated.
      cal.record(r.bin, r.localLabel === label);
      if (r.forwarded) cal.recordUpstream(r.bin, r.upstreamLabel === label);
    }
    if (r.forwarded) this.upstreamEstimate?.recordJudgement(r.upstreamLabel === label);
    this.learn(r.key, r.modelProba, label, 1);
    let storedAnswer: FeedbackOutcome["storedAnswer"] = "absent";
    if (r.entryId >= 0 && this.memory.has(r.entryId)) {
      storedAnswer = this.memory.applyFeedback(r.entryId, label);
      if (storedAnswer === "confirmed") return { admitted: true, storedAnswer };
    }
    const offered = this.offer(r.key, r.modelProba, label, "feedback", r.forwarded);
    return { admitted: offered.admitted, storedAnswer };
  }

  /** Learns the rule online from a labeled example (before the example is offered to the memory). */
  learn(key: Float32Array, modelProba: Float32Array, label: number, weight = 1): void {
    const p = this.predictFromParts(key, modelProba, this.scratch);
    if (!p.retrieved) {
      // The rule may have skipped retrieval; learning needs p_knn, so search anyway.
      this.memory.search(p.key, this.rule.k, p.neighbours, false);
      this.normalize(p.neighbours, false);
      knnDistribution(p.neighbours, this.rule.temperature, p.knnProba);
    }
    this.rule.learn(p.modelProba, p.knnProba, p.neighbours, label, weight);
  }

  /**
   * Offers a labeled example (key + model distribution of its input) to the memory's admission
   * policy, with the current prediction for it.
   */
  offer(
    key: Float32Array,
    modelProba: Float32Array,
    label: number,
    source: ExampleSource,
    forwarded: boolean,
  ): OfferResult {
    check(
      Number.isInteger(label) && label >= 0 && label < this.numClasses,
      () => `label: expected an integer in [0, ${this.numClasses}), got ${label}`,
    );
    const p = this.predictFromParts(key, modelProba, this.scratch);
    if (!p.retrieved) {
      this.memory.search(p.key, this.rule.k, p.neighbours, false);
      this.normalize(p.neighbours, false);
    }
    return this.memory.offer({
      key: p.key,
      label,
      source,
      predictedLabel: p.label,
      confidence: p.confidence,
      neighbours: p.neighbours,
      forwarded,
    });
  }

  /** Rescales distances by the running nearest-distance mean (learned from real requests only). */
  private normalize(nb: LabeledNeighbours, learn: boolean): void {
    if (!this.normalizeDistances || nb.count === 0) return;
    const d1 = nb.distances[0];
    if (learn && Number.isFinite(d1) && d1 > 0)
      this.distanceScale = this.distanceScale === 0 ? d1 : 0.99 * this.distanceScale + 0.01 * d1;
    if (this.distanceScale > 0) for (let i = 0; i < nb.count; i++) nb.distances[i] /= this.distanceScale;
  }

  private combine(out: Prediction, touch: boolean): Prediction {
    const rule = this.rule;
    const proba = out.proba;
    const pm = out.modelProba;
    const c = this.numClasses;
    let lambda = 0;
    out.retrieved = false;
    out.neighbours.count = 0;
    if (rule.k > 0 && rule.shouldRetrieve(pm)) {
      this.memory.search(out.key, rule.k, out.neighbours, touch);
      this.normalize(out.neighbours, touch);
      out.retrieved = true;
      const mass = knnDistribution(out.neighbours, rule.temperature, out.knnProba);
      lambda = mass > 0 ? rule.lambda(pm, out.knnProba, out.neighbours) : rule.lambdaWhenEmpty;
    } else if (rule.k === 0 && rule.lambdaWhenEmpty > 0) {
      out.knnProba.fill(1 / c);
      lambda = rule.lambdaWhenEmpty;
    }
    const pk = out.knnProba;
    let best = 0;
    for (let y = 0; y < c; y++) {
      proba[y] = lambda > 0 ? lambda * pk[y] + (1 - lambda) * pm[y] : pm[y];
      if (proba[y] > proba[best]) best = y;
    }
    out.lambda = lambda;
    out.label = best;
    out.confidence = proba[best];
    return this.decide(out);
  }

  /** Fills the decision fields of a combined prediction (see the file comment). */
  private decide(out: Prediction): Prediction {
    const cal = this.calibrator;
    out.bin = cal ? cal.bin(out) : -1;
    out.errorRate = cal ? cal.errorRate(out.bin, out.confidence) : 1 - out.confidence;
    out.expectedCost = out.errorRate * this.errorCost;
    out.upstreamErrorRate = this.upstreamErrorRate(out.bin);
    out.upstreamLatencyMs = this.upstreamEstimate ? this.upstreamEstimate.latencyMs : Number.NaN;
    out.forwardCost = this.forwardCost(out.bin);
    out.serveLocally = out.expectedCost < out.forwardCost;
    return out;
  }
}
