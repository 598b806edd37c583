/**
 * `hnsw-ts`: an approximate graph index for browsers and edge runtimes, HNSW ("Efficient and
 * robust approximate nearest neighbor search using Hierarchical Navigable Small World graphs",
 * Malkov and Yashunin) in TypeScript, with distances from the WebAssembly SIMD kernels (one call
 * per expanded node: its unvisited neighbours are listed as slots and the kernel reads their rows
 * in place) and the TypeScript kernels as fallback. Same algorithm as hnswlib: a level per node
 * drawn from a seeded geometric law (mL = 1/ln M), greedy descent through the upper levels, a
 * beam of size ef at the bottom, neighbours chosen by the diversity heuristic, and lists that
 * overflow pruned by the same heuristic. M links per node on upper levels, 2M on level 0.
 *
 * Removal is logical (a tombstone): the node keeps routing searches and is never returned, as in
 * hnswlib's markDelete; re-adding an id inserts a new node. Distances returned are recomputed
 * with the exact TypeScript kernels for the k results (for cos, on the normalized vectors that
 * the index stores), so they are comparable with the other kinds. Results are approximate: the
 * tests score recall against the exact index.
 */
import { fail } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { formatParams, type ParamSchema } from "../core/spec.js";
import { TopK } from "../core/topk.js";
import { dot, l2sq, type Metric, norm } from "../core/vectors.js";
import { checkAdd, checkK, checkOptions, checkQueries, checkQuery, checkRemove } from "./common.js";
import { F32Rows } from "./rows.js";
import { decodeIndex, encodeIndex, section } from "./serial.js";
import type { Index, SearchOptions, SearchResult } from "./types.js";
import type { KernelPath } from "./wasm/simd.js";

export const HNSW_TS_SCHEMA = {
  M: { type: "int", default: 16, min: 2, max: 255, description: "links per node (2M on level 0)" },
  efConstruction: {
    type: "int",
    default: 100,
    min: 1,
    description: "beam width while inserting (build quality vs. time)",
  },
  efSearch: {
    type: "int",
    default: 64,
    min: 1,
    description: "beam width while searching (recall vs. speed); per-search option too",
  },
  seed: { type: "int", default: 1, min: 0, description: "seed of the level draws" },
} satisfies ParamSchema;

export interface HnswTsParams {
  M: number;
  efConstruction: number;
  efSearch: number;
  seed: number;
}

const MAX_LEVEL = 16;

/**
 * A binary heap of (distance, node) on typed arrays; `sign` = 1 pops the smallest distance first,
 * -1 the largest (the beam's worst). Grows on demand.
 */
class NodeHeap {
  keys: Float64Array;
  nodes: Int32Array;
  size = 0;
  constructor(
    capacity: number,
    private readonly sign: 1 | -1,
  ) {
    this.keys = new Float64Array(capacity);
    this.nodes = new Int32Array(capacity);
  }
  clear(): void {
    this.size = 0;
  }
  /** The distance at the top (smallest for sign 1, largest for -1). */
  topDist(): number {
    return this.keys[0] * this.sign;
  }
  topNode(): number {
    return this.nodes[0];
  }
  push(dist: number, node: number): void {
    if (this.size === this.keys.length) {
      const k = new Float64Array(this.size * 2);
      k.set(this.keys);
      const n = new Int32Array(this.size * 2);
      n.set(this.nodes);
      this.keys = k;
      this.nodes = n;
    }
    const { keys, nodes } = this;
    const key = dist * this.sign;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] <= key) break;
      keys[i] = keys[p];
      nodes[i] = nodes[p];
      i = p;
    }
    keys[i] = key;
    nodes[i] = node;
  }
  pop(): void {
    const { keys, nodes } = this;
    const n = --this.size;
    if (n === 0) return;
    const key = keys[n];
    const node = nodes[n];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && keys[r] < keys[l] ? r : l;
      if (keys[c] >= key) break;
      keys[i] = keys[c];
      nodes[i] = nodes[c];
      i = c;
    }
    keys[i] = key;
    nodes[i] = node;
  }
}

