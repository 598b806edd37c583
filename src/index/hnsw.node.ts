/**
 * `hnsw`: approximate k-NN over the usearch native library (Node only; the browser build never
 * imports this file). Parameters: M (usearch "connectivity"), efConstruction ("expansion_add"),
 * efSearch ("expansion_search"), threads for add(), searchThreads for searchBatch(), the stored
 * scalar type (quantization: f32, f16, i8) and rerank (candidates re-ranked by exact f32
 * distances, from an f32 copy kept here).
 *
 * The adapter calls usearch's compiled binding (`CompiledIndex`, loaded the way usearch's own
 * JavaScript loads it) rather than its JavaScript wrapper: the wrapper converts every Int8Array
 * to a Float32Array, and usearch then casts floats to i8 by scaling each vector to unit length,
 * which turns L2 into an angle and lost most of the recall on pixel data. `quantization=i8`
 * instead maps values with one affine range for all dimensions (lo, hi: given, or learned from
 * the first non-empty add), code = round((x - lo) / (hi - lo) * 254) - 127, and searches with
 * the query's codes: L2 between codes is the L2 between values up to the factor
 * ((hi - lo) / 254)^2 and rounding (at most half a step per value), values outside the range are
 * clamped. So i8 is for l2 only. The direct calls also skip the wrapper's per-call conversions.
 *
 * Guards around known usearch behaviour (see test/index-hnsw.test.ts):
 * - searching for more neighbours than are stored returns invalid keys (issue #393), so the
 *   request is capped at the stored count and every key is checked against our id set;
 * - batch search (one native call for all queries of searchBatch, `searchThreads` threads) is
 *   checked against the single-query path on k < dim and k > size (issue #650 hit the wrapper);
 * - usearch keys are BigInt; ids are converted at the boundary;
 * - usearch has no per-search efSearch and no filter: a different efSearch is served by a
 *   read-only memory-mapped view of a snapshot opened with that expansion (cached until the next
 *   add/remove), and filters over-fetch geometrically until k ids pass.
 *
 * The native library is loaded when the first hnsw index is created, not when this module is
 * imported: importing the package must not pay for (or fail on) a native addon it may never use.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fail } from "../core/errors.js";
import { formatParams, type ParamSchema } from "../core/spec.js";
import { TopK } from "../core/topk.js";
import { dot, l2sq, type Metric, norm } from "../core/vectors.js";
import { checkAdd, checkK, checkOptions, checkQueries, checkQuery, checkRemove } from "./common.js";
import { indexKinds } from "./factory.js";
import { decodeIndex, encodeIndex, section } from "./serial.js";
import type { Index, SearchOptions, SearchResult } from "./types.js";

/** usearch's compiled index (javascript/lib.cpp): the calls this adapter makes. */
interface Native {
  add(keys: BigUint64Array, vectors: Float32Array | Int8Array, threads: number): void;
  /** [keys (n x k), distances (n x k), counts (n)] */
  search(
    queries: Float32Array | Int8Array,
    k: number,
    threads: number,
  ): [BigUint64Array, Float32Array, BigUint64Array];
  remove(keys: BigUint64Array): unknown;
  size(): number;
  save(path: string): void;
  load(path: string): void;
  view(path: string): void;
}

interface Binding {
  CompiledIndex: new (
    dim: number,
    metric: string,
    quantization: string,
    connectivity: number,
    expansionAdd: number,
    expansionSearch: number,
    multi: boolean,
  ) => Native;
}

let binding: Binding | undefined;

/** usearch's compiled binding, loaded on first use; a clear UNSUPPORTED error when it cannot load. */
function usearchBinding(): Binding {
  if (!binding) {
    try {
      const require = createRequire(import.meta.url);
      // The package's main file is <root>/javascript/dist/cjs/usearch.js; its binary is found
      // under <root> by node-gyp-build, exactly as usearch's own loader does.
      const main = require.resolve("usearch");
      const root = dirname(dirname(dirname(dirname(main))));
      const loaded = createRequire(main)("node-gyp-build")(root) as Binding;
      if (typeof loaded?.CompiledIndex !== "function")
        throw new Error(`no CompiledIndex in the binding found under ${root}`);
      binding = loaded;
    } catch (e) {
      fail(
        "UNSUPPORTED",
        `hnsw: the native library usearch could not be loaded (${(e as Error).message}); ` +
          'reinstall it (npm install usearch) or use the "flat", "flat-i8" or "hnsw-ts" index',
      );
    }
  }
  return binding;
}

