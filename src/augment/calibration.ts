/**
 * Online calibration of a memory-augmented model's confidence. The combined distribution's max
 * probability is not the probability of being right: a small model that never saw a class is
 * confidently wrong on it, and a mix of two distributions is over- or under-confident depending on
 * the memory's state. The serve-or-forward decision needs P(error), so it is estimated from the
 * labels that come back (feedback is an unbiased sample of requests, served locally or not). The
 * memory-augmented model owns its calibrator: it bins each prediction, reads the rates and records
 * the feedback (memory-augmented-model.ts).
 *
 * Predictions fall into bins by (situation, confidence decile), the situation being
 *   0: no usable neighbours; 1/2: memory's vote agrees with the model's, nearest neighbour near/far;
 *   3/4: it disagrees, near/far. "Near" is a nearest distance below half the running mean (the
 *   memory-augmented model normalizes distances by it), i.e. the memory holds a near-duplicate.
 * Each bin keeps exponentially decayed counts of right and wrong local answers (so the estimate
 * follows the memory as it changes) and starts from a prior of `priorWeight` pseudo-observations
 * at the uncalibrated error rate 1 - confidence. The estimate is the posterior mean.
 *
 * The same bins also track how often the upstream was wrong on the forwarded requests that got
 * feedback. Errors are correlated (what confuses the small model often confuses the big one), so
 * the benefit of forwarding an input is P(local wrong | bin) - P(upstream wrong | bin), not
 * P(local wrong) - P(upstream wrong) overall; the upstream's rate per bin starts from its overall
 * rate as a prior of `priorWeight` observations.
 */
import { check } from "../core/errors.js";
import type { Prediction } from "./memory-augmented-model.js";

export const CALIBRATION_SITUATIONS = 5;

export interface CalibratorOptions {
  /** Confidence bins in [0, 1]. Default 10. */
  bins?: number;
  /** Pseudo-observations of the uncalibrated rate per bin. Default 4. */
  priorWeight?: number;
  /** Per-observation decay of a bin's counts (1 = never forget). Default 0.995. */
  decay?: number;
}

/**
 * Decayed counts per bin (situation x confidence decile): local answers judged and wrong, upstream
 * answers judged and wrong. Plain typed arrays, so that a snapshot is a copy.
 */
export interface CalibrationState {
  n: Float64Array;
  errors: Float64Array;
  upN: Float64Array;
  upErrors: Float64Array;
}

export class ErrorCalibrator {
  readonly bins: number;
  readonly priorWeight: number;
  readonly decay: number;
  /** Read-only for everyone but the calibrator. */
  readonly state: CalibrationState;

  constructor(o: CalibratorOptions = {}) {
    this.bins = o.bins ?? 10;
    this.priorWeight = o.priorWeight ?? 4;
    this.decay = o.decay ?? 0.995;
    check(
      Number.isInteger(this.bins) && this.bins >= 1,
      () => `calibration bins: expected an integer >= 1, got ${this.bins}`,
    );
    check(this.priorWeight > 0, () => `calibration priorWeight: expected > 0, got ${this.priorWeight}`);
    check(
      this.decay > 0 && this.decay <= 1,
      () => `calibration decay: expected in (0, 1], got ${this.decay}`,
    );
    const size = CALIBRATION_SITUATIONS * this.bins;
    this.state = {
      n: new Float64Array(size),
      errors: new Float64Array(size),
      upN: new Float64Array(size),
      upErrors: new Float64Array(size),
    };
  }

  /** The bin of a prediction (situation x confidence decile). */
  bin(p: Prediction): number {
    let situation = 0;
    if (p.retrieved && p.neighbours.count > 0 && p.lambda > 0) {
      let knnTop = 0;
      let modelTop = 0;
      for (let y = 1; y < p.knnProba.length; y++) {
        if (p.knnProba[y] > p.knnProba[knnTop]) knnTop = y;
        if (p.modelProba[y] > p.modelProba[modelTop]) modelTop = y;
      }
      const far = p.neighbours.distances[0] >= 0.5 ? 1 : 0;
      situation = (knnTop === modelTop ? 1 : 3) + far;
    }
    const b = Math.min(this.bins - 1, Math.max(0, Math.floor(p.confidence * this.bins)));
    return situation * this.bins + b;
  }

  /** Estimated probability that a prediction in `bin` with this confidence is wrong. */
  errorRate(bin: number, confidence: number): number {
    const prior = Math.min(1, Math.max(0, 1 - confidence));
    const { errors, n } = this.state;
    return (errors[bin] + this.priorWeight * prior) / (n[bin] + this.priorWeight);
  }

  /** Records whether a local answer in `bin` was right. */
  record(bin: number, correct: boolean): void {
    this.checkBin(bin);
    const { errors, n } = this.state;
    n[bin] = n[bin] * this.decay + 1;
    errors[bin] = errors[bin] * this.decay + (correct ? 0 : 1);
  }

  /** Estimated probability that the upstream is wrong on inputs of `bin`, given its overall rate. */
  upstreamErrorRate(bin: number, overall: number): number {
    const { upErrors, upN } = this.state;
    return (upErrors[bin] + this.priorWeight * overall) / (upN[bin] + this.priorWeight);
  }

  /** Records whether the upstream's answer to a forwarded request in `bin` was right. */
  recordUpstream(bin: number, correct: boolean): void {
    this.checkBin(bin);
    const { upErrors, upN } = this.state;
    upN[bin] = upN[bin] * this.decay + 1;
    upErrors[bin] = upErrors[bin] * this.decay + (correct ? 0 : 1);
  }

  private checkBin(bin: number): void {
    check(
      Number.isInteger(bin) && bin >= 0 && bin < this.state.n.length,
      () => `calibration bin: expected an integer in [0, ${this.state.n.length}), got ${bin}`,
    );
  }

  /** Observations (decayed) per bin, for reports. */
  counts(): Float64Array {
    return this.state.n.slice();
  }
}
