/**
 * Serving one time slot in an IDN: the single accounting every policy is charged by.
 *
 * Serving rule ([R], §3.3): the requests of a type fill its candidates in increasing unit cost,
 * each up to its potential available capacity, and the rest go to the repository. Capacity
 * sharing ([D]): a hosted copy of model m at node v can serve L requests per slot; when several
 * request types may use it in a slot, each gets a share proportional to its demand,
 *   l_c = r_type * min(1, L_pair / R_pair),   R_pair = requests of the slot's types that list the pair,
 * so l does not depend on the allocation (it plays the role of the paper's exogenous l^t_{v rho, m})
 * and the cost saved is EXACTLY the weighted threshold potential of threshold-chain.ts, on integral
 * and fractional allocations alike.
 */
import { chainGain, chainThreshold } from "../online/threshold-chain.js";
import type { IdnInstance } from "./instance.js";
import type { IdnTrace } from "./traces.js";

/** One slot's demand, with the per-candidate capacities every policy sees. */
export class SlotDemand {
  /** Index of the slot in the trace. */
  slot = -1;
  types: Int32Array = new Int32Array(0);
  counts: Float64Array = new Float64Array(0);
  /** l of every candidate of an active type (other entries are stale). */
  readonly candCapacity: Float64Array;
  private readonly pairLoad: Float64Array;
  /** Position of each type in `types`, -1 when absent from the slot. */
  private readonly position: Int32Array;
  /** Multiplies every pair's capacity (T for a trace aggregated over T slots). */
  private capacityScale = 1;

  constructor(readonly instance: IdnInstance) {
    this.candCapacity = new Float64Array(instance.candPair.length);
    this.pairLoad = new Float64Array(instance.pairCount);
    this.position = new Int32Array(instance.typeCount).fill(-1);
  }

  /** Index of type t in this slot's lists, or -1. */
  indexOf(t: number): number {
    return this.position[t];
  }

  get size(): number {
    return this.types.length;
  }

  private previous: Int32Array = new Int32Array(0);

  /** Loads slot t of `trace`. */
  load(trace: IdnTrace, t: number): this {
    this.slot = t;
    this.capacityScale = 1;
    this.types = trace.types.subarray(trace.slotStart[t], trace.slotStart[t + 1]);
    this.counts = trace.counts.subarray(trace.slotStart[t], trace.slotStart[t + 1]);
    return this.prepare();
  }

  /**
   * Uses explicit (type, count) lists: tests, and whole-trace objectives, where the counts are
   * totals over `capacityScale` slots and every capacity is multiplied by it.
   */
  set(types: Int32Array, counts: Float64Array, slot = -1, capacityScale = 1): this {
    this.slot = slot;
    this.types = types;
    this.counts = counts;
    this.capacityScale = capacityScale;
    return this.prepare();
  }

  private prepare(): this {
    const { candStart, candPair, pairCapacity } = this.instance;
    const load = this.pairLoad;
    for (const t of this.previous) this.position[t] = -1;
    for (let i = 0; i < this.types.length; i++) this.position[this.types[i]] = i;
    this.previous = this.types;
    const scale = this.capacityScale;
    for (let i = 0; i < this.types.length; i++) {
      const t = this.types[i];
      const r = this.counts[i];
      for (let c = candStart[t]; c < candStart[t + 1]; c++) load[candPair[c]] += r;
    }
    for (let i = 0; i < this.types.length; i++) {
      const t = this.types[i];
      const r = this.counts[i];
      for (let c = candStart[t]; c < candStart[t + 1]; c++) {
        const p = candPair[c];
        const share = (pairCapacity[p] * scale) / load[p];
        this.candCapacity[c] = share < 1 ? r * share : r;
      }
    }
    // Reset the loads we touched for the next slot.
    for (let i = 0; i < this.types.length; i++) {
      const t = this.types[i];
      for (let c = candStart[t]; c < candStart[t + 1]; c++) load[candPair[c]] = 0;
    }
    return this;
  }
}

/** What serving a slot cost and delivered, accumulated over slots. */
export class ServeTally {
  gain = 0;
  cost = 0;
  requests = 0;
  accuracySum = 0;
  latencySum = 0;
  /** Requests served by each candidate / by the repository of each type, summed over slots. */
  readonly candServed: Float64Array;
  readonly repoServed: Float64Array;

  constructor(instance: IdnInstance) {
    this.candServed = new Float64Array(instance.candPair.length);
    this.repoServed = new Float64Array(instance.typeCount);
  }
}

/** Scratch for {@link serveSlot}: capacities of the chain under the allocation. */
const scratchCap = { buf: new Float64Array(0) };

/**
 * Serves the slot with allocation x (0/1 or fractional, one entry per pair). Returns the gain
 * against repository-only; when `tally` is given, adds the slot's cost, accuracy, latency and
 * per-candidate served counts to it. When `reach` (nodeCount * taskCount) is given, adds for every
 * node on a path the requests that travelled up to it (served there or further up), per task.
 */
