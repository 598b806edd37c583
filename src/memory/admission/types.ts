/**
 * The admission-policy contract of a {@link LabeledMemory}: which labeled examples an edge node
 * keeps, and which it lets go when full. The memory runs the one offer loop (observe -> admit ->
 * make room -> insert) so that every policy's admissions and evictions are counted the same way;
 * a policy only supplies the decisions. Policies are registered in admission-policies.ts and
 * parse their own parameters from a spec string such as "ib3:upstreamTrust=0.5".
 */
import type { ParamSchema } from "../../core/spec.js";
import type { ExampleSource, LabeledMemory, LabeledNeighbours } from "../labeled-memory.js";

/** One labeled example offered to the memory, with what the node currently predicts for it. */
export interface AdmissionOffer {
  /** Memory key (an embedding, the raw input or a projection of it); not retained by reference. */
  key: Float32Array;
  label: number;
  source: ExampleSource;
  /** The node's current memory-augmented prediction for this key, before admission. */
  predictedLabel: number;
  /** Confidence (max probability) of that prediction. */
  confidence: number;
  /** Neighbours of the key in memory, as used by that prediction (count may be 0). */
  neighbours: LabeledNeighbours;
  /** Whether the request behind this example was forwarded upstream (the node could not answer it). */
  forwarded: boolean;
}

export interface AdmissionPolicy {
  readonly name: string;
  /** Canonical spec with every parameter spelled out. */
  readonly spec: string;
  /** Vote weight given to a new entry from this source (feedback is more trustworthy than upstream). */
  trust(source: ExampleSource): number;
  /** Sees every offer before the decision: updates records and statistics; may drop entries (memory.drop). */
  observe(offer: AdmissionOffer, memory: LabeledMemory): void;
  /** Whether to store the offered example (room is made afterwards through {@link victim}). */
  admit(offer: AdmissionOffer, memory: LabeledMemory): boolean;
  /** The stored id to evict so that the offer fits, or -1 to turn the offer away instead. */
  victim(offer: AdmissionOffer, memory: LabeledMemory): number;
  /** Called after the offer was stored under `id`. */
  onInsert(id: number, offer: AdmissionOffer, memory: LabeledMemory): void;
  /** Called after `id` left the memory (eviction, drop or explicit removal). */
  onRemove(id: number, memory: LabeledMemory): void;
  /** Throws a STATE error when the policy's own bookkeeping disagrees with the memory. */
  checkInvariants(memory: LabeledMemory): void;
}

/** What the registry passes to an admission policy's `create`. */
export interface AdmissionContext {
  numClasses: number;
  /** Seed for any random choice the policy makes. */
  seed?: number;
}

/** The trust parameter every admission policy shares. */
export const TRUST_PARAMS = {
  upstreamTrust: {
    type: "number",
    default: 0.5,
    min: 0,
    max: 1,
    description:
      "vote weight of examples labeled by the upstream's answer (feedback labels weigh 1); 0 never stores upstream answers",
  },
} as const satisfies ParamSchema;

export function trustOf(source: ExampleSource, upstreamTrust: number): number {
  return source === "feedback" ? 1 : upstreamTrust;
}

/** Least-recently-used stored id (last use as a neighbour, or admission), ties by smaller id; -1 if empty. */
export function leastRecentlyUsed(memory: LabeledMemory): number {
  let best = -1;
  let bestT = Number.POSITIVE_INFINITY;
  const { slotIds, lastUsedAt } = memory.slots;
  for (let s = 0; s < memory.highWater; s++) {
    const id = slotIds[s];
    if (id < 0) continue;
    const t = lastUsedAt[s];
    if (t < bestT || (t === bestT && id < best)) {
      bestT = t;
      best = id;
    }
  }
  return best;
}

/** Oldest stored id (first in, first out); -1 if empty. */
export function oldest(memory: LabeledMemory): number {
  let best = -1;
  let bestT = Number.POSITIVE_INFINITY;
  const { slotIds, addedAt } = memory.slots;
  for (let s = 0; s < memory.highWater; s++) {
    const id = slotIds[s];
    if (id < 0) continue;
    if (addedAt[s] < bestT || (addedAt[s] === bestT && id < best)) {
      bestT = addedAt[s];
      best = id;
    }
  }
  return best;
}
