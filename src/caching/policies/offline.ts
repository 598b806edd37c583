/**
 * Shared machinery of the offline references `greedy` and `static-opt`: they replay the trace
 * before the run (CacheContext.offline), summarise every request by its M nearest catalog objects
 * (the objects that can serve it), and search for a good FIXED cache under the served cost the
 * simulator charges (k distinct objects at their cheapest copy; single-answer min(C_r, C_a)).
 *
 * Served gain G(S) = sum_r w_r (cost_r(empty) - cost_r(S)) is monotone submodular: per request it
 * is the best weight of k objects, one copy each, where a stored object's local copy becomes
 * available: a weighted rank function of the rank-k truncation of a partition matroid over the
 * available copies (k = 1: facility location). Hence greedy reaches >= (1 - 1/e) of the optimum.
 *
 * Approximations, stated: an object outside a request's M-list is ignored for it (exact when the
 * list reaches every object cheaper than the remote alternative). By default (`maxRequests` = 0)
 * the whole trace is replayed, so the result is a true comparator (the best fixed cache found);
 * with `maxRequests` = N > 0 and a longer trace a seeded uniform sample of about N requests stands
 * for it (weights scaled): an estimate, which at 10^6 requests ranked objects worse than lfu's
 * counts (docs/sim.md).
 */
import { fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { RowLookup } from "../row-lookup.js";
import { makeNeighbours, StoredSet } from "../stored-set.js";
import type { CacheContext, CachePolicy, CostModel, ServedAnswer, SimRequest } from "../types.js";
import { checkContext, fetchedByAnswer } from "./lists.js";

export class RequestTable {
  /** Distinct requests (after aggregation of identical neighbour lists). */
  readonly R: number;
  /** Per request: useful objects (local copy cheaper than the remote alternative), then the rest. */
  readonly start: Int32Array;
  readonly ids: Int32Array;
  /** approx(d) of each listed object. */
  readonly cd: Float64Array;
  readonly weight: Float64Array;
  /** Requests each object is useful for (CSR). */
  readonly objStart: Int32Array;
  readonly objReqs: Int32Array;
  /** Objects useful for at least one request. */
  readonly relevant: Int32Array;
  /** Requests replayed (before sampling). */
  readonly traceCount: number;

  constructor(
    private readonly cost: CostModel,
    n: number,
    lists: { ids: number[]; cd: number[]; weight: number }[],
    traceCount: number,
  ) {
    this.traceCount = traceCount;
    this.R = lists.length;
    this.start = new Int32Array(this.R + 1);
    let total = 0;
    for (let r = 0; r < this.R; r++) {
      total += lists[r].ids.length;
      this.start[r + 1] = total;
    }
    this.ids = new Int32Array(total);
    this.cd = new Float64Array(total);
    this.weight = new Float64Array(this.R);
    const useful = new Int32Array(n);
    for (let r = 0; r < this.R; r++) {
      const l = lists[r];
      this.ids.set(l.ids, this.start[r]);
      this.cd.set(l.cd, this.start[r]);
      this.weight[r] = l.weight;
      const bound = this.usefulBound(r);
      for (let j = this.start[r]; j < this.start[r + 1]; j++) if (this.cd[j] < bound) useful[this.ids[j]]++;
    }
    this.objStart = new Int32Array(n + 1);
    for (let o = 0; o < n; o++) this.objStart[o + 1] = this.objStart[o] + useful[o];
    this.objReqs = new Int32Array(this.objStart[n]);
    const fill = this.objStart.slice(0, n);
    for (let r = 0; r < this.R; r++) {
      const bound = this.usefulBound(r);
      for (let j = this.start[r]; j < this.start[r + 1]; j++)
        if (this.cd[j] < bound) this.objReqs[fill[this.ids[j]]++] = r;
    }
    const rel: number[] = [];
    for (let o = 0; o < n; o++) if (useful[o] > 0) rel.push(o);
    this.relevant = Int32Array.from(rel);
  }

  /** A stored object helps request r only if its local cost is below this. */
  usefulBound(r: number): number {
    const c = this.cost;
    if (c.setting === "single") return c.cr;
    // Below the k-th nearest object's remote cost (the worst object the all-remote answer serves).
    return this.cd[this.start[r] + c.k - 1] + c.cf;
  }

  /** Served cost of request r when `member` marks the stored objects. */
  cost1(r: number, member: Uint8Array): number {
    const c = this.cost;
    const s = this.start[r];
    const e = this.start[r + 1];
    if (c.setting === "single") {
      for (let j = s; j < e; j++) if (member[this.ids[j]]) return Math.min(c.cr, this.cd[j]);
      return c.cr;
    }
    // k distinct objects: stored ones at cd, others at cd + cf; both streams are sorted by cd.
    let a = s;
    let b = s;
    let total = 0;
    for (let taken = 0; taken < c.k; taken++) {
      while (a < e && !member[this.ids[a]]) a++;
      while (b < e && member[this.ids[b]]) b++;
      const la = a < e ? this.cd[a] : Number.POSITIVE_INFINITY;
      const rb = b < e ? this.cd[b] + c.cf : Number.POSITIVE_INFINITY;
      if (la <= rb) {
        total += la;
        a++;
      } else {
        total += rb;
        b++;
      }
    }
    return total;
  }

  /** Weighted total cost of a cache over all requests. */
  totalCost(member: Uint8Array): number {
    let s = 0;
    for (let r = 0; r < this.R; r++) s += this.weight[r] * this.cost1(r, member);
    return s;
  }

  /** Requests object o is useful for. */
  requestsOf(o: number): Int32Array {
    return this.objReqs.subarray(this.objStart[o], this.objStart[o + 1]);
  }

  /** Weighted cost change over the requests of o (and of o2) when `member` is edited by `edit`. */
  deltaOver(member: Uint8Array, o: number, o2: number, edit: () => void, undo: () => void): number {
    // An object is in a request's list once, so o's requests are distinct: no set needed alone.
    let reqs: Iterable<number> = this.requestsOf(o);
    if (o2 >= 0) {
      const both = new Set<number>(reqs);
      for (const r of this.requestsOf(o2)) both.add(r);
      reqs = both;
    }
    let before = 0;
    for (const r of reqs) before += this.weight[r] * this.cost1(r, member);
    edit();
    let after = 0;
    for (const r of reqs) after += this.weight[r] * this.cost1(r, member);
    undo();
    return after - before;
  }
}

export interface TableOptions {
  /** Catalog neighbours kept per request. */
  neighbours: number;
  /** At most this many sampled requests; 0 = every request. */
  maxRequests: number;
  seed: number;
}

/** Replays the trace once and builds the request table. */
export function buildRequestTable(name: string, ctx: CacheContext, o: TableOptions): RequestTable {
  const off = ctx.offline;
  if (!off)
    fail("INVALID_ARGUMENT", `${name}: an offline reference needs the trace in advance (context.offline)`);
  const { catalog, cost } = ctx;
  const M = Math.min(catalog.n, Math.max(cost.k, o.neighbours));
  const p = o.maxRequests > 0 ? Math.min(1, o.maxRequests / Math.max(1, off.count)) : 1;
  const rng = new Rng(o.seed);
  const nb = makeNeighbours(M);
  const byKey = new Map<string, number>();
  const lists: { ids: number[]; cd: number[]; weight: number }[] = [];
  // A request equal to a catalog row has that row's list (the search is deterministic), so each
  // distinct row is searched once: the same table, without one search per occurrence.
  const rows = new RowLookup(catalog);
  const listOfRow = new Map<number, number>();
  let count = 0;
  for (const x of off.requests()) {
    count++;
    if (p < 1 && rng.next() >= p) continue;
    const row = rows.find(x);
    const known = row >= 0 ? listOfRow.get(row) : undefined;
    if (known !== undefined) {
      lists[known].weight += 1 / p;
      continue;
    }
    catalog.nearest(x, M, nb);
    const ids = Array.from(nb.ids.subarray(0, nb.count));
    const cd = Array.from(nb.dists.subarray(0, nb.count), (d) => cost.approx(d));
    // Identical requests have identical lists: aggregate them into one weighted request.
    const key = `${ids.join(",")}|${Array.from(nb.dists.subarray(0, nb.count)).join(",")}`;
    let at = byKey.get(key);
    if (at !== undefined) lists[at].weight += 1 / p;
    else {
      at = lists.length;
      byKey.set(key, at);
      lists.push({ ids, cd, weight: 1 / p });
    }
    if (row >= 0) listOfRow.set(row, at);
  }
  return new RequestTable(cost, catalog.n, lists, count);
}

/**
 * Lazy greedy (Minoux): repeatedly add the object of largest marginal gain, re-evaluating a
 * stale bound only when it reaches the top. Fills `member` up to h objects; returns them.
 */
export function lazyGreedy(table: RequestTable, member: Uint8Array, h: number): number[] {
  const chosen: number[] = [];
  const rel = Array.from(table.relevant);
  const gainOf = (o: number) =>
    -table.deltaOver(
      member,
      o,
      -1,
      () => (member[o] = 1),
      () => (member[o] = 0),
    );
  // Max-heap by bound (larger gain first, ties to the smaller id: a total order, so the tops come
  // out in the same sequence as from a sorted array).
  const heapG = new Float64Array(rel.length);
  const heapO = new Int32Array(rel.length);
  const heapAt = new Int32Array(rel.length);
  let size = 0;
  const above = (i: number, j: number) =>
    heapG[i] > heapG[j] || (heapG[i] === heapG[j] && heapO[i] < heapO[j]);
  const swap = (i: number, j: number) => {
    const g = heapG[i];
    heapG[i] = heapG[j];
    heapG[j] = g;
    const o = heapO[i];
    heapO[i] = heapO[j];
    heapO[j] = o;
    const t = heapAt[i];
    heapAt[i] = heapAt[j];
    heapAt[j] = t;
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const c = l + 1 < size && above(l + 1, l) ? l + 1 : l;
      if (!above(c, i)) return;
      swap(c, i);
      i = c;
    }
  };
  for (const o of rel) {
    heapG[size] = gainOf(o);
    heapO[size] = o;
    heapAt[size] = 0;
    let i = size++;
    while (i > 0 && above(i, (i - 1) >> 1)) {
      swap(i, (i - 1) >> 1);
      i = (i - 1) >> 1;
    }
  }
  while (chosen.length < h && size > 0) {
    const o = heapO[0];
    if (heapAt[0] !== chosen.length) {
      // Stale: re-evaluate and sift down (submodularity: the bound only shrinks).
      heapG[0] = gainOf(o);
      heapAt[0] = chosen.length;
      down(0);
      continue;
    }
    const g = heapG[0];
    size--;
    if (size > 0) {
      swap(0, size);
      down(0);
    }
    if (g <= 0) break;
    member[o] = 1;
    chosen.push(o);
  }
  return chosen;
}

