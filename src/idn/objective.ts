/**
 * The hindsight objective of a static allocation: F(x) = sum over the trace's slots of G(r_t, l_t, x),
 * its relaxation and supergradient, and an upper bound on its maximum. One pass over the trace per
 * call (slots are re-prepared rather than cached, so memory stays O(candidates)).
 */
import type { IdnInstance } from "./instance.js";
import { addSupergradient, SlotDemand, serveSlot } from "./serving.js";
import type { IdnTrace } from "./traces.js";

export class TraceObjective {
  private readonly demand: SlotDemand;
  private readonly mark: Uint8Array;
  private readonly touched: number[] = [];
  /** Passes over the trace so far (cost accounting for reports). */
  passes = 0;

  constructor(
    readonly instance: IdnInstance,
    readonly trace: IdnTrace,
  ) {
    this.demand = new SlotDemand(instance);
    this.mark = new Uint8Array(instance.pairCount);
  }

  /** F(x) = sum_t G(r_t, l_t, x) (x integral or fractional). */
  value(x: ArrayLike<number>): number {
    this.passes++;
    let total = 0;
    for (let t = 0; t < this.trace.slots; t++) total += serveSlot(this.demand.load(this.trace, t), x);
    return total;
  }

  /** F(y) and a supergradient (written into `grad`, one entry per pair). */
  valueAndGradient(y: ArrayLike<number>, grad: Float64Array): number {
    this.passes++;
    grad.fill(0);
    let total = 0;
    for (let t = 0; t < this.trace.slots; t++) {
      const d = this.demand.load(this.trace, t);
      total += serveSlot(d, y);
      addSupergradient(d, y, grad, this.touched, this.mark);
      for (const p of this.touched) this.mark[p] = 0;
      this.touched.length = 0;
    }
    return total;
  }

  /**
   * An upper bound on max F over the integral (and fractional) allocations, from concavity:
   * F(y') <= F(y) + g.(y' - y) for every feasible y', and max of the linear term over each node's
   * knapsack polytope is a fractional knapsack (greedy by g/s, exact).
   */
  upperBound(y: ArrayLike<number>, value: number, grad: Float64Array): number {
    const inst = this.instance;
    let bound = value;
    for (let v = 0; v < inst.nodeCount; v++) {
      const a = inst.nodePairStart[v];
      const b = inst.nodePairStart[v + 1];
      if (a === b) continue;
      const order: number[] = [];
      for (let p = a; p < b; p++) {
        bound -= grad[p] * y[p];
        if (grad[p] > 0) order.push(p);
      }
      order.sort((p, q) => grad[q] / inst.pairSize[q] - grad[p] / inst.pairSize[p] || p - q);
      let left = inst.budgetMB[v];
      for (const p of order) {
        const take = Math.min(1, left / inst.pairSize[p]);
        bound += grad[p] * take;
        left -= take * inst.pairSize[p];
        if (left <= 0) break;
      }
    }
    return bound;
  }
}
