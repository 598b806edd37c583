/**
 * Small IDN instances for tests (not a test file itself), and a from-scratch reference of the
 * serving rule that shares no code with src/idn/instance.ts or serving.ts: Floyd-Warshall distances,
 * candidate lists rebuilt per request from the topology and catalog objects, capacity shares and
 * the cheapest-first fill, all recomputed. Latencies are random reals, so shortest paths and costs
 * have no ties.
 */
import { Rng } from "../src/core/rng.js";
import { type Catalog, catalogFromJson } from "../src/idn/catalog.js";
import { IdnInstance } from "../src/idn/instance.js";
import { parseTopologyJson } from "../src/idn/topologies.js";
import type { Topology } from "../src/idn/topology.js";
import type { IdnTrace } from "../src/idn/traces.js";
import { TraceBuilder } from "../src/idn/traces.js";

export const TIERS5 = ["device", "access", "edge", "regional", "cloud"] as const;

/**
 * Two access nodes under one edge node under a regional node under the cloud, plus a shortcut from
 * a2 to the regional node (so paths are not a tree by construction); absolute budgets.
 */
export function tinyTopology(
  rng: Rng,
  budgets: { access: number; edge: number; regional: number },
): Topology {
  const lat = () => 1 + 20 * rng.next();
  return parseTopologyJson(
    JSON.stringify({
      name: "tiny",
      nodes: [
        { id: "a1", tier: "access", budgetMB: budgets.access, source: true },
        { id: "a2", tier: "access", budgetMB: budgets.access, source: true },
        { id: "e", tier: "edge", budgetMB: budgets.edge },
        { id: "r", tier: "regional", budgetMB: budgets.regional },
        { id: "c", tier: "cloud" },
      ],
      links: [
        { a: "a1", b: "e", latencyMs: lat() },
        { a: "a2", b: "e", latencyMs: lat() },
        { a: "a2", b: "r", latencyMs: 30 + lat() },
        { a: "e", b: "r", latencyMs: lat() },
        { a: "r", b: "c", latencyMs: 10 + lat() },
      ],
    }),
    "tiny topology",
  );
}

/** `tasks` tasks with `perTask` models each; random sizes, accuracies, latencies; small capacities. */
export function tinyCatalog(rng: Rng, tasks: number, perTask: number, capacity = 6): Catalog {
  const models = [];
  for (let t = 0; t < tasks; t++)
    for (let k = 0; k < perTask; k++) {
      const base = 2 + 40 * rng.next();
      const latencyMs: Record<string, number> = {};
      TIERS5.forEach((tier, i) => (latencyMs[tier] = base * [4, 2, 1, 0.3, 0.3][i]));
      const cap: Record<string, number> = {};
      TIERS5.forEach((tier) => (cap[tier] = 1 + Math.floor(capacity * rng.next())));
      models.push({
        id: `t${t}-m${k}`,
        task: `t${t}`,
        sizeMB: 1 + Math.floor(9 * rng.next()),
        accuracy: 0.6 + 0.35 * rng.next(),
        latencyMs,
        capacity: cap,
      });
    }
  return catalogFromJson({ name: "tiny", models }, "tiny catalog");
}

/** A random trace of `slots` slots with up to `maxCount` requests per type. */
export function randomTrace(inst: IdnInstance, rng: Rng, slots: number, maxCount = 8): IdnTrace {
  const b = new TraceBuilder(inst.typeCount);
  for (let t = 0; t < slots; t++) {
    for (let type = 0; type < inst.typeCount; type++)
      if (rng.next() < 0.8) b.add(type, 1 + rng.int(maxCount));
    b.endSlot();
  }
  return b.build("random");
}

export function tinyInstance(seed: number, alpha = 50, tasks = 2, perTask = 3) {
  const rng = new Rng(seed);
  const topology = tinyTopology(rng, { access: 6, edge: 10, regional: 14 });
  const catalog = tinyCatalog(rng, tasks, perTask);
  return { rng, instance: new IdnInstance(topology, catalog, { alpha }) };
}

/** A request of the reference: source node id, task name, count. */
export interface RefRequest {
  source: string;
  task: string;
  count: number;
}

/**
 * The reference gain of one slot: hosted maps "node|model" to an allocation in [0, 1] (1 = hosted).
 * Rebuilt from the topology and catalog objects: all-pairs shortest paths (Floyd-Warshall), the path
 * of a source by steepest descent of the distance to the cloud, every candidate cheaper than the
 * cloud's best model, capacity shares l = r * min(1, L / R) with R the slot's requests listing the
 * candidate, and the cheapest-first fill.
 */
