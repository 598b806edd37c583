/**
 * DUEL (Garetto, Leonardi & Neglia, "Similarity Caching: Theory and Algorithms"; defaults as a third-party DuelCache: beta=0.75,
 * delta=0.05, tau=200, at most 8 duels). Single-answer setting only.
 *
 * While the cache has room, a request whose exact object is not stored inserts it. Afterwards
 * such a request starts a duel (when fewer than `duels` are running) between challenger c = the
 * request's exact object and a defender y: the nearest stored object w.p. beta, else a uniform one.
 * For the next tau requests r the duel sums C(r, S) - C(r, S - y + c), i.e. the challenger's saving
 * in y's place minus the defender's saving, computed from the served answer's two nearest stored
 * objects. After tau requests c replaces y iff that sum exceeds delta * C_r (delta in units of C_r,
 * our reading; the paper's units are unverified). A swap fetches c: one movement.
 */
import { fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import type { ParamSchema, ParamValues } from "../../core/spec.js";
import { cachePolicies } from "../cache-policies.js";
import { StoredSet } from "../stored-set.js";
import type { CacheContext, CachePolicy, CostModel, ServedAnswer, SimRequest } from "../types.js";
import { specOf } from "./classic.js";
import { checkContext, fetchedByAnswer } from "./lists.js";

const DUEL_PARAMS = {
  beta: {
    type: "number",
    default: 0.75,
    min: 0,
    max: 1,
    description: "probability the defender is the nearest stored object",
  },
  delta: {
    type: "number",
    default: 0.05,
    min: 0,
    description: "lead (in units of C_r) the challenger needs to win",
  },
  tau: { type: "int", default: 200, min: 1, description: "requests a duel lasts" },
  duels: { type: "int", default: 8, min: 1, description: "most duels running at once" },
} satisfies ParamSchema;

class Duel implements CachePolicy {
  readonly name = "duel";
  /** C(r, S - y) needs the runner-up stored object. */
  readonly storedNeighbours = 2;
  readonly spec: string;
  readonly store: StoredSet;
  readonly capacity: number;
  private readonly cost: CostModel;
  private readonly rng: Rng;
  private readonly challenger: Int32Array;
  private readonly defender: Int32Array;
  private readonly ends: Float64Array;
  private readonly lead: Float64Array;
  private active = 0;
  /** Swaps made (for tests and reports). */
  swaps = 0;

  constructor(
    private readonly p: ParamValues<typeof DUEL_PARAMS>,
    private readonly ctx: CacheContext,
  ) {
    checkContext("duel", ctx);
    if (ctx.cost.setting !== "single")
      fail("UNSUPPORTED", "duel is defined for the single-answer setting (--k 1 --cr C) only");
    this.spec = specOf("duel", p);
    this.capacity = ctx.capacity;
    this.cost = ctx.cost;
    this.store = new StoredSet(ctx.catalog, ctx.capacity);
    this.rng = new Rng(ctx.seed);
    this.challenger = new Int32Array(p.duels);
    this.defender = new Int32Array(p.duels);
    this.ends = new Float64Array(p.duels);
    this.lead = new Float64Array(p.duels);
  }

  update(req: SimRequest, answer: ServedAnswer): number {
    const c = this.cost;
    const st = answer.stored;
    const cS = answer.cost;
    let moved = 0;
    // 1. Accrue every running duel on this request, then settle those that are due.
    for (let i = 0; i < this.active; i++) {
      const y = this.defender[i];
      const cWithoutY =
        st.count > 0 && st.ids[0] === y ? (st.count > 1 ? Math.min(c.cr, c.approx(st.dists[1])) : c.cr) : cS;
      const cChallenger = c.approx(this.ctx.catalog.distance(req.x, this.challenger[i]));
      this.lead[i] += cS - Math.min(cWithoutY, cChallenger);
    }
    for (let i = 0; i < this.active; i++) {
      if (req.t < this.ends[i]) continue;
      const y = this.defender[i];
      const ch = this.challenger[i];
      this.drop(i--);
      if (this.lead[this.active] <= this.p.delta * c.cr || this.store.has(ch) || !this.store.has(y)) continue;
      this.store.remove(y);
      this.store.add(ch);
      this.swaps++;
      moved++;
      // Duels defending the evicted object are void.
      for (let j = 0; j < this.active; j++) if (this.defender[j] === y) this.drop(j--);
    }
    // 2. A request whose exact object is missing inserts it (room left) or challenges.
    const o = req.catalog.ids[0];
    if (this.store.has(o)) return moved;
    if (!this.store.full) {
      this.store.add(o);
      return moved + (fetchedByAnswer(answer, o) ? 0 : 1);
    }
    if (this.active >= this.p.duels) return moved;
    for (let i = 0; i < this.active; i++) if (this.challenger[i] === o) return moved;
    const ids = this.store.ids();
    const y = st.count > 0 && this.rng.next() < this.p.beta ? st.ids[0] : ids[this.rng.int(ids.length)];
    const i = this.active++;
    this.challenger[i] = o;
    this.defender[i] = y;
    this.ends[i] = req.t + this.p.tau;
    this.lead[i] = 0;
    return moved;
  }

  /** Removes duel i by swapping the last one into its place; its data ends up at index `active`. */
  private drop(i: number): void {
    const last = --this.active;
    const swap = (a: Int32Array | Float64Array) => {
      const v = a[i];
      a[i] = a[last];
      a[last] = v;
    };
    swap(this.challenger);
    swap(this.defender);
    swap(this.ends);
    swap(this.lead);
  }

  checkInvariants(): void {
    if (this.store.size > this.capacity) fail("STATE", `${this.spec}: over capacity`);
    for (let i = 0; i < this.active; i++) {
      if (!this.store.has(this.defender[i]))
        fail("STATE", `${this.spec}: duel ${i} defends ${this.defender[i]}, which is not stored`);
      if (this.active > this.p.duels) fail("STATE", `${this.spec}: ${this.active} duels > ${this.p.duels}`);
    }
  }
}

cachePolicies.register({
  name: "duel",
  // A duel's saving is computed from single answers (the two nearest stored objects); a k-object
  // answer would need the whole swapped answer re-served, which duel does not define.
  capabilities: ["single-answer"],
  summary:
    "DUEL (Garetto et al.): a missed object challenges a stored one for tau requests and replaces it if it saves more",
  params: DUEL_PARAMS,
  create: (p, ctx: CacheContext): CachePolicy => new Duel(p, ctx),
});
