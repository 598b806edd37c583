/**
 * Similarity-caching policies of the literature (Garetto, Leonardi & Neglia, "Similarity Caching: Theory and
 * Algorithms"), all
 * keeping an LRU list and reading y* (and the runner-up) from the answer the shared loop served.
 * Stored objects are catalog objects, so "insert x" means inserting x's nearest catalog object.
 *
 * - sim-lru:  local answer (C_a(x,y*) <= theta) refreshes y*; otherwise x is inserted at the front.
 * - rnd-lru:  a local answer counts as a miss with probability beta = min(1, C_a/C_r)^gamma.
 * - cls-lru:  sim-lru whose entries are balls: every `every` hits an entry re-centres on the
 *             catalog object nearest the mean of the queries it served (our reading of Pandey et al.;
 *             single-answer setting; in the k-NN setting it behaves as sim-lru).
 * - qlru-dc:  hit: refresh y* w.p. dC/C_r, dC = min(C_r, C_a(x,y2)) - C_a(x,y*); independently
 *             insert x w.p. q C_a(x,y*)/C_r. Miss: insert x w.p. q.
 * In the k-NN setting a "hit" is judged per served object: local ones are refreshed, fetched ones
 * inserted (qlru-dc: each w.p. q). duel is defined for the single-answer setting only (duel.ts).
 */
import { fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import type { ParamSchema, ParamValues } from "../../core/spec.js";
import { BOTH_SETTINGS, cachePolicies } from "../cache-policies.js";
import { remoteCost } from "../cost.js";
import { StoredSet } from "../stored-set.js";
import type { CacheContext, CachePolicy, CostModel, ServedAnswer, SimRequest } from "../types.js";
import { specOf } from "./classic.js";
import { checkContext, checkListMatchesStore, fetchedByAnswer, RecencyList } from "./lists.js";

/** An LRU list over the stored set with insert-at-front / refresh helpers. */
export abstract class LruBase implements CachePolicy {
  readonly store: StoredSet;
  readonly capacity: number;
  readonly list: RecencyList;
  protected readonly cost: CostModel;
  protected readonly rng: Rng;
  readonly name: string;

  constructor(
    name: string,
    readonly spec: string,
    protected readonly ctx: CacheContext,
  ) {
    checkContext(name, ctx);
    this.name = name;
    this.capacity = ctx.capacity;
    this.cost = ctx.cost;
    this.store = new StoredSet(ctx.catalog, ctx.capacity);
    this.list = new RecencyList(ctx.catalog.n);
    this.rng = new Rng(ctx.seed);
  }

  /** Inserts o at the front (evicting the least recent when full); returns the movement (0 or 1). */
  protected insert(o: number, answer: ServedAnswer): number {
    if (this.store.has(o)) {
      this.list.moveToFront(o);
      return 0;
    }
    if (this.store.full) this.evict(this.list.back());
    this.store.add(o);
    this.list.pushFront(o);
    this.onInsert(o);
    return fetchedByAnswer(answer, o) ? 0 : 1;
  }

  protected evict(id: number): void {
    this.list.remove(id);
    this.store.remove(id);
    this.onEvict(id);
  }

  protected onInsert(_id: number): void {}
  protected onEvict(_id: number): void {}

  /**
   * Generic k-NN step: refresh the local objects, then insert the fetched ones (each w.p. `admit`),
   * nearest last. Refreshing first keeps an insertion from evicting a local object of this very
   * answer (capacity >= k).
   */
  protected knnUpdate(answer: ServedAnswer, admit = 1): number {
    let moved = 0;
    for (let j = answer.count - 1; j >= 0; j--) if (answer.local[j]) this.list.moveToFront(answer.ids[j]);
    for (let j = answer.count - 1; j >= 0; j--)
      if (!answer.local[j] && (admit >= 1 || this.rng.next() < admit))
        moved += this.insert(answer.ids[j], answer);
    return moved;
  }

  abstract update(req: SimRequest, answer: ServedAnswer): number;

  checkInvariants(): void {
    checkListMatchesStore(this.spec, this.list, this.store);
  }
}

const THETA = {
  theta: {
    type: "number",
    default: undefined,
    min: 0,
    description:
      "approximation-cost threshold C_theta for a hit (single setting); default: served locally (C_a < C_r)",
  },
} satisfies ParamSchema;

class SimLru extends LruBase {
  constructor(
    private readonly p: ParamValues<typeof THETA>,
    ctx: CacheContext,
    name = "sim-lru",
    spec = specOf(name, p),
  ) {
    super(name, spec, ctx);
  }

  /** True when the policy counts the answer as a hit on y* = answer.stored.ids[0]. */
  protected isHit(answer: ServedAnswer): boolean {
    if (answer.stored.count === 0) return false;
    const theta = this.p.theta;
    return theta === undefined ? answer.hit : this.cost.approx(answer.stored.dists[0]) <= theta;
  }

  update(req: SimRequest, answer: ServedAnswer): number {
    if (this.cost.setting === "knn") return this.knnUpdate(answer);
    if (this.isHit(answer)) {
      this.onHit(answer.stored.ids[0], req);
      return 0;
    }
    return this.insert(req.catalog.ids[0], answer);
  }

  protected onHit(y: number, _req: SimRequest): void {
    this.list.moveToFront(y);
  }
}

const RND_PARAMS = {
  gamma: {
    type: "number",
    default: 1,
    min: 0,
    description:
      "shape of the miss probability beta = min(1, C_a/C_r)^gamma (large gamma approaches sim-lru)",
  },
} satisfies ParamSchema;

class RndLru extends LruBase {
  constructor(
    private readonly p: ParamValues<typeof RND_PARAMS>,
    ctx: CacheContext,
  ) {
    super("rnd-lru", specOf("rnd-lru", p), ctx);
  }

  update(req: SimRequest, answer: ServedAnswer): number {
    const c = this.cost;
    const remote = c.setting === "single" ? c.cr : remoteCost(c, req.catalog);
    const beta = Math.min(1, answer.cost / remote) ** this.p.gamma;
    const miss = !answer.hit || this.rng.next() < beta;
    if (c.setting === "knn") {
      if (!miss) return this.knnUpdate(answer);
      let moved = 0;
      for (let j = c.k - 1; j >= 0; j--) moved += this.insert(req.catalog.ids[j], answer);
      return moved;
    }
    if (!miss) {
      this.list.moveToFront(answer.stored.ids[0]);
      return 0;
    }
    return this.insert(req.catalog.ids[0], answer);
  }
}

const CLS_PARAMS = {
  ...THETA,
  every: { type: "int", default: 10, min: 1, description: "hits between re-centrings of an entry" },
} satisfies ParamSchema;

class ClsLru extends SimLru {
  /** Per stored object: sum of the queries it served and their count, in pooled slots. */
  private readonly slotOf: Int32Array;
  private readonly free: number[] = [];
  private readonly sums: Float64Array;
  private readonly hits: Float64Array;
  private readonly mean: Float32Array;
  private readonly nn = { count: 0, ids: new Int32Array(1), dists: new Float64Array(1) };

  constructor(
    private readonly q: ParamValues<typeof CLS_PARAMS>,
    ctx: CacheContext,
  ) {
    super({ theta: q.theta }, ctx, "cls-lru", specOf("cls-lru", q));
    const dim = ctx.catalog.dim;
    this.slotOf = new Int32Array(ctx.catalog.n).fill(-1);
    this.sums = new Float64Array(ctx.capacity * dim);
    this.hits = new Float64Array(ctx.capacity);
    this.mean = new Float32Array(dim);
    for (let s = ctx.capacity - 1; s >= 0; s--) this.free.push(s);
  }

  protected override onInsert(id: number): void {
    const s = this.free.pop();
    if (s === undefined) fail("STATE", "cls-lru: no free entry slot");
    this.slotOf[id] = s;
    this.sums.fill(0, s * this.store.dim, (s + 1) * this.store.dim);
    this.hits[s] = 0;
  }

  protected override onEvict(id: number): void {
    this.free.push(this.slotOf[id]);
    this.slotOf[id] = -1;
  }

  protected override onHit(y: number, req: SimRequest): void {
    this.list.moveToFront(y);
    const dim = this.store.dim;
    const s = this.slotOf[y];
    for (let j = 0; j < dim; j++) this.sums[s * dim + j] += req.x[j];
    if (++this.hits[s] % this.q.every !== 0) return;
    for (let j = 0; j < dim; j++) this.mean[j] = this.sums[s * dim + j] / this.hits[s];
    const c = this.ctx.catalog.nearest(this.mean, 1, this.nn).ids[0];
    if (c === y || this.store.has(c)) return;
    // Re-centre: the entry's ball keeps its statistics under its new centre (a fetch: movement).
    this.list.remove(y);
    this.store.remove(y);
    this.slotOf[c] = s;
    this.slotOf[y] = -1;
    this.store.add(c);
    this.list.pushFront(c);
    this.recentred++;
  }

  recentred = 0;

  override update(req: SimRequest, answer: ServedAnswer): number {
    const before = this.recentred;
    return super.update(req, answer) + (this.recentred - before);
  }

  override checkInvariants(): void {
    super.checkInvariants();
    if (this.free.length + this.store.size !== this.capacity)
      fail(
        "STATE",
        `${this.spec}: ${this.free.length} free entry slots + ${this.store.size} stored != ${this.capacity}`,
      );
    for (const id of this.store.ids())
      if (this.slotOf[id] < 0) fail("STATE", `${this.spec}: stored object ${id} has no entry statistics`);
  }
}

const QLRU_PARAMS = {
  q: { type: "number", default: 0.05, min: 0, max: 1, description: "insertion probability of a miss" },
} satisfies ParamSchema;

class QlruDc extends LruBase {
  /** Reads the runner-up stored object for dC. */
  readonly storedNeighbours = 2;
  constructor(
    private readonly p: ParamValues<typeof QLRU_PARAMS>,
    ctx: CacheContext,
  ) {
    super("qlru-dc", specOf("qlru-dc", p), ctx);
  }

  update(req: SimRequest, answer: ServedAnswer): number {
    const c = this.cost;
    if (c.setting === "knn") return this.knnUpdate(answer, this.p.q);
    const st = answer.stored;
    if (!answer.hit) return this.rng.next() < this.p.q ? this.insert(req.catalog.ids[0], answer) : 0;
    const y = st.ids[0];
    const ca = c.approx(st.dists[0]);
    const second = st.count > 1 ? Math.min(c.cr, c.approx(st.dists[1])) : c.cr;
    if (this.rng.next() < (second - ca) / c.cr) this.list.moveToFront(y);
    if (this.rng.next() < (this.p.q * ca) / c.cr) return this.insert(req.catalog.ids[0], answer);
    return 0;
  }
}

cachePolicies.register({
  name: "sim-lru",
  capabilities: BOTH_SETTINGS,
  summary:
    "similarity LRU (Pandey et al.): a close-enough stored object is refreshed, else the request is inserted",
  params: THETA,
  create: (p, ctx: CacheContext): CachePolicy => new SimLru(p, ctx),
});

cachePolicies.register({
  name: "rnd-lru",
  capabilities: BOTH_SETTINGS,
  summary:
    "randomized sim-lru (Garetto et al.): a local answer is a miss with probability min(1, C_a/C_r)^gamma",
  params: RND_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new RndLru(p, ctx),
});

cachePolicies.register({
  name: "cls-lru",
  capabilities: BOTH_SETTINGS,
  summary:
    "sim-lru whose entries re-centre on the catalog object nearest the mean of the queries they served",
  params: CLS_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new ClsLru(p, ctx),
});

cachePolicies.register({
  name: "qlru-dc",
  capabilities: BOTH_SETTINGS,
  summary:
    "qLRU-deltaC (Garetto et al.): cost-aware probabilistic refresh and insertion; q -> 0 reaches a local optimum",
  params: QLRU_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new QlruDc(p, ctx),
});
