/**
 * The edge node as the page runs it, on the user's device: a small model, a labeled memory of the
 * user's corrections (flat exact index, LRU beyond its capacity) and the serve-or-forward decision
 * of MemoryAugmentedModel, plus an optional upstream (a `mammals serve` node) to forward to.
 *
 * It drives the MemoryAugmentedModel directly rather than through EdgeNode because the page shows
 * what EdgeNode's answer leaves out: the neighbours that voted, the memory's weight and whether the
 * memory or the model decided. The protocol is EdgeNode's: predict -> (forward if the decision
 * says so, record the upstream's latency, offer its answer) -> feedback(record, label).
 *
 * It also keeps, for every stored memory entry, the raw image it came from (entry id -> example):
 * the page shows them as thumbnails, persists them, exports them, and rebuilds the memory from them
 * when the model changes ({@link DeviceNode.restore}), since stored keys are embeddings of the model.
 */
import {
  type DecisionRecord,
  MemoryAugmentedModel,
  type Prediction,
} from "../../augment/memory-augmented-model.js";
import { fail } from "../../core/errors.js";
import type { Upstream } from "../../edge/upstream.js";
import { createIndex } from "../../index/factory.js";
import { LabeledMemory } from "../../memory/labeled-memory.js";
import type { Model } from "../../models/types.js";
import type { StoredExample } from "./memory-file.js";
import { toBytes } from "./preprocess.js";
import { createProximityRule, type ProximityRule, similarityRadius } from "./proximity-rule.js";

export interface DeviceNodeOptions {
  model: Model;
  /** Labeled examples (row-major inputs) on which the similarity radius is measured. */
  reference: { x: Float32Array; labels: ArrayLike<number>; n: number };
  /** The similarity radius, when already known for this model (skips measuring it). */
  radius?: number;
  /** Told the radius once it is measured (e.g. to keep it with the model). */
  onRadius?: (radius: number) => void;
  /** Memory capacity in entries. Default 512. */
  capacity?: number;
  /** Neighbours retrieved. Default 4. */
  k?: number;
  /** Where to forward when the local answer is not worth its expected cost. */
  upstream?: Upstream;
  /** Cost of 1 ms of upstream latency, in wrong answers. Default 0.002 (100 ms ~ a fifth of an error). */
  latencyWeight?: number;
  /** Clock in ms (default performance.now). */
  now?: () => number;
}

export type Decider = "memory" | "model" | "upstream";

export interface NeighbourView {
  entryId: number;
  label: number;
  /** Squared distance in the model's embedding space. */
  distance: number;
  /** The stored image (undefined only if the entry's image is unknown). */
  pixels?: Uint8Array;
}

export interface DeviceAnswer {
  id: number;
  label: number;
  confidence: number;
  proba: Float32Array;
  /** The small model's own label, before the memory's vote. */
  modelLabel: number;
  decidedBy: Decider;
  /** Weight of the memory's vote (0: the model alone). */
  lambda: number;
  servedLocally: boolean;
  /** Local compute: model + memory search + decision. */
  localMs: number;
  /** End to end, with the upstream's round trip when forwarded. */
  latencyMs: number;
  expectedCost: number;
  forwardCost: number;
  neighbours: NeighbourView[];
  /** Set when the decision said forward but the upstream failed (the local answer is shown). */
  upstreamError?: string;
}

export interface CorrectionResult {
  admitted: boolean;
  /** Entries added by this correction (normally the corrected example). */
  added: number[];
  /** Entries that left the memory (evicted, or a stored upstream answer contradicted). */
  removed: number[];
}

interface Decision {
  record: DecisionRecord;
  pixels: Uint8Array;
}

/** How many recent answers can still be corrected. */
const RECENT = 64;

export class DeviceNode {
  readonly local: MemoryAugmentedModel;
  readonly model: Model;
  readonly upstream?: Upstream;
  /** Memory entry id -> the image and label it was made from. */
  readonly examples = new Map<number, StoredExample>();
  private readonly pred: Prediction;
  private readonly rule: ProximityRule;
  private readonly recent = new Map<number, Decision>();
  private readonly now: () => number;
  private nextId = 0;

  constructor(o: DeviceNodeOptions) {
    this.model = o.model;
    this.upstream = o.upstream;
    this.now = o.now ?? (() => performance.now());
    const ref = o.reference;
    const radius =
      o.radius ??
      (() => {
        const r = similarityRadius(o.model, ref.x, ref.labels, ref.n);
        o.onRadius?.(r);
        return r;
      });
    const memory = new LabeledMemory({
      index: createIndex("flat", o.model.embedDim),
      numClasses: o.model.numClasses,
      capacityItems: o.capacity ?? 512,
      // Every correction the user makes is kept; the least recently useful one leaves when full.
      admission: "all:evict=lru",
    });
    this.rule = createProximityRule({ k: o.k ?? 4, radius, maxLambda: 0.95 });
    this.local = new MemoryAugmentedModel({
      model: o.model,
      memory,
      rule: this.rule,
      // Raw squared distances: the rule's radius is in the embedding's own units.
      normalizeDistances: false,
      forward: o.upstream
        ? { latencyWeight: o.latencyWeight ?? 0.002, upstreamLatencyMs: o.upstream.expectedLatencyMs ?? 50 }
        : undefined,
    });
    this.pred = this.local.createPrediction();
  }

