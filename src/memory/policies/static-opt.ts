/**
 * static-opt: the best FIXED cache in hindsight (the comparator of regret). It replays the trace
 * (offline.ts) and minimises the total served cost over caches of h objects:
 * - exact when every useful object fits (then caching them all is optimal) or when the number of
 *   h-subsets of the useful objects is at most `exact` (full enumeration);
 * - otherwise lazy greedy, which reaches at least (1 - 1/e) of the optimal gain because the served
 *   gain is monotone submodular (offline.ts), followed by single-swap local search (which only
 *   lowers the cost, so the guarantee stands).
 * `method` says which one ran; `hindsightCost` is its average cost per request on the table.
 */
import { fail } from "../../core/errors.js";
import type { ParamSchema, ParamValues } from "../../core/spec.js";
import { registerPolicy } from "../registry.js";
import { specOf } from "./classic.js";
import { checkContext, fetchedByAnswer } from "./lists.js";
import {
  buildRequestTable,
  FixedCache,
  fillTo,
  lazyGreedy,
  type RequestTable,
  swapLocalSearch,
} from "./offline.js";
import { StoredSet } from "./stored-set.js";
import type { CacheContext, CachePolicy, ServedAnswer, SimRequest } from "./types.js";

export const OFFLINE_PARAMS = {
  neighbours: {
    type: "int",
    default: 32,
    min: 1,
    description: "catalog neighbours kept per request (objects farther away are ignored for it)",
  },
  maxRequests: {
    type: "int",
    default: 20_000,
    min: 1,
    description: "longer traces are represented by a seeded uniform sample of this many requests",
  },
  swaps: { type: "int", default: 10_000, min: 0, description: "most single-swap local-search moves" },
} satisfies ParamSchema;

const STATIC_PARAMS = {
  ...OFFLINE_PARAMS,
  exact: {
    type: "int",
    default: 200_000,
    min: 0,
    description: "enumerate every h-subset of the useful objects when there are at most this many",
  },
} satisfies ParamSchema;

/** C(n, h), or Infinity once it exceeds `limit`. */
function binomialUpTo(n: number, h: number, limit: number): number {
  const m = Math.min(h, n - h);
  let c = 1;
  for (let i = 1; i <= m; i++) {
    c = (c * (n - m + i)) / i;
    if (c > limit) return Number.POSITIVE_INFINITY;
  }
  return Math.round(c);
}

/** Every h-subset of `pool`, keeping the cheapest. */
function enumerateBest(table: RequestTable, pool: Int32Array, h: number, member: Uint8Array): number[] {
  const idx = Array.from({ length: h }, (_, i) => i);
  let best = Number.POSITIVE_INFINITY;
  let bestSet: number[] = [];
  for (;;) {
    for (const i of idx) member[pool[i]] = 1;
    const c = table.totalCost(member);
    for (const i of idx) member[pool[i]] = 0;
    if (c < best) {
      best = c;
      bestSet = idx.map((i) => pool[i]);
    }
    let j = h - 1;
    while (j >= 0 && idx[j] === pool.length - h + j) j--;
    if (j < 0) break;
    idx[j]++;
    for (let i = j + 1; i < h; i++) idx[i] = idx[i - 1] + 1;
  }
  for (const o of bestSet) member[o] = 1;
  return bestSet;
}

export class StaticOpt implements CachePolicy {
  readonly store: StoredSet;
  readonly capacity: number;
  readonly name = "static-opt";
  readonly spec: string;
  /** "exact (...)" or "greedy+swap (...)". */
  readonly method: string;
  /** Average served cost per request of the chosen cache over the (sampled) trace. */
  readonly hindsightCost: number;
  private readonly fixed: FixedCache;

  constructor(p: ParamValues<typeof STATIC_PARAMS>, ctx: CacheContext) {
    checkContext("static-opt", ctx);
    this.spec = specOf("static-opt", p);
    this.capacity = ctx.capacity;
    this.store = new StoredSet(ctx.catalog, ctx.capacity);
    const h = ctx.capacity;
    const table = buildRequestTable("static-opt", ctx, { ...p, seed: ctx.seed });
    const member = new Uint8Array(ctx.catalog.n);
    const rel = table.relevant;
    let stored: number[];
    if (rel.length <= h) {
      stored = Array.from(rel);
      for (const o of stored) member[o] = 1;
      this.method = `exact (all ${rel.length} useful objects fit)`;
    } else if (binomialUpTo(rel.length, h, p.exact) <= p.exact) {
      stored = enumerateBest(table, rel, h, member);
      this.method = `exact (enumerated C(${rel.length}, ${h}) subsets)`;
    } else {
      stored = lazyGreedy(table, member, h);
      const swaps = swapLocalSearch(table, member, stored, p.swaps);
      this.method = `greedy+swap (>= 1-1/e of the optimal gain; ${swaps} swaps)`;
    }
    fillTo(table, member, stored, h);
    if (table.R > 0) {
      const total = table.weight.reduce((a, b) => a + b, 0);
      this.hindsightCost = table.totalCost(member) / total;
    } else this.hindsightCost = 0;
    this.fixed = new FixedCache(stored);
  }

  update(_req: SimRequest, answer: ServedAnswer): number {
    return this.fixed.fill(this.store, (o) => fetchedByAnswer(answer, o));
  }

  checkInvariants(): void {
    if (this.store.size > this.capacity)
      fail("STATE", `${this.spec}: stores ${this.store.size} objects, capacity ${this.capacity}`);
    this.fixed.check(this.spec, this.store);
  }
}

registerPolicy({
  name: "static-opt",
  kind: "cache",
  summary:
    "offline: the best fixed cache in hindsight (exact by enumeration when small, else greedy + swaps, >= 1-1/e of the optimal gain); the regret comparator",
  params: STATIC_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new StaticOpt(p, ctx),
});
