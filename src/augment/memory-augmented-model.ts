/**
 * A small Model plus a LabeledMemory plus a combination rule. `predict(x)` runs the model once
 * (embedding and probabilities share the forward pass), searches the memory by the key, mixes the
 * two distributions and reports the answer with its confidence and expected cost:
 *   confidence = max_y p(y),   expectedCost = (1 - confidence) * errorCost   (P(error) * cost of an error).
 * Every buffer of the hot path is preallocated: pass the same `out` Prediction to predict() and the
 * only allocation left is the index's search result.
 */
import { check } from "../core/errors.js";
import { checkVector } from "../core/vectors.js";
import {
  createLabeledNeighbours,
  type ExampleSource,
  type LabeledMemory,
  type LabeledNeighbours,
  type OfferResult,
} from "../memory/labeled-memory.js";
import type { Model } from "../models/types.js";
import { type CombinationRule, createCombinationRule, knnDistribution } from "./combine.js";
import type { InputKey } from "./keys.js";

export interface Prediction {
  /** The combined distribution. */
  proba: Float32Array;
  label: number;
  /** max_y proba[y]. */
  confidence: number;
  /** (1 - confidence) * errorCost. */
  expectedCost: number;
  /** Weight given to p_knn (0 when the memory was not searched or returned nothing usable). */
  lambda: number;
  retrieved: boolean;
  modelProba: Float32Array;
  /** Valid when `retrieved`. */
  knnProba: Float32Array;
  /** The memory key of the input. */
  key: Float32Array;
  neighbours: LabeledNeighbours;
}

export interface MemoryAugmentedModelOptions {
  model: Model;
  memory: LabeledMemory;
  /** A rule or its spec, e.g. "interpolate:lambda=0.25,T=1,k=8" (default "adaptive"). */
  rule?: CombinationRule | string;
  /** Cost of a wrong answer (the unit of expected cost). Default 1. */
  errorCost?: number;
  /** "embedding" (default) or a key computed from the raw input (keys.ts). */
  key?: "embedding" | InputKey;
  /** Seed for the rule's initial jitter when `rule` is a spec string. */
  seed?: number;
  /**
   * Divide neighbour distances by a running mean of the nearest-neighbour distance before the rule
   * sees them, so temperatures and distance features mean the same whatever the key's scale (an
   * MLP embedding's squared distances are in the tens, raw pixels' in the hundreds). Default true.
   */
  normalizeDistances?: boolean;
}

export class MemoryAugmentedModel {
  readonly model: Model;
  readonly memory: LabeledMemory;
  readonly rule: CombinationRule;
  readonly errorCost: number;
  readonly keyDim: number;
  readonly numClasses: number;
  private readonly inputKey: InputKey | null;
  private readonly scratch: Prediction;
  readonly normalizeDistances: boolean;
  /** Running mean of the nearest neighbour's distance over real requests (0 before the first). */
  distanceScale = 0;

  constructor(o: MemoryAugmentedModelOptions) {
    this.model = o.model;
    this.memory = o.memory;
    this.numClasses = o.model.numClasses;
    check(
      o.memory.numClasses === this.numClasses,
      () => `memory has ${o.memory.numClasses} classes, model ${this.numClasses}; expected the same`,
    );
    this.errorCost = o.errorCost ?? 1;
    check(
      Number.isFinite(this.errorCost) && this.errorCost > 0,
      () => `errorCost: expected > 0, got ${this.errorCost}`,
    );
    this.rule =
      typeof o.rule === "object"
        ? o.rule
        : createCombinationRule(o.rule ?? "adaptive", { numClasses: this.numClasses, seed: o.seed });
    this.inputKey = o.key === undefined || o.key === "embedding" ? null : o.key;
    this.keyDim = this.inputKey ? this.inputKey.dim : o.model.embedDim;
    check(
      o.memory.dim === this.keyDim,
      () => `memory keys have ${o.memory.dim} dimensions, the model's key ${this.keyDim}; expected the same`,
    );
    this.normalizeDistances = o.normalizeDistances ?? true;
    this.scratch = this.createPrediction();
  }

  /** Buffers for one prediction; reuse them across calls to keep the hot path allocation-free. */
  createPrediction(): Prediction {
    const c = this.numClasses;
    return {
      proba: new Float32Array(c),
      label: 0,
      confidence: 0,
      expectedCost: 0,
      lambda: 0,
      retrieved: false,
      modelProba: new Float32Array(c),
      knnProba: new Float32Array(c),
      key: new Float32Array(this.keyDim),
      neighbours: createLabeledNeighbours(Math.max(1, this.rule.k)),
    };
  }