export class HnswTsIndex implements Index {
  readonly kind = "hnsw-ts";
  readonly dim: number;
  readonly metric: Metric;
  readonly params: HnswTsParams;
  private readonly rows: F32Rows;
  private readonly M0: number;
  /** node -> caller id; live id -> node. */
  private nodeIds: Float64Array;
  private readonly nodeOf = new Map<number, number>();
  private deleted: Uint8Array;
  private levels: Uint8Array;
  /** Level-0 links: node * (M0 + 1) holds the count, then the neighbours. */
  private links0: Int32Array;
  /** Upper levels of a node with level L >= 1: (L) x (M + 1), level l at (l - 1) * (M + 1). */
  private upper: (Int32Array | undefined)[] = [];
  /** Nodes inserted (removed ones included). */
  private count = 0;
  private entry = -1;
  private maxLevel = -1;
  private rng: Rng;
  private visited: Uint32Array;
  private epoch = 0;
  private readonly candidates = new NodeHeap(256, 1);
  private readonly beam = new NodeHeap(256, -1);
  /** Distance batches: slots listed in `slotBuf` at `slotAt`, results in `outBuf` at `outAt`. */
  private slotBuf: Int32Array;
  private outBuf: Float32Array;
  private slotAt = 0;
  private outAt = 0;
  /** The current query: float offset in `qArr` (TypeScript path) or byte address (heap). */
  private qArr: Float32Array = new Float32Array(0);
  private qOff = 0;
  private qAddr = 0;
  private readonly qNormalized: Float32Array;

  constructor(dim: number, metric: Metric = "l2", params: Partial<HnswTsParams> = {}, capacity = 16) {
    this.dim = dim;
    this.metric = metric;
    this.params = { M: 16, efConstruction: 100, efSearch: 64, seed: 1, ...params };
    const { M } = this.params;
    if (!Number.isInteger(M) || M < 2 || M > 255)
      fail("INVALID_ARGUMENT", `hnsw-ts: M must be an integer in [2, 255], got ${M}`);
    this.M0 = 2 * M;
    const cap = Math.max(1, capacity);
    this.rows = new F32Rows(dim, cap);
    this.nodeIds = new Float64Array(cap);
    this.deleted = new Uint8Array(cap);
    this.levels = new Uint8Array(cap);
    this.links0 = new Int32Array(cap * (this.M0 + 1));
    this.visited = new Uint32Array(cap);
    this.rng = new Rng(this.params.seed);
    this.qNormalized = new Float32Array(dim);
    this.slotBuf = new Int32Array(this.M0 + 2);
    this.outBuf = new Float32Array(this.M0 + 2);
    this.refreshViews();
  }

  get spec(): string {
    return `hnsw-ts:${formatParams({ ...this.params })}`;
  }

  /** The distance path ("wasm-simd" or "typescript"). */
  get kernel(): KernelPath {
    return this.rows.path;
  }

  get size(): number {
    return this.nodeOf.size;
  }

  get bytes(): number {
    let upper = 0;
    for (let i = 0; i < this.count; i++) upper += this.upper[i]?.byteLength ?? 0;
    return (
      this.rows.bytes(this.count) + this.count * (8 + 2 + 4 * (this.M0 + 1) + 4) + upper + this.size * 24
    );
  }

  has(id: number): boolean {
    return this.nodeOf.has(id);
  }

  /** Views into the kernel heap are detached when it grows: take fresh ones. */
  private refreshViews(): void {
    const heap = this.rows.heap;
    if (heap) {
      this.slotBuf = heap.i32;
      this.outBuf = heap.f32;
      this.slotAt = this.rows.slotsAt >> 2;
      this.outAt = this.rows.outAt >> 2;
    }
  }

  private grow(need: number): void {
    const cap = this.nodeIds.length;
    if (need <= cap) return;
    let next = cap;
    while (next < need) next *= 2;
    const g = <T extends Float64Array | Uint8Array | Int32Array | Uint32Array>(
      a: T,
      make: (n: number) => T,
      w = 1,
    ) => {
      const b = make(next * w);
      b.set(a);
      return b;
    };
    this.nodeIds = g(this.nodeIds, (n) => new Float64Array(n));
    this.deleted = g(this.deleted, (n) => new Uint8Array(n));
    this.levels = g(this.levels, (n) => new Uint8Array(n));
    this.links0 = g(this.links0, (n) => new Int32Array(n), this.M0 + 1);
    this.visited = new Uint32Array(next);
    this.epoch = 0;
    this.rows.grow(next, this.count);
    this.refreshViews();
  }

  /** Makes `q` (length dim, normalized for cos) the query of the next distance batches. */
  private useQuery(q: Float32Array): void {
    let src = q;
    if (this.metric === "cos") {
      const n = norm(q);
      const f = n > 0 ? 1 / n : 0;
      for (let j = 0; j < this.dim; j++) this.qNormalized[j] = q[j] * f;
      src = this.qNormalized;
    }
    if (this.rows.heap) {
      this.rows.setQuery(src);
      this.qAddr = this.rows.queryAt;
    } else {
      this.qArr = src;
      this.qOff = 0;
    }
  }

