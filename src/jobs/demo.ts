/**
 * The main job (`mammals demo`): one small model and one cloud model, two edge workloads, and the
 * same request stream played through every system so that their figures compare:
 *   - `small`: the small model alone (always local);
 *   - `cloud`: every request forwarded to the cloud model;
 *   - `edge`: edge nodes (small model + labeled memory + combination rule + forward decision) with
 *     several memory capacities, admission policies and memory keys.
 * Workloads (see DEMO_SCENARIOS): `skew` (a skewed, drifting mix of a few classes, one of which the
 * small model never saw; the cloud knows it) and `shift` (the same mix under a style shift neither
 * model was trained for, true labels back as feedback for 10% of requests). This module is
 * browser-safe: models come in trained, reports go out as data (demo-report.ts renders them);
 * demo.node.ts adds datasets, the trained-model cache and the report file.
 */

import { type InputKey, randomProjectionKey, rawInputKey } from "../augment/keys.js";
import { MemoryAugmentedModel } from "../augment/memory-augmented-model.js";
import { Rng } from "../core/rng.js";
import { compose, contrast, type ImageTransform, jitter, translate } from "../data/transforms.js";
import type { Dataset } from "../data/types.js";
import { EdgeNode } from "../edge/edge-node.js";
import { InProcessUpstream } from "../edge/upstream.js";
import { createIndex } from "../index/factory.js";
import { LabeledMemory } from "../memory/labeled-memory.js";
import type { Model } from "../models/types.js";
import { runStream, type StreamResult } from "./experiment.js";
import type { OnProgress } from "./progress.js";
import { type EdgeRequest, makeWorkload } from "./workloads.js";

/** Classes of the local mix per dataset; `unseen` is left out of the small model's training set. */
export interface DemoClasses {
  mix: number[];
  unseen: number;
}

export const DEMO_CLASSES: Record<string, DemoClasses> = {
  // T-shirt, shirt and coat are the most confusable classes of Fashion-MNIST (even the cloud model
  // mixes them up); sneakers are common; bags are new to the small model (it never saw one).
  "fashion-mnist": { mix: [0, 6, 4, 7, 8], unseen: 8 },
  // 3, 5 and 8 are the digits MLPs confuse most; ones are common; the small model never sees a 0.
  mnist: { mix: [3, 5, 8, 1, 0], unseen: 0 },
};

export function demoClasses(dataset: Dataset): DemoClasses {
  return (
    DEMO_CLASSES[dataset.name] ?? { mix: [0, 1, 2, 3, 4].filter((c) => c < dataset.numClasses), unseen: 1 }
  );
}

export interface DemoSystemSpec {
  /** Row label in the table. */
  system: "small" | "cloud" | "edge";
  policy: string;
  /** Memory capacity in items (0 for systems without memory). */
  capacity: number;
  key: "embedding" | "input" | "projection";
  rule: string;
}

export interface DemoScenario {
  name: "skew" | "shift";
  description: string;
  feedbackFraction: number;
}

export const DEMO_SCENARIOS: DemoScenario[] = [
  {
    name: "skew",
    description: "skewed drifting mix of a few classes, one unseen by the small model; 10% feedback",
    feedbackFraction: 0.1,
  },
  {
    name: "shift",
    description:
      "the same mix, moved 2 px right and 1 px down at 70% contrast (a style neither model saw); 10% feedback",
    feedbackFraction: 0.1,
  },
];

export interface DemoOptions {
  dataset: Dataset;
  small: Model;
  cloud: Model;
  requests: number;
  seed: number;
  /** Upstream round trip (latency spec of InProcessUpstream). */
  upstreamLatency: string;
  /** Capacities as fractions of the training set. */
  capacities: number[];
  /** Admission policies compared at the main capacity. */
  policies: string[];
  /** Combination rule of the edge nodes. */
  rule: string;
  /** Cost of one ms of latency, in units of the cost of a wrong answer. */
  latencyWeight: number;
  scenarios: DemoScenario["name"][];
  /** Edge nodes estimate P(local error) from feedback (augment/calibration.ts). Default true. */
  calibrate?: boolean;
  /** Requests played so far over every scenario and system (phase "demo"). */
  onProgress?: OnProgress;
}

export type DemoSettings = Pick<
  DemoOptions,
  "requests" | "capacities" | "policies" | "rule" | "upstreamLatency" | "latencyWeight" | "scenarios"
> & {
  /** Spec of the small model (trained without the unseen class). */
  small: string;
  /** Spec of the cloud model (trained on every class). */
  cloud: string;
};

/** The demo's settings when none are given (`mammals demo`; docs/benchmarks/demo.md runs these). */
export const DEMO_DEFAULTS: Readonly<DemoSettings> = {
  requests: 5000,
  small: "mlp:64",
  cloud: "mlp:256,128",
  capacities: [0.0025, 0.01, 0.05],
  policies: ["utility", "ib3", "ib2", "all"],
  rule: "adaptive",
  upstreamLatency: "lognormal:median=20,sigma=0.3",
  latencyWeight: 0.01,
  scenarios: ["skew", "shift"],
};

export interface DemoRow {
  scenario: string;
  system: string;
  policy: string;
  capacity: number;
  key: string;
  accuracy: number;
  localFraction: number;
  meanMs: number;
  p99Ms: number;
  memoryBytes: number;
  memoryItems: number;
  /** Feedback labels of the unseen class received before the node answered it right locally (edge). */
  unseenRecognizedAfter: number | null;
  unseenAccuracy: number;
}