  get size(): number {
    return this.local.memory.size;
  }

  /**
   * The local side alone, synchronously (the hot path whose latency the page reports): model,
   * memory search and the decision, with the answer as the page shows it. Does not forward.
   */
  predictLocal(x: Float32Array): DeviceAnswer {
    this.radiusIfNeeded();
    const t0 = this.now();
    const p = this.local.predict(x, this.pred);
    const localMs = this.now() - t0;
    const id = this.nextId++;
    this.recent.set(id, {
      record: {
        key: p.key.slice(),
        modelProba: p.modelProba.slice(),
        bin: p.bin,
        localLabel: p.label,
        forwarded: false,
        upstreamLabel: -1,
        entryId: -1,
      },
      pixels: toBytes(x),
    });
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value as number);
    let modelLabel = 0;
    for (let y = 1; y < p.modelProba.length; y++)
      if (p.modelProba[y] > p.modelProba[modelLabel]) modelLabel = y;
    const neighbours: NeighbourView[] = [];
    for (let i = 0; i < p.neighbours.count; i++) {
      const entryId = p.neighbours.ids[i];
      neighbours.push({
        entryId,
        label: p.neighbours.labels[i],
        distance: p.neighbours.distances[i],
        pixels: this.examples.get(entryId)?.pixels,
      });
    }
    // The memory decided when its vote changed the answer, or outweighed the model's.
    const byMemory = p.retrieved && p.lambda > 0 && (p.label !== modelLabel || p.lambda >= 0.5);
    return {
      id,
      label: p.label,
      confidence: p.confidence,
      proba: p.proba.slice(),
      modelLabel,
      decidedBy: byMemory ? "memory" : "model",
      lambda: p.lambda,
      servedLocally: p.serveLocally,
      localMs,
      latencyMs: localMs,
      expectedCost: p.expectedCost,
      forwardCost: p.forwardCost,
      neighbours,
    };
  }

  /** predictLocal, then the upstream when the decision says forward (and one is set). */
  async predict(x: Float32Array): Promise<DeviceAnswer> {
    const a = this.predictLocal(x);
    if (a.servedLocally || !this.upstream) return a;
    const d = this.recent.get(a.id)!;
    try {
      const u = await this.upstream.predict(x);
      this.local.recordUpstreamLatency(u.latencyMs);
      d.record.forwarded = true;
      d.record.upstreamLabel = u.label;
      // Like EdgeNode: the upstream's answer is offered to the memory (a label of lower trust).
      const r = this.local.offer(d.record.key, d.record.modelProba, u.label, "upstream", true);
      if (r.admitted) {
        d.record.entryId = r.id;
        this.examples.set(r.id, { label: u.label, source: "upstream", pixels: d.pixels });
      }
      this.forget(r.removed);
      return {
        ...a,
        label: u.label,
        proba: u.proba,
        confidence: Math.max(...u.proba),
        decidedBy: "upstream",
        latencyMs: a.localMs + u.latencyMs,
      };
    } catch (e) {
      return { ...a, upstreamError: (e as Error).message };
    }
  }

  /**
   * "Wrong? The right answer is `label`": the correction goes into the memory at once (no
   * retraining), and the rule's and calibration's estimates are updated as for any feedback.
   */
  correct(id: number, label: number): CorrectionResult {
    const d = this.recent.get(id);
    if (!d)
      fail("UNKNOWN_ID", `correction for answer ${id}: only the last ${RECENT} answers can be corrected`);
    const mem = this.local.memory;
    this.radiusIfNeeded();
    const before = new Set(mem.ids());
    const outcome = this.local.feedback(d.record, label);
    this.recent.delete(id);
    const added = mem.ids().filter((e) => !before.has(e));
    for (const e of added) this.examples.set(e, { label, source: "feedback", pixels: d.pixels });
    const removed = [...this.examples.keys()].filter((e) => !mem.has(e));
    this.forget(removed);
    return { admitted: outcome.admitted, added, removed };
  }

  /**
   * Rebuilds the memory from stored examples (after a reload, an import, or a model change): each
   * image goes through the current model and is offered with its label. Returns how many are stored.
   */
  restore(examples: readonly StoredExample[]): number {
    const x = new Float32Array(this.model.inputDim);
    for (const ex of examples) {
      if (ex.pixels.length !== this.model.inputDim)
        fail(
          "BAD_FILE",
          `stored example of ${ex.pixels.length} pixels; the model takes ${this.model.inputDim}`,
        );
      for (let i = 0; i < x.length; i++) x[i] = ex.pixels[i] / 255;
      this.radiusIfNeeded();
      const p = this.local.predict(x, this.pred);
      const r = this.local.offer(p.key, p.modelProba, ex.label, ex.source, ex.source === "upstream");
      if (r.admitted) this.examples.set(r.id, ex);
      this.forget(r.removed);
    }
    return this.size;
  }

  /** The stored examples, oldest entry first (what is persisted and exported). */
  storedExamples(): StoredExample[] {
    return [...this.examples.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
  }

  /** The radius is measured lazily, the first time a non-empty memory is searched (proximity-rule.ts). */
  private radiusIfNeeded(): void {
    if (this.local.memory.size > 0) this.rule.resolveRadius();
  }

  private forget(ids: number[]): void {
    for (const e of ids) this.examples.delete(e);
  }
}