  /** Makes stored node `s` the query (insertion, pruning). */
  private useNode(s: number): void {
    if (this.rows.heap) this.qAddr = this.rows.heap.dataAt + s * this.rows.stride * 4;
    else {
      this.qArr = this.rows.data;
      this.qOff = this.rows.offset(s);
    }
  }

  /** Distances of the current query to the n slots listed at slotBuf[slotAt..), into outBuf[outAt..). */
  private distances(n: number): void {
    const rows = this.rows;
    const heap = rows.heap;
    if (heap) {
      const b = rows.stride * 4;
      if (this.metric === "l2") heap.k.l2sq_rows(this.qAddr, heap.dataAt, b, b, rows.slotsAt, n, rows.outAt);
      else heap.k.dot_rows(this.qAddr, heap.dataAt, b, b, rows.slotsAt, n, rows.outAt);
      if (this.metric !== "l2") {
        const out = this.outBuf;
        const off = this.metric === "cos" ? 1 : 0;
        for (let i = this.outAt; i < this.outAt + n; i++) out[i] = off - out[i];
      }
      return;
    }
    const { dim } = this;
    const data = rows.data;
    for (let i = 0; i < n; i++) {
      const o = rows.offset(this.slotBuf[this.slotAt + i]);
      this.outBuf[this.outAt + i] =
        this.metric === "l2"
          ? l2sq(this.qArr, data, dim, this.qOff, o)
          : (this.metric === "cos" ? 1 : 0) - dot(this.qArr, data, dim, this.qOff, o);
    }
  }

  /** Distance of the current query to one node. */
  private distanceTo(s: number): number {
    this.slotBuf[this.slotAt] = s;
    this.distances(1);
    return this.outBuf[this.outAt];
  }

  /** The links of node s at level l: [array, offset of the count]. */
  private linksOf(s: number, l: number): [Int32Array, number] {
    if (l === 0) return [this.links0, s * (this.M0 + 1)];
    return [this.upper[s]!, (l - 1) * (this.params.M + 1)];
  }

  /**
   * Beam search on one level from the entry points in `beam` (already holding their distances);
   * leaves the ef best found in `beam`.
   */
  private searchLevel(ef: number, level: number): void {
    const { candidates, beam, visited } = this;
    this.nextEpoch();
    const epoch = this.epoch;
    candidates.clear();
    for (let i = 0; i < beam.size; i++) {
      candidates.push(beam.keys[i] * -1, beam.nodes[i]);
      visited[beam.nodes[i]] = epoch;
    }
    const slots = this.slotBuf;
    const out = this.outBuf;
    const sa = this.slotAt;
    const oa = this.outAt;
    while (candidates.size > 0) {
      const d = candidates.topDist();
      if (beam.size >= ef && d > beam.topDist()) break;
      const c = candidates.topNode();
      candidates.pop();
      const [links, at] = this.linksOf(c, level);
      const cnt = links[at];
      let m = 0;
      for (let j = 1; j <= cnt; j++) {
        const nb = links[at + j];
        if (visited[nb] === epoch) continue;
        visited[nb] = epoch;
        slots[sa + m++] = nb;
      }
      if (m === 0) continue;
      this.distances(m);
      for (let i = 0; i < m; i++) {
        const dn = out[oa + i];
        if (beam.size < ef || dn < beam.topDist()) {
          const nb = slots[sa + i];
          candidates.push(dn, nb);
          beam.push(dn, nb);
          if (beam.size > ef) beam.pop();
        }
      }
    }
  }

  private nextEpoch(): void {
    if (++this.epoch === 0xffffffff) {
      this.visited.fill(0);
      this.epoch = 1;
    }
  }

  /** Greedy descent from the entry point to `level` (exclusive), then beam search down to 0. */
  private descend(stop: number): void {
    const beam = this.beam;
    beam.clear();
    const e = this.entry;
    beam.push(this.distanceTo(e), e);
    for (let l = this.maxLevel; l > stop; l--) this.searchLevel(1, l);
  }

  /** Beam contents sorted by ascending distance: [dists, nodes]. */
  private drainBeam(): [number[], number[]] {
    const beam = this.beam;
    const n = beam.size;
    const dists = new Array<number>(n);
    const nodes = new Array<number>(n);
    for (let i = n - 1; i >= 0; i--) {
      dists[i] = beam.topDist();
      nodes[i] = beam.topNode();
      beam.pop();
    }
    return [dists, nodes];
  }

