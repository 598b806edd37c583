/**
 * A bounded store of labeled examples over an {@link Index}: the instance-based half of a
 * memory-augmented model. Each entry is a key vector (an embedding or a raw input), a class label,
 * its source ("feedback" = a true label, "upstream" = a bigger model's answer), a vote weight
 * (the source's trust, possibly adjusted by the policy) and usage statistics on a logical clock.
 *
 * What is stored is decided by an {@link AdmissionPolicy}; the offer loop is written once here
 * (observe -> admit -> evict until it fits -> insert) so every policy is accounted the same way.
 * Per-entry data lives in parallel typed arrays indexed by slot, so policies can scan them cheaply.
 *
 * The whole state is plain data, so that a snapshot is a copy of it: the slot arrays over
 * [0, highWater), the numbers `highWater`, `clock` and `nextId`, the free-slot stack (its order
 * decides where the next entries go), `stats`, the index's own serialization and the policy's
 * state. The id -> slot map is derived from `slots.slotIds`.
 */
import { check, fail } from "../core/errors.js";
import { checkVector } from "../core/vectors.js";
import type { Index, SearchResult } from "../index/types.js";
// The barrel registers every admission policy, so that a spec string works without a separate import.
import { createAdmissionPolicy } from "./admission/index.js";
import type { AdmissionContext, AdmissionOffer, AdmissionPolicy } from "./admission/types.js";

export type ExampleSource = "upstream" | "feedback";
const SOURCE_CODE: Record<ExampleSource, number> = { upstream: 0, feedback: 1 };
const SOURCES: readonly ExampleSource[] = ["upstream", "feedback"];

/**
 * Payload bytes of one entry's metadata (id 8, label 4, source 1, weight 4, added 8, last used 8,
 * uses 8), added to the index's own bytes for the byte budget.
 */
export const ENTRY_METADATA_BYTES = 41;

/**
 * The memory's k-NN results: entry ids, distances, and the entries' labels and vote weights, in
 * reusable buffers (closest first; only the first `count` are valid).
 */
export interface LabeledNeighbours {
  count: number;
  ids: Float64Array;
  labels: Int32Array;
  distances: Float64Array;
  weights: Float32Array;
}

export function createLabeledNeighbours(k: number): LabeledNeighbours {
  return {
    count: 0,
    ids: new Float64Array(k),
    labels: new Int32Array(k),
    distances: new Float64Array(k),
    weights: new Float32Array(k),
  };
}

export interface LabeledMemoryOptions {
  /** An empty index (from index/factory `createIndex`) whose dim is the key length. */
  index: Index;
  numClasses: number;
  /** At most this many entries. */
  capacityItems?: number;
  /** At most this many bytes (index bytes + entry metadata). */
  capacityBytes?: number;
  /** A policy or its spec string (see admission/admission-policies.ts), e.g. "ib2" or "utility:window=512". */
  admission: AdmissionPolicy | string;
  /** Seed passed to the policy. */
  seed?: number;
  /**
   * Inside {@link LabeledMemory.reusingSearches}, answer a search for the query and k of the previous
   * one from that result while the index is unchanged (default true; false: every search goes to
   * the index, the reference the reuse is tested against).
   */
  reuseSearches?: boolean;
}

export interface MemoryStats {
  offers: number;
  admissions: number;
  /** Offers the policy turned away (or that could not be made to fit). */
  rejections: number;
  /** Entries removed to make room. */
  evictions: number;
  /** Entries the policy dropped on its own (e.g. ib3's poor classification records). */
  drops: number;
  /** Entries removed by the caller. */
  removals: number;
}

/**
 * What a true label did to a stored entry: "confirmed" (same label; the entry now counts as
 * feedback) or "contradicted" (another label; the entry was removed).
 */
export type FeedbackEffect = "confirmed" | "contradicted";

export interface OfferResult {
  admitted: boolean;
  /** The new entry's id, or -1. */
  id: number;
  /** Ids evicted or dropped during this offer. */
  removed: number[];
}

/** Per-slot arrays; a free slot has id -1. Read-only for everyone but the memory. */
export interface MemorySlots {
  slotIds: Float64Array;
  labels: Int32Array;
  sources: Uint8Array;
  weights: Float32Array;
  addedAt: Float64Array;
  lastUsedAt: Float64Array;
  uses: Float64Array;
}

