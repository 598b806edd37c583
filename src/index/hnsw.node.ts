/**
 * `hnsw`: approximate k-NN over the usearch native library (Node only; the browser build never
 * imports this file). Parameters: M (usearch "connectivity"), efConstruction ("expansion_add"),
 * efSearch ("expansion_search"), and threads for add().
 *
 * Guards around known usearch behaviour (see test/index-hnsw.test.ts):
 * - batch search returns garbage keys/counts when k < dim (usearch issue #650), so every query
 *   goes through the single-query path, one native call per query;
 * - searching for more neighbours than are stored returns invalid keys (issue #393), so the
 *   request is capped at the stored count and every key is checked against our id set;
 * - usearch keys are BigInt; ids are converted at the boundary;
 * - usearch has no per-search efSearch and no filter in its JS API: a different efSearch is
 *   served by a read-only memory-mapped view of a snapshot opened with that expansion (cached
 *   until the next add/remove), and filters over-fetch geometrically until k ids pass.
 *
 * The native library is loaded when the first hnsw index is created, not when this module is
 * imported: importing the package must not pay for (or fail on) a native addon it may never use.
 * It is loaded through `require`, whose CommonJS build finds its binary from `__dirname`; the
 * ESM build walks up from the caller's stack-derived path instead, which recurses without end
 * when the caller is `node -e` (no file).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Usearch from "usearch";
import { fail } from "../core/errors.js";
import { formatParams, type ParamSchema } from "../core/spec.js";
import { TopK } from "../core/topk.js";
import type { Metric } from "../core/vectors.js";
import { checkAdd, checkK, checkOptions, checkQueries, checkQuery, checkRemove } from "./common.js";
import { indexKinds } from "./factory.js";
import { decodeIndex, encodeIndex, section } from "./serial.js";
import type { Index, SearchOptions, SearchResult } from "./types.js";

type UsearchModule = typeof Usearch;
type Native = InstanceType<UsearchModule["Index"]>;

let usearchModule: UsearchModule | undefined;

/** usearch, loaded on first use; a clear UNSUPPORTED error when its native part cannot load. */
function usearch(): UsearchModule {
  if (!usearchModule) {
    try {
      usearchModule = createRequire(import.meta.url)("usearch") as UsearchModule;
    } catch (e) {
      fail(
        "UNSUPPORTED",
        `hnsw: the native library usearch could not be loaded (${(e as Error).message}); ` +
          'reinstall it (npm install usearch) or use the "flat" or "flat-i8" index',
      );
    }
  }
  return usearchModule;
}

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
} satisfies ParamSchema;

export interface HnswParams {
  M: number;
  efConstruction: number;
  efSearch: number;
  threads: number;
}

const USEARCH_METRIC = {
  l2: "L2sq",
  ip: "IP",
  cos: "Cos",
} as const satisfies Record<Metric, keyof UsearchModule["MetricKind"]>;

export class HnswIndex implements Index {
  readonly kind = "hnsw";
  readonly dim: number;
  readonly metric: Metric;
  readonly params: HnswParams;
  private native: Native;
  private readonly ids = new Set<number>();
  /** Read-only views with other efSearch values; dropped whenever the index changes. */
  private views = new Map<number, Native>();

  constructor(dim: number, metric: Metric = "l2", params: Partial<HnswParams> = {}) {
    this.dim = dim;
    this.metric = metric;
    this.params = { M: 16, efConstruction: 128, efSearch: 64, threads: 1, ...params };
    this.native = this.makeNative(this.params.efSearch);
  }

  get spec(): string {
    const { M, efConstruction, efSearch } = this.params;
    return `hnsw:${formatParams({ M, efConstruction, efSearch })}`;
  }

  get size(): number {
    return this.ids.size;
  }

