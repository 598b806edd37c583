/**
 * Snapshots of a {@link LabeledMemory}: everything it learned (entries with their ids, labels,
 * sources, vote weights and usage statistics, the slot layout, the id counter and logical clock,
 * the counters, the admission policy's own records) as plain data, and the way back into a
 * freshly constructed memory of the same configuration. After `restoreMemory(fresh, snapshot)`
 * the fresh memory answers every search and every offer exactly as the original would have.
 *
 * The key vectors travel either inside the snapshot (the index's own serialized bytes, exact for
 * every index kind, HNSW graphs included) or beside it (`keyOf`, e.g. rows of a database that
 * already holds every key), in which case the index is rebuilt by adding them in slot order.
 *
 * The memory's private id bookkeeping goes through its own `layout()`, `restoreLayout()` and
 * `reinsert()`; this codec checks and converts.
 */
import { fail } from "../core/errors.js";
import { captureState, restoreState, type StateTree } from "../core/state-tree.js";
import { deserializeIndex } from "../index/factory.js";
import type { Index } from "../index/types.js";
import type { AdmissionPolicy } from "./admission/types.js";
import type { LabeledMemory, MemorySlots, MemoryStats } from "./labeled-memory.js";

export const MEMORY_SNAPSHOT_FORMAT = "mammals-memory/1";

/** The configuration a snapshot can only be restored into. */
export interface MemoryConfig {
  dim: number;
  numClasses: number;
  capacityItems: number;
  capacityBytes: number;
  /** The index's spec string, e.g. "flat" or "hnsw:M=16,...". */
  index: string;
  metric: string;
  /** The admission policy's canonical spec. */
  policy: string;
}

export interface MemorySnapshot {
  format: typeof MEMORY_SNAPSHOT_FORMAT;
  config: MemoryConfig;
  highWater: number;
  /** Per-slot arrays cut at highWater (a free slot has id -1). */
  slots: MemorySlots;
  freeSlots: number[];
  nextId: number;
  clock: number;
  stats: MemoryStats;
  policy: StateTree;
  /** The index's serialized bytes, or null when the keys are kept elsewhere. */
  index: Uint8Array | null;
}

/**
 * A decorator of an admission policy (one that watches the memory's inserts and removals) exposes
 * the policy it decorates as `inner`; the policy's state is the inner one's.
 */
export function statefulPolicy(policy: AdmissionPolicy): AdmissionPolicy {
  let p: AdmissionPolicy & { inner?: AdmissionPolicy } = policy;
  while (p.inner) p = p.inner;
  return p;
}

export function memoryConfig(memory: LabeledMemory): MemoryConfig {
  return {
    dim: memory.dim,
    numClasses: memory.numClasses,
    capacityItems: memory.capacityItems,
    capacityBytes: memory.capacityBytes,
    index: memory.index.spec,
    metric: memory.index.metric,
    policy: memory.policy.spec,
  };
}

/** A copy of everything the memory learned; `withIndex: false` leaves the key vectors out. */
export function captureMemory(memory: LabeledMemory, o: { withIndex?: boolean } = {}): MemorySnapshot {
  const layout = memory.layout();
  const hw = memory.highWater;
  const s = memory.slots;
  return {
    format: MEMORY_SNAPSHOT_FORMAT,
    config: memoryConfig(memory),
    highWater: hw,
    slots: {
      slotIds: s.slotIds.slice(0, hw),
      labels: s.labels.slice(0, hw),
      sources: s.sources.slice(0, hw),
      weights: s.weights.slice(0, hw),
      addedAt: s.addedAt.slice(0, hw),
      lastUsedAt: s.lastUsedAt.slice(0, hw),
      uses: s.uses.slice(0, hw),
    },
    freeSlots: layout.freeSlots,
    nextId: layout.nextId,
    clock: memory.clock,
    stats: { ...memory.stats },
    policy: captureState(statefulPolicy(memory.policy), [], "policy"),
    index: o.withIndex === false ? null : memory.index.serialize(),
  };
}

/** Throws STATE unless the snapshot was taken of a memory configured like this one. */
export function checkMemoryConfig(memory: LabeledMemory, config: MemoryConfig, what = "snapshot"): void {
  const mine = memoryConfig(memory);
  for (const k of Object.keys(mine) as (keyof MemoryConfig)[])
    if (mine[k] !== config[k])
      fail(
        "STATE",
        `${what} was taken of a memory with ${k} = ${String(config[k])}; this memory has ${String(mine[k])}`,
      );
}

