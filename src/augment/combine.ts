/**
 * Combination rules: how a memory-augmented model mixes the small model's distribution with the
 * k-NN distribution of its memory, selected by a spec string:
 *   interpolate:lambda=0.25,T=1,k=8   p = lambda p_knn + (1 - lambda) p_model           (kNN-LM)
 *   adaptive:k=8,T=1,lr=0.05,...       lambda and whether to retrieve, learned online (adaptive.ts)
 *   model-only                         p = p_model (never retrieves)
 *   knn-only:k=8,T=1                   p = p_knn
 * p_knn(y) = sum_i 1[y_i = y] w_i exp(-d_i / T) / sum_i w_i exp(-d_i / T) over the k neighbours,
 * with w_i the entries' vote weights (trust) and d_i the index's distances (squared L2 for "l2").
 */
import { Registry } from "../core/registry.js";
import { formatParams, type ParamSchema } from "../core/spec.js";
import type { LabeledNeighbours } from "../memory/labeled-memory.js";
import { createAdaptiveRule } from "./adaptive.js";

export interface CombinationRule {
  readonly name: string;
  /** Canonical spec with every parameter spelled out. */
  readonly spec: string;
  /** Neighbours to retrieve (0: never retrieves). */
  readonly k: number;
  /** Temperature of p_knn, in units of the index's distances. */
  readonly temperature: number;
  /** Mixing weight used when the memory returns no usable neighbour (1 only for knn-only). */
  readonly lambdaWhenEmpty: number;
  /** Whether to search the memory for this input, judged from the model's distribution alone. */
  shouldRetrieve(modelProba: Float32Array): boolean;
  /** The weight of p_knn for this input (p_knn has positive total weight). */
  lambda(modelProba: Float32Array, knnProba: Float32Array, nb: LabeledNeighbours): number;
  /** Online update from a labeled example (no-op for fixed rules). `weight` scales the step. */
  learn(
    modelProba: Float32Array,
    knnProba: Float32Array,
    nb: LabeledNeighbours,
    label: number,
    weight: number,
  ): void;
}

/**
 * Writes p_knn into `out` (length numClasses) and returns the total vote mass
 * sum_i w_i exp(-(d_i - d_1)/T); 0 (and `out` uniform) when no neighbour has positive weight.
 * Shifting by the nearest distance d_1 leaves the softmax unchanged and avoids underflow.
 */
export function knnDistribution(nb: LabeledNeighbours, temperature: number, out: Float32Array): number {
  const c = out.length;
  out.fill(0);
  let total = 0;
  if (nb.count > 0) {
    const d0 = nb.distances[0];
    for (let i = 0; i < nb.count; i++) {
      const v = nb.weights[i] * Math.exp(-(nb.distances[i] - d0) / temperature);
      out[nb.labels[i]] += v;
      total += v;
    }
  }
  if (total > 0) for (let y = 0; y < c; y++) out[y] /= total;
  else out.fill(1 / c);
  return total;
}

const K_PARAM = { type: "int", default: 8, min: 1, max: 1024, description: "neighbours retrieved" } as const;
const T_PARAM = {
  type: "number",
  default: 1,
  min: 1e-9,
  description: "softmax temperature over negative distances (same units as the index's distances)",
} as const;

interface RuleInfo {
  name: string;
  summary: string;
  params: ParamSchema;
  create(values: Record<string, unknown>, ctx: RuleContext): CombinationRule;
}

export interface RuleContext {
  numClasses: number;
  seed?: number;
}

function fixedRule(
  name: string,
  spec: string,
  k: number,
  T: number,
  lambda: number,
  empty: number,
): CombinationRule {
  return {
    name,
    spec,
    k,
    temperature: T,
    lambdaWhenEmpty: empty,
    shouldRetrieve: () => k > 0,
    lambda: () => lambda,
    learn() {},
  };
}

const RULE_LIST: RuleInfo[] = [
  {
    name: "interpolate",
    summary: "fixed mix p = lambda p_knn + (1 - lambda) p_model (kNN-LM, Khandelwal et al. 2020)",
    params: {
      lambda: {
        type: "number",
        default: 0.25,
        min: 0,
        max: 1,
        description: "weight of the k-NN distribution",
      },
      T: T_PARAM,
      k: K_PARAM,
    },
    create: (v) => {
      const { lambda, T, k } = v as { lambda: number; T: number; k: number };
      return fixedRule("interpolate", `interpolate:${formatParams(v)}`, k, T, lambda, 0);
    },
  },
  {
    name: "adaptive",
    summary:
      "lambda and whether to retrieve predicted from distance / agreement / entropy features, learned online",
    params: {
      k: K_PARAM,
      T: T_PARAM,
      lr: { type: "number", default: 0.05, min: 0, description: "online learning rate (SGD on log loss)" },
      skipBelow: {
        type: "number",
        default: 0.05,
        min: 0,
        max: 1,
        description: "skip retrieval when the predicted probability that it helps is below this",
      },
      seed: { type: "int", default: 1, description: "seed of the weights' initial jitter" },
    },
    create: (v, ctx) =>
      createAdaptiveRule(
        v as { k: number; T: number; lr: number; skipBelow: number; seed: number },
        ctx.numClasses,
      ),
  },
  {
    name: "model-only",
    summary: "the small model alone (never retrieves)",
    params: {},
    create: () => fixedRule("model-only", "model-only", 0, 1, 0, 0),
  },
  {
    name: "knn-only",
    summary: "the memory's k-NN vote alone (uniform when the memory is empty)",
    params: { k: K_PARAM, T: T_PARAM },
    create: (v) => {
      const { T, k } = v as { T: number; k: number };
      return fixedRule("knn-only", `knn-only:${formatParams(v)}`, k, T, 1, 1);
    },
  },
];
/** The registry of combination rules: the built-in ones above, in that order. */
export const combinationRules = new Registry<RuleContext, CombinationRule>("combination rule");
for (const rule of RULE_LIST) combinationRules.register(rule);

export function listCombinationRules(): readonly { name: string; summary: string; params: ParamSchema }[] {
  return combinationRules.list();
}

/** Creates a rule from its spec string, e.g. "interpolate:lambda=0.5,T=2,k=16". */
export function createCombinationRule(spec: string, ctx: RuleContext): CombinationRule {
  return combinationRules.create(spec, ctx);
}

/** One block per rule with its parameters (for --help and docs). */
export function describeCombinationRules(): string {
  return combinationRules.describe();
}
