/**
 * The registry of similarity-caching policies. Each policy module registers itself here when
 * imported, declaring the cost settings it is defined for; caching/registry.ts imports every
 * built-in policy. This module imports no policy, so policy modules can import it without a cycle.
 *
 * Capabilities are the two settings of caching/types.ts: "single-answer" (`--k 1 --cr C`) and
 * "knn" (`--k K --cf C`). The registry refuses a policy in a setting it does not declare before the
 * policy is built, and the simulator refuses it again before the first request.
 */
import { Registry } from "../core/registry.js";
import type { CacheContext, CachePolicy, CostModel, CostSetting } from "./types.js";

export type CacheCapability = "single-answer" | "knn";

/** Both settings, for the policies defined in each. */
export const BOTH_SETTINGS: readonly CacheCapability[] = ["single-answer", "knn"];

export const cachePolicies = new Registry<CacheContext, CachePolicy>("cache policy");

/** The capability a cost setting needs. */
export function capabilityOf(setting: CostSetting): CacheCapability {
  return setting === "single" ? "single-answer" : "knn";
}

/** The setting in words, for messages: which flags select it. */
function settingWords(cost: CostModel): string {
  return cost.setting === "single"
    ? `the cost model is the single-answer setting: --k 1 --cr ${cost.cr}`
    : `the cost model is the k-NN setting: --k ${cost.k} --cf ${cost.cf}`;
}

/**
 * Refuses, before anything is built or run, every spec whose policy is not defined in `cost`'s
 * setting (UNSUPPORTED, naming the policy, the setting and the policies that are).
 */
export function requireSetting(specs: readonly string[], cost: CostModel): void {
  for (const spec of specs)
    cachePolicies.requireCapability(spec, capabilityOf(cost.setting), settingWords(cost));
}