/**
 * Single-swap local search: repeatedly applies an improving swap (stored s out, o in), trying
 * outside objects in decreasing order of their add gain and, for each, the stored object whose
 * swap lowers the cost most, until a full pass finds none or `maxSwaps` is reached. Returns the
 * number of swaps made.
 *
 * A swap's cost change decomposes as A(o) + L(s) + sum over requests where both matter of a
 * correction, where A(o) = cost change of adding o and L(s) = of removing s. L is kept per stored
 * object and updated only on the requests a swap touches, so a pass costs about
 * sum_o |R(o)| * (stored objects in a list) * M rather than |outside| * h * (|R(o)| + |R(s)|) * M.
 */
export function swapLocalSearch(
  table: RequestTable,
  member: Uint8Array,
  stored: number[],
  maxSwaps: number,
): number {
  const n = member.length;
  const eps = 1e-12 * Math.max(1, table.traceCount);
  const cur = new Float64Array(table.R);
  for (let r = 0; r < table.R; r++) cur[r] = table.cost1(r, member);
  const loss = new Float64Array(n); // L(s) for stored s
  const { start, ids, cd, weight } = table;
  /** Adds (sign +1) or removes (-1) request r's contribution to L of its useful stored objects. */
  const lossesOf = (r: number, sign: number) => {
    const bound = table.usefulBound(r);
    for (let j = start[r]; j < start[r + 1]; j++) {
      const s = ids[j];
      if (!member[s] || !(cd[j] < bound)) continue;
      member[s] = 0;
      loss[s] += sign * weight[r] * (table.cost1(r, member) - cur[r]);
      member[s] = 1;
    }
  };
  for (let r = 0; r < table.R; r++) lossesOf(r, 1);
  const addGain = (o: number) => {
    member[o] = 1;
    let a = 0;
    for (const r of table.requestsOf(o)) a += weight[r] * (table.cost1(r, member) - cur[r]);
    member[o] = 0;
    return a;
  };
  // Corrections per stored object for the candidate at hand: a dense array (read for every
  // stored object per candidate) and the list of the entries set, cleared after each candidate.
  const corr = new Float64Array(n);
  const corrSet: number[] = [];
  let swaps = 0;
  for (let improved = true; improved && swaps < maxSwaps; ) {
    improved = false;
    const order = Array.from(table.relevant)
      .filter((o) => !member[o])
      .map((o) => ({ o, a: addGain(o) }))
      .filter((x) => x.a < -eps)
      .sort((p, q) => p.a - q.a || p.o - q.o);
    for (const { o } of order) {
      const a = addGain(o); // fresh: earlier swaps in this pass may have changed it
      if (!(a < -eps)) continue;
      // Corrections for stored objects that matter in the same requests as o.
      for (const s of corrSet) corr[s] = 0;
      corrSet.length = 0;
      for (const r of table.requestsOf(o)) {
        const bound = table.usefulBound(r);
        member[o] = 1;
        const withO = table.cost1(r, member) - cur[r];
        for (let j = start[r]; j < start[r + 1]; j++) {
          const s = ids[j];
          if (s === o || !member[s] || !(cd[j] < bound)) continue;
          member[s] = 0;
          const joint = table.cost1(r, member) - cur[r];
          member[o] = 0;
          const without = table.cost1(r, member) - cur[r];
          member[o] = 1;
          member[s] = 1;
          if (corr[s] === 0) corrSet.push(s);
          corr[s] += weight[r] * (joint - without - withO);
        }
        member[o] = 0;
      }
      let best = -eps;
      let bestS = -1;
      for (const s of stored) {
        const d = a + loss[s] + corr[s];
        if (d < best) {
          best = d;
          bestS = s;
        }
      }
      if (bestS < 0) continue;
      const touched = new Set<number>(table.requestsOf(o));
      for (const r of table.requestsOf(bestS)) touched.add(r);
      for (const r of touched) lossesOf(r, -1);
      member[o] = 1;
      member[bestS] = 0;
      loss[bestS] = 0;
      stored[stored.indexOf(bestS)] = o;
      for (const r of touched) {
        cur[r] = table.cost1(r, member);
        lossesOf(r, 1);
      }
      swaps++;
      improved = true;
      if (swaps >= maxSwaps) break;
    }
  }
  return swaps;
}

