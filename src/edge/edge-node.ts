/**
 * An edge node: a local memory-augmented model that answers what it can, an upstream for the rest.
 *
 * Decision rule, per request x:
 *   local expected cost   c_local   = P(local answer wrong) * errorCost, where P is the calibrated
 *                         error rate of predictions like this one (augment/calibration.ts, learned
 *                         from feedback), or 1 - max_y p(y|x) with `calibrate: false`
 *   forward cost          c_forward = latencyWeight * E[upstream latency ms] + P(upstream wrong) * errorCost,
 *                         P(upstream wrong) per calibration bin when calibrating (errors correlate),
 *                         else overall
 *   serve locally iff c_local < c_forward, else forward (ties forward).
 * E[latency] starts at the upstream's advertised mean and follows the observed mean; the upstream's
 * error rate starts at a prior (a pseudo-count of `upstreamPriorWeight` requests) and is updated
 * from feedback on forwarded requests.
 *
 * A forwarded request's upstream answer is offered to the memory's admission policy as
 * (key, upstream label, source "upstream"). `feedback(id, label)` offers (key, true label, source
 * "feedback") and first teaches the combination rule; if the request's upstream answer was stored,
 * a matching label upgrades that entry to feedback trust and a contradicting one removes it.
 * Recent requests (key + model distribution) are kept in a bounded ring for feedback.
 */

import { type CalibratorOptions, ErrorCalibrator } from "../augment/calibration.js";
import type { MemoryAugmentedModel, Prediction } from "../augment/memory-augmented-model.js";
import { check, fail } from "../core/errors.js";
import { Histogram, type HistogramSummary } from "./histogram.js";
import type { Upstream } from "./upstream.js";

export interface EdgeNodeOptions {
  local: MemoryAugmentedModel;
  upstream: Upstream;
  /** Cost of one millisecond of upstream latency, in the unit of errorCost. */
  latencyWeight: number;
  /** Prior probability that the upstream's answer is wrong. Default 0.05. */
  upstreamErrorRate?: number;
  /** Weight of that prior, in requests. Default 20. */
  upstreamPriorWeight?: number;
  /** Prior expected upstream latency (ms); default the upstream's expectedLatencyMs, else 20. */
  upstreamLatencyMs?: number;
  /** Recent requests remembered for feedback. Default 4096. */
  recentCapacity?: number;
  /** Offer upstream answers to the admission policy. Default true. */
  admitUpstream?: boolean;
  /** Also teach the combination rule from upstream answers, with this weight (feedback weighs 1). Default 0. */
  upstreamLearnWeight?: number;
  /** Clock in ms (default performance.now). */
  now?: () => number;
  /** Estimate P(local error) from feedback instead of trusting 1 - confidence. Default true. */
  calibrate?: boolean | CalibratorOptions;
}

export interface EdgeResponse {
  id: number;
  label: number;
  proba: Float32Array;
  servedLocally: boolean;
  /** End to end: local compute, plus the upstream's latency when forwarded. */
  latencyMs: number;
  localMs: number;
  /** The local answer's expected cost and the forward cost it was compared with. */
  expectedCost: number;
  forwardCost: number;
}

export interface FeedbackResult {
  /** Whether the node's answer to that request was right. */
  correct: boolean;
  admitted: boolean;
}

export interface EdgeStats {
  requests: number;
  servedLocally: number;
  forwarded: number;
  localFraction: number;
  feedback: number;
  feedbackAccuracy: number;
  localFeedbackAccuracy: number;
  forwardedFeedbackAccuracy: number;
  upstreamErrorRate: number;
  upstreamLatencyMs: number;
  forwardCost: number;
  latency: HistogramSummary;
  localCompute: HistogramSummary;
  memory: {
    size: number;
    bytes: number;
    capacityItems: number;
    capacityBytes: number;
    offers: number;
    admissions: number;
    rejections: number;
    evictions: number;
    drops: number;
    removals: number;
  };
}

