/**
 * The single-pass similarity-caching simulator: one pass over a trace feeds every policy, and one
 * accounting loop (cost.ts `serve`) charges them all, so their figures are comparable.
 *
 * Per request: the K nearest catalog objects are found ONCE and shared (K = max(k, --neighbours,
 * every policy's `catalogNeighbours`)); a request that equals catalog row r exactly has r as its
 * nearest object (K = 1: no search at all) or reuses r's list from a memo (same vector, same answer;
 * with duplicate rows the tie goes to r rather than to the smaller id). Then, per policy: serve from its stored
 * set, charge the cost, call `update`, count movement. At the end every policy's invariants and
 * its stored set's consistency are checked. A registered policy that is not defined in the cost
 * model's setting is refused before the first request. Browser-safe (no Node imports).
 */
import { fail } from "../core/errors.js";
import { cachePolicies, requireSetting } from "./cache-policies.js";
import { describeCost, makeAnswer, remoteCost, serve } from "./cost.js";
import { RowLookup } from "./row-lookup.js";
import { makeNeighbours } from "./stored-set.js";
import type { Trace } from "./traces.js";
import type { CachePolicy, Catalog, CostModel, Neighbours, SimRequest } from "./types.js";

export { RowLookup };

export interface SimOptions {
  catalog: Catalog;
  cost: CostModel;
  policies: CachePolicy[];
  trace: Trace;
  /** Catalog neighbours looked up per request (at least k); longer lists may spare stored-set scans. */
  neighbours?: number;
  /** Points in each running-average series. */
  seriesPoints?: number;
  /** Reuse neighbour lists of requests equal to a catalog row (default true). */
  memo?: boolean;
  /** Recognize file-trace requests equal to a catalog row by hashing (default true). */
  matchRows?: boolean;
  /** Called every ~1% of the trace with the number of requests done. */
  onProgress?: (done: number) => void;
}

export interface PolicyResult {
  policy: string;
  requests: number;
  /** Serving cost per request. */
  avgCost: number;
  /** Serving cost divided by the cost of answering every request remotely. */
  normalizedCost: number;
  /** Fraction of requests served entirely from the cache. */
  hitRatio: number;
  /** Objects fetched from the remote catalog: to serve answers plus `moved`. */
  fetched: number;
  /** Objects inserted that no answer had fetched (a state change's own fetches). */
  moved: number;
  /** (serving cost + moved * unit fetch cost) per request; unit = c_f (knn) or C_r (single). */
  avgCostWithMovement: number;
  /** Requests / (this policy's serve+update time + the shared neighbour-search time). */
  reqPerSec: number;
  /** Seconds spent in this policy's serve + update. */
  policySeconds: number;
  /** Fallback scans of the stored set (lookups the catalog neighbour list could not settle). */
  scans: number;
  series: { t: number[]; avgCost: number[] };
}

export interface SimResult {
  results: PolicyResult[];
  requests: number;
  distance: string;
  cost: string;
  catalog: string;
  catalogIndex: string;
  trace: string;
  neighbours: number;
  /** Seconds building the catalog index, on first use (included in neighbourSeconds). */
  indexBuildSeconds: number;
  /** Seconds in the shared catalog neighbour search (memo hits included). */
  neighbourSeconds: number;
  memoHits: number;
  totalSeconds: number;
}

/** Memoized neighbour lists of catalog rows: n x K typed pools filled lazily. */
class RowMemo {
  /** Stored list length per row, -1 until computed. */
  private readonly filled: Int32Array;
  private readonly ids: Int32Array;
  private readonly dists: Float64Array;
  constructor(
    n: number,
    private readonly K: number,
  ) {
    this.filled = new Int32Array(n).fill(-1);
    this.ids = new Int32Array(n * K);
    this.dists = new Float64Array(n * K);
  }
  /** Copies row r's list into out, computing it first if needed. Returns true on a memo hit. */
  get(catalog: Catalog, r: number, x: Float32Array, out: Neighbours): boolean {
    const K = this.K;
    const c = this.filled[r];
    if (c >= 0) {
      out.ids.set(this.ids.subarray(r * K, r * K + c));
      out.dists.set(this.dists.subarray(r * K, r * K + c));
      out.count = c;
      return true;
    }
    catalog.nearest(x, K, out);
    this.ids.set(out.ids.subarray(0, out.count), r * K);
    this.dists.set(out.dists.subarray(0, out.count), r * K);
    this.filled[r] = out.count;
    return false;
  }
}

const MEMO_MAX_ENTRIES = 1 << 25;