  /**
   * Estimated: usearch does not expose its memory use to JS. f32 vectors, 8-byte keys, a
   * level-0 neighbour list of 2M 4-byte slots plus a count per node, upper levels (a fraction
   * 1/(M-1) of level 0), and our id set.
   */
  get bytes(): number {
    const n = this.ids.size;
    const M = this.params.M;
    const graph = (2 * M * 4 + 4) * (1 + 1 / Math.max(1, M - 1));
    return Math.round(n * (this.dim * 4 + 8 + graph + 24));
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  private makeNative(efSearch: number): Native {
    const { Index: NativeIndex, MetricKind, ScalarKind } = usearch();
    return new NativeIndex({
      dimensions: this.dim,
      metric: MetricKind[USEARCH_METRIC[this.metric]],
      quantization: ScalarKind.F32,
      connectivity: this.params.M,
      expansion_add: this.params.efConstruction,
      expansion_search: efSearch,
      multi: false,
    });
  }

  add(ids: ArrayLike<number>, vectors: Float32Array): void {
    checkAdd(ids, vectors, this.dim, (id) => this.ids.has(id), "hnsw");
    if (ids.length === 0) return;
    const keys = new BigUint64Array(ids.length);
    for (let i = 0; i < ids.length; i++) keys[i] = BigInt(ids[i]);
    this.native.add(keys, vectors, this.params.threads);
    for (let i = 0; i < ids.length; i++) this.ids.add(ids[i]);
    this.views.clear();
  }

  remove(ids: ArrayLike<number>): void {
    checkRemove(ids, (id) => this.ids.has(id), "hnsw");
    if (ids.length === 0) return;
    const keys = new BigUint64Array(ids.length);
    for (let i = 0; i < ids.length; i++) keys[i] = BigInt(ids[i]);
    this.native.remove(keys);
    for (let i = 0; i < ids.length; i++) this.ids.delete(ids[i]);
    this.views.clear();
  }

  search(query: Float32Array, k: number, options?: SearchOptions): SearchResult {
    checkQuery(query, this.dim, "hnsw");
    checkK(k, "hnsw");
    this.checkSearchOptions(options);
    return this.searchOne(this.nativeFor(options?.efSearch), query, k, options?.filter);
  }

  searchBatch(queries: Float32Array, k: number, options?: SearchOptions): SearchResult[] {
    const nq = checkQueries(queries, this.dim, "hnsw");
    checkK(k, "hnsw");
    this.checkSearchOptions(options);
    const native = this.nativeFor(options?.efSearch);
    const out: SearchResult[] = new Array(nq);
    for (let i = 0; i < nq; i++)
      out[i] = this.searchOne(native, queries.subarray(i * this.dim, (i + 1) * this.dim), k, options?.filter);
    return out;
  }

  private checkSearchOptions(options?: SearchOptions): void {
    checkOptions(options, ["efSearch"], "hnsw");
    if (options?.efSearch === 0) fail("INVALID_ARGUMENT", "hnsw.search: efSearch must be >= 1, got 0");
  }

  /** The native index searching with `efSearch` (the primary one, or a cached view). */
  private nativeFor(efSearch: number | undefined): Native {
    if (efSearch === undefined || efSearch === this.params.efSearch || this.ids.size === 0)
      return this.native;
    let view = this.views.get(efSearch);
    if (!view) {
      view = this.makeNative(efSearch);
      const dir = mkdtempSync(join(tmpdir(), "mammals-hnsw-"));
      try {
        const path = join(dir, "index.usearch");
        this.native.save(path);
        // The mapping outlives the unlinked file, so nothing is left on disk.
        view.view(path);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      this.views.set(efSearch, view);
    }
    return view;
  }

  private searchOne(
    native: Native,
    q: Float32Array,
    k: number,
    filter?: (id: number) => boolean,
  ): SearchResult {
    const n = this.ids.size;
    if (n === 0) return { ids: [], distances: [] };
    const shift = this.metric === "ip" ? -1 : 0; // usearch "ip" is 1 - q.x; the contract's is -q.x
    let wanted = Math.min(k, n);
    for (;;) {
      const top = new TopK(Math.min(k, n));
      const m = native.search(q, wanted, 1);
      for (let i = 0; i < m.keys.length; i++) {
        const id = Number(m.keys[i]);
        // Drop anything that is not a stored id (guards usearch's invalid-key bugs).
        if (!this.ids.has(id)) continue;
        if (filter !== undefined && !filter(id)) continue;
        top.push(id, m.distances[i] + shift);
      }
      if (top.size >= k || wanted >= n || filter === undefined) return top.drain();
      wanted = Math.min(n, wanted * 4);
    }
  }

  serialize(): Uint8Array {
    const dir = mkdtempSync(join(tmpdir(), "mammals-hnsw-"));
    try {
      const path = join(dir, "index.usearch");
      this.native.save(path);
      const file = new Uint8Array(readFileSync(path));
      return encodeIndex(
        {
          kind: this.kind,
          spec: this.spec,
          dim: this.dim,
          metric: this.metric,
          size: this.size,
          params: this.params,
        },
        { ids: Float64Array.from(this.ids), usearch: file },
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
    return index;
  }
}

indexKinds.register({
  name: "hnsw",
  summary: "approximate graph index (usearch HNSW, Node only)",
  params: HNSW_SCHEMA,
  capabilities: ["approximate"],
  create: (p, { dim, metric }) => new HnswIndex(dim, metric, p),
  deserialize: (bytes) => HnswIndex.fromSnapshot(bytes),
});
