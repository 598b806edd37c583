/**
 * hedge: a meta-policy that follows one of M base policies (experts, default ftpl, acai, sim-lru) with
 * exponential weights and lazy switching.
 *
 * Why: no single base policy is cheapest everywhere (docs/sim-results.md): counting wins on
 * stationary traffic, acai on shifting traffic. Every expert runs on its own private cache (served
 * here with the shared accounting of cost.ts, on the request's shared catalog list), so each
 * expert's loss is known every request whether it is followed or not; the meta-policy's cache IS
 * the followed expert's cache, so its served cost is that expert's, and its movement is that
 * expert's movement plus, at a switch, the objects of the new cache the old one lacked.
 *
 * Rule: losses l_i(t) = (served cost of request t by expert i's cache + its update's movement *
 * unit, if `movement`) / (cost of answering remotely), each round relative to its best expert.
 * The movement of the update after request t is known before hedge chooses whose cache serves
 * request t+1, so it is charged in round t: an exact optimistic hint (Rakhlin and Sridharan,
 * "Online Learning with Predictable Sequences", COLT 2013): only the next served cost is unknown,
 * and for a fixed rate the regret is O(ln(M)/eps + eps * sum_t (range of the served part)^2),
 * whatever the movement. In particular an expert that fills its whole cache at t = 1 (acai) is
 * charged for it before hedge follows it.
 *
 * Rate (`rate`): AdaHedge (de Rooij, van Erven, Grünwald and Koolen, "Follow the Leader If You Can,
 * Hedge If You Must", JMLR 2014), eta_t = ln(M) / Delta_{t-1} with Delta the cumulative
 * mixability gap (follow the leader while Delta = 0): parameter-free, regret <= 2 Delta_T <=
 * S (sqrt(T ln M) + 16/3 ln M + 2) for per-round loss ranges <= S (their Theorem 8 with
 * L*(T - L*)/T <= T/4; constants as we recall them, checked by the test), far less when one
 * expert leads steadily. `rate=fixed`: Hedge at eps, 0 = sqrt(8 ln(M) / T) (regret <=
 * ln(M)/eps + eps T/8 = sqrt(T ln(M) / 2), Freund and Schapire).
 *
 * Lazy sampling: the followed expert i is kept with probability min(1, p_t(i) / p_{t-1}(i)),
 * otherwise the next is drawn from (p_t - p_{t-1})^+: the maximal coupling, so each request's
 * marginal is exactly p_t (the bounds hold in expectation) and switches happen with probability
 * TV(p_t, p_{t-1}), the least any coupling allows: for a fixed eps at least as lazy as the
 * shrinking dartboard of Geulen, Vöcking and Winkler (COLT 2010), and valid for a changing rate.
 * A switch moves at most h objects.
 *
 * Movement-aware switching (`switching=charged`, with movement): a drawn switch is made only when
 * the new expert's lead in cumulative loss covers the switch's own movement; a hysteresis, not a
 * theorem (the marginal is no longer exactly p_t; the bounds above are for switching=free).
 *
 * With acai among the experts this adds to acai's regret against the best fixed fractional cache
 * (Si Salem et al.; docs/sim.md), with ftpl to ftpl's regret on the exact-match reward (ftpl.ts).
 * Experts cost their own time: hedge runs each of them every request.
 */
import { fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import type { ParamSchema, ParamValues } from "../../core/spec.js";
import { BOTH_SETTINGS, cachePolicies } from "../cache-policies.js";
import { makeAnswer, remoteCost, serve } from "../cost.js";
import type { StoredSet } from "../stored-set.js";
import type { CacheContext, CachePolicy, CostModel, ServedAnswer, SimRequest } from "../types.js";
import { specOf } from "./classic.js";
import { fetchedByAnswer } from "./lists.js";
// The default experts must be registered before hedge builds them.
import "./acai.js";
import "./ftpl.js";
import "./similarity.js";

export const HEDGE_PARAMS = {
  experts: {
    type: "string",
    default: "ftpl+acai+sim-lru",
    description:
      "base policies joined by '+', each NAME or NAME;key=value;... (their parameters), e.g. ftpl+acai;eta=3 (online policies only)",
  },
  rate: {
    type: "enum",
    values: ["adahedge", "fixed"],
    default: "adahedge",
    description:
      "learning rate: adahedge = parameter-free (ln M over the cumulative mixability gap; follows the leader while the experts agree), fixed = eps",
  },
  eps: {
    type: "number",
    default: 0,
    min: 0,
    description:
      "rate=fixed's learning rate on losses normalized by the remote cost; 0 = the regret-optimal sqrt(8 ln(M) / T), T = trace length (10^5 if unknown)",
  },
  movement: {
    type: "bool",
    default: true,
    description: "charge each expert's moved objects (unit c_f, or C_r single-answer) in its loss",
  },
  switching: {
    type: "enum",
    values: ["charged", "free"],
    default: "charged",
    description:
      "charged (with movement=true): a switch the sampler draws is made only when the new expert's lead in cumulative loss covers the switch's own movement; free: every drawn switch is made (Hedge's guarantee exactly)",
  },
} satisfies ParamSchema;

/** Policies that need the trace in advance: not experts of an online meta-policy. */
const OFFLINE = new Set(["greedy", "static-opt", "hedge"]);

/** "ftpl+acai;eta=3" -> ["ftpl", "acai:eta=3"]. */
export function expertSpecs(list: string): string[] {
  const parts = list
    .split("+")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (parts.length === 0)
    fail("INVALID_ARGUMENT", `hedge: experts must name at least one policy, got "${list}"`);
  return parts.map((s) => {
    const i = s.indexOf(";");
    return i < 0
      ? s
      : `${s.slice(0, i)}:${s
          .slice(i + 1)
          .split(";")
          .join(",")}`;
  });
}

export class Hedge implements CachePolicy {
  readonly name = "hedge";
  readonly spec: string;
  readonly capacity: number;
  readonly catalogNeighbours: number;
  readonly storedNeighbours: number;
  readonly experts: CachePolicy[];
  /** Cumulative normalized loss per expert (each round relative to its best expert). */
  readonly losses: Float64Array;
  /** Each expert's own total cost so far: served cost + moved objects * unit (what it costs alone). */
  readonly totals: Float64Array;
  /** Switches between experts so far (the initial choice is not one). */
  switches = 0;
  /** Switches the sampler drew that switching=charged declined (the lead did not cover them). */
  declined = 0;
  /** rate=fixed's learning rate (rate=adahedge: the rate in force, see `rate`). */
  readonly eps: number;
  /** AdaHedge's cumulative mixability gap Delta (rate=adahedge). */
  gap = 0;
  /** The largest per-round loss range seen (normalized units): S in AdaHedge's bound. */
  range = 0;
  private readonly answers: ServedAnswer[];
  private readonly cost: CostModel;
  private readonly rng: Rng;
  /** The distribution after the last round, and the one before it (the lazy sampler's coupling). */
  private probs: Float64Array;
  private prev: Float64Array;
  private readonly round: Float64Array;
  /** Marks of the followed expert's objects before an update, and their ids (to clear them). */
  private readonly mark: Uint8Array;
  private readonly beforeIds: Int32Array;
  private current = 0;

  constructor(
    private readonly p: ParamValues<typeof HEDGE_PARAMS>,
    ctx: CacheContext,
  ) {
    this.spec = specOf("hedge", p);
    this.capacity = ctx.capacity;
    this.cost = ctx.cost;
    const specs = expertSpecs(p.experts);
    const seeds = new Rng(ctx.seed);
    this.rng = seeds.fork();
    this.experts = specs.map((s) => {
      const { entry, canonical } = cachePolicies.parse(s);
      if (OFFLINE.has(entry.name))
        fail(
          "INVALID_ARGUMENT",
          `hedge: expert ${canonical} is not an online policy; expected e.g. ftpl+acai`,
        );
      cachePolicies.requireCapability(
        s,
        ctx.cost.setting === "single" ? "single-answer" : "knn",
        "hedge's expert",
      );
      const { params } = cachePolicies.parse(s);
      return entry.create(params, { ...ctx, seed: Math.floor(seeds.next() * 2 ** 31) });
    });
    const M = this.experts.length;
    const T = ctx.offline?.count ?? 100_000;
    this.eps = p.eps > 0 ? p.eps : Math.sqrt((8 * Math.log(Math.max(M, 2))) / T);
    this.catalogNeighbours = Math.max(0, ...this.experts.map((e) => e.catalogNeighbours ?? 0));
    this.storedNeighbours = Math.max(1, ...this.experts.map((e) => e.storedNeighbours ?? 1));
    this.answers = this.experts.map((e) => makeAnswer(ctx.cost.k, e.storedNeighbours ?? 1));
    this.losses = new Float64Array(M);
    this.totals = new Float64Array(M);
    this.probs = new Float64Array(M).fill(1 / M);
    this.prev = new Float64Array(M);
    this.round = new Float64Array(M);
    this.mark = new Uint8Array(ctx.catalog.n);
    this.beforeIds = new Int32Array(ctx.capacity);
    this.current = this.rng.int(M);
  }

  /** The followed expert's cache: the simulator serves from it. */
  get store(): StoredSet {
    return this.experts[this.current].store;
  }

  /** Index of the followed expert. */
  get followed(): number {
    return this.current;
  }

  /** The learning rate in force: eps (rate=fixed), or ln(M) / Delta (AdaHedge; Infinity = follow the leader). */
  get rate(): number {
    if (this.p.rate === "fixed") return this.eps;
    return this.gap > 0 ? Math.log(this.experts.length) / this.gap : Number.POSITIVE_INFINITY;
  }

  /** Hedge's distribution over the experts after the rounds so far (a copy). */
  get distribution(): Float64Array {
    return this.probs.slice();
  }

  /** The exponential-weights distribution at rate eta (Infinity: uniform over the leaders). */
  private weigh(eta: number, out: Float64Array): void {
    const L = this.losses;
    const M = L.length;
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < M; i++) best = Math.min(best, L[i]);
    let total = 0;
    for (let i = 0; i < M; i++) {
      out[i] = eta === Number.POSITIVE_INFINITY ? (L[i] === best ? 1 : 0) : Math.exp(-eta * (L[i] - best));
      total += out[i];
    }
    for (let i = 0; i < M; i++) out[i] /= total;
  }

  update(req: SimRequest, answer: ServedAnswer): number {
    const M = this.experts.length;
    const unit = this.cost.setting === "single" ? this.cost.cr : this.cost.cf;
    const remote = remoteCost(this.cost, req.catalog);
    const l = this.round;
    // Round t's loss: the served cost of request t (by each expert's cache before its update) plus
    // the movement of its update after request t. The movement is known before the choice of the
    // cache that serves request t+1, so it is charged in the same round: an exact optimistic hint
    // (see the header); only the served cost of the next request is unknown when choosing.
    for (let i = 0; i < M; i++) {
      const a = serve(this.cost, this.experts[i].store, req, this.answers[i]);
      l[i] = a.cost;
    }
    // The meta-policy's cache before this request's updates (marks; cleared below).
    const mark = this.mark;
    const before = this.beforeIds;
    let nBefore = 0;
    for (const o of this.experts[this.current].store.ids()) {
      mark[o] = 1;
      before[nBefore++] = o;
    }
    let ownMoved = 0;
    for (let i = 0; i < M; i++) {
      const m = this.experts[i].update(req, this.answers[i]);
      if (i === this.current) ownMoved = m;
      this.totals[i] += l[i] + m * unit;
      const charged = this.p.movement ? l[i] + m * unit : l[i];
      l[i] = remote > 0 ? charged / remote : 0;
    }
    // Hedge's distribution does not change when every loss of a round drops by the same amount,
    // so each round is charged relative to its best expert: l'_i = l_i - min_j l_j >= 0.
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < M; i++) min = Math.min(min, l[i]);
    for (let i = 0; i < M; i++) {
      l[i] -= min;
      if (l[i] > this.range) this.range = l[i];
    }
    if (this.p.rate === "adahedge") {
      // AdaHedge (de Rooij et al. 2014): the round's mixability gap delta = h - m, with h the
      // distribution's expected loss and m the mix loss -ln(sum p_i exp(-eta l_i)) / eta.
      const eta = this.rate;
      const p = this.probs;
      let h = 0;
      for (let i = 0; i < M; i++) h += p[i] * l[i];
      let lo = Number.POSITIVE_INFINITY;
      for (let i = 0; i < M; i++) if (p[i] > 0) lo = Math.min(lo, l[i]);
      let m = lo;
      if (eta !== Number.POSITIVE_INFINITY) {
        let z = 0;
        for (let i = 0; i < M; i++) z += p[i] * Math.exp(-eta * (l[i] - lo));
        m = lo - Math.log(z) / eta;
      }
      this.gap += Math.max(0, h - m);
    }
    for (let i = 0; i < M; i++) this.losses[i] += l[i];
    // The next request's distribution, and the lazy sampler's draw: the followed expert i is kept
    // with probability min(1, p_new(i) / p_old(i)), otherwise the next is drawn from
    // (p_new - p_old)^+ (the maximal coupling: each request's marginal is exactly p_new, and the
    // switch probability is the total-variation distance between consecutive distributions).
    const old = this.prev;
    this.prev = this.probs;
    this.probs = old;
    this.weigh(this.rate, this.probs);
    const switchTo = M > 1 ? this.draw(this.prev, this.probs) : this.current;
    let moved = 0;
    if (switchTo !== this.current) {
      // Switch: the cache goes from the old expert's (before this request) to the new expert's
      // (after it); every object the old one lacked and the answer did not fetch is moved.
      for (const o of this.experts[switchTo].store.ids())
        if (!mark[o] && !fetchedByAnswer(answer, o)) moved++;
    }
    for (let j = 0; j < nBefore; j++) mark[before[j]] = 0;
    if (switchTo === this.current) return ownMoved;
    if (this.p.movement && this.p.switching === "charged") {
      // Movement-aware switching: the switch is paid for only by a lead that covers it.
      const lead = this.losses[this.current] - this.losses[switchTo];
      if (remote <= 0 || lead * remote < moved * unit) {
        this.declined++;
        return ownMoved;
      }
    }
    this.current = switchTo;
    this.switches++;
    return moved;
  }

  /** The lazy sampler: the next expert given the followed one, from p_old to p_new. */
  private draw(pOld: Float64Array, pNew: Float64Array): number {
    const i = this.current;
    const u = this.rng.next();
    if (pNew[i] >= pOld[i] || u * pOld[i] < pNew[i]) return i;
    let total = 0;
    for (let j = 0; j < pNew.length; j++) total += Math.max(0, pNew[j] - pOld[j]);
    let v = this.rng.next() * total;
    let pick = i;
    for (let j = 0; j < pNew.length; j++) {
      const d = Math.max(0, pNew[j] - pOld[j]);
      if (d <= 0) continue;
      pick = j;
      v -= d;
      if (v < 0) break;
    }
    return pick;
  }

  checkInvariants(): void {
    for (const e of this.experts) {
      e.checkInvariants();
      e.store.checkConsistency(`${this.spec} expert ${e.spec}`);
    }
    if (this.store.size > this.capacity)
      fail("STATE", `${this.spec}: stores ${this.store.size} > capacity ${this.capacity}`);
  }
}

cachePolicies.register({
  name: "hedge",
  capabilities: BOTH_SETTINGS,
  summary:
    "follows one of several online policies (default ftpl + acai + sim-lru), chosen by exponential weights (AdaHedge's parameter-free rate) on their normalized costs, movement charged in the round it happens, with lazy coupled switching; regret O(sqrt(T ln M)) against the best of them",
  params: HEDGE_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new Hedge(p, ctx),
});
