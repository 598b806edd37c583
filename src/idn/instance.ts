/**
 * An IDN instance: a topology, a model catalog and the latency/accuracy trade-off alpha compiled
 * into flat arrays that every policy and the simulator share.
 *
 * - Placements ("pairs"): (node, model) for every non-repository node and every model that fits its
 *   budget, contiguous per node. An allocation is one number per pair (0/1, or a fraction).
 * - Request types: one per (source node, task), routed on the fixed path to the nearest repository.
 * - Candidates: per request type, the pairs on its path serving its task whose unit cost
 *     gamma = round-trip network latency to the node + inference latency of the model at the node's
 *             tier + alpha * (1 - accuracy)                                 ([R] form, round trip [D])
 *   is below the repository's (the repository's best model for the task at the path's end), sorted
 *   by gamma. Candidates no cheaper than the repository can never serve (the chain is truncated at
 *   the repository entry), so they are left out.
 */
import { fail } from "../core/errors.js";
import type { Catalog } from "./catalog.js";
import { pathToRepository, type Routing, route, type Tier, type Topology } from "./topology.js";

export interface InstanceOptions {
  /** Weight of the inaccuracy term, in ms per unit of (1 - accuracy). */
  alpha: number;
}

export class IdnInstance {
  readonly alpha: number;
  readonly routing: Routing;
  readonly nodeCount: number;
  readonly modelCount: number;
  readonly taskCount: number;
  /** Resolved budget per node in MB (Infinity at repositories). */
  readonly budgetMB: Float64Array;
  readonly modelTask: Int32Array;
  readonly modelSize: Float64Array;
  readonly modelAccuracy: Float64Array;

  readonly pairCount: number;
  readonly pairNode: Int32Array;
  readonly pairModel: Int32Array;
  readonly pairSize: Float64Array;
  /** Requests per slot one copy serves at the pair's node. */
  readonly pairCapacity: Float64Array;
  /** Pairs of node v are nodePairStart[v] .. nodePairStart[v+1]-1. */
  readonly nodePairStart: Int32Array;

  /** Source nodes; request type = sourceIndex * taskCount + task. */
  readonly sources: Int32Array;
  readonly typeCount: number;
  /** Path of type t: pathNodes[pathStart[t] .. pathStart[t+1]-1], source first, repository last. */
  readonly pathStart: Int32Array;
  readonly pathNodes: Int32Array;
  /** Longest path, in nodes. */
  readonly maxPathLength: number;
  readonly repositoryCost: Float64Array;
  readonly repositoryLatency: Float64Array;
  readonly repositoryModel: Int32Array;

  readonly candStart: Int32Array;
  readonly candPair: Int32Array;
  readonly candGamma: Float64Array;
  /** Round-trip network latency + inference latency of the candidate (what a user waits), ms. */
  readonly candLatency: Float64Array;
  /** Position of the candidate's node on its type's path (0 = the source). */
  readonly candPathPos: Int32Array;
  /** Request type of each candidate entry. */
  readonly candType: Int32Array;
  /** Candidate entries of pair p: pairCands[pairCandStart[p] .. pairCandStart[p+1]-1]. */
  readonly pairCandStart: Int32Array;
  readonly pairCands: Int32Array;

