/**
 * greedy: the local-search reference of Garetto, Leonardi & Neglia (GREEDY knows the request
 * popularities): start from the h objects most often a request's nearest, then apply improving
 * single replacements (one stored object out, one in) until none improves. The result is a local
 * optimum (no single swap lowers the cost), fixed for the whole run. The popularities are the
 * replayed trace's (offline.ts), so this is an offline reference.
 */
import { fail } from "../../core/errors.js";
import type { ParamValues } from "../../core/spec.js";
import { registerPolicy } from "../registry.js";
import { specOf } from "./classic.js";
import { checkContext, fetchedByAnswer } from "./lists.js";
import { buildRequestTable, FixedCache, fillTo, swapLocalSearch } from "./offline.js";
import { OFFLINE_PARAMS } from "./static-opt.js";
import { StoredSet } from "./stored-set.js";
import type { CacheContext, CachePolicy, ServedAnswer, SimRequest } from "./types.js";

export class GreedyLocalSearch implements CachePolicy {
  readonly store: StoredSet;
  readonly capacity: number;
  readonly name = "greedy";
  readonly spec: string;
  readonly swaps: number;
  /** Average served cost per request of the local optimum over the (sampled) trace. */
  readonly hindsightCost: number;
  readonly objects: readonly number[];
  private readonly fixed: FixedCache;

  constructor(p: ParamValues<typeof OFFLINE_PARAMS>, ctx: CacheContext) {
    checkContext("greedy", ctx);
    this.spec = specOf("greedy", p);
    this.capacity = ctx.capacity;
    this.store = new StoredSet(ctx.catalog, ctx.capacity);
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
    fillTo(table, member, stored, ctx.capacity);
    this.swaps = swapLocalSearch(table, member, stored, p.swaps);
    const total = table.weight.reduce((a, b) => a + b, 0);
    this.hindsightCost = total > 0 ? table.totalCost(member) / total : 0;
    this.objects = stored;
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
  name: "greedy",
  kind: "cache",
  summary:
    "offline local search (Garetto et al.'s GREEDY): from the most popular objects, best single replacements until none improves",
  params: OFFLINE_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new GreedyLocalSearch(p, ctx),
});
