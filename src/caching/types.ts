/**
 * The similarity-caching policy contract (policies register in cache-policies.ts).
 *
 * Model (Garetto et al., "Similarity Caching: Theory and Algorithms"; Si Salem et al., AÇAI): a catalog of N vectors (objects); a small cache
 * stores at most h of them (always catalog ids, so every policy's state is comparable); a request is
 * a vector x. Distances d are Euclidean (NOT squared) unless a catalog says otherwise in
 * `distanceName`, and every report prints that name.
 *
 * Two settings share one accounting loop (src/caching/simulator.ts):
 * - "single" (Garetto et al.; `--k 1 --cr C`): cost(x, S) = min(C_r, min_{y in S} C_a(x, y)) with
 *   C_a = approx(d). Served locally (a hit) iff the nearest stored y has C_a(x, y) < C_r; otherwise
 *   the remote answer is the nearest catalog object of x, fetched at cost C_r.
 * - "knn" (AÇAI; `--k K --cf C`): the user gets k DISTINCT objects, each at its cheapest available
 *   copy: c_d(x, o) = approx(d(x, o)) for a stored o, c_d(x, o) + c_f for a fetched one; the answer
 *   is the k cheapest objects under that per-object cost. A hit means all k were local. (AÇAI's
 *   gradient uses the augmented-catalog relaxation instead; that is the policy's business.)
 *
 * Per request the loop does, for every policy, in this order:
 *   1. once for all policies: `request.catalog` = the K nearest catalog objects of x
 *      (K = max(k, --neighbours, every policy's `catalogNeighbours`)), from the catalog index (a
 *      request equal to catalog row r gets r itself when K = 1, else r's memoized list);
 *   2. serve: reads `policy.store` (nearest stored objects, bounded by the useful radius), builds
 *      the {@link ServedAnswer} and charges its cost;
 *   3. `policy.update(request, answer)`: the policy changes its stored set ONLY through
 *      `policy.store` (add/remove), and returns how many objects it inserted that the answer had
 *      not fetched already (movement: reported as "moved", charged c_f (knn) or C_r (single) in
 *      avgCostWithMovement);
 *   4. at the end of the run: `policy.checkInvariants()`, plus `store.checkConsistency()`.
 *
 * Objects passed to `update` (request, answer, their typed arrays) are reused by the loop: read
 * them during the call, copy what you keep.
 */
import type { Index } from "../index/types.js";
import type { StoredSet } from "./stored-set.js";

/** Neighbour list, closest first; only the first `count` entries of the arrays are valid. */
export interface Neighbours {
  count: number;
  ids: Int32Array;
  /** Distances matching `ids` in the catalog's distance (Euclidean, not squared). */
  dists: Float64Array;
}

/** The objects a cache stores come from here. Row i of `vectors` is object i. */
export interface Catalog {
  /** The spec it was built from, e.g. "fashion-mnist", "gauss:n=1000,dim=8,seed=1", "sift.fvecs". */
  readonly name: string;
  readonly n: number;
  readonly dim: number;
  /** Human-readable distance used by every cost, e.g. "euclidean (L2, not squared)". */
  readonly distanceName: string;
  /** n x dim row-major. */
  readonly vectors: Float32Array;
  /** Index over all objects (ids 0..n-1), metric "l2" (its distances are squared; use `nearest`). */
  readonly index: Index;
  /** Index spec, e.g. "flat" or "hnsw:M=16,efSearch=64"; "flat" makes every answer exact. */
  readonly indexSpec: string;
  /** Seconds spent building `index` (0 until first use; a one-off cost, not a per-request one). */
  readonly buildSeconds?: number;
  /** Row i as a view (no copy). */
  row(i: number): Float32Array;
  /** d(x, object i). */
  distance(x: Float32Array, i: number): number;
  /** The k nearest catalog objects of x (Euclidean distances), written into `out`. */
  nearest(x: Float32Array, k: number, out: Neighbours): Neighbours;
}

export type CostSetting = "single" | "knn";

export interface CostModel {
  readonly setting: CostSetting;
  /** Objects per answer (1 in the single setting). */
  readonly k: number;
  /** Fetch cost per object (knn setting). */
  readonly cf: number;
  /** Remote (retrieval) cost of a whole answer (single setting). */
  readonly cr: number;
  /** "identity" | "power:P" | "step:R" (step: 0 within radius R, 1 beyond). */
  readonly approxSpec: string;
  /** C_a / c_d as a non-decreasing function of the distance, approx(0) = 0. */
  approx(d: number): number;
  /**
   * Largest distance whose approximation cost is still < `costBound` (Infinity if all are,
   * -1 if none): a stored object farther than this can never be served, so lookups stop there.
   */
  maxDistanceBelow(costBound: number): number;
}

/** One request as every policy sees it (reused by the loop; valid during the call only). */
export interface SimRequest {
  /** 0-based position in the trace. */
  t: number;
  x: Float32Array;
  /** The K nearest catalog objects of x, shared by all policies (see the file comment). */
  catalog: Neighbours;
  /** The catalog row x equals exactly (noise-free requests), else -1 or absent. */
  row?: number;
}

/** What the loop served for one request from one policy's stored set. */
export interface ServedAnswer {
  /** Objects in the answer (k, or 1 in the single setting). */
  count: number;
  /** Served distinct objects, cheapest first. */
  ids: Int32Array;
  /** 1 where the object was served from the cache, 0 where it was fetched. */
  local: Uint8Array;
  /** Per-object cost: c_d (local) or c_d + c_f (fetched) in knn; C_a or C_r in single. */
  costs: Float64Array;
  /** Sum of `costs`. */
  cost: number;
  /** Every object served locally. */
  hit: boolean;
  /** Objects fetched to serve this answer (they may be inserted at no movement cost). */
  fetched: number;
  /**
   * The nearest stored objects of x that the loop looked up (up to max(k, policy.storedNeighbours),
   * closest first, only those within the useful radius): y* and, for qlru-dc / duel, the runner-up.
   */
  stored: Neighbours;
}

/** A similarity-caching policy. It owns a {@link StoredSet}; the loop reads it to serve. */
export interface CachePolicy {
  readonly name: string;
  /** Canonical spec with every parameter spelled out. */
  readonly spec: string;
  /** h: the most objects the store may hold. */
  readonly capacity: number;
  /** The integral cache: the only place a policy's stored objects live. */
  readonly store: StoredSet;
  /** Catalog neighbours this policy wants in `request.catalog` (the loop takes the max with k). */
  readonly catalogNeighbours?: number;
  /** Nearest stored objects this policy reads in `answer.stored` (default 1; the loop takes the max with k). */
  readonly storedNeighbours?: number;
  /**
   * Adapts the stored set after serving; returns the number of objects inserted that
   * `answer` had not fetched (movement cost).
   */
  update(request: SimRequest, answer: ServedAnswer): number;
  /** Throws a STATE error if capacity was exceeded or the policy's bookkeeping disagrees with `store`. */
  checkInvariants(): void;
}

/** Replays the trace before the run, for offline references (greedy, static-opt). */
export interface OfflineTrace {
  readonly count: number;
  /** Request vectors in trace order (each view valid until the next step). */
  requests(): Iterable<Float32Array>;
}

/** What the registry passes to a cache policy's `create(params, context)`. */
export interface CacheContext {
  capacity: number;
  catalog: Catalog;
  cost: CostModel;
  /** Seed for every random choice the policy makes. */
  seed: number;
  /** Present when the trace can be replayed (always in the simulator); offline policies need it. */
  offline?: OfflineTrace;
}