export class LabeledMemory {
  /** Replaced only when a snapshot is restored ({@link restoreLayout}). */
  index: Index;
  readonly dim: number;
  readonly numClasses: number;
  readonly capacityItems: number;
  readonly capacityBytes: number;
  readonly policy: AdmissionPolicy;
  readonly stats: MemoryStats = {
    offers: 0,
    admissions: 0,
    rejections: 0,
    evictions: 0,
    drops: 0,
    removals: 0,
  };
  slots: MemorySlots;
  /** Slots in [0, highWater) have been used at least once. */
  highWater = 0;
  /** Logical clock: advanced by every search and every offer. */
  clock = 0;
  private readonly slotOf = new Map<number, number>();
  private readonly freeSlots: number[] = [];
  private nextId = 0;
  private readonly idBuf = new Float64Array(1);
  private removedLog: number[] | null = null;

  /** Searches answered from the previous one inside reusingSearches(), and searches passed to the index there. */
  readonly searchReuse = { hits: 0, misses: 0 };
  private readonly reuse: boolean;
  private reuseDepth = 0;
  private readonly lastQuery: Float32Array;
  private lastK = -1;
  private lastResult: SearchResult | null = null;

  constructor(o: LabeledMemoryOptions) {
    check(
      Number.isInteger(o.numClasses) && o.numClasses >= 2,
      () => `numClasses: expected an integer >= 2, got ${o.numClasses}`,
    );
    if (o.capacityItems === undefined && o.capacityBytes === undefined)
      fail("INVALID_ARGUMENT", "LabeledMemory: expected capacityItems and/or capacityBytes, got neither");
    if (o.capacityItems !== undefined)
      check(
        Number.isInteger(o.capacityItems) && o.capacityItems >= 1,
        () => `capacityItems: expected an integer >= 1, got ${o.capacityItems}`,
      );
    if (o.capacityBytes !== undefined)
      check(
        Number.isFinite(o.capacityBytes) && o.capacityBytes > 0,
        () => `capacityBytes: expected a positive number, got ${o.capacityBytes}`,
      );
    if (o.index.size !== 0)
      fail("STATE", `LabeledMemory: expected an empty index, got one holding ${o.index.size} vectors`);
    this.index = o.index;
    this.dim = o.index.dim;
    this.reuse = o.reuseSearches ?? true;
    this.lastQuery = new Float32Array(o.index.dim);
    this.numClasses = o.numClasses;
    this.capacityItems = o.capacityItems ?? Number.POSITIVE_INFINITY;
    this.capacityBytes = o.capacityBytes ?? Number.POSITIVE_INFINITY;
    const ctx: AdmissionContext = { numClasses: o.numClasses, seed: o.seed };
    this.policy = typeof o.admission === "string" ? createAdmissionPolicy(o.admission, ctx) : o.admission;
    this.slots = allocSlots(Math.min(1024, Number.isFinite(this.capacityItems) ? this.capacityItems : 1024));
  }

  get size(): number {
    return this.slotOf.size;
  }

  /** Index bytes plus entry metadata. */
  get bytes(): number {
    return this.index.bytes + this.size * ENTRY_METADATA_BYTES;
  }

  has(id: number): boolean {
    return this.slotOf.has(id);
  }

  /** Slot of a stored id (throws UNKNOWN_ID). */
  slot(id: number): number {
    const s = this.slotOf.get(id);
    if (s === undefined)
      return fail(
        "UNKNOWN_ID",
        `memory entry ${id} is not stored; expected the id of one of the ${this.size} stored entries`,
      );
    return s;
  }

  label(id: number): number {
    return this.slots.labels[this.slot(id)];
  }

  source(id: number): ExampleSource {
    return SOURCES[this.slots.sources[this.slot(id)]];
  }

  weight(id: number): number {
    return this.slots.weights[this.slot(id)];
  }

  /** Changes an entry's vote weight (policies use it: ib3 silences unproven entries). */
  setWeight(id: number, w: number): void {
    check(Number.isFinite(w) && w >= 0, () => `weight: expected a finite number >= 0, got ${w}`);
    this.slots.weights[this.slot(id)] = w;
  }

