/**
 * INFIDA (Si Salem, Castellano, Neglia, Pianese & Araldo, arXiv 2105.02510): every non-repository
 * node keeps a fractional allocation y over the models that fit its budget and, after each slot:
 *
 * 1. receives, for every path through it that was active, the unit cost gamma_{K*} of the last
 *    candidate the path's demand needs under y (the control message; serving.ts addSupergradient);
 * 2. forms its supergradient g_m = sum over those paths of l * max(0, gamma_{K*} - gamma_m) from the
 *    requests it saw ([D] derivation, §4.1 step 4);
 * 3. takes a mirror-ascent step with the size-weighted negative entropy, y_m <- y_m exp(eta g_m / s_m)
 *    ([R] mirror map, §4.1 step 5), and projects exactly onto {lo <= y <= 1, sum s y <= b}
 *    (online/weighted-kl-projection.ts);
 * 4. every `refresh` slots, draws its integral allocation by size-aware dependent rounding, which
 *    keeps every marginal (P(host m) = y_m) and overshoots the budget by less than the largest
 *    fractional model (online/sized-depround.ts). `overshoot=forbid` drops that last model instead;
 *    `overshoot=repair` then fills the leftover budget with the largest-y models that fit ([D]).
 *
 * Step size ([D]): eta is dimensionless; node v divides it by the largest g_m / s_m it has seen so
 * far, so the largest exponent of a step is eta whatever the units of cost and size. With a fixed
 * horizon T the regret analysis uses eta ~ 1/sqrt(T) (the tests do). The repository never updates.
 */
import { Rng } from "../../core/rng.js";
import { overshootBound, sizedDepRound } from "../../online/sized-depround.js";
import { weightedKlProject } from "../../online/weighted-kl-projection.js";
import type { IdnInstance } from "../instance.js";
import { addSupergradient, type SlotDemand, serveSlot } from "../serving.js";
import { type IdnPolicy, idnPolicyRegistry } from "./types.js";

export interface InfidaOptions {
  eta: number;
  /** Slots between two draws of the integral allocation. */
  refresh: number;
  /** Floor of every y (keeps models re-learnable). */
  floor: number;
  overshoot: "allow" | "forbid" | "repair";
  /**
   * fresh: every draw uses new random numbers; common: every draw at a node replays the same random
   * numbers (common random numbers), so a small change of y changes few coin outcomes and few models
   * are reloaded, while each draw on its own keeps the marginals exactly.
   */
  draws: "fresh" | "common";
  seed: number;
}

export class Infida implements IdnPolicy {
  readonly name: string;
  /** Fractional allocation, one entry per pair. */
  readonly y: Float64Array;
  private readonly x: Uint8Array;
  private readonly grad: Float64Array;
  private readonly mark: Uint8Array;
  private readonly touched: number[] = [];
  private readonly nodeMark: Uint8Array;
  private readonly gradScale: Float64Array;
  /** Floor of node v: the option, reduced where it would eat half the budget. */
  private readonly nodeFloor: Float64Array;
  private readonly rng: Rng;
  private readonly work: Float64Array;
  private readonly scratch: Float64Array;
  private readonly order: Int32Array;
  private slots = 0;
  private fractionalGain = 0;
  private maxOvershootMB = 0;
  private maxOvershootShare = 0;
  private maxBoundShare = 0;
  private draws = 0;

  constructor(
    readonly instance: IdnInstance,
    readonly options: InfidaOptions,
  ) {
    const o = options;
    this.name = `infida:eta=${o.eta},refresh=${o.refresh},floor=${o.floor},overshoot=${o.overshoot},draws=${o.draws}`;
    const inst = instance;
    this.y = new Float64Array(inst.pairCount);
    this.x = new Uint8Array(inst.pairCount);
    this.grad = new Float64Array(inst.pairCount);
    this.mark = new Uint8Array(inst.pairCount);
    this.nodeMark = new Uint8Array(inst.nodeCount);
    this.gradScale = new Float64Array(inst.nodeCount);
    this.nodeFloor = new Float64Array(inst.nodeCount);
    this.rng = new Rng(o.seed);
    let widest = 0;
    for (let v = 0; v < inst.nodeCount; v++)
      widest = Math.max(widest, inst.nodePairStart[v + 1] - inst.nodePairStart[v]);
    this.work = new Float64Array(widest);
    this.scratch = new Float64Array(2 * widest);
    this.order = new Int32Array(2 * widest);
    // Start at the entropy's centre of each node's polytope: the same fraction of every model,
    // filling the budget.
    for (let v = 0; v < inst.nodeCount; v++) {
      const [a, b] = [inst.nodePairStart[v], inst.nodePairStart[v + 1]];
      if (a === b) continue;
      let total = 0;
      for (let p = a; p < b; p++) total += inst.pairSize[p];
      this.nodeFloor[v] = Math.min(o.floor, (0.5 * inst.budgetMB[v]) / total);
      const share = Math.max(this.nodeFloor[v], Math.min(1, inst.budgetMB[v] / total));
      this.y.fill(share, a, b);
      this.round(v);
    }
  }

  allocation(): Uint8Array {
    return this.x;
  }

  observe(demand: SlotDemand): void {
    const inst = this.instance;
    // The relaxation at the y the slot's allocation was drawn from (reports: integral vs fractional).
    this.fractionalGain += serveSlot(demand, this.y);
    this.slots++;
    const { grad, touched, mark, nodeMark } = this;
    addSupergradient(demand, this.y, grad, touched, mark);
    const nodes: number[] = [];
    for (const p of touched) {
      const v = inst.pairNode[p];
      if (!nodeMark[v]) {
        nodeMark[v] = 1;
        nodes.push(v);
      }
    }
    for (const v of nodes) this.step(v, grad);
    for (const p of touched) {
      grad[p] = 0;
      mark[p] = 0;
    }
    touched.length = 0;
    for (const v of nodes) nodeMark[v] = 0;
    if (this.slots % this.options.refresh === 0)
      for (let v = 0; v < inst.nodeCount; v++)
        if (inst.nodePairStart[v + 1] > inst.nodePairStart[v]) this.round(v);
  }

