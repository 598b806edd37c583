/**
 * Greedy allocation by marginal gain per MB (cost-benefit greedy on the monotone submodular gain),
 * made lazy: marginal gains only shrink as the allocation grows (submodularity), so a stale value is
 * an upper bound and only the top of the priority queue is re-evaluated. The first bounds are the
 * supergradient at the starting allocation, which bounds every marginal gain of a concave L.
 *
 * Two policies use it ([D]: our design, docs/idn.md):
 * - `greedy-static`: one allocation for the whole trace, from the trace's total counts per type with
 *   every capacity multiplied by the number of slots (it knows the whole trace, as a popularity-based
 *   static placement would).
 * - `greedy-online`: re-solved after every slot from that slot's counts (empty in the first slot).
 */
import { fail } from "../../core/errors.js";
import type { IdnInstance } from "../instance.js";
import { addSupergradient, SlotDemand } from "../serving.js";
import type { IdnTrace } from "../traces.js";
import { emptyAllocation, idnPolicyRegistry } from "./types.js";

/** The whole trace as one demand: total requests per type, capacities times the number of slots. */
export function aggregateDemand(instance: IdnInstance, trace: IdnTrace): SlotDemand {
  const totals = new Float64Array(instance.typeCount);
  for (let e = 0; e < trace.types.length; e++) totals[trace.types[e]] += trace.counts[e];
  const types: number[] = [];
  for (let t = 0; t < instance.typeCount; t++) if (totals[t] > 0) types.push(t);
  return new SlotDemand(instance).set(
    Int32Array.from(types),
    Float64Array.from(types, (t) => totals[t]),
    -1,
    trace.slots,
  );
}

/** Gain of the demand's i-th type under x, with pair `extra` (or -1) added. */
function typeGain(demand: SlotDemand, i: number, x: Uint8Array, extra: number): number {
  const inst = demand.instance;
  const t = demand.types[i];
  const repo = inst.repositoryCost[t];
  let left = demand.counts[i];
  let gain = 0;
  for (let c = inst.candStart[t]; c < inst.candStart[t + 1] && left > 0; c++) {
    const p = inst.candPair[c];
    if (!x[p] && p !== extra) continue;
    const cap = demand.candCapacity[c];
    const z = Math.min(cap, left);
    gain += (repo - inst.candGamma[c]) * z;
    left -= z;
  }
  return gain;
}

/** Exact G(x + e_p) - G(x) for one demand. */
export function marginalGain(demand: SlotDemand, x: Uint8Array, p: number): number {
  const inst = demand.instance;
  let delta = 0;
  for (let k = inst.pairCandStart[p]; k < inst.pairCandStart[p + 1]; k++) {
    const i = demand.indexOf(inst.candType[inst.pairCands[k]]);
    if (i < 0) continue;
    delta += typeGain(demand, i, x, p) - typeGain(demand, i, x, -1);
  }
  return delta;
}

/** Max-heap of pairs keyed by priority. */
class PairHeap {
  private keys: number[] = [];
  private ids: number[] = [];
  get size(): number {
    return this.ids.length;
  }
  topKey(): number {
    return this.keys[0];
  }
  push(id: number, key: number): void {
    let i = this.ids.length;
    this.ids.push(id);
    this.keys.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.keys[p] >= key) break;
      this.keys[i] = this.keys[p];
      this.ids[i] = this.ids[p];
      i = p;
    }
    this.keys[i] = key;
    this.ids[i] = id;
  }
  pop(): number {
    const top = this.ids[0];
    const lastKey = this.keys.pop() as number;
    const lastId = this.ids.pop() as number;
    const n = this.ids.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && this.keys[l + 1] > this.keys[l] ? l + 1 : l;
        if (this.keys[c] <= lastKey) break;
        this.keys[i] = this.keys[c];
        this.ids[i] = this.ids[c];
        i = c;
      }
      this.keys[i] = lastKey;
      this.ids[i] = lastId;
    }
    return top;
  }
}

export type GreedyMode = "per-byte" | "value";

/**
 * Adds pairs to x (in place) greedily by exact marginal gain per MB ("per-byte") or marginal gain
 * ("value") while they fit each node's remaining budget; returns x.
 */
export function lazyGreedy(demand: SlotDemand, x: Uint8Array, mode: GreedyMode = "per-byte"): Uint8Array {
  const inst = demand.instance;
  const left = new Float64Array(inst.nodeCount);
  for (let v = 0; v < inst.nodeCount; v++) left[v] = inst.budgetMB[v] - inst.usedMB(v, x);
  const grad = new Float64Array(inst.pairCount);
  const touched: number[] = [];
  addSupergradient(demand, x, grad, touched, new Uint8Array(inst.pairCount));
  const heap = new PairHeap();
  const key = (p: number, gain: number) => (mode === "per-byte" ? gain / inst.pairSize[p] : gain);
  for (const p of touched) if (!x[p] && grad[p] > 0) heap.push(p, key(p, grad[p]));
  while (heap.size > 0) {
    const p = heap.pop();
    const v = inst.pairNode[p];
    if (inst.pairSize[p] > left[v] + 1e-9) continue; // never fits again: budgets only shrink
    const gain = marginalGain(demand, x, p);
    if (!(gain > 0)) continue;
    const k = key(p, gain);
    if (heap.size > 0 && k < heap.topKey()) {
      heap.push(p, k);
      continue;
    }
    x[p] = 1;
    left[v] -= inst.pairSize[p];
  }
  return x;
}

const MODE = {
  mode: {
    type: "enum",
    default: "per-byte",
    values: ["per-byte", "value"],
    description: "rank pairs by marginal gain per MB (cost-benefit) or by marginal gain",
  },
} as const;

idnPolicyRegistry.register({
  name: "greedy-static",
  summary: "one static allocation, greedy by marginal gain per MB on the whole trace's counts (hindsight)",
  params: MODE,
  capabilities: ["hindsight"],
  create(p, ctx) {
    const x = lazyGreedy(
      aggregateDemand(ctx.instance, ctx.trace),
      emptyAllocation(ctx.instance),
      p.mode as GreedyMode,
    );
    return { name: `greedy-static:mode=${p.mode}`, allocation: () => x, observe() {} };
  },
});

idnPolicyRegistry.register({
  name: "greedy-online",
  summary:
    "re-solves the greedy allocation after every slot from that slot's counts (empty in the first slot)",
  params: MODE,
  capabilities: ["online"],
  create(p, ctx) {
    let x = emptyAllocation(ctx.instance);
    return {
      name: `greedy-online:mode=${p.mode}`,
      allocation: () => x,
      observe(demand) {
        if (demand.instance !== ctx.instance) fail("STATE", "greedy-online: demand of another instance");
        x = lazyGreedy(demand, emptyAllocation(ctx.instance), p.mode as GreedyMode);
      },
    };
  },
});
