/**
 * A latency histogram with HDR-like logarithmic buckets: bucket b holds values in
 * [min * g^b, min * g^(b+1)) with g = 1 + relativeError, so any quantile is reported within
 * `relativeError` of an exact order statistic (values are clamped to [lowest, highest]). Constant
 * memory and O(1) recording, so it can sit on an edge node's hot path; count, sum, min and max
 * are exact.
 */
import { check } from "../core/errors.js";

export interface HistogramOptions {
  /** Smallest distinguishable value (smaller values, and 0, fall in the first bucket). Default 1e-4. */
  lowest?: number;
  /** Largest value kept exactly (larger ones are clamped into the last bucket). Default 1e7. */
  highest?: number;
  /** Relative width of a bucket: quantiles are exact within this factor. Default 0.01. */
  relativeError?: number;
}

export interface HistogramSummary {
  count: number;
  mean: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export class Histogram {
  readonly lowest: number;
  readonly highest: number;
  readonly relativeError: number;
  private readonly counts: Float64Array;
  private readonly logG: number;
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(o: HistogramOptions = {}) {
    this.lowest = o.lowest ?? 1e-4;
    this.highest = o.highest ?? 1e7;
    this.relativeError = o.relativeError ?? 0.01;
    check(
      this.lowest > 0 && this.highest > this.lowest,
      () => `histogram range: expected 0 < lowest < highest, got [${this.lowest}, ${this.highest}]`,
    );
    check(
      this.relativeError > 0 && this.relativeError < 1,
      () => `relativeError: expected in (0, 1), got ${this.relativeError}`,
    );
    this.logG = Math.log1p(this.relativeError);
    this.counts = new Float64Array(Math.ceil(Math.log(this.highest / this.lowest) / this.logG) + 1);
  }

  /** Records one value (finite and >= 0; otherwise INVALID_ARGUMENT). */
  record(v: number): void {
    check(Number.isFinite(v) && v >= 0, () => `histogram value: expected a finite number >= 0, got ${v}`);
    this.counts[this.bucketOf(v)]++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  get mean(): number {
    return this.count > 0 ? this.sum / this.count : Number.NaN;
  }

  /**
   * The q-quantile (q in [0, 1]) as the nearest-rank order statistic x_(ceil(q n)), within the
   * relative error (the bucket's geometric middle, clamped to the exact min and max). NaN when empty.
   */
  quantile(q: number): number {
    check(q >= 0 && q <= 1, () => `quantile: expected q in [0, 1], got ${q}`);
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b];
      if (seen >= rank) {
        const mid = this.lowest * Math.exp((b + 0.5) * this.logG);
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  summary(): HistogramSummary {
    return {
      count: this.count,
      mean: this.mean,
      min: this.count ? this.min : Number.NaN,
      max: this.count ? this.max : Number.NaN,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
    };
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  private bucketOf(v: number): number {
    if (v <= this.lowest) return 0;
    const b = Math.floor(Math.log(v / this.lowest) / this.logG);
    return Math.min(this.counts.length - 1, b);
  }
}