export function referenceGain(
  top: Topology,
  cat: Catalog,
  alpha: number,
  requests: RefRequest[],
  hosted: (node: string, model: string) => number,
): number {
  const d = allPairs(top);
  const repo = top.nodes.findIndex((v) => v.repository);
  const largest = Math.max(...cat.models.map((m) => m.sizeMB));
  const budget = (v: number) => top.nodes[v].budgetMB ?? (top.nodes[v].budgetRelative as number) * largest;
  const path = (s: number) => {
    const p = [s];
    while (p[p.length - 1] !== repo) {
      const u = p[p.length - 1];
      let best = -1;
      for (const l of top.links) {
        const w = l.a === u ? l.b : l.b === u ? l.a : -1;
        if (w < 0) continue;
        if (Math.abs(l.latencyMs + d[w][repo] - d[u][repo]) < 1e-9 && (best < 0 || w < best)) best = w;
      }
      p.push(best);
    }
    return p;
  };
  const local = (m: (typeof cat.models)[number], v: number) =>
    m.latencyMs[top.nodes[v].tier] + alpha * (1 - m.accuracy);
  type Cand = { node: number; model: number; gamma: number; pos: number };
  const lists = requests.map((q) => {
    const s = top.nodes.findIndex((v) => v.id === q.source);
    const p = path(s);
    const taskModels = cat.models.map((m, k) => ({ m, k })).filter(({ m }) => m.task === q.task);
    const repoCost = 2 * d[s][repo] + Math.min(...taskModels.map(({ m }) => local(m, repo)));
    const cands: Cand[] = [];
    p.slice(0, -1).forEach((v, pos) => {
      for (const { m, k } of taskModels) {
        if (m.sizeMB > budget(v)) continue;
        const gamma = 2 * (d[s][repo] - d[v][repo]) + local(m, v);
        if (gamma < repoCost) cands.push({ node: v, model: k, gamma, pos });
      }
    });
    cands.sort((x, y) => x.gamma - y.gamma || x.pos - y.pos || x.model - y.model);
    return { repoCost, cands };
  });
  const load = new Map<string, number>();
  requests.forEach((q, i) => {
    for (const c of lists[i].cands)
      load.set(`${c.node}|${c.model}`, (load.get(`${c.node}|${c.model}`) ?? 0) + q.count);
  });
  let gain = 0;
  requests.forEach((q, i) => {
    let left = q.count;
    for (const c of lists[i].cands) {
      const m = cat.models[c.model];
      const L = m.capacity[top.nodes[c.node].tier];
      const l = q.count * Math.min(1, L / (load.get(`${c.node}|${c.model}`) as number));
      const z = Math.min(left, l * hosted(top.nodes[c.node].id, m.id));
      gain += (lists[i].repoCost - c.gamma) * z;
      left -= z;
    }
  });
  return gain;
}

const distances = new WeakMap<Topology, number[][]>();

/** Floyd-Warshall all-pairs shortest latencies (memoised per topology object). */
function allPairs(top: Topology): number[][] {
  const known = distances.get(top);
  if (known) return known;
  const n = top.nodes.length;
  const d = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 0 : Number.POSITIVE_INFINITY)),
  );
  for (const l of top.links) {
    d[l.a][l.b] = Math.min(d[l.a][l.b], l.latencyMs);
    d[l.b][l.a] = Math.min(d[l.b][l.a], l.latencyMs);
  }
  for (let k = 0; k < n; k++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) if (d[i][k] + d[k][j] < d[i][j]) d[i][j] = d[i][k] + d[k][j];
  distances.set(top, d);
  return d;
}

/** The requests of slot t of a trace, as reference requests. */
export function slotRequests(inst: IdnInstance, trace: IdnTrace, t: number): RefRequest[] {
  const out: RefRequest[] = [];
  for (let e = trace.slotStart[t]; e < trace.slotStart[t + 1]; e++) {
    const type = trace.types[e];
    out.push({
      source: inst.topology.nodes[inst.typeSourceNode(type)].id,
      task: inst.catalog.tasks[inst.typeTask(type)],
      count: trace.counts[e],
    });
  }
  return out;
}

/** hosted() of the reference from an allocation over the instance's pairs. */
export function hostedOf(inst: IdnInstance, x: ArrayLike<number>): (node: string, model: string) => number {
  const map = new Map<string, number>();
  for (let p = 0; p < inst.pairCount; p++)
    map.set(`${inst.topology.nodes[inst.pairNode[p]].id}|${inst.catalog.models[inst.pairModel[p]].id}`, x[p]);
  return (node, model) => map.get(`${node}|${model}`) ?? 0;
}
