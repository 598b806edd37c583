/**
 * A plain model server (the cloud tier): no memory, no feedback; a batch of requests is one
 * matrix-matrix forward pass. With a delay distribution it emulates a wide-area round trip: each
 * request's answer is held for a seeded draw (e.g. lognormal:median=20,sigma=0.5 ms), so that an
 * edge node forwarding to it pays a realistic, measured latency.
 */
import { fail } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { type LatencyDistribution, parseLatency } from "../edge/upstream.js";
import type { Model } from "../models/types.js";
import type { FeedbackOut, MemoryInfo, PredictionOut } from "./schemas.js";
import {
  type BatchingOptions,
  type PredictJob,
  type ServiceGauges,
  type ServiceInfo,
  type ServiceLimits,
  ServingService,
} from "./service.js";

export interface ModelServiceOptions {
  model: Model;
  /** Emulated round trip, a latency spec ("constant:ms=20", "lognormal:median=20,sigma=0.5"). */
  delay?: string;
  seed?: number;
  limits?: Partial<ServiceLimits>;
  batching?: BatchingOptions;
}

export class ModelService extends ServingService {
  readonly info: ServiceInfo;
  readonly model: Model;
  readonly delay: LatencyDistribution | null;
  private readonly rng: Rng;

  constructor(o: ModelServiceOptions) {
    super(o);
    this.model = o.model;
    this.delay = o.delay ? parseLatency(o.delay) : null;
    this.rng = new Rng(o.seed ?? 1);
    this.info = {
      kind: "model",
      model: o.model.spec,
      inputDim: o.model.inputDim,
      numClasses: o.model.numClasses,
      ...(this.delay ? { expectedLatencyMs: this.delay.mean } : {}),
    };
  }

  protected runBatch(jobs: PredictJob[]): void {
    const d = this.info.inputDim;
    const c = this.info.numClasses;
    let total = 0;
    for (const j of jobs) total += j.n;
    let rows: Float32Array;
    if (jobs.length === 1) rows = jobs[0].rows;
    else {
      rows = new Float32Array(total * d);
      let at = 0;
      for (const j of jobs) {
        rows.set(j.rows, at);
        at += j.rows.length;
      }
    }
    const t0 = performance.now();
    let proba: Float32Array;
    try {
      proba = this.model.predictProbaBatch(rows, total);
    } catch (e) {
      for (const j of jobs) j.reject(e);
      return;
    }
    const perInput = (performance.now() - t0) / total;
    let at = 0;
    for (const job of jobs) {
      const out: PredictionOut[] = [];
      for (let i = 0; i < job.n; i++, at++) {
        const p = proba.subarray(at * c, (at + 1) * c);
        let label = 0;
        for (let y = 1; y < c; y++) if (p[y] > p[label]) label = y;
        out.push({
          id: this.ids.next(),
          label,
          confidence: p[label],
          servedBy: "model",
          latencyMs: perInput,
          ...(job.probabilities ? { probabilities: Array.from(p) } : {}),
        });
        this.emitPrediction("model", perInput);
      }
      const wait = this.delay ? this.delay.sample(this.rng) : 0;
      if (wait > 0) setTimeout(() => job.resolve(out), wait);
      else job.resolve(out);
    }
  }

  async feedback(): Promise<FeedbackOut> {
    return fail(
      "UNSUPPORTED",
      "this node is a plain model server (no memory); feedback needs an edge node (--capacity)",
    );
  }

  async memoryInfo(): Promise<MemoryInfo> {
    return fail(
      "UNSUPPORTED",
      "this node is a plain model server (no memory); start it with --capacity for one",
    );
  }

  gauges(): ServiceGauges {
    return { queue: this.gate.pending, batchLimit: this.batcher.limit };
  }

  protected occupancy(): { size: number; capacity: number } {
    return { size: 0, capacity: 0 };
  }
}