  constructor(
    readonly topology: Topology,
    readonly catalog: Catalog,
    options: InstanceOptions,
  ) {
    const { alpha } = options;
    if (!(alpha >= 0 && Number.isFinite(alpha)))
      fail("INVALID_ARGUMENT", `IDN instance: alpha must be a finite number >= 0, got ${alpha}`);
    this.alpha = alpha;
    const nodes = topology.nodes;
    const models = catalog.models;
    this.nodeCount = nodes.length;
    this.modelCount = models.length;
    this.taskCount = catalog.tasks.length;
    const taskIndex = new Map(catalog.tasks.map((t, i) => [t, i]));
    this.modelTask = Int32Array.from(models, (m) => taskIndex.get(m.task) as number);
    this.modelSize = Float64Array.from(models, (m) => m.sizeMB);
    this.modelAccuracy = Float64Array.from(models, (m) => m.accuracy);
    this.routing = route(topology);

    const largestMB = models.reduce((s, m) => Math.max(s, m.sizeMB), 0);
    this.budgetMB = Float64Array.from(nodes, (n) =>
      n.repository ? Number.POSITIVE_INFINITY : (n.budgetMB ?? (n.budgetRelative as number) * largestMB),
    );
    this.checkEveryModelFits();

    // Placements.
    const pn: number[] = [];
    const pm: number[] = [];
    this.nodePairStart = new Int32Array(this.nodeCount + 1);
    for (let v = 0; v < this.nodeCount; v++) {
      this.nodePairStart[v] = pn.length;
      if (nodes[v].repository) continue;
      for (let m = 0; m < this.modelCount; m++)
        if (models[m].sizeMB <= this.budgetMB[v]) {
          pn.push(v);
          pm.push(m);
        }
    }
    this.nodePairStart[this.nodeCount] = pn.length;
    this.pairCount = pn.length;
    this.pairNode = Int32Array.from(pn);
    this.pairModel = Int32Array.from(pm);
    this.pairSize = Float64Array.from(pm, (m) => models[m].sizeMB);
    this.pairCapacity = Float64Array.from(pn, (v, i) => models[pm[i]].capacity[nodes[v].tier]);

    // Request types and their chains of candidates.
    this.sources = Int32Array.from(nodes.flatMap((n, v) => (n.source && !n.repository ? [v] : [])));
    this.typeCount = this.sources.length * this.taskCount;
    const pathStart = [0];
    const pathNodes: number[] = [];
    const repoCost: number[] = [];
    const repoLatency: number[] = [];
    const repoModel: number[] = [];
    const candStart = [0];
    const cand: Array<{ pair: number; gamma: number; latency: number; pos: number }> = [];
    const candPair: number[] = [];
    const candGamma: number[] = [];
    const candLatency: number[] = [];
    const candPos: number[] = [];
    const dist = this.routing.distanceMs;
    const localCost = (m: number, tier: Tier) => models[m].latencyMs[tier] + alpha * (1 - models[m].accuracy);
    for (const s of this.sources) {
      const path = pathToRepository(this.routing, s);
      const repo = path[path.length - 1];
      for (let task = 0; task < this.taskCount; task++) {
        for (const v of path) pathNodes.push(v);
        pathStart.push(pathNodes.length);
        // The repository serves with its cheapest model for the task.
        let best = -1;
        for (let m = 0; m < this.modelCount; m++)
          if (
            this.modelTask[m] === task &&
            (best < 0 || localCost(m, nodes[repo].tier) < localCost(best, nodes[repo].tier))
          )
            best = m;
        const rtt = 2 * dist[s];
        const gammaK = rtt + localCost(best, nodes[repo].tier);
        repoCost.push(gammaK);
        repoLatency.push(rtt + models[best].latencyMs[nodes[repo].tier]);
        repoModel.push(best);
        cand.length = 0;
        for (let pos = 0; pos < path.length - 1; pos++) {
          const v = path[pos];
          const net = 2 * (dist[s] - dist[v]);
          for (let p = this.nodePairStart[v]; p < this.nodePairStart[v + 1]; p++) {
            const m = this.pairModel[p];
            if (this.modelTask[m] !== task) continue;
            const gamma = net + localCost(m, nodes[v].tier);
            if (gamma < gammaK)
              cand.push({ pair: p, gamma, latency: net + models[m].latencyMs[nodes[v].tier], pos });
          }
        }
        cand.sort((a, b) => a.gamma - b.gamma || a.pos - b.pos || a.pair - b.pair);
        for (const c of cand) {
          candPair.push(c.pair);
          candGamma.push(c.gamma);
          candLatency.push(c.latency);
          candPos.push(c.pos);
        }
        candStart.push(candPair.length);
      }
    }
    this.pathStart = Int32Array.from(pathStart);
    this.pathNodes = Int32Array.from(pathNodes);
    let longest = 0;
    for (let t = 0; t < this.typeCount; t++) longest = Math.max(longest, pathStart[t + 1] - pathStart[t]);
    this.maxPathLength = longest;
    this.repositoryCost = Float64Array.from(repoCost);
    this.repositoryLatency = Float64Array.from(repoLatency);
    this.repositoryModel = Int32Array.from(repoModel);
    this.candStart = Int32Array.from(candStart);
    this.candPair = Int32Array.from(candPair);
    this.candGamma = Float64Array.from(candGamma);
    this.candLatency = Float64Array.from(candLatency);
    this.candPathPos = Int32Array.from(candPos);
    this.candType = new Int32Array(this.candPair.length);
    for (let t = 0; t < this.typeCount; t++) this.candType.fill(t, this.candStart[t], this.candStart[t + 1]);
    // Inverted index: pair -> candidate entries.
    this.pairCandStart = new Int32Array(this.pairCount + 1);
    for (const p of this.candPair) this.pairCandStart[p + 1]++;
    for (let p = 0; p < this.pairCount; p++) this.pairCandStart[p + 1] += this.pairCandStart[p];
    const fill = this.pairCandStart.slice(0, this.pairCount);
    this.pairCands = new Int32Array(this.candPair.length);
    for (let c = 0; c < this.candPair.length; c++) this.pairCands[fill[this.candPair[c]]++] = c;
  }

  /** Request type of (source node index in `sources`, task). */
  typeOf(sourceIndex: number, task: number): number {
    return sourceIndex * this.taskCount + task;
  }

  typeSourceNode(t: number): number {
    return this.sources[Math.floor(t / this.taskCount)];
  }

  typeTask(t: number): number {
    return t % this.taskCount;
  }

  /** Total MB a 0/1 allocation uses at node v. */
  usedMB(v: number, x: ArrayLike<number>): number {
    let used = 0;
    for (let p = this.nodePairStart[v]; p < this.nodePairStart[v + 1]; p++) used += x[p] * this.pairSize[p];
    return used;
  }

  /** A model too large for every non-repository node could never leave the cloud: refuse the catalog. */
  private checkEveryModelFits(): void {
    let largest = -1;
    for (let v = 0; v < this.nodeCount; v++)
      if (!this.topology.nodes[v].repository && (largest < 0 || this.budgetMB[v] > this.budgetMB[largest]))
        largest = v;
    if (largest < 0) return;
    for (const m of this.catalog.models)
      if (m.sizeMB > this.budgetMB[largest])
        fail(
          "CAPACITY",
          `catalog ${this.catalog.name}: model "${m.id}" (${m.sizeMB} MB) is larger than every node's budget in topology ` +
            `${this.topology.name} (largest: ${this.budgetMB[largest].toFixed(1)} MB at node "${this.topology.nodes[largest].id}"); ` +
            "expected every model to fit at least one non-repository node (raise the budgets or drop the model)",
        );
  }
}