export interface DemoRun {
  row: DemoRow;
  result: StreamResult;
}

export function demoSystems(
  o: Pick<DemoOptions, "capacities" | "dataset" | "policies" | "rule">,
): DemoSystemSpec[] {
  const main = o.capacities.includes(0.01) ? 0.01 : o.capacities[0];
  const items = (f: number) => Math.max(1, Math.round(f * o.dataset.train.n));
  const edge = (policy: string, f: number, key: DemoSystemSpec["key"]): DemoSystemSpec => ({
    system: "edge",
    policy,
    capacity: items(f),
    key,
    rule: o.rule,
  });
  const systems: DemoSystemSpec[] = [
    { system: "small", policy: "-", capacity: 0, key: "embedding", rule: "model-only" },
    { system: "cloud", policy: "-", capacity: 0, key: "embedding", rule: "model-only" },
  ];
  for (const p of o.policies) systems.push(edge(p, main, "embedding"));
  for (const f of o.capacities) if (f !== main) systems.push(edge(o.policies[0], f, "embedding"));
  systems.push(edge(o.policies[0], main, "input"));
  systems.push(edge(o.policies[0], main, "projection"));
  return systems;
}

/** The shift scenario's style: 2 px right, 1 px down, at 70% contrast (fainter ink). */
export function shiftStyle(h: number, w: number): ImageTransform {
  return (x) => contrast(translate(x, h, w, 2, 1), 0.7, 0);
}

export function scenarioTransform(name: DemoScenario["name"], dataset: Dataset): ImageTransform {
  const [h, w] = dataset.shape ?? [1, dataset.train.dim];
  const jit = jitter(h, w, 0, 0.03);
  return name === "shift" ? compose(shiftStyle(h, w), jit) : jit;
}

/** The request stream of a scenario: every system of the demo (in process or over HTTP) plays this one. */
export function demoStream(
  name: DemoScenario["name"],
  dataset: Dataset,
  requests: number,
  seed: number,
): EdgeRequest[] {
  const scenario = DEMO_SCENARIOS.find((s) => s.name === name)!;
  return makeWorkload(
    dataset.test,
    {
      count: requests,
      classes: demoClasses(dataset).mix,
      skew: 1.1,
      phases: 3,
      feedbackFraction: scenario.feedbackFraction,
      feedbackDelay: 20,
      transform: scenarioTransform(name, dataset),
    },
    new Rng(seed * 2 + (name === "skew" ? 0 : 1)),
  );
}

export async function runDemo(o: DemoOptions): Promise<DemoRun[]> {
  const systems = demoSystems(o);
  const { unseen } = demoClasses(o.dataset);
  const runs: DemoRun[] = [];
  const total = systems.length * o.scenarios.length * o.requests;
  let done = 0;
  for (const name of o.scenarios) {
    const stream = demoStream(name, o.dataset, o.requests, o.seed);
    for (const [i, spec] of systems.entries()) {
      const upstream = new InProcessUpstream(o.cloud, { latency: o.upstreamLatency, seed: o.seed + i });
      const system = buildSystem(spec, o, upstream);
      const base = done;
      const result = await runStream(system, stream, {
        watchClass: unseen,
        onRequest: (t) => o.onProgress?.(base + t, total, "demo"),
      });
      done += o.requests;
      runs.push({
        row: {
          scenario: name,
          system: spec.system,
          policy: spec.policy,
          capacity: spec.capacity,
          key: spec.system === "edge" ? spec.key : "-",
          accuracy: result.accuracy,
          localFraction: result.localFraction,
          meanMs: result.meanMs,
          p99Ms: result.p99Ms,
          memoryBytes: result.memoryBytes,
          memoryItems: result.memoryItems,
          unseenRecognizedAfter:
            spec.system === "edge" ? (result.watch?.recognizedAfterFeedback ?? null) : null,
          unseenAccuracy: result.watch?.accuracy ?? Number.NaN,
        },
        result,
      });
    }
  }
  return runs;
}

function buildSystem(spec: DemoSystemSpec, o: DemoOptions, upstream: InProcessUpstream) {
  if (spec.system === "small") return { kind: "model" as const, model: o.small };
  if (spec.system === "cloud") return { kind: "upstream" as const, upstream };
  const key: "embedding" | InputKey =
    spec.key === "embedding"
      ? "embedding"
      : spec.key === "input"
        ? rawInputKey(o.small.inputDim)
        : randomProjectionKey(o.small.inputDim, 64, o.seed);
  const keyDim = key === "embedding" ? o.small.embedDim : key.dim;
  const memory = new LabeledMemory({
    index: createIndex("flat", keyDim),
    numClasses: o.small.numClasses,
    capacityItems: spec.capacity,
    admission: spec.policy,
    seed: o.seed,
  });
  const local = new MemoryAugmentedModel({
    model: o.small,
    memory,
    rule: spec.rule,
    key,
    seed: o.seed,
    calibrate: o.calibrate ?? true,
    forward: { latencyWeight: o.latencyWeight, upstreamLatencyMs: upstream.expectedLatencyMs },
  });
  const node = new EdgeNode({ local, upstream });
  return { kind: "edge" as const, node };
}