export class EdgeNode {
  readonly local: MemoryAugmentedModel;
  readonly upstream: Upstream;
  readonly latencyWeight: number;
  readonly latency = new Histogram();
  readonly localCompute = new Histogram();
  private readonly o: Required<
    Pick<EdgeNodeOptions, "admitUpstream" | "upstreamLearnWeight" | "upstreamPriorWeight">
  >;
  private readonly now: () => number;
  private readonly pred: Prediction;
  private readonly priorErrorRate: number;
  private readonly priorLatencyMs: number;
  // Ring of recent requests, by slot.
  private readonly capacity: number;
  private readonly keys: Float32Array;
  private readonly probas: Float32Array;
  private readonly slotRequest: Float64Array;
  private readonly answered: Int32Array;
  private readonly forwardedAt: Uint8Array;
  private readonly upstreamLabel: Int32Array;
  private readonly entryId: Float64Array;
  private readonly localLabel: Int32Array;
  private readonly calBin: Int32Array;
  readonly calibrator: ErrorCalibrator | null;
  private readonly recent = new Map<number, number>();
  private nextSlot = 0;
  private nextId = 0;
  private counts = {
    requests: 0,
    local: 0,
    forwarded: 0,
    feedback: 0,
    correct: 0,
    localFb: 0,
    localCorrect: 0,
    fwdFb: 0,
    fwdCorrect: 0,
  };
  private upstreamLatencySum = 0;
  private upstreamLatencyN = 0;

  constructor(o: EdgeNodeOptions) {
    this.local = o.local;
    this.upstream = o.upstream;
    check(
      o.upstream.numClasses === o.local.numClasses && o.upstream.inputDim === o.local.model.inputDim,
      () =>
        `upstream answers ${o.upstream.numClasses} classes for inputs of ${o.upstream.inputDim}; expected ${o.local.numClasses} and ${o.local.model.inputDim} like the local model`,
    );
    check(
      Number.isFinite(o.latencyWeight) && o.latencyWeight >= 0,
      () => `latencyWeight: expected a finite number >= 0, got ${o.latencyWeight}`,
    );
    this.latencyWeight = o.latencyWeight;
    this.priorErrorRate = o.upstreamErrorRate ?? 0.05;
    check(
      this.priorErrorRate >= 0 && this.priorErrorRate <= 1,
      () => `upstreamErrorRate: expected in [0, 1], got ${this.priorErrorRate}`,
    );
    this.priorLatencyMs = o.upstreamLatencyMs ?? o.upstream.expectedLatencyMs ?? 20;
    check(
      Number.isFinite(this.priorLatencyMs) && this.priorLatencyMs >= 0,
      () => `upstreamLatencyMs: expected >= 0, got ${this.priorLatencyMs}`,
    );
    this.o = {
      admitUpstream: o.admitUpstream ?? true,
      upstreamLearnWeight: o.upstreamLearnWeight ?? 0,
      upstreamPriorWeight: o.upstreamPriorWeight ?? 20,
    };
    check(
      this.o.upstreamPriorWeight > 0,
      () => `upstreamPriorWeight: expected > 0, got ${this.o.upstreamPriorWeight}`,
    );
    this.now = o.now ?? (() => performance.now());
    this.pred = this.local.createPrediction();
    this.capacity = o.recentCapacity ?? 4096;
    check(
      Number.isInteger(this.capacity) && this.capacity >= 1,
      () => `recentCapacity: expected an integer >= 1, got ${this.capacity}`,
    );
    this.keys = new Float32Array(this.capacity * this.local.keyDim);
    this.probas = new Float32Array(this.capacity * this.local.numClasses);
    this.slotRequest = new Float64Array(this.capacity).fill(-1);
    this.answered = new Int32Array(this.capacity);
    this.forwardedAt = new Uint8Array(this.capacity);
    this.upstreamLabel = new Int32Array(this.capacity);
    this.entryId = new Float64Array(this.capacity);
    this.localLabel = new Int32Array(this.capacity);
    this.calBin = new Int32Array(this.capacity);
    const cal = o.calibrate ?? true;
    this.calibrator = cal === false ? null : new ErrorCalibrator(cal === true ? {} : cal);
  }