/**
 * Makes `memory` (same configuration; any content is discarded) the memory of the snapshot.
 * Without index bytes in the snapshot, `keyOf(id)` supplies each stored entry's key.
 */
export function restoreMemory(
  memory: LabeledMemory,
  snap: MemorySnapshot,
  keyOf?: (id: number) => Float32Array,
): void {
  if (snap.format !== MEMORY_SNAPSHOT_FORMAT)
    fail(
      "BAD_FILE",
      `memory snapshot: expected format ${MEMORY_SNAPSHOT_FORMAT}, got ${String(snap.format)}`,
    );
  checkMemoryConfig(memory, snap.config, "memory snapshot");
  const current = memory.index;
  const hw = snap.highWater;
  const ids = snap.slots.slotIds;
  if (ids.length !== hw) fail("BAD_FILE", `memory snapshot: ${ids.length} slots for highWater ${hw}`);
  const stored: number[] = [];
  for (let s = 0; s < hw; s++) if (ids[s] >= 0) stored.push(ids[s]);

  // Empty the index, then either swap in the snapshot's index or rebuild it from the keys.
  const old = memory.ids();
  if (old.length > 0) current.remove(old);
  let index: Index | null = null;
  if (snap.index) {
    index = deserializeIndex(snap.index);
    if (index.spec !== current.spec || index.dim !== current.dim || index.metric !== current.metric)
      fail("BAD_FILE", `memory snapshot: its index is ${index.spec}; expected ${current.spec}`);
    const restored = index;
    if (restored.size !== stored.length || stored.some((id) => !restored.has(id)))
      fail(
        "BAD_FILE",
        `memory snapshot: its index does not hold exactly the ${stored.length} stored entries`,
      );
  } else {
    if (!keyOf) fail("INVALID_ARGUMENT", "memory snapshot without index bytes: expected a keyOf(id) source");
    const one = new Float64Array(1);
    for (const id of stored) {
      one[0] = id;
      current.add(one, keyOf(id));
    }
  }

  memory.restoreLayout({
    index,
    slots: snap.slots,
    highWater: hw,
    freeSlots: snap.freeSlots,
    nextId: snap.nextId,
    clock: snap.clock,
  });
  Object.assign(memory.stats, snap.stats);
  restoreState(statefulPolicy(memory.policy), snap.policy, "policy");
  memory.checkInvariants();
}

/** An entry to put back with its original id (crash recovery from a store of rows). */
export interface StoredEntry {
  id: number;
  key: Float32Array;
  label: number;
  /** 0 upstream, 1 feedback. */
  source: number;
  weight: number;
  addedAt: number;
}

/**
 * Stores `e` under its own id, outside the offer loop (no admission decision, no eviction): the
 * policy is told through onInsert as for a fresh entry, so its own records start anew.
 */
export function reinsertEntry(memory: LabeledMemory, e: StoredEntry): void {
  const s = memory.reinsert(e.id, e.key, e.label, e.source, e.weight, e.addedAt);
  const source = e.source === 1 ? "feedback" : "upstream";
  memory.policy.onInsert(
    e.id,
    {
      key: e.key,
      label: e.label,
      source,
      predictedLabel: e.label,
      confidence: 1,
      neighbours: {
        count: 0,
        ids: new Float64Array(0),
        labels: new Int32Array(0),
        distances: new Float64Array(0),
        weights: new Float32Array(0),
      },
      forwarded: false,
    },
    memory,
  );
  // The policy may set the weight of a fresh entry; the stored one is what the memory had.
  memory.slots.weights[s] = e.weight;
}

/** Sets a stored entry's source (0 upstream, 1 feedback) and vote weight, as a store recorded them. */
export function setEntryTrust(memory: LabeledMemory, id: number, source: number, weight: number): void {
  if (!(source === 0 || source === 1) || !(Number.isFinite(weight) && weight >= 0))
    fail("BAD_FILE", `stored entry ${id}: source ${source} or weight ${weight} out of range`);
  const s = memory.slot(id);
  memory.slots.sources[s] = source;
  memory.slots.weights[s] = weight;
}
