/**
 * Exact-match baselines: lru, fifo, lfu, random. They key their state on the request's EXACT
 * answer (its k nearest catalog objects): an exact object already stored is a hit for their
 * bookkeeping, any other is inserted. Serving is the shared loop's, so when a stored neighbour is
 * close enough they are still served approximately; inserting an exact object the answer did not
 * fetch counts as movement.
 */
import { fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { formatParams, type ParamSchema, type ParamValues } from "../../core/spec.js";
import { BOTH_SETTINGS, cachePolicies } from "../cache-policies.js";
import { StoredSet } from "../stored-set.js";
import type { CacheContext, CachePolicy, ServedAnswer, SimRequest } from "../types.js";
import {
  checkContext,
  checkListMatchesStore,
  fetchedByAnswer,
  IndexedMinHeap,
  RecencyList,
} from "./lists.js";

export function specOf(name: string, params: Record<string, unknown>): string {
  const p = formatParams(params);
  return p ? `${name}:${p}` : name;
}

/** The exact-match update loop; subclasses supply hit, admission and eviction rules. */
export abstract class ExactMatchPolicy implements CachePolicy {
  readonly store: StoredSet;
  readonly capacity: number;
  protected readonly k: number;

  constructor(
    readonly name: string,
    readonly spec: string,
    ctx: CacheContext,
  ) {
    checkContext(name, ctx);
    this.capacity = ctx.capacity;
    this.k = ctx.cost.k;
    this.store = new StoredSet(ctx.catalog, ctx.capacity);
  }

  update(req: SimRequest, answer: ServedAnswer): number {
    let moved = 0;
    const ids = req.catalog.ids;
    for (let j = 0; j < this.k; j++) this.onRequest(ids[j], req.t);
    // Nearest last, so that it ends up the most recent.
    for (let j = this.k - 1; j >= 0; j--) {
      const o = ids[j];
      if (this.store.has(o)) {
        this.onHit(o, req.t);
        continue;
      }
      if (this.store.full) {
        const v = this.victim(o);
        if (v < 0) continue;
        this.store.remove(v);
        this.onEvict(v);
      }
      this.store.add(o);
      this.onInsert(o, req.t);
      if (!fetchedByAnswer(answer, o)) moved++;
    }
    return moved;
  }

  /** Sees every exact object of every request (before hits and insertions). */
  protected onRequest(_id: number, _t: number): void {}
  protected abstract onHit(id: number, t: number): void;
  /** The stored id to evict for `incoming`, or -1 to not admit it. */
  protected abstract victim(incoming: number): number;
  protected abstract onEvict(id: number): void;
  protected abstract onInsert(id: number, t: number): void;
  abstract checkInvariants(): void;
}

class Lru extends ExactMatchPolicy {
  protected readonly list: RecencyList;
  constructor(name: string, spec: string, ctx: CacheContext) {
    super(name, spec, ctx);
    this.list = new RecencyList(ctx.catalog.n);
  }
  protected onHit(id: number): void {
    this.list.moveToFront(id);
  }
  protected victim(): number {
    return this.list.back();
  }
  protected onEvict(id: number): void {
    this.list.remove(id);
  }
  protected onInsert(id: number): void {
    this.list.pushFront(id);
  }
  checkInvariants(): void {
    checkListMatchesStore(this.spec, this.list, this.store);
  }
}

class Fifo extends Lru {
  protected override onHit(): void {}
}

const LFU_PARAMS = {
  admit: {
    type: "enum",
    default: "always",
    values: ["always", "frequent"],
    description:
      "always: every miss is inserted, evicting the least frequent (in-cache LFU); frequent: only if requested more often than it (perfect LFU)",
  },
} satisfies ParamSchema;

class Lfu extends ExactMatchPolicy {
  private readonly counts: Float64Array;
  private readonly lastUse: Float64Array;
  private readonly heap: IndexedMinHeap;
  constructor(
    private readonly p: ParamValues<typeof LFU_PARAMS>,
    ctx: CacheContext,
  ) {
    super("lfu", specOf("lfu", p), ctx);
    this.counts = new Float64Array(ctx.catalog.n);
    this.lastUse = new Float64Array(ctx.catalog.n);
    this.heap = new IndexedMinHeap(ctx.catalog.n, ctx.capacity, this.counts, this.lastUse);
  }
  protected override onRequest(id: number, t: number): void {
    this.counts[id]++;
    this.lastUse[id] = t;
    if (this.heap.has(id)) this.heap.update(id);
  }
  protected onHit(): void {}
  protected victim(incoming: number): number {
    const v = this.heap.top();
    if (this.p.admit === "frequent" && this.counts[incoming] <= this.counts[v]) return -1;
    return v;
  }
  protected onEvict(id: number): void {
    this.heap.remove(id);
  }
  protected onInsert(id: number): void {
    this.heap.push(id);
  }
  checkInvariants(): void {
    checkHeapMatchesStore(this.spec, this.heap, this.store);
  }
}

function checkHeapMatchesStore(owner: string, heap: IndexedMinHeap, store: StoredSet): void {
  if (heap.size !== store.size) fail("STATE", `${owner}: heap holds ${heap.size}, store ${store.size}`);
  for (const id of store.ids())
    if (!heap.has(id)) fail("STATE", `${owner}: stored object ${id} is missing from the heap`);
}

class RandomEviction extends ExactMatchPolicy {
  private readonly rng: Rng;
  constructor(seed: number, ctx: CacheContext) {
    super("random", "random", ctx);
    this.rng = new Rng(seed);
  }
  protected onHit(): void {}
  protected victim(): number {
    const ids = this.store.ids();
    return ids[this.rng.int(ids.length)];
  }
  protected onEvict(): void {}
  protected onInsert(): void {}
  checkInvariants(): void {
    if (this.store.size > this.capacity)
      fail("STATE", `${this.spec}: ${this.store.size} stored > capacity ${this.capacity}`);
  }
}

cachePolicies.register({
  name: "lru",
  capabilities: BOTH_SETTINGS,
  summary: "exact-match LRU: the request's exact objects are refreshed or inserted, the least recent evicted",
  params: {},
  create: (_p, ctx: CacheContext): CachePolicy => new Lru("lru", "lru", ctx),
});

cachePolicies.register({
  name: "fifo",
  capabilities: BOTH_SETTINGS,
  summary: "exact-match FIFO: missing exact objects are inserted, the oldest evicted; hits change nothing",
  params: {},
  create: (_p, ctx: CacheContext): CachePolicy => new Fifo("fifo", "fifo", ctx),
});

cachePolicies.register({
  name: "lfu",
  capabilities: BOTH_SETTINGS,
  summary: "exact-match LFU with request counts kept for every catalog object (ties: least recent)",
  params: LFU_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new Lfu(p, ctx),
});

cachePolicies.register({
  name: "random",
  capabilities: BOTH_SETTINGS,
  summary: "exact-match, evicts a uniformly random stored object (seeded)",
  params: {},
  create: (_p, ctx: CacheContext): CachePolicy => new RandomEviction(ctx.seed, ctx),
});
