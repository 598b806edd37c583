import type { ParamSchema, ParamValues } from "../../core/spec.js";
import { BOTH_SETTINGS, cachePolicies } from "../cache-policies.js";
import type { CacheContext, CachePolicy } from "../types.js";
import { specOf } from "./classic.js";
import {
  buildRequestTable,
  FixedCachePolicy,
  lazyGreedy,
  type RequestTable,
  swapLocalSearch,
} from "./offline.js";

export const OFFLINE_PARAMS = {
  neighbours: {
    type: "int",
    default: 32,
    min: 1,
    description: "catalog neighbours kept per request (objects farther away are ignored for it)",
  },
  maxRequests: {
    type: "int",
    default: 0,
    min: 0,
    description:
      "0 = the whole trace (a true comparator); N = longer traces are represented by a seeded uniform sample of N requests (faster, an estimate)",
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

export class StaticOpt extends FixedCachePolicy {
  readonly name = "static-opt";
  /** "exact (...)" or "greedy+swap (...)". */
  readonly method: string;

  constructor(p: ParamValues<typeof STATIC_PARAMS>, ctx: CacheContext) {
    super("static-opt", specOf("static-opt", p), ctx);
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
    this.settle(table, member, stored);
  }
}

cachePolicies.register({
  name: "static-opt",
  capabilities: BOTH_SETTINGS,
  summary:
    "offline: the best fixed cache in hindsight (exact by enumeration when small, else greedy + swaps, >= 1-1/e of the optimal gain); the regret comparator",
  params: STATIC_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new StaticOpt(p, ctx),
});