  /**
   * The diversity heuristic: walking candidates by ascending distance to the base node, keep one
   * unless it is closer to an already kept node than to the base. `useNode`/`useQuery` is
   * changed; candidates are sorted ascending.
   */
  private selectNeighbours(dists: number[], nodes: number[], max: number): number[] {
    const kept: number[] = [];
    const slots = this.slotBuf;
    const sa = this.slotAt;
    for (let i = 0; i < nodes.length && kept.length < max; i++) {
      const e = nodes[i];
      let good = true;
      if (kept.length > 0) {
        for (let j = 0; j < kept.length; j++) slots[sa + j] = kept[j];
        this.useNode(e);
        this.distances(kept.length);
        const out = this.outBuf;
        for (let j = 0; j < kept.length; j++)
          if (out[this.outAt + j] < dists[i]) {
            good = false;
            break;
          }
      }
      if (good) kept.push(e);
    }
    return kept;
  }

  /** Adds a link e -> s at level l, pruning e's list with the heuristic when it is full. */
  private link(e: number, s: number, level: number): void {
    const max = level === 0 ? this.M0 : this.params.M;
    const [links, at] = this.linksOf(e, level);
    const cnt = links[at];
    if (cnt < max) {
      links[at + 1 + cnt] = s;
      links[at] = cnt + 1;
      return;
    }
    const slots = this.slotBuf;
    const sa = this.slotAt;
    for (let j = 0; j < cnt; j++) slots[sa + j] = links[at + 1 + j];
    slots[sa + cnt] = s;
    this.useNode(e);
    this.distances(cnt + 1);
    const order = Array.from({ length: cnt + 1 }, (_, j) => j);
    const out = this.outBuf;
    const oa = this.outAt;
    const ds = order.map((j) => out[oa + j]);
    const ns = order.map((j) => slots[sa + j]);
    order.sort((a, b) => ds[a] - ds[b]);
    const kept = this.selectNeighbours(
      order.map((j) => ds[j]),
      order.map((j) => ns[j]),
      max,
    );
    links[at] = kept.length;
    for (let j = 0; j < kept.length; j++) links[at + 1 + j] = kept[j];
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    checkAdd(ids, vectors, this.dim, (id) => this.nodeOf.has(id), "hnsw-ts");
    if (ids.length === 0) return;
    this.grow(this.count + ids.length);
    const { dim } = this;
    for (let i = 0; i < ids.length; i++) {
      const s = this.count++;
      this.nodeIds[s] = ids[i];
      this.nodeOf.set(ids[i], s);
      this.rows.set(s, vectors, i * dim);
      if (this.metric === "cos") {
        const o = this.rows.offset(s);
        const n = norm(this.rows.data, dim, o);
        if (n > 0) for (let j = 0; j < dim; j++) this.rows.data[o + j] /= n;
      }
      this.insert(s);
    }
  }

