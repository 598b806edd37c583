/**
 * An edge node: a local memory-augmented model that answers what it can, an upstream for the rest.
 *
 * The local side decides (augment/memory-augmented-model.ts): its Prediction carries the calibrated
 * expected cost of answering locally, the cost of forwarding and `serveLocally`. The node acts on
 * it: it answers locally, or it forwards to the upstream, answers with the upstream's label,
 * reports the upstream's latency back to the local side and offers the answer to the memory's
 * admission policy as (key, upstream label, source "upstream"). `feedback(id, label)` hands the
 * request's record to the local side, which judges the local and upstream answers, teaches the
 * combination rule, confirms or removes a stored upstream answer and offers (key, true label,
 * source "feedback"). Recent requests (key, model distribution and what was decided) are kept in
 * a bounded ring of typed arrays for feedback.
 */

import type { DecisionRecord, MemoryAugmentedModel, Prediction } from "../augment/memory-augmented-model.js";
import { check, fail } from "../core/errors.js";
import { Histogram, type HistogramSummary } from "./histogram.js";
import { UpstreamUnavailable } from "./http-upstream.js";
import type { Upstream } from "./upstream.js";

export interface EdgeNodeOptions {
  /** The local side, built with forward terms (`forward: { latencyWeight, upstreamLatencyMs }`). */
  local: MemoryAugmentedModel;
  upstream: Upstream;
  /** Recent requests remembered for feedback. Default 4096. */
  recentCapacity?: number;
  /** Offer upstream answers to the admission policy. Default true. */
  admitUpstream?: boolean;
  /** Also teach the combination rule from upstream answers, with this weight (feedback weighs 1). Default 0. */
  upstreamLearnWeight?: number;
  /** Clock in ms (default performance.now). */
  now?: () => number;
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
  /**
   * Set when the decision was to forward but the upstream could not answer (down, timed out, its
   * circuit open): the node answered locally instead, and feedback judges that local answer.
   */
  upstreamError?: { reason: "error" | "circuit-open"; message: string };
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

/**
 * The ring of recent requests, by slot: plain typed arrays (a snapshot is a copy of them plus the
 * node's cursor and counters; the id -> slot map is derived from `requestId`).
 */
interface RecentRequests {
  /** Request id held by the slot, -1 when free. */
  requestId: Float64Array;
  /** Memory keys (keyDim per slot) and model distributions (numClasses per slot). */
  keys: Float32Array;
  probas: Float32Array;
  /** The label the node answered with. */
  answered: Int32Array;
  /** The local prediction's label (equal to `answered` unless forwarded). */
  localLabel: Int32Array;
  /** The upstream's label, -1 when not forwarded (or not answered yet). */
  upstreamLabel: Int32Array;
  forwarded: Uint8Array;
  /** The memory entry that stored the upstream's answer, -1 if none. */
  entryId: Float64Array;
  /** Calibration bin of the local prediction. */
  bin: Int32Array;
}

/** What the node has done, for stats(). */
interface EdgeCounts {
  requests: number;
  local: number;
  forwarded: number;
  feedback: number;
  correct: number;
  localFb: number;
  localCorrect: number;
  fwdFb: number;
  fwdCorrect: number;
}

export class EdgeNode {
  readonly local: MemoryAugmentedModel;
  readonly upstream: Upstream;
  readonly latency = new Histogram();
  readonly localCompute = new Histogram();
  private readonly admitUpstream: boolean;
  private readonly upstreamLearnWeight: number;
  private readonly now: () => number;
  private readonly pred: Prediction;
  private readonly capacity: number;
  private readonly ring: RecentRequests;
  private readonly recent = new Map<number, number>();
  private nextSlot = 0;
  private nextId = 0;
  private readonly counts: EdgeCounts = {
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

  constructor(o: EdgeNodeOptions) {
    this.local = o.local;
    this.upstream = o.upstream;
    check(
      o.upstream.numClasses === o.local.numClasses && o.upstream.inputDim === o.local.model.inputDim,
      () =>
        `upstream answers ${o.upstream.numClasses} classes for inputs of ${o.upstream.inputDim}; expected ${o.local.numClasses} and ${o.local.model.inputDim} like the local model`,
    );
    if (!o.local.upstreamEstimate)
      fail(
        "INVALID_ARGUMENT",
        "EdgeNode: expected a local model built with forward terms (forward: { latencyWeight, upstreamLatencyMs }), got one without (it would never forward)",
      );
    this.admitUpstream = o.admitUpstream ?? true;
    this.upstreamLearnWeight = o.upstreamLearnWeight ?? 0;
    check(
      Number.isFinite(this.upstreamLearnWeight) && this.upstreamLearnWeight >= 0,
      () => `upstreamLearnWeight: expected a finite number >= 0, got ${this.upstreamLearnWeight}`,
    );
    this.now = o.now ?? (() => performance.now());
    this.pred = this.local.createPrediction();
    this.capacity = o.recentCapacity ?? 4096;
    check(
      Number.isInteger(this.capacity) && this.capacity >= 1,
      () => `recentCapacity: expected an integer >= 1, got ${this.capacity}`,
    );
    const n = this.capacity;
    this.ring = {
      requestId: new Float64Array(n).fill(-1),
      keys: new Float32Array(n * this.local.keyDim),
      probas: new Float32Array(n * this.local.numClasses),
      answered: new Int32Array(n),
      localLabel: new Int32Array(n),
      upstreamLabel: new Int32Array(n),
      forwarded: new Uint8Array(n),
      entryId: new Float64Array(n),
      bin: new Int32Array(n),
    };
  }

  /** Current estimate of P(upstream answer wrong), over all forwarded requests (the local side's). */
  get upstreamErrorRate(): number {
    return this.local.upstreamErrorRate();
  }

  /** Current estimate of the upstream's latency (ms) (the local side's). */
  get upstreamLatencyMs(): number {
    return this.local.upstreamEstimate!.latencyMs;
  }

  /** The cost of forwarding an input before knowing its situation (MemoryAugmentedModel.forwardCost). */
  get forwardCost(): number {
    return this.local.forwardCost();
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
    const p = this.local.predict(x, this.pred); // validates x before anything changes; decides
    const localMs = this.now() - t0;
    if (id === undefined) {
      while (this.recent.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    // `p` is the node's scratch, reused by the next request: keep what the answer reports.
    const { expectedCost, forwardCost, serveLocally: servedLocally } = p;
    const slot = this.remember(id, p, servedLocally);
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
        expectedCost,
        forwardCost,
      };
    }
    this.counts.forwarded++;
    // `p` may be overwritten by another request while the upstream answers: keep the local answer.
    const localLabel = p.label;
    const localProba = p.proba.slice();
    let answer: Awaited<ReturnType<Upstream["predict"]>>;
    try {
      answer = await this.upstream.predict(x);
    } catch (e) {
      if (!(e instanceof UpstreamUnavailable)) throw e;
      // No answer from upstream: serve the local one, and let feedback judge it as a local answer.
      this.counts.forwarded--;
      this.counts.local++;
      if (this.ring.requestId[slot] === id) this.ring.forwarded[slot] = 0;
      const latencyMs = this.now() - t0;
      this.latency.record(Math.max(0, latencyMs));
      return {
        id,
        label: localLabel,
        proba: localProba,
        servedLocally: true,
        latencyMs,
        localMs,
        expectedCost,
        forwardCost,
        upstreamError: { reason: e.reason, message: e.message },
      };
    }
    if (!(Number.isInteger(answer.label) && answer.label >= 0 && answer.label < this.local.numClasses))
      fail(
        "INVALID_ARGUMENT",
        `upstream answered label ${answer.label}; expected an integer in [0, ${this.local.numClasses})`,
      );
    if (!(Number.isFinite(answer.latencyMs) && answer.latencyMs >= 0))
      fail(
        "INVALID_ARGUMENT",
        `upstream answered with latency ${answer.latencyMs} ms; expected a finite number >= 0`,
      );
    const latencyMs = localMs + answer.latencyMs;
    this.latency.record(Math.max(0, latencyMs));
    this.local.recordUpstreamLatency(answer.latencyMs);
    const ring = this.ring;
    if (ring.requestId[slot] === id) {
      ring.answered[slot] = answer.label;
      ring.upstreamLabel[slot] = answer.label;
      const key = this.slotKey(slot);
      const proba = this.slotProba(slot);
      if (this.upstreamLearnWeight > 0) this.local.learn(key, proba, answer.label, this.upstreamLearnWeight);
      if (this.admitUpstream) {
        const r = this.local.offer(key, proba, answer.label, "upstream", true);
        if (r.admitted) ring.entryId[slot] = r.id;
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

  /**
   * Forgets requests awaiting feedback (their feedback is known to have been given already, e.g.
   * committed after the snapshot the node was restored from): feedback on them is then refused.
   */
  forgetRequests(ids: Iterable<number>): void {
    for (const id of ids) {
      const slot = this.recent.get(id);
      if (slot === undefined) continue;
      this.recent.delete(id);
      this.ring.requestId[slot] = -1;
    }
  }

  /** The true label of an earlier request. Unknown id or bad label: MammalsError, nothing changes. */
  feedback(id: number, label: number): FeedbackResult {
    const slot = this.recent.get(id);
    if (slot === undefined)
      fail(
        "UNKNOWN_ID",
        `feedback for request ${id}: no such request awaiting feedback (only the last ${this.capacity} are kept)`,
      );
    const ring = this.ring;
    const forwarded = ring.forwarded[slot] === 1;
    const record: DecisionRecord = {
      key: this.slotKey(slot),
      modelProba: this.slotProba(slot),
      bin: ring.bin[slot],
      localLabel: ring.localLabel[slot],
      forwarded,
      upstreamLabel: ring.upstreamLabel[slot],
      entryId: ring.entryId[slot],
    };
    const outcome = this.local.feedback(record, label); // checks the label before changing anything
    this.recent.delete(id);
    ring.requestId[slot] = -1;
    const correct = ring.answered[slot] === label;
    const k = this.counts;
    k.feedback++;
    if (correct) k.correct++;
    if (forwarded) {
      k.fwdFb++;
      if (ring.upstreamLabel[slot] === label) k.fwdCorrect++;
    } else {
      k.localFb++;
      if (correct) k.localCorrect++;
    }
    return { correct, admitted: outcome.admitted };
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
    const ring = this.ring;
    const old = ring.requestId[slot];
    if (old >= 0) this.recent.delete(old);
    ring.requestId[slot] = id;
    this.recent.set(id, slot);
    ring.keys.set(p.key, slot * this.local.keyDim);
    ring.probas.set(p.modelProba, slot * this.local.numClasses);
    ring.answered[slot] = p.label;
    ring.localLabel[slot] = p.label;
    ring.forwarded[slot] = servedLocally ? 0 : 1;
    ring.upstreamLabel[slot] = -1;
    ring.entryId[slot] = -1;
    ring.bin[slot] = p.bin;
    return slot;
  }

  private slotKey(slot: number): Float32Array {
    const d = this.local.keyDim;
    return this.ring.keys.subarray(slot * d, (slot + 1) * d);
  }

  private slotProba(slot: number): Float32Array {
    const c = this.local.numClasses;
    return this.ring.probas.subarray(slot * c, (slot + 1) * c);
  }
}