  /**
   * Applies the true label of a stored entry (typically a stored upstream answer that feedback
   * has now judged). The same label confirms it: its source becomes "feedback" and its vote weight
   * the policy's trust in feedback. Another label contradicts it: the entry is removed (counted in
   * `removals`) rather than relabeled, so the corrected example goes through the admission policy
   * like any other offer. Unknown id or bad label: MammalsError, nothing changes. The clock does
   * not move (this is not a use of the entry).
   */
  applyFeedback(id: number, label: number): FeedbackEffect {
    check(
      Number.isInteger(label) && label >= 0 && label < this.numClasses,
      () => `feedback label: expected an integer in [0, ${this.numClasses}), got ${label}`,
    );
    const s = this.slot(id);
    if (this.slots.labels[s] !== label) {
      this.removeEntry(id, "removals");
      return "contradicted";
    }
    const trust = this.policy.trust("feedback");
    check(
      Number.isFinite(trust) && trust >= 0,
      () => `admission policy's trust in feedback: expected a finite number >= 0, got ${trust}`,
    );
    this.slots.sources[s] = SOURCE_CODE.feedback;
    this.slots.weights[s] = trust;
    return "confirmed";
  }

  /** Stored ids in slot order. */
  ids(): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.highWater; s++) if (this.slots.slotIds[s] >= 0) out.push(this.slots.slotIds[s]);
    return out;
  }

  /**
   * The k nearest entries of `query` into `out` (allocation-free apart from the index's result).
   * With `touch`, each returned entry's last-use time and use count are updated (LRU bookkeeping).
   */
  search(query: Float32Array, k: number, out: LabeledNeighbours, touch = true): LabeledNeighbours {
    this.clock++;
    const kk = Math.min(k, out.ids.length);
    if (this.size === 0 || kk <= 0) {
      out.count = 0;
      return out;
    }
    const r = this.indexSearch(query, kk);
    const n = r.ids.length;
    const { labels, weights, lastUsedAt, uses } = this.slots;
    for (let i = 0; i < n; i++) {
      const id = r.ids[i];
      const s = this.slotOf.get(id)!;
      out.ids[i] = id;
      out.distances[i] = r.distances[i];
      out.labels[i] = labels[s];
      out.weights[i] = weights[s];
      if (touch) {
        lastUsedAt[s] = this.clock;
        uses[s]++;
      }
    }
    out.count = n;
    return out;
  }

  /**
   * Runs `f` with repeated searches for one key answered once. One feedback searches the memory
   * several times for the same key with nothing added or removed in between (the prediction, the
   * rule's learning step, the offer); an index answers the same query on the same content the same
   * way, so what the memory sees is what it would have seen, and only the repeated scan is saved.
   * Any add or remove forgets the remembered result; so does leaving the outermost call.
   */
  reusingSearches<T>(f: () => T): T {
    if (!this.reuse) return f();
    this.reuseDepth++;
    try {
      return f();
    } finally {
      if (--this.reuseDepth === 0) this.lastResult = null;
    }
  }

  private indexSearch(query: Float32Array, k: number): SearchResult {
    if (this.reuseDepth === 0) return this.index.search(query, k);
    const last = this.lastResult;
    if (last !== null && k === this.lastK && sameValues(query, this.lastQuery)) {
      this.searchReuse.hits++;
      return last;
    }
    this.searchReuse.misses++;
    const r = this.index.search(query, k);
    // A bad query threw above; only a completed search is remembered, as a copy (an index may reuse
    // its output buffers).
    this.lastQuery.set(query);
    this.lastK = k;
    this.lastResult = { ids: r.ids.slice(), distances: r.distances.slice() };
    return r;
  }

  /** Offers a labeled example; the policy decides. Bad input changes nothing. */
  offer(o: AdmissionOffer): OfferResult {
    // Called as offer(key, label, source) the first argument is the vector: say how to call it
    // instead of failing inside on a missing field (or a raw TypeError on undefined).
    if (o === null || typeof o !== "object" || ArrayBuffer.isView(o) || Array.isArray(o))
      fail("INVALID_ARGUMENT", `offer takes one object {key, label, source}; got ${describeFirst(o)} first`);
    checkVector(o.key, this.dim, "memory key");
    check(
      Number.isInteger(o.label) && o.label >= 0 && o.label < this.numClasses,
      () => `label: expected an integer in [0, ${this.numClasses}), got ${o.label}`,
    );
    check(
      o.source in SOURCE_CODE,
      () => `source: expected "upstream" or "feedback", got "${String(o.source)}"`,
    );
    this.clock++;
    this.stats.offers++;
    const removed: number[] = [];
    this.removedLog = removed;
    try {
      this.policy.observe(o, this);
      if (!this.policy.admit(o, this)) {
        this.stats.rejections++;
        return { admitted: false, id: -1, removed };
      }
      while (!this.fitsOneMore()) {
        const v = this.policy.victim(o, this);
        if (v < 0) {
          this.stats.rejections++;
          return { admitted: false, id: -1, removed };
        }
        this.removeEntry(v, "evictions");
      }
      const id = this.insert(o.key, o.label, o.source, this.policy.trust(o.source));
      // An index whose bytes grew more than estimated: evict others (never the new entry) until it fits.
      while (this.bytes > this.capacityBytes && this.size > 1) {
        const v = this.policy.victim(o, this);
        if (v < 0 || v === id) break;
        this.removeEntry(v, "evictions");
      }
      if (this.bytes > this.capacityBytes) {
        this.removeEntry(id, "evictions");
        this.stats.rejections++;
        return { admitted: false, id: -1, removed };
      }
      this.stats.admissions++;
      this.policy.onInsert(id, o, this);
      return { admitted: true, id, removed };
    } finally {
      this.removedLog = null;
    }
  }

  /** Removes an entry on the policy's own initiative (counted as a drop). */
  drop(id: number): void {
    this.removeEntry(id, "drops");
  }

  /** Removes an entry at the caller's request (e.g. an upstream answer contradicted by feedback). */
  remove(id: number): void {
    this.removeEntry(id, "removals");
  }

  /** Throws a STATE error if capacity, the index or the slot bookkeeping disagree. */
  checkInvariants(): void {
    const bad = (m: string) => fail("STATE", `LabeledMemory invariant broken: ${m}`);
    if (this.size > this.capacityItems) bad(`size ${this.size} exceeds capacityItems ${this.capacityItems}`);
    if (this.bytes > this.capacityBytes)
      bad(`bytes ${this.bytes} exceed capacityBytes ${this.capacityBytes}`);
    if (this.index.size !== this.size)
      bad(`index holds ${this.index.size} vectors, memory ${this.size} entries`);
    let used = 0;
    for (let s = 0; s < this.highWater; s++) {
      const id = this.slots.slotIds[s];
      if (id < 0) continue;
      used++;
      if (this.slotOf.get(id) !== s) bad(`entry ${id} in slot ${s} is not mapped to it`);
      if (!this.index.has(id)) bad(`entry ${id} is missing from the index`);
      const l = this.slots.labels[s];
      if (!(l >= 0 && l < this.numClasses)) bad(`entry ${id} has label ${l}`);
      const w = this.slots.weights[s];
      if (!(w >= 0 && Number.isFinite(w))) bad(`entry ${id} has weight ${w}`);
    }
    if (used !== this.size) bad(`${used} occupied slots for ${this.size} entries`);
    this.policy.checkInvariants(this);
  }

  private fitsOneMore(): boolean {
    if (this.size + 1 > this.capacityItems) return false;
    if (!Number.isFinite(this.capacityBytes)) return true;
    // The next entry's bytes, estimated from the index's average (exact for flat indexes).
    const perItem = this.size > 0 ? this.index.bytes / this.size : this.dim * 4;
    return this.bytes + perItem + ENTRY_METADATA_BYTES <= this.capacityBytes;
  }

  private insert(key: Float32Array, label: number, source: ExampleSource, weight: number): number {
    const id = this.nextId++;
    this.place(id, key, label, SOURCE_CODE[source], weight, this.clock);
    return id;
  }

  /** Puts an entry in the index and a free slot (the one place slots are filled). */
  private place(
    id: number,
    key: Float32Array,
    label: number,
    sourceCode: number,
    weight: number,
    addedAt: number,
  ): number {
    this.idBuf[0] = id;
    this.lastResult = null;
    this.index.add(this.idBuf, key);
    let s = this.freeSlots.pop();
    if (s === undefined) {
      if (this.highWater === this.slots.slotIds.length)
        this.slots = growSlots(this.slots, Math.max(16, this.highWater * 2));
      s = this.highWater++;
    }
    const sl = this.slots;
    sl.slotIds[s] = id;
    sl.labels[s] = label;
    sl.sources[s] = sourceCode;
    sl.weights[s] = weight;
    sl.addedAt[s] = addedAt;
    sl.lastUsedAt[s] = addedAt;
    sl.uses[s] = 0;
    this.slotOf.set(id, s);
    return s;
  }

  /** The id bookkeeping a snapshot carries besides the public slots, stats and clock. */
  layout(): { freeSlots: number[]; nextId: number } {
    return { freeSlots: [...this.freeSlots], nextId: this.nextId };
  }

  /** Sets the next id to hand out (restoring learned state whose entries are restored apart). */
  restoreIdCounter(nextId: number): void {
    check(
      Number.isInteger(nextId) && nextId >= 0,
      () => `restoreIdCounter: expected an integer >= 0, got ${nextId}`,
    );
    this.nextId = nextId;
  }

  /**
   * Makes this memory's content a snapshot's (memory/snapshot.ts checks the snapshot first): the
   * index (`index`, or null to keep this one, which must then already hold exactly the stored ids),
   * the slots up to `highWater`, the free list, the id counter and the clock. The policy's state and
   * the counters are restored by the caller.
   */
  restoreLayout(o: {
    index: Index | null;
    slots: MemorySlots;
    highWater: number;
    freeSlots: readonly number[];
    nextId: number;
    clock: number;
  }): void {
    this.lastResult = null;
    if (o.index) this.index = o.index;
    const slots = allocSlots(Math.max(o.highWater, this.slots.slotIds.length));
    for (const k of Object.keys(slots) as (keyof MemorySlots)[]) slots[k].set(o.slots[k]);
    this.slots = slots;
    this.highWater = o.highWater;
    this.clock = o.clock;
    this.slotOf.clear();
    for (let s = 0; s < o.highWater; s++) if (slots.slotIds[s] >= 0) this.slotOf.set(slots.slotIds[s], s);
    this.freeSlots.length = 0;
    this.freeSlots.push(...o.freeSlots);
    this.nextId = o.nextId;
  }

  /**
   * Stores an entry under its own id outside the offer loop (no admission decision, no eviction),
   * for crash recovery from a store of rows; returns its slot. The caller tells the policy.
   */
  reinsert(
    id: number,
    key: Float32Array,
    label: number,
    sourceCode: number,
    weight: number,
    addedAt: number,
  ): number {
    if (this.slotOf.has(id)) fail("DUPLICATE_ID", `memory entry ${id} is already stored`);
    if (this.size + 1 > this.capacityItems)
      fail("CAPACITY", `memory is full (${this.size} of ${this.capacityItems}); cannot put back entry ${id}`);
    if (!(label >= 0 && label < this.numClasses && (sourceCode === 0 || sourceCode === 1)))
      fail("BAD_FILE", `stored entry ${id}: label ${label} or source ${sourceCode} out of range`);
    const s = this.place(id, key, label, sourceCode, weight, addedAt);
    this.nextId = Math.max(this.nextId, id + 1);
    return s;
  }

  private removeEntry(id: number, counter: "evictions" | "drops" | "removals"): void {
    const s = this.slot(id);
    this.idBuf[0] = id;
    this.lastResult = null;
    this.index.remove(this.idBuf);
    this.slots.slotIds[s] = -1;
    this.slotOf.delete(id);
    this.freeSlots.push(s);
    this.stats[counter]++;
    this.removedLog?.push(id);
    this.policy.onRemove(id, this);
  }
}

function allocSlots(n: number): MemorySlots {
  const slotIds = new Float64Array(n).fill(-1);
  return {
    slotIds,
    labels: new Int32Array(n),
    sources: new Uint8Array(n),
    weights: new Float32Array(n),
    addedAt: new Float64Array(n),
    lastUsedAt: new Float64Array(n),
    uses: new Float64Array(n),
  };
}

function growSlots(old: MemorySlots, n: number): MemorySlots {
  const s = allocSlots(n);
  s.slotIds.set(old.slotIds);
  s.labels.set(old.labels);
  s.sources.set(old.sources);
  s.weights.set(old.weights);
  s.addedAt.set(old.addedAt);
  s.lastUsedAt.set(old.lastUsedAt);
  s.uses.set(old.uses);
  return s;
}

/** How an unexpected first argument reads in a message: "a Float32Array", "the number 3", "null". */
function describeFirst(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `the ${typeof v} ${JSON.stringify(v)}`;
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
