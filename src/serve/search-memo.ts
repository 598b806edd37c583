/**
 * One feedback searches the memory several times for the same key: the local side predicts the
 * input (a k-NN search), learns the combination rule from it (the same search again) and offers
 * it to the memory (and again), with the memory unchanged in between. A {@link SearchMemo} wraps
 * the memory's index and, inside {@link SearchMemo.during}, answers a search for the query and k
 * of the previous one from that previous result, as long as the index has not changed since (any
 * add or remove forgets it). An index answers the same query on the same content the same way, so
 * what the memory sees is exactly what it would have seen; only the repeated native or SIMD scan
 * is saved. Outside `during` (predictions) every search goes to the index.
 */
import type { Metric } from "../core/vectors.js";
import type { Index, SearchOptions, SearchResult } from "../index/types.js";

export class SearchMemo implements Index {
  /** Searches answered from the previous result, and searches passed to the index while armed. */
  hits = 0;
  misses = 0;
  private armed = 0;
  private readonly lastQuery: Float32Array;
  private lastK = -1;
  private last: SearchResult | null = null;

  constructor(readonly inner: Index) {
    this.lastQuery = new Float32Array(inner.dim);
  }

  get kind(): string {
    return this.inner.kind;
  }
  get spec(): string {
    return this.inner.spec;
  }
  get dim(): number {
    return this.inner.dim;
  }
  get metric(): Metric {
    return this.inner.metric;
  }
  get size(): number {
    return this.inner.size;
  }
  get bytes(): number {
    return this.inner.bytes;
  }

  /** Runs `f` with repeated searches for the same query answered once; forgets them after. */
  during<T>(f: () => T): T {
    this.armed++;
    try {
      return f();
    } finally {
      if (--this.armed === 0) this.last = null;
    }
  }

  search(query: Float32Array, k: number, options?: SearchOptions): SearchResult {
    if (this.armed === 0 || options !== undefined) return this.inner.search(query, k, options);
    if (this.last !== null && k === this.lastK && this.isLastQuery(query)) {
      this.hits++;
      return { ids: this.last.ids.slice(), distances: this.last.distances.slice() };
    }
    this.misses++;
    const r = this.inner.search(query, k);
    // A bad query threw above; only a completed search is remembered.
    this.lastQuery.set(query);
    this.lastK = k;
    this.last = { ids: r.ids.slice(), distances: r.distances.slice() };
    return r;
  }

  searchBatch(queries: Float32Array, k: number, options?: SearchOptions): SearchResult[] {
    return this.inner.searchBatch(queries, k, options);
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    this.last = null;
    this.inner.add(ids, vectors);
  }

  remove(ids: ArrayLike<number>): void {
    this.last = null;
    this.inner.remove(ids);
  }

  has(id: number): boolean {
    return this.inner.has(id);
  }

  serialize(): Uint8Array {
    return this.inner.serialize();
  }

  private isLastQuery(q: Float32Array): boolean {
    const last = this.lastQuery;
    if (q.length !== last.length) return false;
    for (let i = 0; i < q.length; i++) if (q[i] !== last[i]) return false;
    return true;
  }
}
