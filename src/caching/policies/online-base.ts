/**
 * The loop shared by the no-regret policies acai (mirror ascent, negative entropy) and oga
 * (projected gradient ascent): per request
 *   1. candidates = the request's first K catalog neighbours (the catalog index: hnsw when the
 *      catalog is built with it) plus the nearest stored objects the loop looked at;
 *   2. gain and supergradient of the augmented-catalog relaxation on them (online/gain.ts), the
 *      gradient divided by the largest c_L seen so far (c_L = cost of the k-th remote copy, a bound
 *      on every g_o), so that `eta` is dimensionless;
 *   3. a lazy fractional step touching only the candidates (online/entropic-state.ts,
 *      online/euclid-state.ts);
 *   4. rounding to the integral cache: `coupled` updates it from the previous one (only objects
 *      whose y changed get new keys); `madow` / `depround` draw a fresh cache from the dense y
 *      (O(N) per request, and independent draws move many objects: movement that grows linearly with T).
 * Every object inserted by a state change that the served answer had not fetched is movement,
 * including the initial fill at the first request.
 * In the single-answer setting the same relaxation is used with k = 1 and every remote copy at C_r
 * (then G = C_r - min(C_r, min over stored C_a), exactly the cost saving).
 */
import { fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { KnnGain } from "../../online/gain.js";
import { CoordinatedSampler, depRound, madowRound, type RoundingName } from "../../online/rounding.js";
import { StoredSet } from "../stored-set.js";
import type { CacheContext, CachePolicy, CostModel, ServedAnswer, SimRequest } from "../types.js";
import { checkContext, fetchedByAnswer } from "./lists.js";

/** The fractional state an online policy steps (EntropicState or EuclidState). */
export interface FractionalState {
  readonly n: number;
  readonly h: number;
  value(o: number): number;
  couplingKey(o: number, u: number): number;
  toDense(out?: Float64Array): Float64Array;
  total(): number;
  step(objs: ArrayLike<number>, grad: ArrayLike<number>, count: number, eta: number, changed: number[]): void;
}

export interface OnlineParams {
  eta: number;
  rounding: string;
  neighbours: number;
}

export abstract class OnlinePolicy implements CachePolicy {
  readonly store: StoredSet;
  readonly capacity: number;
  readonly catalogNeighbours: number;
  protected readonly cost: CostModel;
  protected readonly state: FractionalState;
  /** Step size actually used (after "auto"). */
  readonly eta: number;
  private readonly rounding: RoundingName;
  private readonly rng: Rng;
  private readonly sampler?: CoordinatedSampler;
  private readonly gain: KnnGain;
  private readonly candIds: Int32Array;
  private readonly local: Float64Array;
  private readonly remote: Float64Array;
  private readonly yc: Float64Array;
  private readonly grad: Float64Array;
  private readonly seen: Int32Array;
  private gradScale = 0;
  private readonly changed: number[] = [];
  private readonly added: number[] = [];
  private readonly removed: number[] = [];
  private dense?: Float64Array;
  private readonly keep: Uint8Array;
  /** Requests processed (for the invariant check). */
  private steps = 0;

  constructor(
    readonly name: string,
    readonly spec: string,
    ctx: CacheContext,
    p: OnlineParams,
    makeState: (n: number, h: number) => FractionalState,
    autoEta: (n: number, h: number, k: number, T: number) => number,
  ) {
    checkContext(name, ctx);
    const n = ctx.catalog.n;
    this.capacity = ctx.capacity;
    this.cost = ctx.cost;
    this.store = new StoredSet(ctx.catalog, ctx.capacity);
    const k = ctx.cost.k;
    this.catalogNeighbours = Math.min(n, p.neighbours > 0 ? Math.max(k, p.neighbours) : Math.max(6 * k, 16));
    const T = ctx.offline?.count ?? 100_000;
    this.eta = p.eta > 0 ? p.eta : autoEta(n, ctx.capacity, k, T);
    this.rounding = p.rounding as RoundingName;
    this.rng = new Rng(ctx.seed);
    this.state = makeState(n, ctx.capacity);
    const maxCand = this.catalogNeighbours + Math.max(k, 2);
    this.gain = new KnnGain(maxCand);
    this.candIds = new Int32Array(maxCand);
    this.local = new Float64Array(maxCand);
    this.remote = new Float64Array(maxCand);
    this.yc = new Float64Array(maxCand);
    this.grad = new Float64Array(maxCand);
    this.seen = new Int32Array(n).fill(-1);
    this.keep = new Uint8Array(n);
    if (this.rounding === "coupled") {
      const s = new CoordinatedSampler(n, ctx.capacity, this.rng.fork());
      this.sampler = s;
      for (let o = 0; o < n; o++) s.setKey(o, this.state.couplingKey(o, s.u[o]));
      s.commit(); // the first update's drain fills the empty store with this initial cache
      this.bindRescale(s);
    }
  }

  /** Lets the state tell the sampler about global key transformations (renormalisation). */
  protected abstract bindRescale(sampler: CoordinatedSampler): void;

  update(req: SimRequest, answer: ServedAnswer): number {
    const count = this.collectCandidates(req, answer);
    const k = this.cost.k;
    this.gain.evaluate(count, this.local, this.remote, this.yc, k, this.grad);
    const cL = this.gain.lastCL;
    if (cL > this.gradScale) this.gradScale = cL;
    if (this.gradScale > 0) for (let j = 0; j < count; j++) this.grad[j] /= this.gradScale;
    this.changed.length = 0;
    this.state.step(this.candIds, this.grad, count, this.eta, this.changed);
    this.steps++;
    return this.rounding === "coupled" ? this.applyCoupled(answer) : this.applyFresh(answer);
  }

  /** Fills candidate ids, local/remote copy costs and current y; returns how many. */
  private collectCandidates(req: SimRequest, answer: ServedAnswer): number {
    const { cost, candIds, local, remote, yc, seen } = this;
    const stamp = this.steps; // distinct per call, even if a trace restarts t
    let c = 0;
    const add = (id: number, d: number) => {
      if (seen[id] === stamp) return;
      seen[id] = stamp;
      candIds[c] = id;
      const a = cost.approx(d);
      local[c] = a;
      remote[c] = cost.setting === "single" ? cost.cr : a + cost.cf;
      yc[c] = this.state.value(id);
      c++;
    };
    const cat = req.catalog;
    const K = Math.min(cat.count, this.catalogNeighbours);
    if (K < this.cost.k) fail("STATE", `${this.name}: ${K} catalog neighbours for k = ${this.cost.k}`);
    for (let j = 0; j < K; j++) add(cat.ids[j], cat.dists[j]);
    const st = answer.stored;
    for (let j = 0; j < st.count; j++) add(st.ids[j], st.dists[j]);
    return c;
  }

  private applyCoupled(answer: ServedAnswer): number {
    const s = this.sampler!;
    for (const o of this.changed) s.setKey(o, this.state.couplingKey(o, s.u[o]));
    s.commit();
    this.added.length = 0;
    this.removed.length = 0;
    s.drain(this.added, this.removed);
    for (const o of this.removed) if (this.store.has(o)) this.store.remove(o);
    let moved = 0;
    for (const o of this.added) {
      if (this.store.has(o)) continue;
      this.store.add(o);
      if (!fetchedByAnswer(answer, o)) moved++;
    }
    return moved;
  }

  private applyFresh(answer: ServedAnswer): number {
    const y = (this.dense = this.state.toDense(this.dense));
    // The lazy state sums to h up to rounding; the rounding checks 1e-6 relative.
    const sel =
      this.rounding === "madow"
        ? madowRound(y, this.capacity, this.rng)
        : depRound(y, this.capacity, this.rng);
    const keep = this.keep;
    for (const o of sel) keep[o] = 1;
    const stored = Array.from(this.store.ids());
    for (const o of stored) if (!keep[o]) this.store.remove(o);
    let moved = 0;
    for (const o of sel) {
      keep[o] = 0;
      if (this.store.has(o)) continue;
      this.store.add(o);
      if (!fetchedByAnswer(answer, o)) moved++;
    }
    return moved;
  }

  checkInvariants(): void {
    const owner = this.spec;
    if (this.store.size > this.capacity)
      fail("STATE", `${owner}: stores ${this.store.size} objects, capacity ${this.capacity}`);
    const total = this.state.total();
    if (!(Math.abs(total - this.capacity) <= 1e-6 * this.capacity))
      fail("STATE", `${owner}: fractional state sums to ${total}, expected h = ${this.capacity}`);
    const y = this.state.toDense();
    for (let o = 0; o < y.length; o++)
      if (!(y[o] >= 0 && y[o] <= 1)) fail("STATE", `${owner}: y[${o}] = ${y[o]} is outside [0, 1]`);
    if (this.steps === 0) return;
    if (this.store.size !== this.capacity)
      fail(
        "STATE",
        `${owner}: stores ${this.store.size} objects, the rounding keeps exactly ${this.capacity}`,
      );
    if (this.sampler) {
      for (const o of this.sampler.selected())
        if (!this.store.has(o)) fail("STATE", `${owner}: the rounding selects ${o} but the store lacks it`);
    }
  }
}
