/**
 * Network topologies of an inference delivery network: nodes with a tier and a memory budget,
 * links with a one-way latency, repository nodes (the cloud) that host every model, and the fixed
 * routing path of every node toward its nearest repository (shortest latency, ties broken by node
 * index so that paths never depend on input order beyond it).
 *
 * Budgets are either absolute (MB) or relative, a multiple of the catalog's largest model, resolved
 * when a topology meets a catalog (instance.ts): the built-in topologies use relative budgets so
 * that the same network is a meaningful allocation problem for a catalog of 100 MB ImageNet models
 * and for one of 100 KB MNIST models alike, and more tasks mean more competition for memory ([D]).
 */
import { fail } from "../core/errors.js";

export const TIERS = ["device", "access", "edge", "regional", "cloud"] as const;
export type Tier = (typeof TIERS)[number];

/**
 * Default budget of a tier as a multiple of the catalog's largest model ([D]): an edge server can
 * hold the largest model and a half, a regional data centre four of them, an access node half of one.
 */
export const TIER_BUDGET_RELATIVE: Record<Tier, number> = {
  device: 0.25,
  access: 0.5,
  edge: 1.5,
  regional: 4,
  cloud: 0,
};

export interface TopologyNode {
  id: string;
  tier: Tier;
  /** Absolute memory budget in MB. */
  budgetMB?: number;
  /** Budget as a multiple of the catalog's largest model size (used when budgetMB is absent). */
  budgetRelative?: number;
  /** Hosts every model with unbounded capacity (tier cloud, or flagged). */
  repository: boolean;
  /** Requests originate here. */
  source: boolean;
  /** Drawing position (longitude/latitude for geographic topologies), optional. */
  x?: number;
  y?: number;
  /** Where the node listens in a live network (`mammals idn up`, `mammals serve --idn-node`), optional. */
  url?: string;
}

export interface TopologyLink {
  a: number;
  b: number;
  latencyMs: number;
}

export interface Topology {
  /** Canonical spec or file name. */
  name: string;
  nodes: TopologyNode[];
  links: TopologyLink[];
  /** Where the node and link lists come from. */
  provenance?: string;
}

/** Shortest-latency routing of every node toward its nearest repository. */
export interface Routing {
  /** Next hop toward the repository (-1 at a repository). */
  next: Int32Array;
  /** One-way latency to the repository. */
  distanceMs: Float64Array;
}

/** Checks ids, tiers, budgets, links and sources; throws a typed error naming `where` and the field. */
export function validateTopology(t: Topology, where = `topology ${t.name}`): Topology {
  const ids = new Map<string, number>();
  if (t.nodes.length === 0) fail("INVALID_ARGUMENT", `${where}: expected at least one node, got none`);
  t.nodes.forEach((n, i) => {
    const at = `${where}: nodes[${i}] (${n.id})`;
    if (typeof n.id !== "string" || n.id === "")
      fail(
        "INVALID_ARGUMENT",
        `${where}: nodes[${i}].id: expected a non-empty string, got ${JSON.stringify(n.id)}`,
      );
    if (ids.has(n.id)) fail("DUPLICATE_ID", `${at}: id "${n.id}" is used twice`);
    ids.set(n.id, i);
    if (!TIERS.includes(n.tier))
      fail(
        "INVALID_ARGUMENT",
        `${at}.tier: expected one of ${TIERS.join(", ")}, got ${JSON.stringify(n.tier)}`,
      );
    if (n.repository) return;
    if (n.budgetMB !== undefined && !(n.budgetMB >= 0 && Number.isFinite(n.budgetMB)))
      fail("INVALID_ARGUMENT", `${at}.budgetMB: expected a finite number >= 0, got ${n.budgetMB}`);
    if (n.budgetRelative !== undefined && !(n.budgetRelative >= 0 && Number.isFinite(n.budgetRelative)))
      fail(
        "INVALID_ARGUMENT",
        `${at}.budgetRelative: expected a finite number >= 0, got ${n.budgetRelative}`,
      );
    if (n.budgetMB === undefined && n.budgetRelative === undefined)
      fail("INVALID_ARGUMENT", `${at}: expected budgetMB or budgetRelative for a non-repository node`);
  });
  t.links.forEach((l, i) => {
    const at = `${where}: links[${i}]`;
    for (const end of [l.a, l.b])
      if (!(Number.isInteger(end) && end >= 0 && end < t.nodes.length))
        fail("UNKNOWN_ID", `${at}: unknown node ${end}; expected an index in 0..${t.nodes.length - 1}`);
    if (l.a === l.b) fail("INVALID_ARGUMENT", `${at}: a link from node ${t.nodes[l.a].id} to itself`);
    if (!(l.latencyMs >= 0 && Number.isFinite(l.latencyMs)))
      fail("INVALID_ARGUMENT", `${at}.latencyMs: expected a finite number >= 0, got ${l.latencyMs}`);
  });
  if (!t.nodes.some((n) => n.repository))
    fail("INVALID_ARGUMENT", `${where}: expected at least one repository node (tier cloud), got none`);
  if (!t.nodes.some((n) => n.source && !n.repository))
    fail("INVALID_ARGUMENT", `${where}: expected at least one non-repository source node, got none`);
  return t;
}