export function serveSlot(
  demand: SlotDemand,
  x: ArrayLike<number>,
  tally?: ServeTally,
  reach?: Float64Array,
): number {
  const inst = demand.instance;
  const { candStart, candPair, candGamma, candLatency, candPathPos, pairModel, modelAccuracy } = inst;
  const cap = demand.candCapacity;
  let gain = 0;
  const pathServed = reach ? new Float64Array(inst.maxPathLength) : undefined;
  for (let i = 0; i < demand.types.length; i++) {
    const t = demand.types[i];
    const r = demand.counts[i];
    const repoCost = inst.repositoryCost[t];
    let left = r;
    if (pathServed) pathServed.fill(0, 0, inst.pathStart[t + 1] - inst.pathStart[t]);
    for (let c = candStart[t]; c < candStart[t + 1] && left > 0; c++) {
      const a = x[candPair[c]];
      if (a <= 0) continue;
      const offered = cap[c] * a;
      const z = Math.min(offered, left);
      if (z <= 0) continue;
      left -= z;
      gain += (repoCost - candGamma[c]) * z;
      if (tally) {
        tally.candServed[c] += z;
        tally.cost += candGamma[c] * z;
        tally.accuracySum += modelAccuracy[pairModel[candPair[c]]] * z;
        tally.latencySum += candLatency[c] * z;
      }
      if (pathServed) pathServed[candPathPos[c]] += z;
    }
    if (tally) {
      tally.requests += r;
      tally.repoServed[t] += left;
      tally.cost += repoCost * left;
      tally.accuracySum += modelAccuracy[inst.repositoryModel[t]] * left;
      tally.latencySum += inst.repositoryLatency[t] * left;
    }
    if (reach && pathServed) {
      const task = inst.typeTask(t);
      const from = inst.pathStart[t];
      const hops = inst.pathStart[t + 1] - from - 1; // the repository is not counted
      let arriving = r;
      for (let j = 0; j < hops; j++) {
        reach[inst.pathNodes[from + j] * inst.taskCount + task] += arriving;
        arriving -= pathServed[j];
      }
    }
  }
  if (tally) tally.gain += gain;
  return gain;
}

/**
 * The relaxation L(y) of one slot through the generic chain functions (a second implementation of
 * the gain, used by tests to check {@link serveSlot}).
 */
export function relaxedGain(demand: SlotDemand, y: ArrayLike<number>): number {
  const inst = demand.instance;
  const { candStart, candPair, candGamma } = inst;
  const n = inst.candPair.length;
  if (scratchCap.buf.length < n) scratchCap.buf = new Float64Array(n);
  const capY = scratchCap.buf;
  let gain = 0;
  for (let i = 0; i < demand.types.length; i++) {
    const t = demand.types[i];
    for (let c = candStart[t]; c < candStart[t + 1]; c++) capY[c] = demand.candCapacity[c] * y[candPair[c]];
    gain += chainGain(
      candGamma,
      capY,
      candStart[t],
      candStart[t + 1],
      demand.counts[i],
      inst.repositoryCost[t],
    );
  }
  return gain;
}

/**
 * INFIDA's per-slot information exchange and supergradient ([D] mechanism, §4.1 steps 3-4).
 * Phase 1 (the control message of each active path): gamma_{K*} of the path under y, the unit cost
 * of the last candidate the path's demand needs. Phase 2 (at each node, from what it observed):
 *   g[pair] += l_c * max(0, gamma_{K*} - gamma_c) over the candidates c of the pair.
 * Adds into `grad` (one entry per pair) and appends each pair it touches once to `touched`
 * (tracked with `mark`, which it leaves cleared... by the caller).
 */
export function addSupergradient(
  demand: SlotDemand,
  y: ArrayLike<number>,
  grad: Float64Array,
  touched: number[],
  mark: Uint8Array,
  thresholds: Float64Array = new Float64Array(demand.types.length),
): void {
  const inst = demand.instance;
  const { candStart, candPair, candGamma } = inst;
  const cap = demand.candCapacity;
  const n = inst.candPair.length;
  if (scratchCap.buf.length < n) scratchCap.buf = new Float64Array(n);
  const capY = scratchCap.buf;
  for (let i = 0; i < demand.types.length; i++) {
    const t = demand.types[i];
    for (let c = candStart[t]; c < candStart[t + 1]; c++) capY[c] = cap[c] * y[candPair[c]];
    thresholds[i] = chainThreshold(
      candGamma,
      capY,
      candStart[t],
      candStart[t + 1],
      demand.counts[i],
      inst.repositoryCost[t],
    );
  }
  for (let i = 0; i < demand.types.length; i++) {
    const t = demand.types[i];
    const threshold = thresholds[i];
    for (let c = candStart[t]; c < candStart[t + 1]; c++) {
      const gap = threshold - candGamma[c];
      if (gap <= 0) break; // candidates are sorted by cost: the rest are at or past K*
      const p = candPair[c];
      if (!mark[p]) {
        mark[p] = 1;
        touched.push(p);
      }
      grad[p] += cap[c] * gap;
    }
  }
}