export const HNSW_QUANTIZATIONS = ["f32", "f16", "i8"] as const;
export type HnswQuantization = (typeof HNSW_QUANTIZATIONS)[number];

export const HNSW_SCHEMA = {
  M: { type: "int", default: 16, min: 2, max: 1024, description: "graph degree (usearch connectivity)" },
  efConstruction: {
    type: "int",
    default: 128,
    min: 1,
    description: "candidate list size while inserting (build quality vs. time)",
  },
  efSearch: {
    type: "int",
    default: 64,
    min: 1,
    description: "candidate list size while searching (recall vs. speed); per-search option too",
  },
  threads: { type: "int", default: 1, min: 0, description: "threads for add() (0 = all cores)" },
  searchThreads: {
    type: "int",
    default: 1,
    min: 0,
    description: "threads for searchBatch() (0 = all cores); search() uses one",
  },
  quantization: {
    type: "enum",
    default: "f32",
    values: HNSW_QUANTIZATIONS,
    description:
      "stored scalar type: f32, f16 (half the memory; exact for integers up to 2048), i8 (a quarter; one affine range, l2 only)",
  },
  rerank: {
    type: "int",
    default: 0,
    min: 0,
    description:
      "f16/i8: re-rank max(k, rerank) candidates by exact f32 distances from an f32 copy (0 = none: distances are the quantized ones)",
  },
  lo: {
    type: "number",
    default: undefined,
    description: "i8: range low end (default: learned from the first add)",
  },
  hi: {
    type: "number",
    default: undefined,
    description: "i8: range high end (default: learned from the first add)",
  },
} satisfies ParamSchema;

export interface HnswParams {
  M: number;
  efConstruction: number;
  efSearch: number;
  threads: number;
  searchThreads: number;
  quantization: HnswQuantization;
  rerank: number;
  lo?: number;
  hi?: number;
}

const USEARCH_METRIC = { l2: "l2sq", ip: "ip", cos: "cos" } as const satisfies Record<Metric, string>;

/** usearch's std::thread::hardware_concurrency(): the search contexts a view reserves. */
const HARDWARE_THREADS = Math.max(1, cpus().length);

/** i8 codes span [-127, 127]: 254 steps over [lo, hi]. */
const I8_STEPS = 254;

export class HnswIndex implements Index {
  readonly kind = "hnsw";
  readonly dim: number;
  readonly metric: Metric;
  readonly params: HnswParams;
  private native: Native;
  private readonly ids = new Set<number>();
  /** Read-only views with other efSearch values; dropped whenever the index changes. */
  private views = new Map<number, Native>();
  /** rerank > 0: the f32 vectors by id (normalized for cos), the exact distances' source. */
  private readonly exact = new Map<number, Float32Array>();
  /** i8: the range, fixed by the params or the first non-empty add. */
  private lo: number | undefined;
  private step = 1;
  private readonly qCodes: Int8Array;
  private readonly qNormalized: Float32Array;

  constructor(dim: number, metric: Metric = "l2", params: Partial<HnswParams> = {}) {
    this.dim = dim;
    this.metric = metric;
    this.params = {
      M: 16,
      efConstruction: 128,
      efSearch: 64,
      threads: 1,
      searchThreads: 1,
      quantization: "f32",
      rerank: 0,
      ...params,
    };
    const { quantization: q, rerank, lo, hi } = this.params;
    if (!HNSW_QUANTIZATIONS.includes(q))
      fail(
        "INVALID_ARGUMENT",
        `hnsw: quantization must be one of ${HNSW_QUANTIZATIONS.join(", ")}, got ${q}`,
      );
    if (q === "f32" && rerank > 0)
      fail(
        "INVALID_ARGUMENT",
        `hnsw: rerank=${rerank} needs quantization=f16 or i8 (f32 distances are exact already), got quantization=f32`,
      );
    if (q === "i8" && metric !== "l2")
      fail(
        "INVALID_ARGUMENT",
        `hnsw: quantization=i8 supports metric l2 only (its codes keep L2 up to a scale), got metric ${metric}; use f16`,
      );
    if (q !== "i8" && (lo !== undefined || hi !== undefined))
      fail("INVALID_ARGUMENT", `hnsw: lo/hi set the i8 range; quantization is ${q}`);
    if (lo !== undefined || hi !== undefined) {
      if (lo === undefined || hi === undefined || !(hi > lo))
        fail("INVALID_ARGUMENT", `hnsw: expected both lo and hi with lo < hi, got lo=${lo} hi=${hi}`);
      this.setRange(lo, hi);
    }
    this.qCodes = new Int8Array(dim);
    this.qNormalized = new Float32Array(dim);
    this.native = this.makeNative(this.params.efSearch);
  }

