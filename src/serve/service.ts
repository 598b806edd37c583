/**
 * The service behind the HTTP app, independent of HTTP: predictions (admission control, micro-
 * batching, prediction ids), feedback, memory information, readiness, and the events metrics and
 * the dashboard listen to. Two kinds share this base: an edge node (edge-service.ts) and a plain
 * model server, the cloud tier (model-service.ts).
 */
import { fail } from "../core/errors.js";
import { checkVector } from "../core/vectors.js";
import { AdmissionGate, MicroBatcher, type MicroBatcherOptions } from "./batcher.js";
import type { FeedbackBody, FeedbackOut, MemoryInfo, PredictionOut } from "./schemas.js";
import { type ServedBy, Timeline } from "./timeline.js";

export interface ServiceLimits {
  /** Inputs in one predict request. Default 256. */
  maxBatch: number;
  /** Bytes in one request body. Default 4 MiB. */
  maxBodyBytes: number;
  /** Inputs admitted and not yet answered, beyond which requests get 503. Default 1024. */
  maxQueue: number;
}

export const DEFAULT_LIMITS: ServiceLimits = { maxBatch: 256, maxBodyBytes: 4 << 20, maxQueue: 1024 };

export interface BatchingOptions {
  enabled: boolean;
  /** Latency objective of a batch's oldest request (ms). Default 2. */
  objectiveMs?: number;
  /** Largest batch in inputs. Default 64. */
  maxBatch?: number;
}

export interface ServiceInfo {
  kind: "edge" | "model";
  model: string;
  inputDim: number;
  numClasses: number;
  /** The emulated delay's mean (a model server with --delay), for the nodes that forward to it. */
  expectedLatencyMs?: number;
  memory?: { capacity: number; index: string; admission: string; rule: string; durable: boolean };
}

/** Hooks for metrics and the dashboard. */
export interface ServiceObserver {
  prediction?(servedBy: ServedBy, ms: number): void;
  feedback?(correct: boolean | null, admitted: boolean): void;
  upstreamFailure?(reason: "error" | "circuit-open"): void;
  batch?(inputs: number): void;
}

/** Numbers a metrics scrape reads. */
export interface ServiceGauges {
  queue: number;
  batchLimit: number;
  memorySize?: number;
  memoryCapacity?: number;
  admissions?: number;
  evictions?: number;
  feedbackCount?: number;
  /** 0 closed, 1 half-open, 2 open. */
  circuitState?: number;
  upstreamErrors?: number;
  commits?: number;
}

export interface PredictOptions {
  probabilities: boolean;
}

/** One predict request waiting for (or in) a batch. */
export interface PredictJob {
  rows: Float32Array;
  n: number;
  probabilities: boolean;
  resolve(out: PredictionOut[]): void;
  reject(e: unknown): void;
}

/** Prediction ids: epoch * 2^32 + sequence, so ids of different runs of a durable node never collide. */
export class IdAllocator {
  private seq = 0;
  constructor(private readonly epoch: number) {}
  next(): number {
    if (this.seq >= 2 ** 32)
      fail("STATE", "prediction ids of this run are exhausted (2^32); restart the node");
    return this.epoch * 2 ** 32 + this.seq++;
  }
}

export abstract class ServingService {
  abstract readonly info: ServiceInfo;
  readonly limits: ServiceLimits;
  readonly timeline: Timeline;
  readonly observers: ServiceObserver[] = [];
  protected readonly gate: AdmissionGate;
  readonly batcher: MicroBatcher<PredictJob>;
  protected readonly ids: IdAllocator;
  protected closing = false;

  constructor(o: { limits?: Partial<ServiceLimits>; batching?: BatchingOptions; epoch?: number }) {
    this.limits = { ...DEFAULT_LIMITS, ...o.limits };
    this.gate = new AdmissionGate(this.limits.maxQueue);
    const b = o.batching ?? { enabled: false };
    const batcherOptions: MicroBatcherOptions = {
      enabled: b.enabled,
      objectiveMs: b.objectiveMs ?? 2,
      maxBatch: b.maxBatch ?? 64,
    };
    this.batcher = new MicroBatcher((jobs) => {
      let inputs = 0;
      for (const j of jobs) inputs += j.n;
      for (const ob of this.observers) ob.batch?.(inputs);
      this.runBatch(jobs);
    }, batcherOptions);
    this.ids = new IdAllocator(o.epoch ?? 0);
    this.timeline = new Timeline(() => this.occupancy());
    this.observers.push(this.timeline);
  }

  /** Predicts `n` row-major inputs. Every row is checked before anything runs. */
  predict(rows: Float32Array, n: number, o: PredictOptions): Promise<PredictionOut[]> {
    const d = this.info.inputDim;
    if (rows.length !== n * d)
      fail("DIMENSION_MISMATCH", `inputs: expected ${n} x ${d} = ${n * d} values, got ${rows.length}`);
    for (let i = 0; i < n; i++)
      checkVector(rows.subarray(i * d, (i + 1) * d), d, n === 1 ? "input" : `inputs[${i}]`);
    if (this.closing) fail("OVERLOADED", "the service is shutting down");
    this.gate.admit(n);
    return new Promise<PredictionOut[]>((resolve, reject) => {
      const release = () => this.gate.release(n);
      const job: PredictJob = {
        rows,
        n,
        probabilities: o.probabilities,
        resolve: (out) => {
          release();
          resolve(out);
        },
        reject: (e) => {
          release();
          reject(e);
        },
      };
      try {
        this.batcher.submit(job, n);
      } catch (e) {
        job.reject(e);
      }
    });
  }

  abstract feedback(body: FeedbackBody): Promise<FeedbackOut>;
  abstract memoryInfo(): Promise<MemoryInfo>;
  abstract gauges(): ServiceGauges;

  /** Ready to take traffic (false while shutting down or after the store failed). */
  readiness(): { ready: boolean; reason?: string } {
    return this.closing ? { ready: false, reason: "shutting down" } : { ready: true };
  }

  /** Inputs admitted and not yet answered. */
  get inFlight(): number {
    return this.gate.pending;
  }

  /** Stops admitting, waits until in-flight requests are answered (at most `timeoutMs`), closes. */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    const until = performance.now() + timeoutMs;
    while (this.gate.pending > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
    await this.shutdown();
  }

  protected abstract runBatch(jobs: PredictJob[]): void;
  protected abstract occupancy(): { size: number; capacity: number };
  protected shutdown(): void | Promise<void> {}

  protected emitPrediction(servedBy: ServedBy, ms: number): void {
    for (const o of this.observers) o.prediction?.(servedBy, ms);
  }
}
