/**
 * ftpl: follow the perturbed leader on request counts. The cache is the top h objects of
 *   s_o(t) = n_o(t) + eta_t * gamma_o,
 * where n_o counts the requests whose exact answer (their k nearest catalog objects) contains o,
 * gamma_o ~ N(0, 1) is drawn once per object (seeded) and eta_t = zeta * sqrt(t / h).
 *
 * Why: counting is what wins on stationary traffic (lfu is the cheapest online policy in 8 of 12
 * configurations of docs/sim-results.md), but lfu inserts every missed object and so churns (6.8
 * million objects moved in 10^6 requests). FTPL is counting with a perturbation that shrinks
 * relative to the counts (sqrt(t) against t): it keeps a regret guarantee and moves an object
 * only when two perturbed counts cross.
 *
 * Guarantee (the linear exact-match reward r_t . x, r_t = the indicator of the request's exact
 * objects): Bhattacharjee, Banerjee and Sinha, "Fundamental Limits on the Regret of Online Network
 * Caching" (POMACS 2020), prove regret O((ln(N e / h))^{1/4} sqrt(h T)) for FTPL with Gaussian
 * perturbation and eta_t proportional to sqrt(t / h) against any request sequence; Mukhopadhyay and
 * Sinha, "Online Caching with Optimal Switching Regret" (ISIT 2021), show that with one fixed
 * perturbation and a growing eta_t the number of swaps is O(sqrt(T)) as well. zeta scales the
 * bound by max(zeta, 1/zeta) and does not change its order. For the similarity cost the guarantee
 * holds for this surrogate (exact objects) only; hedge.ts combines ftpl with acai, whose gradient
 * is the similarity gain's.
 *
 * Lazy fill (fill=lazy, the default): only objects requested at least once are candidates, so the
 * cache fills with the objects requests fetch instead of h perturbation-chosen objects moved at
 * t = 1 (h moved objects, a fifth of the cost with movement charged at 5,000 requests). The
 * guarantee survives with an additive constant: the lazy cache holds every positive-count object
 * of FTPL's cache, so it loses reward only on first requests of objects FTPL stored by their
 * perturbation alone; against an oblivious sequence the perturbations are independent of it, an
 * object first requested when N_0 objects are still unrequested is among FTPL's stored ones with
 * probability at most h / N_0, and summed over first requests that is at most
 * h (1 + ln(N / h)) per answer slot (k h (1 + ln(N / h)) at k-NN), independent of T.
 *
 * Cost: eta_t changes every request, so instead the perturbation scale is refreshed on a geometric
 * grid of t (each refresh when sqrt(t) grew by `refresh` relative, 1% by default), with an O(N)
 * selection of the top h; between refreshes only the requested objects' scores change, and an
 * indexed min-heap of the stored scores decides swaps in O(k log h) per request.
 */
import { fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import type { ParamSchema, ParamValues } from "../../core/spec.js";
import { BOTH_SETTINGS, cachePolicies } from "../cache-policies.js";
import { StoredSet } from "../stored-set.js";
import type { CacheContext, CachePolicy, ServedAnswer, SimRequest } from "../types.js";
import { specOf } from "./classic.js";
import { checkContext, fetchedByAnswer, IndexedMinHeap } from "./lists.js";

export const FTPL_PARAMS = {
  zeta: {
    type: "number",
    default: 0.1,
    min: 0,
    description:
      "perturbation scale: eta_t = zeta * sqrt(t / h) times one N(0, 1) draw per object (0 = plain counting, no guarantee)",
  },
  fill: {
    type: "enum",
    values: ["lazy", "full"],
    default: "lazy",
    description:
      "lazy: only objects requested at least once are candidates (the cache fills with fetched objects, nothing moved at t = 1); full: the top h of all N perturbed scores from the first request",
  },
  refresh: {
    type: "number",
    default: 0.01,
    min: 1e-4,
    max: 1,
    description: "relative growth of sqrt(t) between two refreshes of the perturbation scale (O(N) each)",
  },
} satisfies ParamSchema;

export class Ftpl implements CachePolicy {
  readonly name = "ftpl";
  readonly spec: string;
  readonly store: StoredSet;
  readonly capacity: number;
  private readonly k: number;
  private readonly n: number;
  private readonly counts: Float64Array;
  private readonly gamma: Float64Array;
  /** s_o = counts[o] + eta * gamma[o] at the current eta. */
  private readonly score: Float64Array;
  /** Ties in score go to the smaller id (key2 of the heap). */
  private readonly tie: Float64Array;
  private readonly heap: IndexedMinHeap;
  private eta = 0;
  /** sqrt(t) at the last refresh. */
  private lastRoot = 0;
  private t = 0;
  private readonly sel: Int32Array;
  private readonly lazy: boolean;
  /** Objects requested at least once, in order of first request (lazy fill's candidates). */
  private readonly seen: Int32Array;
  private nSeen = 0;

  constructor(
    private readonly p: ParamValues<typeof FTPL_PARAMS>,
    ctx: CacheContext,
  ) {
    checkContext("ftpl", ctx);
    this.spec = specOf("ftpl", p);
    this.capacity = ctx.capacity;
    this.k = ctx.cost.k;
    const n = (this.n = ctx.catalog.n);
    this.store = new StoredSet(ctx.catalog, ctx.capacity);
    this.counts = new Float64Array(n);
    this.score = new Float64Array(n);
    this.gamma = new Float64Array(n);
    this.tie = new Float64Array(n);
    const rng = new Rng(ctx.seed);
    for (let o = 0; o < n; o++) {
      this.gamma[o] = rng.normal();
      this.tie[o] = -o;
    }
    this.heap = new IndexedMinHeap(n, ctx.capacity, this.score, this.tie);
    this.sel = new Int32Array(n);
    this.lazy = p.fill === "lazy";
    this.seen = new Int32Array(this.lazy ? n : 0);
  }

  /** The perturbation scale in force (for tests). */
  get perturbation(): number {
    return this.eta;
  }

  update(req: SimRequest, answer: ServedAnswer): number {
    const ids = req.catalog.ids;
    for (let j = 0; j < this.k; j++) {
      const o = ids[j];
      if (this.lazy && this.counts[o] === 0) this.seen[this.nSeen++] = o;
      this.counts[o]++;
    }
    this.t++;
    // The decision for request t+1 uses the counts of requests 1..t (follow the leader).
    const root = Math.sqrt(this.t);
    if (this.t === 1 || root >= this.lastRoot * (1 + this.p.refresh)) {
      this.lastRoot = root;
      this.eta = this.p.zeta * Math.sqrt(this.t / this.capacity);
      return this.refresh(answer);
    }
    let moved = 0;
    const { score, counts, heap, store, eta, gamma } = this;
    for (let j = 0; j < this.k; j++) {
      const o = ids[j];
      score[o] = counts[o] + eta * gamma[o];
      if (heap.has(o)) {
        heap.update(o);
        continue;
      }
      if (store.size < this.capacity) {
        // Lazy fill: a free slot takes the requested object (only before the cache is full).
        heap.push(o);
        store.add(o);
        if (!fetchedByAnswer(answer, o)) moved++;
        continue;
      }
      const v = heap.top();
      if (score[o] > score[v] || (score[o] === score[v] && o < v)) {
        heap.remove(v);
        store.remove(v);
        heap.push(o);
        store.add(o);
        if (!fetchedByAnswer(answer, o)) moved++;
      }
    }
    return moved;
  }

  /**
   * Recomputes every candidate's score at the new eta and stores the top h (O(N) selection; lazy:
   * O(objects requested so far), and fewer than h stored while fewer than h were requested).
   */
  private refresh(answer: ServedAnswer): number {
    const { score, counts, gamma, eta, n, store, heap } = this;
    let sel: Int32Array;
    if (this.lazy) {
      sel = this.sel.subarray(0, this.nSeen);
      sel.set(this.seen.subarray(0, this.nSeen));
      for (const o of sel) score[o] = counts[o] + eta * gamma[o];
    } else {
      sel = this.sel;
      for (let o = 0; o < n; o++) score[o] = counts[o] + eta * gamma[o];
      for (let o = 0; o < n; o++) sel[o] = o;
    }
    const h = Math.min(this.capacity, sel.length);
    if (h < sel.length) selectTop(sel, score, h);
    const keep = new Set<number>();
    for (let i = 0; i < h; i++) keep.add(sel[i]);
    // Every key changed: the heap is rebuilt (updating members one by one would sift each against
    // a heap whose other keys are stale, and the top would no longer be the minimum).
    for (const o of Array.from(store.ids())) {
      heap.remove(o);
      if (!keep.has(o)) store.remove(o);
    }
    let moved = 0;
    for (let i = 0; i < h; i++) {
      const o = sel[i];
      heap.push(o);
      if (store.has(o)) continue;
      store.add(o);
      if (!fetchedByAnswer(answer, o)) moved++;
    }
    return moved;
  }

  checkInvariants(): void {
    const { heap, store, score } = this;
    if (store.size > this.capacity)
      fail("STATE", `${this.spec}: stores ${store.size} objects, capacity ${this.capacity}`);
    if (heap.size !== store.size) fail("STATE", `${this.spec}: heap ${heap.size}, store ${store.size}`);
    if (this.t === 0) return;
    const expected = this.lazy ? Math.min(this.capacity, this.nSeen) : this.capacity;
    if (store.size !== expected)
      fail("STATE", `${this.spec}: stores ${store.size} objects, expected ${expected}`);
    if (store.size < this.capacity) return;
    // The stored set is the top h of the candidates' scores at the current eta (ties to the
    // smaller id); lazy: the candidates are the objects requested so far.
    const v = heap.top();
    for (let o = 0; o < this.n; o++) {
      if (store.has(o) || (this.lazy && this.counts[o] === 0)) continue;
      const s = this.counts[o] + this.eta * this.gamma[o];
      if (s > score[v] || (s === score[v] && o < v))
        fail("STATE", `${this.spec}: object ${o} (score ${s}) beats the stored ${v} (score ${score[v]})`);
    }
  }
}

/**
 * Partially sorts ids so that ids[0..h) are the h largest scores (ties: smaller id first),
 * by quickselect (O(N) expected; deterministic pivots from the middle).
 */
export function selectTop(ids: Int32Array, score: Float64Array, h: number): void {
  const before = (a: number, b: number) => score[a] > score[b] || (score[a] === score[b] && a < b);
  let lo = 0;
  let hi = ids.length - 1;
  while (lo < hi) {
    const pivot = ids[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (before(ids[i], pivot)) i++;
      while (before(pivot, ids[j])) j--;
      if (i <= j) {
        const x = ids[i];
        ids[i] = ids[j];
        ids[j] = x;
        i++;
        j--;
      }
    }
    if (h - 1 <= j) hi = j;
    else if (h - 1 >= i) lo = i;
    else return;
  }
}

cachePolicies.register({
  name: "ftpl",
  capabilities: BOTH_SETTINGS,
  summary:
    "follow the perturbed leader: the top h of request counts (each request's k exact objects) plus zeta*sqrt(t/h)*N(0,1) per object; regret O(sqrt(hT)) on the exact-match reward",
  params: FTPL_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new Ftpl(p, ctx),
});
