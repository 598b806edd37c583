/**
 * What changed in an edge node's memory since the last durable commit. The memory's admission
 * policy is wrapped by a {@link JournaledPolicy}, which sees every offer (observe), insert and
 * removal the memory's one offer loop performs; vote-weight and source changes (a confirmed
 * upstream answer, ib3 accepting an entry) are found by comparing the slots with a shadow copy
 * taken at the previous commit, which costs one pass over typed arrays.
 *
 * The journal also keeps a copy of every stored entry's key (the Index contract has no way to read
 * a vector back): rows written to the store carry it, and the memory digest hashes it.
 */
import type { AdmissionOffer, AdmissionPolicy } from "../memory/admission/types.js";
import type { ExampleSource, LabeledMemory } from "../memory/labeled-memory.js";

export const SOURCE_CODES: Record<ExampleSource, number> = { upstream: 0, feedback: 1 };

export interface ItemRow {
  id: number;
  label: number;
  /** 0 upstream, 1 feedback (as in LabeledMemory's slots). */
  source: number;
  weight: number;
  addedAt: number;
  key: Float32Array;
}

export interface ItemUpdate {
  id: number;
  source: number;
  weight: number;
}

export interface MemoryChanges {
  inserts: ItemRow[];
  updates: ItemUpdate[];
  removes: number[];
}

/** Delegates every decision to `inner` and tells the journal about offers, inserts and removals. */
export class JournaledPolicy implements AdmissionPolicy {
  constructor(
    readonly inner: AdmissionPolicy,
    private readonly journal: MemoryJournal,
  ) {}
  get name(): string {
    return this.inner.name;
  }
  get spec(): string {
    return this.inner.spec;
  }
  trust(source: ExampleSource): number {
    return this.inner.trust(source);
  }
  observe(offer: AdmissionOffer, memory: LabeledMemory): void {
    // Any offer may change records, weights or entries: the answer waits for a commit.
    if (this.journal.track) this.journal.dirty = true;
    this.inner.observe(offer, memory);
  }
  admit(offer: AdmissionOffer, memory: LabeledMemory): boolean {
    return this.inner.admit(offer, memory);
  }
  victim(offer: AdmissionOffer, memory: LabeledMemory): number {
    return this.inner.victim(offer, memory);
  }
  onInsert(id: number, offer: AdmissionOffer, memory: LabeledMemory): void {
    this.inner.onInsert(id, offer, memory);
    this.journal.inserted(id, offer.key);
  }
  onRemove(id: number, memory: LabeledMemory): void {
    this.inner.onRemove(id, memory);
    this.journal.removed(id);
  }
  checkInvariants(memory: LabeledMemory): void {
    this.inner.checkInvariants(memory);
  }
}

export class MemoryJournal {
  /**
   * @param track record changes for a store (false: keep only the keys, for the digest; a node
   * without a data directory has nothing to commit).
   */
  constructor(readonly track = true) {}
  /** Key of every stored entry. */
  readonly keys = new Map<number, Float32Array>();
  /** Something durable changed since the last take(). */
  dirty = false;
  private memory: LabeledMemory | null = null;
  private readonly insertedIds = new Set<number>();
  private readonly removedIds = new Set<number>();
  private shadowIds = new Float64Array(0);
  private shadowSources = new Uint8Array(0);
  private shadowWeights = new Float32Array(0);

  /** The wrapper to construct the memory with. */
  wrap(policy: AdmissionPolicy): JournaledPolicy {
    return new JournaledPolicy(policy, this);
  }

  /** The memory whose policy was wrapped (set once it is constructed). */
  attach(memory: LabeledMemory): void {
    this.memory = memory;
  }

  inserted(id: number, key: Float32Array): void {
    this.keys.set(id, key.slice());
    if (!this.track) return;
    this.insertedIds.add(id);
    this.dirty = true;
  }

  removed(id: number): void {
    this.keys.delete(id);
    if (!this.track) return;
    // Inserted and removed between two commits: the store never needs to hear of it.
    if (!this.insertedIds.delete(id)) this.removedIds.add(id);
    this.dirty = true;
  }

  /** The changes since the last call, as rows for the store; clears the journal. */
  take(): MemoryChanges {
    const m = this.mustMemory();
    const out: MemoryChanges = { inserts: [], updates: [], removes: [...this.removedIds] };
    const { slotIds, labels, sources, weights, addedAt } = m.slots;
    const hw = m.highWater;
    this.growShadow(hw);
    for (let s = 0; s < hw; s++) {
      const id = slotIds[s];
      if (id < 0) {
        this.shadowIds[s] = -1;
        continue;
      }
      if (this.insertedIds.has(id))
        out.inserts.push({
          id,
          label: labels[s],
          source: sources[s],
          weight: weights[s],
          addedAt: addedAt[s],
          key: this.keys.get(id)!,
        });
      else if (
        this.shadowIds[s] === id &&
        (this.shadowSources[s] !== sources[s] || this.shadowWeights[s] !== weights[s])
      )
        out.updates.push({ id, source: sources[s], weight: weights[s] });
      this.shadowIds[s] = id;
      this.shadowSources[s] = sources[s];
      this.shadowWeights[s] = weights[s];
    }
    this.insertedIds.clear();
    this.removedIds.clear();
    this.dirty = false;
    return out;
  }

  /** After a restore: the stored entries' keys, and a shadow that matches the memory. */
  reset(keys: Iterable<[number, Float32Array]>): void {
    this.keys.clear();
    for (const [id, k] of keys) this.keys.set(id, k);
    this.insertedIds.clear();
    this.removedIds.clear();
    this.shadowIds = new Float64Array(0);
    this.take();
  }

  /**
   * SHA-256 (hex) of the stored entries in id order: per entry its id (f64), label (i32), source
   * (u8), vote weight (f32) and key (f32 x dim), little-endian. Equal digests = equal memories.
   */
  async digest(): Promise<string> {
    const m = this.mustMemory();
    const ids = m.ids().sort((a, b) => a - b);
    const per = 8 + 4 + 1 + 4 + 4 * m.dim;
    const buf = new ArrayBuffer(ids.length * per);
    const view = new DataView(buf);
    const bytes = new Uint8Array(buf);
    let at = 0;
    for (const id of ids) {
      const s = m.slot(id);
      view.setFloat64(at, id, true);
      view.setInt32(at + 8, m.slots.labels[s], true);
      view.setUint8(at + 12, m.slots.sources[s]);
      view.setFloat32(at + 13, m.slots.weights[s], true);
      const key = this.keys.get(id);
      if (key) for (let j = 0; j < m.dim; j++) view.setFloat32(at + 17 + 4 * j, key[j], true);
      at += per;
    }
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  private mustMemory(): LabeledMemory {
    if (!this.memory) throw new Error("MemoryJournal: attach(memory) was not called");
    return this.memory;
  }

  private growShadow(n: number): void {
    if (this.shadowIds.length >= n) return;
    const cap = Math.max(n, this.shadowIds.length * 2, 64);
    const ids = new Float64Array(cap).fill(-1);
    ids.set(this.shadowIds);
    const src = new Uint8Array(cap);
    src.set(this.shadowSources);
    const w = new Float32Array(cap);
    w.set(this.shadowWeights);
    this.shadowIds = ids;
    this.shadowSources = src;
    this.shadowWeights = w;
  }
}
