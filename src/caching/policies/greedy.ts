/**
 * greedy: the local-search reference of Garetto, Leonardi & Neglia (GREEDY knows the request
 * popularities): start from the h objects most often a request's nearest, then apply improving
 * single replacements (one stored object out, one in) until none improves. The result is a local
 * optimum (no single swap lowers the cost), fixed for the whole run. The popularities are the
 * replayed trace's (offline.ts), so this is an offline reference.
 */

import type { ParamValues } from "../../core/spec.js";
import { BOTH_SETTINGS, cachePolicies } from "../cache-policies.js";
import type { CacheContext, CachePolicy } from "../types.js";
import { specOf } from "./classic.js";
import { buildRequestTable, FixedCachePolicy, fillTo, swapLocalSearch } from "./offline.js";
import { OFFLINE_PARAMS } from "./static-opt.js";

export class GreedyLocalSearch extends FixedCachePolicy {
  readonly name = "greedy";
  readonly swaps: number;

  constructor(p: ParamValues<typeof OFFLINE_PARAMS>, ctx: CacheContext) {
    super("greedy", specOf("greedy", p), ctx);
    const table = buildRequestTable("greedy", ctx, { ...p, seed: ctx.seed });
    const n = ctx.catalog.n;
    // Popularity: how much request weight has each object as its nearest.
    const pop = new Float64Array(n);
    for (let r = 0; r < table.R; r++) pop[table.ids[table.start[r]]] += table.weight[r];
    const order = Array.from({ length: n }, (_, o) => o)
      .filter((o) => pop[o] > 0)
      .sort((a, b) => pop[b] - pop[a] || a - b);
    const member = new Uint8Array(n);
    const stored = order.slice(0, ctx.capacity);
    for (const o of stored) member[o] = 1;
    fillTo(table, member, stored, ctx.capacity); // swaps start from a full cache
    this.swaps = swapLocalSearch(table, member, stored, p.swaps);
    this.settle(table, member, stored);
  }
}

cachePolicies.register({
  name: "greedy",
  capabilities: BOTH_SETTINGS,
  summary:
    "offline local search (Garetto et al.'s GREEDY): from the most popular objects, best single replacements until none improves",
  params: OFFLINE_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new GreedyLocalSearch(p, ctx),
});