  /**
   * One node's update from its own supergradient, as a live node runs it (src/idn/live/node.ts):
   * the same step and projection {@link observe} applies to every node it touched. `grad` has one
   * entry per pair of the instance; only node v's entries are read.
   */
  stepNode(v: number, grad: ArrayLike<number>): void {
    this.step(v, grad);
  }

  /** Redraws node v's integral allocation from its y (a live node, every `refresh` slots). */
  drawNode(v: number): void {
    if (this.instance.nodePairStart[v + 1] > this.instance.nodePairStart[v]) this.round(v);
  }

  /** Mirror-ascent step and exact projection at node v. */
  private step(v: number, grad: ArrayLike<number>): void {
    const inst = this.instance;
    const a = inst.nodePairStart[v];
    const b = inst.nodePairStart[v + 1];
    let largest = 0;
    for (let p = a; p < b; p++) largest = Math.max(largest, grad[p] / inst.pairSize[p]);
    if (largest > this.gradScale[v]) this.gradScale[v] = largest;
    if (!(this.gradScale[v] > 0)) return;
    const eta = this.options.eta / this.gradScale[v];
    const yhat = this.work;
    for (let p = a; p < b; p++) yhat[p - a] = this.y[p] * Math.exp((eta * grad[p]) / inst.pairSize[p]);
    weightedKlProject(
      yhat,
      inst.pairSize.subarray(a, b),
      inst.budgetMB[v],
      this.nodeFloor[v],
      this.y.subarray(a, b),
      b - a,
      this.scratch,
      this.order,
    );
  }

  /** Draws node v's integral allocation from its y. */
  private round(v: number): void {
    const inst = this.instance;
    const a = inst.nodePairStart[v];
    const b = inst.nodePairStart[v + 1];
    const y = this.y.subarray(a, b);
    const sizes = inst.pairSize.subarray(a, b);
    const x = this.x.subarray(a, b);
    const rng = this.options.draws === "common" ? new Rng(this.options.seed * 1_000_003 + v) : this.rng;
    sizedDepRound(y, sizes, rng, x, b - a, this.work, {
      forbidOvershoot: this.options.overshoot !== "allow",
      budget: inst.budgetMB[v],
    });
    if (this.options.overshoot === "repair") this.fill(v, x, y, sizes);
    this.draws++;
    const over = inst.usedMB(v, this.x) - inst.budgetMB[v];
    if (over > this.maxOvershootMB) this.maxOvershootMB = over;
    const share = over / inst.budgetMB[v];
    if (share > this.maxOvershootShare) this.maxOvershootShare = share;
    const bound = overshootBound(y, sizes) / inst.budgetMB[v];
    if (bound > this.maxBoundShare) this.maxBoundShare = bound;
  }

  /**
   * overshoot=repair: after a budget-keeping draw, hosts the not-drawn models with the largest y
   * that still fit (the draw's leftover budget is otherwise wasted; marginals are biased upward
   * for large-y models).
   */
  private fill(v: number, x: Uint8Array, y: Float64Array, sizes: Float64Array): void {
    let left = this.instance.budgetMB[v];
    const rest: number[] = [];
    for (let j = 0; j < x.length; j++) {
      if (x[j]) left -= sizes[j];
      else rest.push(j);
    }
    rest.sort((i, j) => y[j] - y[i] || i - j);
    for (const j of rest)
      if (sizes[j] <= left + 1e-9) {
        x[j] = 1;
        left -= sizes[j];
      }
  }

  stats(): Record<string, number | string | boolean> {
    return {
      fractionalGain: this.slots ? this.fractionalGain / this.slots : 0,
      maxOvershootMB: this.maxOvershootMB,
      maxOvershootOfBudget: this.maxOvershootShare,
      overshootBoundOfBudget: this.maxBoundShare,
      draws: this.draws,
    };
  }
}

idnPolicyRegistry.register({
  name: "infida",
  summary:
    "INFIDA: per-node mirror ascent (size-weighted entropy) on the concave relaxation, exact budget projection, size-aware dependent rounding",
  params: {
    eta: {
      type: "number",
      default: 0.5,
      min: 0,
      description: "dimensionless step: largest exponent of one step at a node",
    },
    refresh: {
      type: "int",
      default: 1,
      min: 1,
      description: "slots between two draws of the integral allocation (fewer reloads)",
    },
    floor: {
      type: "number",
      default: 1e-4,
      min: 0,
      max: 0.5,
      description: "lower bound of every fractional y (re-learnable models)",
    },
    draws: {
      type: "enum",
      default: "common",
      values: ["fresh", "common"],
      description:
        "fresh random numbers per draw, or the same ones at every draw of a node (fewer reloads, same marginals)",
    },
    overshoot: {
      type: "enum",
      default: "allow",
      values: ["allow", "forbid", "repair"],
      description:
        "allow: keep every marginal, overshoot < largest fractional model; forbid: drop that last model instead; repair: forbid, then fill the leftover budget by largest y",
    },
  },
  capabilities: ["online", "fractional"],
  create: (p, ctx) =>
    new Infida(ctx.instance, {
      eta: p.eta,
      refresh: p.refresh,
      floor: p.floor,
      overshoot: p.overshoot as InfidaOptions["overshoot"],
      draws: p.draws as InfidaOptions["draws"],
      seed: ctx.seed,
    }),
});
