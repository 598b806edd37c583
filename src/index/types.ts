/**
 * The Index contract every k-NN memory in Mammals is built on. Ids are the caller's (non-negative
 * safe integers); distances are comparable within one metric: squared Euclidean for "l2",
 * negative inner product for "ip" (smaller is closer), 1 - cosine for "cos".
 */
import type { Metric } from "../core/vectors.js";

export interface SearchResult {
  /** Neighbour ids, closest first (ties by smaller id). */
  ids: number[];
  /** Distances matching `ids`. */
  distances: number[];
}

/** Per-call knobs; each implementation reads the ones it understands and ignores none silently. */
export interface SearchOptions {
  /** Only ids for which this returns true are returned. */
  filter?: (id: number) => boolean;
  /** HNSW: size of the dynamic candidate list at search time. */
  efSearch?: number;
  /** flat-i8: how many int8 candidates to re-rank with exact f32 distances (0 = none). */
  rerank?: number;
}

export interface Index {
  /** Factory name of the implementation, e.g. "flat", "flat-i8", "hnsw". */
  readonly kind: string;
  /** The spec string that recreates this index's configuration, e.g. "hnsw:M=16,efConstruction=200". */
  readonly spec: string;
  readonly dim: number;
  readonly metric: Metric;
  /** Number of stored vectors. */
  readonly size: number;
  /** Bytes the stored vectors and the index structure occupy (estimated where a native library hides it). */
  readonly bytes: number;
  /** Adds vectors (row-major, ids.length x dim). Throws DUPLICATE_ID if an id is stored already. */
  add(ids: ArrayLike<number>, vectors: Float32Array): void;
  /** Removes ids. Throws UNKNOWN_ID for an id that is not stored (and removes nothing). */
  remove(ids: ArrayLike<number>): void;
  has(id: number): boolean;
  /** The k nearest stored vectors (fewer if fewer are stored or pass the filter). */
  search(query: Float32Array, k: number, options?: SearchOptions): SearchResult;
  /** Row-major queries (n x dim); one result per query. */
  searchBatch(queries: Float32Array, k: number, options?: SearchOptions): SearchResult[];
  /** A self-describing binary snapshot; `deserializeIndex` in index/factory restores it. */
  serialize(): Uint8Array;
}