/**
 * Multi-source Dijkstra from every repository: each node's next hop and one-way latency toward the
 * nearest repository. A source that reaches none is an error naming it ("disconnected path").
 */
export function route(t: Topology): Routing {
  const n = t.nodes.length;
  const adjStart = new Int32Array(n + 1);
  for (const l of t.links) {
    adjStart[l.a + 1]++;
    adjStart[l.b + 1]++;
  }
  for (let v = 0; v < n; v++) adjStart[v + 1] += adjStart[v];
  const fill = adjStart.slice(0, n);
  const adjNode = new Int32Array(2 * t.links.length);
  const adjLatency = new Float64Array(2 * t.links.length);
  for (const l of t.links) {
    adjNode[fill[l.a]] = l.b;
    adjLatency[fill[l.a]++] = l.latencyMs;
    adjNode[fill[l.b]] = l.a;
    adjLatency[fill[l.b]++] = l.latencyMs;
  }
  const distanceMs = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const next = new Int32Array(n).fill(-1);
  const done = new Uint8Array(n);
  const heap = new MinHeap(distanceMs);
  t.nodes.forEach((node, v) => {
    if (node.repository) {
      distanceMs[v] = 0;
      heap.push(v);
    }
  });
  while (heap.size > 0) {
    const u = heap.pop();
    if (done[u]) continue;
    done[u] = 1;
    for (let e = adjStart[u]; e < adjStart[u + 1]; e++) {
      const w = adjNode[e];
      if (done[w] || t.nodes[w].repository) continue;
      const d = distanceMs[u] + adjLatency[e];
      // Ties: the smaller next-hop index, so routing does not depend on link order.
      if (d < distanceMs[w] || (d === distanceMs[w] && u < next[w])) {
        distanceMs[w] = d;
        next[w] = u;
        heap.push(w);
      }
    }
  }
  t.nodes.forEach((node, v) => {
    if (node.source && !Number.isFinite(distanceMs[v]))
      fail(
        "INVALID_ARGUMENT",
        `topology ${t.name}: disconnected path: source node "${node.id}" cannot reach any repository node; ` +
          `expected a path of links to a node of tier cloud`,
      );
  });
  return { next, distanceMs };
}

/** The node indices from `v` to its repository, both included. */
export function pathToRepository(routing: Routing, v: number): number[] {
  const path = [v];
  while (routing.next[path[path.length - 1]] >= 0) path.push(routing.next[path[path.length - 1]]);
  return path;
}

/** Binary min-heap of node indices keyed by an external distance array (lazy deletion). */
class MinHeap {
  private items: number[] = [];
  private keys: number[] = [];
  constructor(private readonly distance: Float64Array) {}
  get size(): number {
    return this.items.length;
  }
  push(v: number): void {
    const { items, keys } = this;
    let i = items.length;
    const k = this.distance[v];
    items.push(v);
    keys.push(k);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] < k || (keys[p] === k && items[p] <= v)) break;
      items[i] = items[p];
      keys[i] = keys[p];
      i = p;
    }
    items[i] = v;
    keys[i] = k;
  }
  pop(): number {
    const { items, keys } = this;
    const top = items[0];
    const lastItem = items.pop() as number;
    const lastKey = keys.pop() as number;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= items.length) break;
        const r = l + 1;
        const c =
          r < items.length && (keys[r] < keys[l] || (keys[r] === keys[l] && items[r] < items[l])) ? r : l;
        if (keys[c] > lastKey || (keys[c] === lastKey && items[c] >= lastItem)) break;
        items[i] = items[c];
        keys[i] = keys[c];
        i = c;
      }
      items[i] = lastItem;
      keys[i] = lastKey;
    }
    return top;
  }
}
