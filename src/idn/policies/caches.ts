/**
 * Baselines that manage each node like a cache of models ([D]: our design, docs/idn.md), plus the
 * repository-only reference (gain 0 by definition).
 *
 * A node's "preferred" model for a task is the one with the lowest local cost at its tier,
 * inference latency + alpha * (1 - accuracy), among those that fit its budget (the network part of
 * the cost is the same for every model at the node). After each slot, a node looks at the requests
 * that travelled up to it (not served further down), per task:
 * - `lru`: every task seen in the slot touches its preferred model, least requested tasks first (so
 *   the most requested is the most recently used); a missing model is loaded, evicting least recently
 *   used models until it fits.
 * - `lfu`: counts requests per preferred model over the whole past and hosts the most counted ones
 *   that fit (perfect LFU, largest counts first, skipping models that no longer fit).
 */
import type { IdnInstance } from "../instance.js";
import { emptyAllocation, type IdnPolicy, idnPolicyRegistry } from "./types.js";

/** Preferred pair per (node, task), or -1. */
export function preferredPairs(inst: IdnInstance): Int32Array {
  const pref = new Int32Array(inst.nodeCount * inst.taskCount).fill(-1);
  const cost = new Float64Array(inst.nodeCount * inst.taskCount).fill(Number.POSITIVE_INFINITY);
  const models = inst.catalog.models;
  for (let p = 0; p < inst.pairCount; p++) {
    const v = inst.pairNode[p];
    const m = inst.pairModel[p];
    const tier = inst.topology.nodes[v].tier;
    const c = models[m].latencyMs[tier] + inst.alpha * (1 - models[m].accuracy);
    const k = v * inst.taskCount + inst.modelTask[m];
    if (c < cost[k]) {
      cost[k] = c;
      pref[k] = p;
    }
  }
  return pref;
}

class LruNodes implements IdnPolicy {
  readonly name = "lru";
  private readonly x: Uint8Array;
  private readonly lastUse: Float64Array;
  private readonly pref: Int32Array;
  private clock = 0;

  constructor(private readonly inst: IdnInstance) {
    this.x = emptyAllocation(inst);
    this.lastUse = new Float64Array(inst.pairCount);
    this.pref = preferredPairs(inst);
  }

  allocation(): Uint8Array {
    return this.x;
  }

  observe(_demand: unknown, reach?: Float64Array): void {
    if (!reach) return;
    const { inst } = this;
    const N = inst.taskCount;
    for (let v = 0; v < inst.nodeCount; v++) {
      if (inst.nodePairStart[v + 1] === inst.nodePairStart[v]) continue;
      const seen: number[] = [];
      for (let i = 0; i < N; i++) if (reach[v * N + i] > 0 && this.pref[v * N + i] >= 0) seen.push(i);
      seen.sort((a, b) => reach[v * N + a] - reach[v * N + b] || a - b);
      for (const i of seen) this.touch(v, this.pref[v * N + i]);
    }
  }

  private touch(v: number, p: number): void {
    const { inst, x } = this;
    this.lastUse[p] = ++this.clock;
    if (x[p]) return;
    let used = inst.usedMB(v, x);
    while (used + inst.pairSize[p] > inst.budgetMB[v] + 1e-9) {
      let victim = -1;
      for (let q = inst.nodePairStart[v]; q < inst.nodePairStart[v + 1]; q++)
        if (x[q] && (victim < 0 || this.lastUse[q] < this.lastUse[victim])) victim = q;
      x[victim] = 0;
      used -= inst.pairSize[victim];
    }
    x[p] = 1;
  }
}

class LfuNodes implements IdnPolicy {
  readonly name = "lfu";
  private readonly x: Uint8Array;
  private readonly freq: Float64Array;
  private readonly pref: Int32Array;

  constructor(private readonly inst: IdnInstance) {
    this.x = emptyAllocation(inst);
    this.freq = new Float64Array(inst.pairCount);
    this.pref = preferredPairs(inst);
  }

  allocation(): Uint8Array {
    return this.x;
  }

  observe(_demand: unknown, reach?: Float64Array): void {
    if (!reach) return;
    const { inst, x } = this;
    const N = inst.taskCount;
    for (let v = 0; v < inst.nodeCount; v++) {
      const a = inst.nodePairStart[v];
      const b = inst.nodePairStart[v + 1];
      if (a === b) continue;
      let changed = false;
      for (let i = 0; i < N; i++) {
        const p = this.pref[v * N + i];
        if (p >= 0 && reach[v * N + i] > 0) {
          this.freq[p] += reach[v * N + i];
          changed = true;
        }
      }
      if (!changed) continue;
      const counted: number[] = [];
      for (let p = a; p < b; p++) if (this.freq[p] > 0) counted.push(p);
      counted.sort((p, q) => this.freq[q] - this.freq[p] || p - q);
      x.fill(0, a, b);
      let left = inst.budgetMB[v];
      for (const p of counted)
        if (inst.pairSize[p] <= left + 1e-9) {
          x[p] = 1;
          left -= inst.pairSize[p];
        }
    }
  }
}

idnPolicyRegistry.register({
  name: "lru",
  summary:
    "per node, LRU over models: each task seen touches its preferred model, evicting least recently used",
  params: {},
  capabilities: ["online", "reach"],
  create: (_p, ctx) => new LruNodes(ctx.instance),
});

idnPolicyRegistry.register({
  name: "lfu",
  summary:
    "per node, perfect LFU over models: hosts the preferred models with the largest request counts so far",
  params: {},
  capabilities: ["online", "reach"],
  create: (_p, ctx) => new LfuNodes(ctx.instance),
});

idnPolicyRegistry.register({
  name: "repository-only",
  summary: "hosts nothing: every request goes to the repository (gain 0 by definition)",
  params: {},
  capabilities: ["online"],
  create(_p, ctx) {
    const x = emptyAllocation(ctx.instance);
    return { name: "repository-only", allocation: () => x, observe() {} };
  },
});
