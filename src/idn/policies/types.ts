/**
 * The IDN allocation-policy contract and its registry. A policy is small: it exposes the integral
 * allocation it wants for the coming slot and is told, after the slot was served with it, what the
 * slot's demand was. One simulator loop (simulator.ts) serves every policy's allocation with the
 * same rule (serving.ts), so every figure is comparable.
 */
import { Registry } from "../../core/registry.js";
import type { IdnInstance } from "../instance.js";
import type { SlotDemand } from "../serving.js";
import type { IdnTrace } from "../traces.js";

export interface IdnPolicy {
  /** Canonical spec. */
  readonly name: string;
  /** The 0/1 allocation (one entry per pair) for the coming slot; read-only for the caller. */
  allocation(): Uint8Array;
  /**
   * After the slot was served with allocation(): its demand, and (for policies with the "reach"
   * capability) the requests that travelled up to each node, per task (nodeCount * taskCount).
   */
  observe(demand: SlotDemand, reach?: Float64Array): void;
  /** Extra figures for reports (fractional gain, overshoot, exactness, ...). */
  stats?(): Record<string, number | string | boolean>;
}

export interface PolicyContext {
  instance: IdnInstance;
  /** The whole trace: only the hindsight policies (capability "hindsight") may read it. */
  trace: IdnTrace;
  seed: number;
}

export const idnPolicyRegistry = new Registry<PolicyContext, IdnPolicy>("IDN policy");

/** Allocations never exceed a budget unless the policy says so (INFIDA's rounding, bounded). */
export function emptyAllocation(instance: IdnInstance): Uint8Array {
  return new Uint8Array(instance.pairCount);
}
