/**
 * What the dashboard plots: one sample per wall-clock second over the last few minutes (requests,
 * how they were served, feedback and whether the answers were right, latency percentiles of the
 * second, memory occupancy at its end). Recording is O(1) on the hot path; a second is summarised
 * when the next one starts or when the series is read.
 */
import { Histogram } from "../edge/histogram.js";

export type ServedBy = "local" | "upstream" | "fallback" | "model";

export interface TimelineSeries {
  /** Unix seconds at the start of each sample. */
  t: number[];
  rps: number[];
  /** Share of the second's predictions answered by the node itself (fallbacks included); null if none. */
  localFraction: (number | null)[];
  /** Accuracy of the answers that got feedback over the last 30 seconds; null before any. */
  feedbackAccuracy: (number | null)[];
  p50: (number | null)[];
  p99: (number | null)[];
  memorySize: number[];
  memoryCapacity: number[];
}

interface Second {
  t: number;
  requests: number;
  local: number;
  feedback: number;
  correct: number;
  latency: Histogram;
  memorySize: number;
  memoryCapacity: number;
}

const ACCURACY_WINDOW = 30;

export class Timeline {
  private readonly samples: Second[] = [];
  private current: Second | null = null;

  constructor(
    private readonly memory: () => { size: number; capacity: number },
    private readonly seconds = 300,
    private readonly clock: () => number = () => Date.now(),
  ) {}

  prediction(servedBy: ServedBy, ms: number): void {
    const s = this.second();
    s.requests++;
    if (servedBy === "local" || servedBy === "fallback") s.local++;
    s.latency.record(Math.max(0, ms));
  }

  /** `correct` is null for a labeled example that answered no earlier request. */
  feedback(correct: boolean | null): void {
    if (correct === null) return;
    const s = this.second();
    s.feedback++;
    if (correct) s.correct++;
  }

  series(): TimelineSeries {
    this.second();
    const all = this.current ? [...this.samples, this.current] : this.samples;
    const out: TimelineSeries = {
      t: [],
      rps: [],
      localFraction: [],
      feedbackAccuracy: [],
      p50: [],
      p99: [],
      memorySize: [],
      memoryCapacity: [],
    };
    const live = this.memory();
    for (let i = 0; i < all.length; i++) {
      const s = all[i];
      const last = i === all.length - 1;
      let fb = 0;
      let ok = 0;
      for (let j = Math.max(0, i - ACCURACY_WINDOW + 1); j <= i; j++) {
        fb += all[j].feedback;
        ok += all[j].correct;
      }
      out.t.push(s.t);
      out.rps.push(s.requests);
      out.localFraction.push(s.requests > 0 ? s.local / s.requests : null);
      out.feedbackAccuracy.push(fb > 0 ? ok / fb : null);
      out.p50.push(s.latency.count > 0 ? s.latency.quantile(0.5) : null);
      out.p99.push(s.latency.count > 0 ? s.latency.quantile(0.99) : null);
      out.memorySize.push(last ? live.size : s.memorySize);
      out.memoryCapacity.push(last ? live.capacity : s.memoryCapacity);
    }
    return out;
  }

  /** The sample of the current second, closing the previous one (and filling silent seconds). */
  private second(): Second {
    const t = Math.floor(this.clock() / 1000);
    const cur = this.current;
    if (cur && cur.t === t) return cur;
    if (cur) {
      const m = this.memory();
      cur.memorySize = m.size;
      cur.memoryCapacity = m.capacity;
      this.samples.push(cur);
      // Seconds without any request still get a sample, so the charts' time axis has no holes.
      for (let s = cur.t + 1; s < t && t - s < this.seconds; s++) this.samples.push(this.empty(s, m));
      if (this.samples.length > this.seconds) this.samples.splice(0, this.samples.length - this.seconds);
    }
    this.current = this.empty(t, { size: 0, capacity: 0 });
    return this.current;
  }

  private empty(t: number, m: { size: number; capacity: number }): Second {
    return {
      t,
      requests: 0,
      local: 0,
      feedback: 0,
      correct: 0,
      // A coarse histogram (2% buckets, 1 us to 100 s) is plenty for a chart and costs 7 KB a second.
      latency: new Histogram({ lowest: 1e-3, highest: 1e5, relativeError: 0.02 }),
      memorySize: m.size,
      memoryCapacity: m.capacity,
    };
  }
}
