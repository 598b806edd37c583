/**
 * An edge node as a service: predictions go through {@link EdgeNode.request} (local answer or
 * forward), feedback through {@link EdgeNode.feedback}, and every answer that follows a change the
 * node must not forget waits for the durable commit (durability.ts).
 *
 * When the upstream cannot answer (error after retries, or its circuit is open) the node answers
 * with its own prediction and says so (`upstream.status`). Such a request is remembered here, not
 * in the node's feedback ring: feedback on it teaches the local model and the memory like any
 * feedback, but is not counted against the upstream, which never answered.
 */
import type { Prediction } from "../augment/memory-augmented-model.js";
import { fail } from "../core/errors.js";
import { checkVector } from "../core/vectors.js";
import type { EdgeNode } from "../edge/edge-node.js";
import type { HttpUpstream } from "../edge/http-upstream.js";
import type { Durability } from "./durability.js";
import type { MemoryJournal } from "./journal.js";
import type { FeedbackBody, FeedbackOut, MemoryInfo, PredictionOut } from "./schemas.js";
import {
  type BatchingOptions,
  type PredictJob,
  type ServiceGauges,
  type ServiceInfo,
  type ServiceLimits,
  ServingService,
} from "./service.js";

export interface EdgeServiceOptions {
  node: EdgeNode;
  journal: MemoryJournal;
  durability: Durability;
  limits?: Partial<ServiceLimits>;
  batching?: BatchingOptions;
  /** Start of this run's prediction ids (durability's epoch). */
  epoch?: number;
}

const CIRCUIT_CODE = { closed: 0, "half-open": 1, open: 2 } as const;

export class EdgeService extends ServingService {
  readonly info: ServiceInfo;
  readonly node: EdgeNode;
  readonly journal: MemoryJournal;
  readonly durability: Durability;
  private readonly scratch: Prediction;

  constructor(o: EdgeServiceOptions) {
    super(o);
    this.node = o.node;
    this.journal = o.journal;
    this.durability = o.durability;
    this.scratch = o.node.local.createPrediction();
    const local = o.node.local;
    const memory = local.memory;
    this.info = {
      kind: "edge",
      model: local.model.spec,
      inputDim: local.model.inputDim,
      numClasses: local.numClasses,
      memory: {
        capacity: memory.capacityItems,
        index: memory.index.spec,
        admission: memory.policy.spec,
        rule: local.rule.spec,
        durable: o.durability.persistent,
      },
    };
  }

  protected runBatch(jobs: PredictJob[]): void {
    for (const job of jobs) this.runJob(job).then(job.resolve, job.reject);
  }

  private async runJob(job: PredictJob): Promise<PredictionOut[]> {
    const d = this.info.inputDim;
    // Every row starts now (their local parts run in order); forwarded ones finish later.
    const rows: Promise<PredictionOut>[] = [];
    for (let i = 0; i < job.n; i++)
      rows.push(this.row(job.rows.subarray(i * d, (i + 1) * d), job.probabilities));
    const out = await Promise.all(rows);
    await this.durability.whenDurable();
    return out;
  }

  private async row(x: Float32Array, probabilities: boolean): Promise<PredictionOut> {
    const id = this.ids.next();
    const r = await this.node.request(x, id);
    // An upstream that could not answer: the node answered locally and says why.
    const failed = r.upstreamError;
    if (failed) for (const o of this.observers) o.upstreamFailure?.(failed.reason);
    const servedBy = r.servedLocally ? "local" : "upstream";
    this.emitPrediction(failed ? "fallback" : servedBy, r.latencyMs);
    return {
      id,
      label: r.label,
      confidence: r.proba[r.label],
      servedBy,
      ...(failed
        ? { upstream: { status: failed.reason, error: failed.message } }
        : r.servedLocally
          ? {}
          : { upstream: { status: "ok" as const } }),
      latencyMs: r.latencyMs,
      ...(probabilities ? { probabilities: Array.from(r.proba) } : {}),
    };
  }

  async feedback(body: FeedbackBody): Promise<FeedbackOut> {
    if (this.closing) fail("OVERLOADED", "the service is shutting down");
    this.gate.admit(1);
    try {
      // A labeled input is predicted, then learned from: one search of the memory for both.
      const { correct, admitted } = this.node.local.memory.reusingSearches(() => this.learn(body));
      this.durability.recordFeedback({
        requestId: body.id ?? null,
        label: body.label,
        correct,
        admitted,
        at: Date.now(),
      });
      for (const o of this.observers) o.feedback?.(correct, admitted);
      await this.durability.whenDurable();
      return { correct, admitted, feedbackCount: this.durability.feedbackCount };
    } finally {
      this.gate.release(1);
    }
  }

  /** Applies one feedback (nothing changes when it is rejected). */
  private learn(body: FeedbackBody): { correct: boolean | null; admitted: boolean } {
    const local = this.node.local;
    if (body.id !== undefined) return this.node.feedback(body.id, body.label);
    const x = Float32Array.from(body.input!);
    checkVector(x, this.info.inputDim, "input");
    const p = local.predict(x, this.scratch);
    local.learn(p.key, p.modelProba, body.label, 1);
    const r = local.offer(p.key, p.modelProba, body.label, "feedback", false);
    return { correct: null, admitted: r.admitted };
  }

  async memoryInfo(): Promise<MemoryInfo> {
    const m = this.node.local.memory;
    return {
      size: m.size,
      capacity: m.capacityItems,
      bytes: m.bytes,
      index: m.index.spec,
      admission: m.policy.spec,
      feedbackCount: this.durability.feedbackCount,
      digest: await this.journal.digest(),
    };
  }

  override readiness(): { ready: boolean; reason?: string } {
    const base = super.readiness();
    if (!base.ready) return base;
    // A store that failed turns every change away: the node stops taking traffic.
    if (this.durability.failed)
      return { ready: false, reason: `durable store failed: ${this.durability.failed}` };
    return base;
  }

  gauges(): ServiceGauges {
    const m = this.node.local.memory;
    const up = this.node.upstream as Partial<HttpUpstream>;
    return {
      queue: this.gate.pending,
      batchLimit: this.batcher.limit,
      memorySize: m.size,
      memoryCapacity: m.capacityItems,
      admissions: m.stats.admissions,
      evictions: m.stats.evictions + m.stats.drops,
      feedbackCount: this.durability.feedbackCount,
      circuitState: up.breaker ? CIRCUIT_CODE[up.breaker.state] : undefined,
      upstreamErrors: up.errors,
      commits: this.durability.commits,
    };
  }

  protected occupancy(): { size: number; capacity: number } {
    const m = this.node.local.memory;
    return { size: m.size, capacity: m.capacityItems };
  }

  protected override shutdown(): Promise<void> {
    return this.durability.close();
  }
}
