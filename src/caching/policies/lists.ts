/**
 * Bookkeeping shared by the list-based cache policies: an O(1) recency list over catalog ids (the
 * LRU/FIFO order), an indexed min-heap (LFU), and helpers every policy needs (the exact objects
 * of a request, whether the answer already fetched an object).
 */
import { fail } from "../../core/errors.js";
import type { StoredSet } from "../stored-set.js";
import type { CacheContext, ServedAnswer, SimRequest } from "../types.js";

/** Doubly linked list over ids 0..n-1; front = most recent. */
export class RecencyList {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly inList: Uint8Array;
  private head = -1;
  private tail = -1;
  size = 0;

  constructor(n: number) {
    this.prev = new Int32Array(n);
    this.next = new Int32Array(n);
    this.inList = new Uint8Array(n);
  }

  has(id: number): boolean {
    return this.inList[id] === 1;
  }

  pushFront(id: number): void {
    if (this.inList[id]) fail("STATE", `recency list: ${id} is listed already`);
    this.inList[id] = 1;
    this.prev[id] = -1;
    this.next[id] = this.head;
    if (this.head >= 0) this.prev[this.head] = id;
    this.head = id;
    if (this.tail < 0) this.tail = id;
    this.size++;
  }

  remove(id: number): void {
    if (!this.inList[id]) fail("STATE", `recency list: ${id} is not listed`);
    const p = this.prev[id];
    const n = this.next[id];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.inList[id] = 0;
    this.size--;
  }

  moveToFront(id: number): void {
    if (this.head === id) return;
    this.remove(id);
    this.pushFront(id);
  }

  /** Least recent id, -1 when empty. */
  back(): number {
    return this.tail;
  }

  /** Ids front to back. */
  toArray(): number[] {
    const out: number[] = [];
    for (let id = this.head; id >= 0; id = this.next[id]) out.push(id);
    return out;
  }
}

/** Min-heap of ids keyed by (primary, secondary) with O(log n) update of any member. */
export class IndexedMinHeap {
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  size = 0;

  constructor(
    n: number,
    capacity: number,
    private readonly key1: Float64Array,
    private readonly key2: Float64Array,
  ) {
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(n).fill(-1);
  }

  has(id: number): boolean {
    return this.pos[id] >= 0;
  }

  top(): number {
    return this.size > 0 ? this.heap[0] : -1;
  }

  push(id: number): void {
    const i = this.size++;
    this.heap[i] = id;
    this.pos[id] = i;
    this.up(i);
  }

  remove(id: number): void {
    const i = this.pos[id];
    if (i < 0) fail("STATE", `heap: ${id} is not a member`);
    const last = --this.size;
    this.pos[id] = -1;
    if (i === last) return;
    const moved = this.heap[last];
    this.heap[i] = moved;
    this.pos[moved] = i;
    this.up(i);
    this.down(this.pos[moved]);
  }

  /** Call after the keys of `id` changed. */
  update(id: number): void {
    const i = this.pos[id];
    this.up(i);
    this.down(this.pos[id]);
  }

  private less(a: number, b: number): boolean {
    const k1 = this.key1;
    return k1[a] < k1[b] || (k1[a] === k1[b] && this.key2[a] < this.key2[b]);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) return;
      const r = l + 1;
      const c = r < this.size && this.less(h[r], h[l]) ? r : l;
      if (!this.less(h[c], h[i])) return;
      this.swap(i, c);
      i = c;
    }
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    const a = h[i];
    h[i] = h[j];
    h[j] = a;
    this.pos[h[i]] = i;
    this.pos[h[j]] = j;
  }
}

/** Whether `answer` fetched object `id` (so inserting it costs no extra fetch). */
export function fetchedByAnswer(answer: ServedAnswer, id: number): boolean {
  for (let j = 0; j < answer.count; j++) if (answer.ids[j] === id && answer.local[j] === 0) return true;
  return false;
}

/** The exact answer's objects: the first k catalog neighbours of the request. */
export function exactObjects(req: SimRequest, k: number): Int32Array {
  return req.catalog.ids.subarray(0, k);
}

/** Common creation checks. */
export function checkContext(name: string, ctx: CacheContext): void {
  if (!Number.isInteger(ctx.capacity) || ctx.capacity < ctx.cost.k)
    fail(
      "INVALID_ARGUMENT",
      `${name}: capacity must be an integer >= k = ${ctx.cost.k} (an answer must fit), got ${ctx.capacity}`,
    );
}

/** Throws STATE unless the list holds exactly the stored ids. */
export function checkListMatchesStore(owner: string, list: RecencyList, store: StoredSet): void {
  if (list.size !== store.size)
    fail("STATE", `${owner}: list holds ${list.size} objects, store ${store.size}`);
  for (const id of list.toArray())
    if (!store.has(id)) fail("STATE", `${owner}: listed object ${id} is not stored`);
  if (store.size > store.capacity)
    fail("STATE", `${owner}: ${store.size} stored > capacity ${store.capacity}`);
}
