/**
 * What the local side believes forwarding a request to the upstream costs:
 *   forward cost = latencyWeight * E[upstream latency ms] + P(upstream wrong) * errorCost.
 * E[latency] starts at a prior counted as one observation and follows the observed mean; the
 * upstream's error rate starts at a prior worth `upstreamPriorWeight` requests and follows the
 * feedback on forwarded requests. This is the overall rate; the calibrator refines it per
 * situation (calibration.ts) and the memory-augmented model combines the two into the forward cost
 * of one request, in one place (`MemoryAugmentedModel.forwardCost`).
 */
import { check } from "../core/errors.js";

/** The terms of forwarding, fixed when the local side is built. */
export interface ForwardTerms {
  /** Cost of one millisecond of upstream latency, in the unit of errorCost. */
  latencyWeight: number;
  /** Prior expected upstream latency (ms), e.g. the upstream's `expectedLatencyMs`. */
  upstreamLatencyMs: number;
  /** Prior probability that the upstream's answer is wrong. Default 0.05. */
  upstreamErrorRate?: number;
  /** Weight of that prior, in requests. Default 20. */
  upstreamPriorWeight?: number;
}

/** What has been observed of the upstream: plain numbers, so that a snapshot is a copy. */
export interface UpstreamObservations {
  /** Sum (ms) and count of the latencies of answered forwards. */
  latencySumMs: number;
  latencies: number;
  /** Forwarded requests whose true label came back, and how many of those the upstream got right. */
  judged: number;
  right: number;
}

export class UpstreamEstimate {
  readonly latencyWeight: number;
  readonly priorLatencyMs: number;
  readonly priorErrorRate: number;
  readonly priorWeight: number;
  readonly observed: UpstreamObservations = { latencySumMs: 0, latencies: 0, judged: 0, right: 0 };

  constructor(t: ForwardTerms) {
    check(
      Number.isFinite(t.latencyWeight) && t.latencyWeight >= 0,
      () => `latencyWeight: expected a finite number >= 0, got ${t.latencyWeight}`,
    );
    check(
      Number.isFinite(t.upstreamLatencyMs) && t.upstreamLatencyMs >= 0,
      () => `upstreamLatencyMs: expected a finite number >= 0, got ${t.upstreamLatencyMs}`,
    );
    const rate = t.upstreamErrorRate ?? 0.05;
    check(rate >= 0 && rate <= 1, () => `upstreamErrorRate: expected in [0, 1], got ${rate}`);
    const weight = t.upstreamPriorWeight ?? 20;
    check(
      Number.isFinite(weight) && weight > 0,
      () => `upstreamPriorWeight: expected a finite number > 0, got ${weight}`,
    );
    this.latencyWeight = t.latencyWeight;
    this.priorLatencyMs = t.upstreamLatencyMs;
    this.priorErrorRate = rate;
    this.priorWeight = weight;
  }

  /** Current estimate of the upstream's latency (ms): the prior counts as one observation. */
  get latencyMs(): number {
    const o = this.observed;
    return (this.priorLatencyMs + o.latencySumMs) / (1 + o.latencies);
  }

  /** Current estimate of P(upstream answer wrong), over all forwarded requests. */
  get errorRate(): number {
    const o = this.observed;
    const w = this.priorWeight;
    return (this.priorErrorRate * w + (o.judged - o.right)) / (w + o.judged);
  }

  /** Records the latency of one answered forward (finite, >= 0; otherwise nothing changes). */
  recordLatency(ms: number): void {
    check(
      Number.isFinite(ms) && ms >= 0,
      () => `upstream latency: expected a finite number of ms >= 0, got ${ms}`,
    );
    this.observed.latencySumMs += ms;
    this.observed.latencies++;
  }

  /** Records whether the upstream's answer to a forwarded request was right. */
  recordJudgement(correct: boolean): void {
    this.observed.judged++;
    if (correct) this.observed.right++;
  }
}