  get spec(): string {
    const { M, efConstruction, efSearch, quantization, rerank } = this.params;
    const range = this.lo === undefined ? {} : { lo: this.lo, hi: this.lo + this.step * I8_STEPS };
    return `hnsw:${formatParams({
      M,
      efConstruction,
      efSearch,
      ...(quantization === "f32" ? {} : { quantization }),
      ...(rerank > 0 ? { rerank } : {}),
      ...(quantization === "i8" ? range : {}),
    })}`;
  }

  get size(): number {
    return this.ids.size;
  }

  /**
   * Estimated: usearch does not expose its memory use to JS. Vectors at the stored scalar width,
   * 8-byte keys, a level-0 neighbour list of 2M 4-byte slots plus a count per node, upper levels
   * (a fraction 1/(M-1) of level 0), our id set, and the f32 copy when re-ranking.
   */
  get bytes(): number {
    const n = this.ids.size;
    const M = this.params.M;
    const graph = (2 * M * 4 + 4) * (1 + 1 / Math.max(1, M - 1));
    const width = { f32: 4, f16: 2, i8: 1 }[this.params.quantization];
    const copy = this.params.rerank > 0 ? this.dim * 4 + 48 : 0;
    return Math.round(n * (this.dim * width + 8 + graph + 24 + copy));
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  /** Threads of later searchBatch calls (0 = all cores); answers do not depend on it. */
  setSearchThreads(threads: number): void {
    if (!Number.isInteger(threads) || threads < 0)
      fail("INVALID_ARGUMENT", `hnsw.setSearchThreads: expected an integer >= 0, got ${threads}`);
    this.params.searchThreads = threads;
  }

  private makeNative(efSearch: number): Native {
    const { CompiledIndex } = usearchBinding();
    const { M, efConstruction, quantization } = this.params;
    // i8 codes are compared with usearch's integer L2; f16 and f32 with its float metrics.
    return new CompiledIndex(
      this.dim,
      USEARCH_METRIC[this.metric],
      quantization,
      M,
      efConstruction,
      efSearch,
      false,
    );
  }

  private setRange(lo: number, hi: number): void {
    this.lo = lo;
    this.step = (hi - lo) / I8_STEPS;
  }

  private learnRange(vectors: Float32Array): void {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < vectors.length; i++) {
      const x = vectors[i];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    // A constant first batch: any positive width keeps its codes exact.
    this.setRange(lo, hi > lo ? hi : lo + 1);
  }

  /** i8 codes of v[vo..vo+dim) into out[oo..). */
  private encode(v: Float32Array, vo: number, out: Int8Array, oo: number): void {
    const lo = this.lo ?? 0;
    const inv = 1 / this.step;
    for (let j = 0; j < this.dim; j++) {
      let u = Math.round((v[vo + j] - lo) * inv);
      if (u < 0) u = 0;
      else if (u > I8_STEPS) u = I8_STEPS;
      out[oo + j] = u - 127;
    }
  }

  /** What the native index stores for these rows: the floats, or their i8 codes. */
  private toNative(vectors: Float32Array, n: number): Float32Array | Int8Array {
    if (this.params.quantization !== "i8") return vectors;
    const codes = new Int8Array(n * this.dim);
    for (let i = 0; i < n; i++) this.encode(vectors, i * this.dim, codes, i * this.dim);
    return codes;
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    checkAdd(ids, vectors, this.dim, (id) => this.ids.has(id), "hnsw");
    if (ids.length === 0) return;
    if (this.params.quantization === "i8" && this.lo === undefined) this.learnRange(vectors);
    const keys = new BigUint64Array(ids.length);
    for (let i = 0; i < ids.length; i++) keys[i] = BigInt(ids[i]);
    this.native.add(keys, this.toNative(vectors, ids.length), this.params.threads);
    for (let i = 0; i < ids.length; i++) {
      this.ids.add(ids[i]);
      if (this.params.rerank > 0) {
        const v = vectors.slice(i * this.dim, (i + 1) * this.dim);
        if (this.metric === "cos") normalize(v);
        this.exact.set(ids[i], v);
      }
    }
    this.views.clear();
  }

  remove(ids: ArrayLike<number>): void {
    checkRemove(ids, (id) => this.ids.has(id), "hnsw");
    if (ids.length === 0) return;
    const keys = new BigUint64Array(ids.length);
    for (let i = 0; i < ids.length; i++) keys[i] = BigInt(ids[i]);
    this.native.remove(keys);
    for (let i = 0; i < ids.length; i++) {
      this.ids.delete(ids[i]);
      this.exact.delete(ids[i]);
    }
    this.views.clear();
  }

  search(query: Float32Array, k: number, options?: SearchOptions): SearchResult {
    checkQuery(query, this.dim, "hnsw");
    checkK(k, "hnsw");
    this.checkSearchOptions(options);
    const native = this.nativeFor(options?.efSearch);
    const filter = options?.filter;
    if (this.ids.size === 0) return { ids: [], distances: [] };
    const q = this.params.quantization === "i8" ? this.queryCodes(query) : query;
    let wanted = this.fetchCount(k);
    for (;;) {
      const [keys, dists, counts] = native.search(q, wanted, 1);
      const r = this.collect(query, k, keys, dists, 0, Number(counts[0]), filter);
      if (r.ids.length >= Math.min(k, this.ids.size) || wanted >= this.ids.size || filter === undefined)
        return r;
      wanted = Math.min(this.ids.size, wanted * 4);
    }
  }

  searchBatch(queries: Float32Array, k: number, options?: SearchOptions): SearchResult[] {
    const nq = checkQueries(queries, this.dim, "hnsw");
    checkK(k, "hnsw");
    this.checkSearchOptions(options);
    const out: SearchResult[] = new Array(nq);
    if (nq === 0) return out;
    // A filter over-fetches per query: the single-query path.
    if (options?.filter !== undefined || this.ids.size === 0) {
      for (let i = 0; i < nq; i++)
        out[i] = this.search(queries.subarray(i * this.dim, (i + 1) * this.dim), k, options);
      return out;
    }
    const threads = Math.min(this.params.searchThreads || HARDWARE_THREADS, HARDWARE_THREADS);
    const native = this.nativeFor(options?.efSearch, threads);
    const wanted = this.fetchCount(k);
    const q = this.params.quantization === "i8" ? this.toNative(queries, nq) : queries;
    const [keys, dists, counts] = native.search(q, wanted, threads);
    for (let i = 0; i < nq; i++)
      out[i] = this.collect(
        queries.subarray(i * this.dim, (i + 1) * this.dim),
        k,
        keys,
        dists,
        i * wanted,
        Number(counts[i]),
      );
    return out;
  }

  /** Candidates to ask usearch for: k, or the re-ranking depth; never more than are stored. */
  private fetchCount(k: number): number {
    return Math.min(Math.max(k, this.params.rerank), this.ids.size);
  }

  private queryCodes(query: Float32Array): Int8Array {
    this.encode(query, 0, this.qCodes, 0);
    return this.qCodes;
  }

  /**
   * The top k of usearch's `count` candidates at keys/dists[at..): stored ids only (guards
   * usearch's invalid keys), passing the filter, by exact f32 distance when re-ranking, else by
   * usearch's distance in the contract's units.
   */
  private collect(
    query: Float32Array,
    k: number,
    keys: BigUint64Array,
    dists: Float32Array,
    at: number,
    count: number,
    filter?: (id: number) => boolean,
  ): SearchResult {
    const top = new TopK(Math.min(k, this.ids.size));
    const rerank = this.params.rerank > 0;
    let q = query;
    if (rerank && this.metric === "cos") {
      this.qNormalized.set(query);
      normalize(this.qNormalized);
      q = this.qNormalized;
    }
    // usearch "ip" is 1 - q.x, the contract's -q.x; i8 code distances scale by step^2.
    const shift = this.metric === "ip" ? -1 : 0;
    const scale = this.params.quantization === "i8" ? this.step * this.step : 1;
    for (let i = at; i < at + count; i++) {
      const id = Number(keys[i]);
      if (!this.ids.has(id)) continue;
      if (filter !== undefined && !filter(id)) continue;
      top.push(id, rerank ? this.exactDistance(q, id) : dists[i] * scale + shift);
    }
    return top.drain();
  }

  private exactDistance(q: Float32Array, id: number): number {
    const v = this.exact.get(id)!;
    if (this.metric === "l2") return l2sq(q, v, this.dim);
    return (this.metric === "cos" ? 1 : 0) - dot(q, v, this.dim);
  }

  private checkSearchOptions(options?: SearchOptions): void {
    checkOptions(options, ["efSearch"], "hnsw");
    if (options?.efSearch === 0) fail("INVALID_ARGUMENT", "hnsw.search: efSearch must be >= 1, got 0");
  }

  /**
   * The native index searching with `efSearch` on `threads` threads: the primary one, or a cached
   * view. usearch keeps one search context per thread, reserved when capacity grows in add()
   * with add()'s thread count, so several search threads need a view, which reserves one per core.
   */
  private nativeFor(efSearch: number | undefined, threads = 1): Native {
    if (this.ids.size === 0) return this.native;
    const ef = efSearch ?? this.params.efSearch;
    if (ef === this.params.efSearch && threads <= Math.max(1, this.params.threads || HARDWARE_THREADS))
      return this.native;
    let view = this.views.get(ef);
    if (!view) {
      view = this.makeNative(ef);
      const dir = mkdtempSync(join(tmpdir(), "mammals-hnsw-"));
      try {
        const path = join(dir, "index.usearch");
        this.native.save(path);
        // The mapping outlives the unlinked file, so nothing is left on disk.
        view.view(path);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      this.views.set(ef, view);
    }
    return view;
  }

  serialize(): Uint8Array {
    const dir = mkdtempSync(join(tmpdir(), "mammals-hnsw-"));
    try {
      const path = join(dir, "index.usearch");
      this.native.save(path);
      const file = new Uint8Array(readFileSync(path));
      const ids = Float64Array.from(this.ids);
      // A learned i8 range is part of the index: the restored one must encode queries the same way.
      const range = this.lo === undefined ? {} : { lo: this.lo, hi: this.lo + this.step * I8_STEPS };
      const sections: Parameters<typeof encodeIndex>[1] = { ids, usearch: file };
      if (this.params.rerank > 0) {
        const exact = new Float32Array(ids.length * this.dim);
        ids.forEach((id, i) => exact.set(this.exact.get(id)!, i * this.dim));
        sections.exact = exact;
      }
      return encodeIndex(
        {
          kind: this.kind,
          spec: this.spec,
          dim: this.dim,
          metric: this.metric,
          size: this.size,
          params: { ...this.params, ...range },
        },
        sections,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  static fromSnapshot(bytes: Uint8Array): HnswIndex {
    const { header, sections } = decodeIndex(bytes);
    const index = new HnswIndex(header.dim, header.metric, header.params as HnswParams);
    const ids = section(sections, "ids", Float64Array, header.size);
    const file = sections.usearch;
    if (!(file instanceof Uint8Array)) fail("BAD_FILE", "hnsw snapshot: the usearch section is missing");
    const dir = mkdtempSync(join(tmpdir(), "mammals-hnsw-"));
    try {
      const path = join(dir, "index.usearch");
      writeFileSync(path, file);
      try {
        index.native.load(path);
      } catch (e) {
        fail("BAD_FILE", `hnsw snapshot: usearch could not load it (${(e as Error).message})`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    if (index.native.size() !== ids.length)
      fail(
        "BAD_FILE",
        `hnsw snapshot: header lists ${ids.length} ids, usearch data holds ${index.native.size()}`,
      );
    for (const id of ids) index.ids.add(id);
    if (index.params.rerank > 0) {
      const exact = section(sections, "exact", Float32Array, ids.length * header.dim);
      ids.forEach((id, i) => index.exact.set(id, exact.slice(i * header.dim, (i + 1) * header.dim)));
    }
    return index;
  }
}

/** Scales v to unit length in place (zero stays zero). */
function normalize(v: Float32Array): void {
  const n = norm(v);
  if (n > 0) for (let j = 0; j < v.length; j++) v[j] /= n;
}

indexKinds.register({
  name: "hnsw",
  summary: "approximate graph index (usearch HNSW, Node only)",
  params: HNSW_SCHEMA,
  capabilities: ["approximate"],
  // parseParams checked quantization against the enum values.
  create: (p, { dim, metric }) =>
    new HnswIndex(dim, metric, { ...p, quantization: p.quantization as HnswQuantization }),
  deserialize: (bytes) => HnswIndex.fromSnapshot(bytes),
});