  /** Current estimate of P(upstream answer wrong). */
  get upstreamErrorRate(): number {
    const w = this.o.upstreamPriorWeight;
    return (this.priorErrorRate * w + (this.counts.fwdFb - this.counts.fwdCorrect)) / (w + this.counts.fwdFb);
  }

  /** Current estimate of the upstream's latency (ms): the prior counts as one observation. */
  get upstreamLatencyMs(): number {
    return (this.priorLatencyMs + this.upstreamLatencySum) / (1 + this.upstreamLatencyN);
  }

  /** latencyWeight * E[latency] + P(upstream wrong) * errorCost. */
  get forwardCost(): number {
    return this.latencyWeight * this.upstreamLatencyMs + this.upstreamErrorRate * this.local.errorCost;
  }

  /** Serves one request (x of length inputDim, finite). `id` defaults to a fresh number. */
  async request(x: Float32Array, id?: number): Promise<EdgeResponse> {
    if (id !== undefined) {
      check(
        Number.isSafeInteger(id) && id >= 0,
        () => `request id: expected a non-negative integer, got ${id}`,
      );
      if (this.recent.has(id))
        fail("DUPLICATE_ID", `request id ${id} is still awaiting feedback; expected a new id`);
    }
    const t0 = this.now();
    const p = this.local.predict(x, this.pred); // validates x before anything changes
    const bin = this.calibrator ? this.calibrator.bin(p) : -1;
    if (this.calibrator) p.expectedCost = this.calibrator.errorRate(bin, p.confidence) * this.local.errorCost;
    const localMs = this.now() - t0;
    if (id === undefined) {
      while (this.recent.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    const forwardCost = this.calibrator
      ? this.latencyWeight * this.upstreamLatencyMs +
        this.calibrator.upstreamErrorRate(bin, this.upstreamErrorRate) * this.local.errorCost
      : this.forwardCost;
    const servedLocally = p.expectedCost < forwardCost;
    const slot = this.remember(id, p, servedLocally);
    this.calBin[slot] = bin;
    this.counts.requests++;
    this.localCompute.record(Math.max(0, localMs));
    if (servedLocally) {
      this.counts.local++;
      this.latency.record(Math.max(0, localMs));
      return {
        id,
        label: p.label,
        proba: p.proba.slice(),
        servedLocally,
        latencyMs: localMs,
        localMs,
        expectedCost: p.expectedCost,
        forwardCost,
      };
    }
    this.counts.forwarded++;
    const expectedCost = p.expectedCost;
    const answer = await this.upstream.predict(x);
    if (!(Number.isInteger(answer.label) && answer.label >= 0 && answer.label < this.local.numClasses))
      fail(
        "INVALID_ARGUMENT",
        `upstream answered label ${answer.label}; expected an integer in [0, ${this.local.numClasses})`,
      );
    const latencyMs = localMs + answer.latencyMs;
    this.latency.record(Math.max(0, latencyMs));
    this.upstreamLatencySum += answer.latencyMs;
    this.upstreamLatencyN++;
    if (this.slotRequest[slot] === id) {
      this.answered[slot] = answer.label;
      this.upstreamLabel[slot] = answer.label;
      const key = this.slotKey(slot);
      const proba = this.slotProba(slot);
      if (this.o.upstreamLearnWeight > 0)
        this.local.learn(key, proba, answer.label, this.o.upstreamLearnWeight);
      if (this.o.admitUpstream) {
        const r = this.local.offer(key, proba, answer.label, "upstream", true);
        if (r.admitted) this.entryId[slot] = r.id;
      }
    }
    return {
      id,
      label: answer.label,
      proba: answer.proba,
      servedLocally,
      latencyMs,
      localMs,
      expectedCost,
      forwardCost,
    };
  }

  /** The true label of an earlier request. Unknown id or bad label: MammalsError, nothing changes. */
  feedback(id: number, label: number): FeedbackResult {
    const slot = this.recent.get(id);
    if (slot === undefined)
      fail(
        "UNKNOWN_ID",
        `feedback for request ${id}: no such request awaiting feedback (only the last ${this.capacity} are kept)`,
      );
    const c = this.local.numClasses;
    check(
      Number.isInteger(label) && label >= 0 && label < c,
      () => `feedback label: expected an integer in [0, ${c}), got ${label}`,
    );
    this.recent.delete(id);
    this.slotRequest[slot] = -1;
    const correct = this.answered[slot] === label;
    const forwarded = this.forwardedAt[slot] === 1;
    // Feedback is a sample of all requests, forwarded or not: the local answer is what is calibrated.
    if (this.calibrator) {
      this.calibrator.record(this.calBin[slot], this.localLabel[slot] === label);
      if (forwarded) this.calibrator.recordUpstream(this.calBin[slot], this.upstreamLabel[slot] === label);
    }
    this.counts.feedback++;
    if (correct) this.counts.correct++;
    if (forwarded) {
      this.counts.fwdFb++;
      if (this.upstreamLabel[slot] === label) this.counts.fwdCorrect++;
    } else {
      this.counts.localFb++;
      if (correct) this.counts.localCorrect++;
    }
    const key = this.slotKey(slot);
    const proba = this.slotProba(slot);
    this.local.learn(key, proba, label, 1);
    const memory = this.local.memory;
    const stored = this.entryId[slot];
    if (stored >= 0 && memory.has(stored)) {
      if (memory.label(stored) === label) {
        memory.setSource(stored, "feedback", memory.policy.trust("feedback"));
        return { correct, admitted: true };
      }
      memory.remove(stored);
    }
    const r = this.local.offer(key, proba, label, "feedback", forwarded);
    return { correct, admitted: r.admitted };
  }

  stats(): EdgeStats {
    const k = this.counts;
    const m = this.local.memory;
    const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
    return {
      requests: k.requests,
      servedLocally: k.local,
      forwarded: k.forwarded,
      localFraction: ratio(k.local, k.requests),
      feedback: k.feedback,
      feedbackAccuracy: ratio(k.correct, k.feedback),
      localFeedbackAccuracy: ratio(k.localCorrect, k.localFb),
      forwardedFeedbackAccuracy: ratio(k.fwdCorrect, k.fwdFb),
      upstreamErrorRate: this.upstreamErrorRate,
      upstreamLatencyMs: this.upstreamLatencyMs,
      forwardCost: this.forwardCost,
      latency: this.latency.summary(),
      localCompute: this.localCompute.summary(),
      memory: {
        size: m.size,
        bytes: m.bytes,
        capacityItems: m.capacityItems,
        capacityBytes: m.capacityBytes,
        ...m.stats,
      },
    };
  }

  private remember(id: number, p: Prediction, servedLocally: boolean): number {
    const slot = this.nextSlot;
    this.nextSlot = (slot + 1) % this.capacity;
    const old = this.slotRequest[slot];
    if (old >= 0) this.recent.delete(old);
    this.slotRequest[slot] = id;
    this.recent.set(id, slot);
    this.keys.set(p.key, slot * this.local.keyDim);
    this.probas.set(p.modelProba, slot * this.local.numClasses);
    this.answered[slot] = p.label;
    this.localLabel[slot] = p.label;
    this.forwardedAt[slot] = servedLocally ? 0 : 1;
    this.upstreamLabel[slot] = -1;
    this.entryId[slot] = -1;
    return slot;
  }

  private slotKey(slot: number): Float32Array {
    const d = this.local.keyDim;
    return this.keys.subarray(slot * d, (slot + 1) * d);
  }

  private slotProba(slot: number): Float32Array {
    const c = this.local.numClasses;
    return this.probas.subarray(slot * c, (slot + 1) * c);
  }
}
