/**
 * Assembling services from their parts (used by `mammals serve`, the tests and the benchmark):
 * an edge node (model + labeled memory with a journaled policy + combination rule + forward
 * decision) restored from its durable store, or a plain model server.
 */
import { MemoryAugmentedModel } from "../augment/memory-augmented-model.js";
import { fail } from "../core/errors.js";
import { EdgeNode } from "../edge/edge-node.js";
import type { Upstream } from "../edge/upstream.js";
import { createIndex } from "../index/factory.js";
import { createAdmissionPolicy } from "../memory/admission/index.js";
import { LabeledMemory } from "../memory/labeled-memory.js";
import { crc32 } from "../models/io/format.js";
import { isStorable, saveModel } from "../models/registry.js";
import type { Model } from "../models/types.js";
import { Durability, type RecoveryReport } from "./durability.js";
import { EdgeService } from "./edge-service.js";
import { MemoryJournal } from "./journal.js";
import { ModelService, type ModelServiceOptions } from "./model-service.js";
import type { BatchingOptions, ServiceLimits } from "./service.js";
import type { Store } from "./store.js";

export interface EdgeServiceConfig {
  model: Model;
  upstream: Upstream;
  /** Memory capacity in entries. */
  capacity: number;
  /** Index spec. Default "flat". */
  index?: string;
  /** Admission policy spec. Default "utility". */
  admission?: string;
  /** Combination rule spec. Default "adaptive". */
  rule?: string;
  /** Cost of 1 ms of upstream latency in units of a wrong answer. Default 0.01. */
  latencyWeight?: number;
  /** Learn P(error) from feedback. Default true. */
  calibrate?: boolean;
  seed?: number;
  /** Durable store (a data directory); none = the node forgets everything when it stops. */
  store?: Store;
  checkpointMs?: number;
  limits?: Partial<ServiceLimits>;
  batching?: BatchingOptions;
  /** Answer feedback's repeated k-NN searches for one key once (LabeledMemory.reusingSearches). Default true. */
  reuseSearches?: boolean;
}

/** Identifies the model's weights, so a data directory is never reopened with another model. */
export function modelFingerprint(model: Model): string {
  const crc = isStorable(model) ? crc32(saveModel(model)).toString(16).padStart(8, "0") : "unsaved";
  return `${model.spec}#${crc}`;
}

export function buildEdgeService(cfg: EdgeServiceConfig): {
  service: EdgeService;
  recovery: RecoveryReport | null;
} {
  const seed = cfg.seed ?? 1;
  const model = cfg.model;
  const journal = new MemoryJournal(cfg.store !== undefined);
  const policy = createAdmissionPolicy(cfg.admission ?? "utility", { numClasses: model.numClasses, seed });
  const index = createIndex(cfg.index ?? "flat", model.embedDim);
  const memory = new LabeledMemory({
    index,
    // Feedback's repeated searches for one key are answered once.
    reuseSearches: cfg.reuseSearches !== false,
    numClasses: model.numClasses,
    capacityItems: cfg.capacity,
    admission: journal.wrap(policy),
    seed,
  });
  journal.attach(memory);
  const latencyWeight = cfg.latencyWeight ?? 0.01;
  const local = new MemoryAugmentedModel({
    model,
    memory,
    rule: cfg.rule ?? "adaptive",
    seed,
    calibrate: cfg.calibrate ?? true,
    // E[latency] starts at what the upstream advertises (a model server's emulated delay) and follows what is measured.
    forward: { latencyWeight, upstreamLatencyMs: cfg.upstream.expectedLatencyMs ?? 20 },
  });
  const node = new EdgeNode({ local, upstream: cfg.upstream });
  const durability = new Durability(node, journal, cfg.store ?? null, { checkpointMs: cfg.checkpointMs });
  let recovery: RecoveryReport | null = null;
  let epoch = 0;
  if (cfg.store) {
    const config = JSON.stringify({
      model: modelFingerprint(model),
      capacity: cfg.capacity,
      index: memory.index.spec,
      admission: memory.policy.spec,
      rule: local.rule.spec,
      latencyWeight,
      calibrate: cfg.calibrate ?? true,
    });
    const state = cfg.store.open(config);
    if (state.config !== null && state.config !== config)
      fail(
        "STATE",
        `the data directory holds a node configured as ${state.config}; this one is ${config}. ` +
          "Use the same flags, or another --data-dir",
      );
    recovery = durability.recover(state);
    epoch = state.epoch;
  }
  const service = new EdgeService({
    node,
    journal,
    durability,
    limits: cfg.limits,
    batching: cfg.batching,
    epoch,
  });
  return { service, recovery };
}

export function buildModelService(o: ModelServiceOptions): ModelService {
  return new ModelService(o);
}