  /** Predicts x (length model.inputDim, finite values; otherwise a MammalsError). */
  predict(x: Float32Array, out: Prediction = this.createPrediction()): Prediction {
    checkVector(x, this.model.inputDim, "input");
    if (this.inputKey) {
      this.model.predictProba(x, out.modelProba);
      this.inputKey.extract(x, out.key);
    } else {
      this.model.embedAndPredict(x, out.key, out.modelProba);
    }
    return this.combine(out, true);
  }

  /**
   * Re-predicts from a stored key and model distribution (no model call), against the memory as it
   * is now; used for offers and feedback. Does not count as a use of the neighbours.
   */
  predictFromParts(
    key: Float32Array,
    modelProba: Float32Array,
    out: Prediction = this.createPrediction(),
  ): Prediction {
    if (out.key !== key) out.key.set(key);
    if (out.modelProba !== modelProba) out.modelProba.set(modelProba);
    return this.combine(out, false);
  }

  /** Learns the rule online from a labeled example (before the example is offered to the memory). */
  learn(key: Float32Array, modelProba: Float32Array, label: number, weight = 1): void {
    const p = this.predictFromParts(key, modelProba, this.scratch);
    if (!p.retrieved) {
      // The rule may have skipped retrieval; learning needs p_knn, so search anyway.
      this.memory.search(p.key, this.rule.k, p.neighbours, false);
      this.normalize(p.neighbours, false);
      knnDistribution(p.neighbours, this.rule.temperature, p.knnProba);
    }
    this.rule.learn(p.modelProba, p.knnProba, p.neighbours, label, weight);
  }

  /**
   * Offers a labeled example (key + model distribution of its input) to the memory's admission
   * policy, with the current prediction for it.
   */
  offer(
    key: Float32Array,
    modelProba: Float32Array,
    label: number,
    source: ExampleSource,
    forwarded: boolean,
  ): OfferResult {
    check(
      Number.isInteger(label) && label >= 0 && label < this.numClasses,
      () => `label: expected an integer in [0, ${this.numClasses}), got ${label}`,
    );
    const p = this.predictFromParts(key, modelProba, this.scratch);
    if (!p.retrieved) {
      this.memory.search(p.key, this.rule.k, p.neighbours, false);
      this.normalize(p.neighbours, false);
    }
    return this.memory.offer({
      key: p.key,
      label,
      source,
      predictedLabel: p.label,
      confidence: p.confidence,
      neighbours: p.neighbours,
      forwarded,
    });
  }

  /** Rescales distances by the running nearest-distance mean (learned from real requests only). */
  private normalize(nb: LabeledNeighbours, learn: boolean): void {
    if (!this.normalizeDistances || nb.count === 0) return;
    const d1 = nb.distances[0];
    if (learn && Number.isFinite(d1) && d1 > 0)
      this.distanceScale = this.distanceScale === 0 ? d1 : 0.99 * this.distanceScale + 0.01 * d1;
    if (this.distanceScale > 0) for (let i = 0; i < nb.count; i++) nb.distances[i] /= this.distanceScale;
  }

  private combine(out: Prediction, touch: boolean): Prediction {
    const rule = this.rule;
    const proba = out.proba;
    const pm = out.modelProba;
    const c = this.numClasses;
    let lambda = 0;
    out.retrieved = false;
    out.neighbours.count = 0;
    if (rule.k > 0 && rule.shouldRetrieve(pm)) {
      this.memory.search(out.key, rule.k, out.neighbours, touch);
      this.normalize(out.neighbours, touch);
      out.retrieved = true;
      const mass = knnDistribution(out.neighbours, rule.temperature, out.knnProba);
      lambda = mass > 0 ? rule.lambda(pm, out.knnProba, out.neighbours) : rule.lambdaWhenEmpty;
    } else if (rule.k === 0 && rule.lambdaWhenEmpty > 0) {
      out.knnProba.fill(1 / c);
      lambda = rule.lambdaWhenEmpty;
    }
    const pk = out.knnProba;
    let best = 0;
    for (let y = 0; y < c; y++) {
      proba[y] = lambda > 0 ? lambda * pk[y] + (1 - lambda) * pm[y] : pm[y];
      if (proba[y] > proba[best]) best = y;
    }
    out.lambda = lambda;
    out.label = best;
    out.confidence = proba[best];
    out.expectedCost = (1 - proba[best]) * this.errorCost;
    return out;
  }
}
