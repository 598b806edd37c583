/**
 * `offline-opt`: the best static allocation in hindsight, argmax_x sum_t G(r_t, l_t, x), the
 * comparator of INFIDA's (1 - 1/e)-regret. The problem is NP-hard (it contains knapsack), so:
 *
 * - EXACT when the search space is small: G is monotone, so only maximal feasible sets of each
 *   node's useful models matter (useful: listed by some request type that has demand); if the
 *   product over nodes of their counts is at most `enumerate`, every combination is evaluated on
 *   the whole trace and the best is returned (tests check it against an independent brute force).
 * - APPROXIMATE otherwise: mirror ascent on the concave relaxation sum_t L(r_t, l_t, y) for `epochs`
 *   passes (same step and projection as INFIDA), then the best of: `roundings` budget-keeping
 *   dependent roundings of the best y each completed greedily, and the greedy allocations by gain per
 *   MB and by gain; every candidate is scored on the exact objective. The report also gives an upper
 *   bound from concavity (objective.ts), so the gap to the true optimum is known.
 */
import { fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { sizedDepRound } from "../../online/sized-depround.js";
import { weightedKlProject } from "../../online/weighted-kl-projection.js";
import type { IdnInstance } from "../instance.js";
import { TraceObjective } from "../objective.js";
import type { IdnTrace } from "../traces.js";
import { aggregateDemand, lazyGreedy } from "./greedy.js";
import { emptyAllocation, idnPolicyRegistry } from "./types.js";

export interface OfflineResult {
  x: Uint8Array;
  /** sum_t G(x). */
  value: number;
  exact: boolean;
  /** Upper bound on the optimum (equals value when exact). */
  upperBound: number;
  /** Combinations evaluated (exact) or candidates scored (approximate). */
  evaluated: number;
}

/** Pairs that can ever produce gain: listed by a request type that has demand somewhere in the trace. */
function usefulPairs(inst: IdnInstance, trace: IdnTrace): Uint8Array {
  const active = new Uint8Array(inst.typeCount);
  for (const t of trace.types) active[t] = 1;
  const useful = new Uint8Array(inst.pairCount);
  for (let c = 0; c < inst.candPair.length; c++) if (active[inst.candType[c]]) useful[inst.candPair[c]] = 1;
  return useful;
}

/** Maximal feasible subsets of node v's useful pairs (as pair lists), or undefined past `limit`. */
function maximalSets(
  inst: IdnInstance,
  v: number,
  useful: Uint8Array,
  limit: number,
): number[][] | undefined {
  const pairs: number[] = [];
  for (let p = inst.nodePairStart[v]; p < inst.nodePairStart[v + 1]; p++) if (useful[p]) pairs.push(p);
  if (pairs.length > 22) return undefined;
  const sets: number[][] = [];
  const b = inst.budgetMB[v] + 1e-9;
  for (let mask = 0; mask < 1 << pairs.length; mask++) {
    let used = 0;
    for (let i = 0; i < pairs.length; i++) if (mask & (1 << i)) used += inst.pairSize[pairs[i]];
    if (used > b) continue;
    let maximal = true;
    for (let i = 0; i < pairs.length && maximal; i++)
      if (!(mask & (1 << i)) && used + inst.pairSize[pairs[i]] <= b) maximal = false;
    if (!maximal) continue;
    sets.push(pairs.filter((_, i) => mask & (1 << i)));
    if (sets.length > limit) return undefined;
  }
  return sets;
}

/** Exhaustive search over maximal sets, or undefined when there are more than `limit` combinations. */
export function exactOptimum(inst: IdnInstance, trace: IdnTrace, limit: number): OfflineResult | undefined {
  const useful = usefulPairs(inst, trace);
  const perNode: number[][][] = [];
  let combos = 1;
  for (let v = 0; v < inst.nodeCount; v++) {
    if (inst.nodePairStart[v + 1] === inst.nodePairStart[v]) continue;
    const sets = maximalSets(inst, v, useful, limit);
    if (!sets) return undefined;
    if (sets.length === 1 && sets[0].length === 0) continue;
    perNode.push(sets);
    combos *= sets.length;
    if (combos > limit) return undefined;
  }
  const objective = new TraceObjective(inst, trace);
  const x = emptyAllocation(inst);
  const best = { x: emptyAllocation(inst), value: objective.value(x) };
  const digit = new Int32Array(perNode.length);
  for (let k = 0; k < combos; k++) {
    x.fill(0);
    perNode.forEach((sets, j) => {
      for (const p of sets[digit[j]]) x[p] = 1;
    });
    const value = objective.value(x);
    if (value > best.value) {
      best.x.set(x);
      best.value = value;
    }
    for (let j = 0; j < digit.length; j++) {
      if (++digit[j] < perNode[j].length) break;
      digit[j] = 0;
    }
  }
  return { x: best.x, value: best.value, exact: true, upperBound: best.value, evaluated: combos };
}

export interface ApproxOptions {
  epochs: number;
  eta: number;
  roundings: number;
  seed: number;
}

/** Relaxation ascent + rounding + greedy candidates, scored exactly; with a concavity upper bound. */
export function approximateOptimum(inst: IdnInstance, trace: IdnTrace, o: ApproxOptions): OfflineResult {
  const objective = new TraceObjective(inst, trace);
  const y = new Float64Array(inst.pairCount);
  for (let v = 0; v < inst.nodeCount; v++) {
    const [a, b] = [inst.nodePairStart[v], inst.nodePairStart[v + 1]];
    let total = 0;
    for (let p = a; p < b; p++) total += inst.pairSize[p];
    if (total > 0) y.fill(Math.min(1, inst.budgetMB[v] / total), a, b);
  }
  const grad = new Float64Array(inst.pairCount);
  const bestY = Float64Array.from(y);
  let bestValue = Number.NEGATIVE_INFINITY;
  let upperBound = Number.POSITIVE_INFINITY;
  const work = new Float64Array(inst.pairCount);
  for (let e = 0; e < o.epochs; e++) {
    const value = objective.valueAndGradient(y, grad);
    upperBound = Math.min(upperBound, objective.upperBound(y, value, grad));
    if (value > bestValue) {
      bestValue = value;
      bestY.set(y);
    }
    // Mirror-ascent step per node, normalised like INFIDA's, decaying as 1/sqrt(epoch).
    for (let v = 0; v < inst.nodeCount; v++) {
      const [a, b] = [inst.nodePairStart[v], inst.nodePairStart[v + 1]];
      let largest = 0;
      for (let p = a; p < b; p++) largest = Math.max(largest, grad[p] / inst.pairSize[p]);
      if (!(largest > 0)) continue;
      const eta = o.eta / largest / Math.sqrt(e + 1);
      for (let p = a; p < b; p++) work[p] = y[p] * Math.exp((eta * grad[p]) / inst.pairSize[p]);
      weightedKlProject(
        work.subarray(a, b),
        inst.pairSize.subarray(a, b),
        inst.budgetMB[v],
        0,
        y.subarray(a, b),
        b - a,
      );
    }
  }
  const aggregate = aggregateDemand(inst, trace);
  const candidates: Uint8Array[] = [
    lazyGreedy(aggregate, emptyAllocation(inst), "per-byte"),
    lazyGreedy(aggregate, emptyAllocation(inst), "value"),
  ];
  const rng = new Rng(o.seed);
  for (let r = 0; r < o.roundings; r++) {
    const x = emptyAllocation(inst);
    for (let v = 0; v < inst.nodeCount; v++) {
      const [a, b] = [inst.nodePairStart[v], inst.nodePairStart[v + 1]];
      if (a === b) continue;
      sizedDepRound(
        bestY.subarray(a, b),
        inst.pairSize.subarray(a, b),
        rng,
        x.subarray(a, b),
        b - a,
        undefined,
        {
          forbidOvershoot: true,
          budget: inst.budgetMB[v],
        },
      );
    }
    candidates.push(lazyGreedy(aggregate, x, "per-byte"));
  }
  let best = { x: candidates[0], value: Number.NEGATIVE_INFINITY };
  for (const x of candidates) {
    const value = objective.value(x);
    if (value > best.value) best = { x, value };
  }
  return {
    x: best.x,
    value: best.value,
    exact: false,
    upperBound: Math.max(upperBound, best.value),
    evaluated: candidates.length,
  };
}

export function offlineOptimum(
  inst: IdnInstance,
  trace: IdnTrace,
  o: ApproxOptions & { method: "auto" | "exact" | "approximate"; enumerate: number },
): OfflineResult {
  if (o.method !== "approximate") {
    const exact = exactOptimum(inst, trace, o.enumerate);
    if (exact) return exact;
    if (o.method === "exact") {
      // Asked for exactness on an instance too large to enumerate: say so rather than approximate silently.
      fail(
        "UNSUPPORTED",
        `offline-opt: method=exact needs at most enumerate=${o.enumerate} combinations of maximal per-node model sets; ` +
          "this instance has more (use method=auto or approximate, or raise enumerate)",
      );
    }
  }
  return approximateOptimum(inst, trace, o);
}

idnPolicyRegistry.register({
  name: "offline-opt",
  summary:
    "best static allocation in hindsight: exact by enumeration on small instances, else relaxation + rounding + greedy with an upper bound",
  params: {
    method: {
      type: "enum",
      default: "auto",
      values: ["auto", "exact", "approximate"],
      description: "auto: exact when at most `enumerate` combinations",
    },
    enumerate: {
      type: "int",
      default: 20_000,
      min: 1,
      description: "largest number of combinations searched exhaustively",
    },
    epochs: {
      type: "int",
      default: 30,
      min: 1,
      description: "passes of mirror ascent on the relaxation (approximate)",
    },
    eta: {
      type: "number",
      default: 1,
      min: 0,
      description: "dimensionless first step of the ascent (approximate)",
    },
    roundings: {
      type: "int",
      default: 4,
      min: 0,
      description: "roundings of the relaxed optimum tried (approximate)",
    },
  },
  capabilities: ["hindsight"],
  create(p, ctx) {
    const r = offlineOptimum(ctx.instance, ctx.trace, {
      method: p.method as "auto" | "exact" | "approximate",
      enumerate: p.enumerate,
      epochs: p.epochs,
      eta: p.eta,
      roundings: p.roundings,
      seed: ctx.seed,
    });
    const slots = Math.max(1, ctx.trace.slots);
    return {
      name: "offline-opt",
      allocation: () => r.x,
      observe() {},
      stats: () => ({
        exact: r.exact,
        valuePerSlot: r.value / slots,
        upperBound: r.upperBound / slots,
        evaluated: r.evaluated,
      }),
    };
  },
});