  private insert(s: number): void {
    const { M } = this.params;
    const level = Math.min(MAX_LEVEL, Math.floor(-Math.log(1 - this.rng.next()) / Math.log(M)));
    this.levels[s] = level;
    if (level > 0) this.upper[s] = new Int32Array(level * (M + 1));
    if (this.entry < 0) {
      this.entry = s;
      this.maxLevel = level;
      return;
    }
    this.useNode(s);
    this.descend(level);
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      this.useNode(s);
      this.searchLevel(this.params.efConstruction, l);
      const [dists, nodes] = this.drainBeam();
      const kept = this.selectNeighbours(dists, nodes, M);
      const [links, at] = this.linksOf(s, l);
      links[at] = kept.length;
      for (let j = 0; j < kept.length; j++) links[at + 1 + j] = kept[j];
      for (const e of kept) this.link(e, s, l);
      // The beam of this level seeds the next one down.
      this.useNode(s);
      this.beam.clear();
      for (let j = 0; j < nodes.length; j++) this.beam.push(dists[j], nodes[j]);
    }
    if (level > this.maxLevel) {
      this.maxLevel = level;
      this.entry = s;
    }
  }

  remove(ids: ArrayLike<number>): void {
    checkRemove(ids, (id) => this.nodeOf.has(id), "hnsw-ts");
    for (let i = 0; i < ids.length; i++) {
      const s = this.nodeOf.get(ids[i])!;
      this.deleted[s] = 1;
      this.nodeOf.delete(ids[i]);
    }
  }

  search(query: Float32Array, k: number, options?: SearchOptions): SearchResult {
    checkQuery(query, this.dim, "hnsw-ts");
    checkK(k, "hnsw-ts");
    checkOptions(options, ["efSearch"], "hnsw-ts");
    return this.searchOne(query, k, options);
  }

  searchBatch(queries: Float32Array, k: number, options?: SearchOptions): SearchResult[] {
    const nq = checkQueries(queries, this.dim, "hnsw-ts");
    checkK(k, "hnsw-ts");
    checkOptions(options, ["efSearch"], "hnsw-ts");
    const out: SearchResult[] = new Array(nq);
    for (let i = 0; i < nq; i++)
      out[i] = this.searchOne(queries.subarray(i * this.dim, (i + 1) * this.dim), k, options);
    return out;
  }

  private searchOne(q: Float32Array, k: number, options?: SearchOptions): SearchResult {
    if (this.size === 0) return { ids: [], distances: [] };
    const filter = options?.filter;
    const want = Math.min(k, this.size);
    let ef = Math.max(options?.efSearch ?? this.params.efSearch, want);
    // With removed nodes or a filter the beam may hold fewer than k results: widen it and retry.
    for (;;) {
      this.useQuery(q);
      this.descend(0);
      this.searchLevel(ef, 0);
      const [, nodes] = this.drainBeam();
      const top = new TopK(want);
      const source = this.metric === "cos" ? this.qNormalized : q;
      for (const s of nodes) {
        if (this.deleted[s]) continue;
        const id = this.nodeIds[s];
        if (filter !== undefined && !filter(id)) continue;
        top.push(id, this.exactDistance(source, s));
      }
      if (top.size >= want || ef >= this.count) return top.drain();
      ef = Math.min(this.count, ef * 2);
    }
  }

  /** The exact (TypeScript) distance between a query (normalized for cos) and node s. */
  private exactDistance(q: Float32Array, s: number): number {
    const o = this.rows.offset(s);
    if (this.metric === "l2") return l2sq(q, this.rows.data, this.dim, 0, o);
    return (this.metric === "cos" ? 1 : 0) - dot(q, this.rows.data, this.dim, 0, o);
  }

  serialize(): Uint8Array {
    const n = this.count;
    const { M } = this.params;
    let upperLength = 0;
    for (let s = 0; s < n; s++) upperLength += this.levels[s] * (M + 1);
    const upper = new Int32Array(upperLength);
    let at = 0;
    for (let s = 0; s < n; s++) {
      const u = this.upper[s];
      if (u) {
        upper.set(u, at);
        at += u.length;
      }
    }
    return encodeIndex(
      {
        kind: this.kind,
        spec: this.spec,
        dim: this.dim,
        metric: this.metric,
        size: this.size,
        nodes: n,
        entry: this.entry,
        maxLevel: this.maxLevel,
        params: this.params,
      },
      {
        ids: this.nodeIds.subarray(0, n),
        deleted: this.deleted.subarray(0, n),
        levels: this.levels.subarray(0, n),
        vectors: this.rows.packed(n),
        links0: this.links0.subarray(0, n * (this.M0 + 1)),
        upper,
      },
    );
  }

  static fromSnapshot(bytes: Uint8Array): HnswTsIndex {
    const { header, sections } = decodeIndex(bytes);
    const n = Number(header.nodes);
    const params = header.params as HnswTsParams;
    const index = new HnswTsIndex(header.dim, header.metric, params, n);
    const ids = section(sections, "ids", Float64Array, n);
    const deleted = section(sections, "deleted", Uint8Array, n);
    const levels = section(sections, "levels", Uint8Array, n);
    const vectors = section(sections, "vectors", Float32Array, n * header.dim);
    index.grow(n);
    index.links0.set(section(sections, "links0", Int32Array, n * (index.M0 + 1)));
    let upperLength = 0;
    for (let s = 0; s < n; s++) upperLength += levels[s] * (params.M + 1);
    const upper = section(sections, "upper", Int32Array, upperLength);
    let at = 0;
    for (let s = 0; s < n; s++) {
      index.nodeIds[s] = ids[s];
      index.deleted[s] = deleted[s];
      index.levels[s] = levels[s];
      index.rows.set(s, vectors, s * header.dim);
      if (!deleted[s]) index.nodeOf.set(ids[s], s);
      const len = levels[s] * (params.M + 1);
      if (len > 0) index.upper[s] = upper.slice(at, at + len);
      at += len;
    }
    index.count = n;
    index.entry = Number(header.entry);
    index.maxLevel = Number(header.maxLevel);
    // Later insertions draw levels from a stream that depends on the seed and the node count.
    index.rng = new Rng(params.seed + n);
    return index;
  }
}