/** Fills `stored` up to h with relevant objects, then any others (a fixed cache may as well be full). */
export function fillTo(table: RequestTable, member: Uint8Array, stored: number[], h: number): void {
  for (const o of table.relevant) {
    if (stored.length >= h) return;
    if (!member[o]) {
      member[o] = 1;
      stored.push(o);
    }
  }
  for (let o = 0; o < member.length && stored.length < h; o++)
    if (!member[o]) {
      member[o] = 1;
      stored.push(o);
    }
}

/**
 * A policy whose cache is fixed for the whole run (the offline references): the subclass chooses
 * the objects in its constructor and calls {@link settle}; the cache is filled at the first request
 * (counted as movement) and never changes after.
 */
export abstract class FixedCachePolicy implements CachePolicy {
  readonly store: StoredSet;
  readonly capacity: number;
  abstract readonly name: string;
  readonly spec: string;
  /** Average served cost per request of the chosen cache over the (sampled) trace. */
  hindsightCost = 0;
  /** The fixed cache. */
  objects: readonly number[] = [];
  private filled = false;

  constructor(name: string, spec: string, ctx: CacheContext) {
    checkContext(name, ctx);
    this.spec = spec;
    this.capacity = ctx.capacity;
    this.store = new StoredSet(ctx.catalog, ctx.capacity);
  }

  /** Completes `stored` to a full cache and fixes it; records its cost on the table. */
  protected settle(table: RequestTable, member: Uint8Array, stored: number[]): void {
    fillTo(table, member, stored, this.capacity);
    const total = table.weight.reduce((x, y) => x + y, 0);
    this.hindsightCost = total > 0 ? table.totalCost(member) / total : 0;
    this.objects = stored;
  }

  update(_req: SimRequest, answer: ServedAnswer): number {
    if (this.filled) return 0;
    this.filled = true;
    let moved = 0;
    for (const o of this.objects) {
      if (this.store.has(o)) continue;
      this.store.add(o);
      if (!fetchedByAnswer(answer, o)) moved++;
    }
    return moved;
  }

  checkInvariants(): void {
    const store = this.store;
    if (store.size > this.capacity)
      fail("STATE", `${this.spec}: stores ${store.size} objects, capacity ${this.capacity}`);
    if (!this.filled) return;
    if (store.size !== this.objects.length)
      fail("STATE", `${this.spec}: stores ${store.size} objects, its fixed cache has ${this.objects.length}`);
    for (const o of this.objects)
      if (!store.has(o)) fail("STATE", `${this.spec}: fixed object ${o} is missing`);
  }
}