export function simulate(o: SimOptions): SimResult {
  const { catalog, cost, policies, trace } = o;
  if (policies.length === 0) fail("INVALID_ARGUMENT", "simulate: no policies given");
  // Policies built outside the registry (test doubles, wrappers under another name) declare no
  // settings and are trusted; registered ones are held to what they declare.
  requireSetting(
    policies.filter((p) => cachePolicies.has(p.name)).map((p) => p.name),
    cost,
  );
  if (trace.info.dim !== catalog.dim)
    fail(
      "DIMENSION_MISMATCH",
      `trace ${trace.info.source} has dimension ${trace.info.dim}, catalog ${catalog.name} has ${catalog.dim}`,
    );
  if (cost.k > catalog.n) fail("INVALID_ARGUMENT", `k = ${cost.k} exceeds the catalog size ${catalog.n}`);
  const K = Math.min(
    catalog.n,
    Math.max(cost.k, o.neighbours ?? 0, ...policies.map((p) => p.catalogNeighbours ?? 0)),
  );
  const count = trace.info.count;
  const memo = (o.memo ?? true) && catalog.n * K <= MEMO_MAX_ENTRIES ? new RowMemo(catalog.n, K) : undefined;
  const P = policies.length;
  const answers = policies.map((p) => makeAnswer(cost.k, p.storedNeighbours ?? 1));
  const totalCost = new Float64Array(P);
  const hits = new Float64Array(P);
  const fetched = new Float64Array(P);
  const moved = new Float64Array(P);
  const seconds = new Float64Array(P);
  const series = policies.map(() => ({ t: [] as number[], avgCost: [] as number[] }));
  const every = Math.max(1, Math.floor(count / (o.seriesPoints ?? 200)));
  const progressEvery = Math.max(1, Math.floor(count / 100));
  const req: SimRequest = { t: 0, x: new Float32Array(catalog.dim), catalog: makeNeighbours(K) };
  // Generated traces name their rows; for file traces (row -1) exact matches are looked up.
  let rowLookup: RowLookup | undefined;
  const lookupRows = (o.matchRows ?? true) && !((trace.info.noise ?? 0) > 0);
  let remoteTotal = 0;
  let neighbourSeconds = 0;
  let memoHits = 0;
  const start = performance.now();
  let t = 0;
  for (const r of trace.requests()) {
    if (t >= count)
      fail("BAD_FILE", `trace ${trace.info.source} has more requests than its header's ${count}`);
    const t0 = performance.now();
    req.t = t;
    req.x = r.x;
    let row = r.row;
    if (row < 0 && lookupRows) {
      rowLookup ??= new RowLookup(catalog);
      row = rowLookup.find(r.x);
    }
    req.row = row;
    if (row >= 0 && K === 1) {
      // x IS catalog row r: its nearest object, at distance 0, with no search.
      req.catalog.ids[0] = row;
      req.catalog.dists[0] = 0;
      req.catalog.count = 1;
      memoHits++;
    } else if (memo && row >= 0) {
      if (memo.get(catalog, row, r.x, req.catalog)) memoHits++;
    } else catalog.nearest(r.x, K, req.catalog);
    remoteTotal += remoteCost(cost, req.catalog);
    let t1 = performance.now();
    neighbourSeconds += (t1 - t0) / 1000;
    for (let i = 0; i < P; i++) {
      const policy = policies[i];
      const a = serve(cost, policy.store, req, answers[i]);
      totalCost[i] += a.cost;
      if (a.hit) hits[i]++;
      const m = policy.update(req, a);
      if (!(m >= 0)) fail("STATE", `${policy.spec}: update returned ${m}; expected a count >= 0`);
      moved[i] += m;
      fetched[i] += a.fetched + m;
      const t2 = performance.now();
      seconds[i] += (t2 - t1) / 1000;
      t1 = t2;
    }
    t++;
    if (t % every === 0 || t === count)
      for (let i = 0; i < P; i++) {
        series[i].t.push(t);
        series[i].avgCost.push(totalCost[i] / t);
      }
    if (o.onProgress && t % progressEvery === 0) o.onProgress(t);
  }
  if (t !== count)
    fail("BAD_FILE", `trace ${trace.info.source} ended after ${t} requests; its header says ${count}`);
  for (const p of policies) {
    p.checkInvariants();
    p.store.checkConsistency(p.spec);
    if (p.store.size > p.capacity)
      fail("STATE", `${p.spec}: stores ${p.store.size} > capacity ${p.capacity}`);
  }
  const unit = cost.setting === "single" ? cost.cr : cost.cf;
  const results: PolicyResult[] = policies.map((p, i) => ({
    policy: p.spec,
    requests: count,
    avgCost: totalCost[i] / count,
    normalizedCost: remoteTotal > 0 ? totalCost[i] / remoteTotal : 0,
    hitRatio: hits[i] / count,
    fetched: fetched[i],
    moved: moved[i],
    avgCostWithMovement: (totalCost[i] + moved[i] * unit) / count,
    reqPerSec: count / Math.max(1e-9, seconds[i] + neighbourSeconds),
    policySeconds: seconds[i],
    scans: p.store.scans,
    series: series[i],
  }));
  return {
    results,
    requests: count,
    distance: catalog.distanceName,
    cost: describeCost(cost),
    catalog: catalog.name,
    catalogIndex: catalog.indexSpec,
    trace: trace.info.source,
    neighbours: K,
    neighbourSeconds,
    indexBuildSeconds: catalog.buildSeconds ?? 0,
    memoHits,
    totalSeconds: (performance.now() - start) / 1000,
  };
}

/** Running-average series as CSV: t, then one column per policy. */
export function seriesCsv(results: PolicyResult[]): string {
  const lines = [["t", ...results.map((r) => JSON.stringify(r.policy))].join(",")];
  const n = results[0]?.series.t.length ?? 0;
  for (let j = 0; j < n; j++)
    lines.push([results[0].series.t[j], ...results.map((r) => r.series.avgCost[j])].join(","));
  return `${lines.join("\n")}\n`;
}
