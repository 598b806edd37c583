/**
 * The built-in topologies, registered by spec (`tree:depth=3,fanout=4`, `abilene`, `geant`), and the
 * JSON topology format. Files are read by topology-file.node.ts; this module only parses text, so
 * it runs in browsers too.
 *
 * Tiers and latencies of the built-ins are design choices ([D], docs/idn.md): requests originate at
 * access nodes; a tree has cloud (root), regional (depth 1), edge (inner levels) and access (leaves)
 * tiers; a backbone (abilene, geant) has its PoPs as regional data centres, `access` access nodes
 * per PoP and one cloud node attached to the PoP of highest degree (or the one named by `cloud=`).
 */
import { fail } from "../core/errors.js";
import { Registry } from "../core/registry.js";
import { Rng } from "../core/rng.js";
import {
  TIER_BUDGET_RELATIVE,
  TIERS,
  type Tier,
  type Topology,
  type TopologyNode,
  validateTopology,
} from "./topology.js";
import {
  ABILENE_LINKS,
  ABILENE_POPS,
  ABILENE_SOURCE,
  GEANT_LINKS,
  GEANT_POPS,
  GEANT_SOURCE,
  type PopData,
} from "./topology-data.js";

/** One-way latency of a tree link, by the tier of its lower end ([D]). */
const TREE_LINK_MS: Record<Tier, number> = { device: 2, access: 5, edge: 10, regional: 20, cloud: 0 };
/** Access node to its PoP, and PoP to the attached cloud, one way ([D]). */
const ACCESS_LINK_MS = 5;
const CLOUD_LINK_MS = 10;
/** Light in fibre covers about 200 km per millisecond (2/3 of c). */
const KM_PER_MS = 200;
const MAX_TREE_NODES = 200_000;

export const topologyRegistry = new Registry<undefined, Topology>(
  "topology",
  () => "; or a JSON topology file (see docs/idn.md)",
);

function node(id: string, tier: Tier, budget: number, extra: Partial<TopologyNode> = {}): TopologyNode {
  return {
    id,
    tier,
    repository: tier === "cloud",
    source: tier === "access" || tier === "device",
    budgetRelative: tier === "cloud" ? undefined : TIER_BUDGET_RELATIVE[tier] * budget,
    ...extra,
  };
}

topologyRegistry.register({
  name: "tree",
  summary:
    "balanced tree: cloud root, regional children, edge inner levels, access leaves (requests at the leaves)",
  params: {
    depth: { type: "int", default: 3, min: 1, max: 8, description: "levels below the cloud root" },
    fanout: { type: "int", default: 4, min: 1, max: 64, description: "children per node" },
    budget: { type: "number", default: 1, min: 0, description: "multiplier of every tier's relative budget" },
    latency: { type: "number", default: 1, min: 0, description: "multiplier of every link latency" },
  },
  create(p) {
    let total = 1;
    for (let l = 1, width = 1; l <= p.depth; l++) total += width *= p.fanout;
    if (total > MAX_TREE_NODES)
      fail(
        "INVALID_ARGUMENT",
        `topology tree: depth=${p.depth},fanout=${p.fanout} gives ${total} nodes; expected at most ${MAX_TREE_NODES}`,
      );
    const tierAt = (level: number): Tier =>
      level === 0 ? "cloud" : level === p.depth ? "access" : level === 1 ? "regional" : "edge";
    const nodes: TopologyNode[] = [node("cloud", "cloud", p.budget)];
    const links: Topology["links"] = [];
    let frontier = [{ index: 0, label: "" }];
    for (let level = 1; level <= p.depth; level++) {
      const tier = tierAt(level);
      const next: typeof frontier = [];
      for (const parent of frontier)
        for (let c = 1; c <= p.fanout; c++) {
          const label = parent.label ? `${parent.label}.${c}` : String(c);
          nodes.push(node(`${tier}-${label}`, tier, p.budget));
          links.push({ a: nodes.length - 1, b: parent.index, latencyMs: TREE_LINK_MS[tier] * p.latency });
          next.push({ index: nodes.length - 1, label });
        }
      frontier = next;
    }
    return validateTopology({ name: "tree", nodes, links, provenance: "balanced tree (built in)" });
  },
});

function backbone(
  name: string,
  pops: PopData[],
  popLinks: Array<[string, string]>,
  provenance: string,
  linkMs: (a: PopData, b: PopData) => number,
  p: { access: number; budget: number; cloud: string },
): Topology {
  const index = new Map(pops.map((q, i) => [q.id, i]));
  const degree = new Int32Array(pops.length);
  for (const [a, b] of popLinks) {
    degree[index.get(a) as number]++;
    degree[index.get(b) as number]++;
  }
  let cloudPop = 0;
  if (p.cloud === "auto") {
    for (let i = 1; i < pops.length; i++) if (degree[i] > degree[cloudPop]) cloudPop = i;
  } else {
    const i = index.get(p.cloud);
    if (i === undefined)
      fail(
        "UNKNOWN_NAME",
        `topology ${name}: unknown node "${p.cloud}" for cloud=; expected auto or one of ${pops.map((q) => q.id).join(", ")}`,
      );
    cloudPop = i;
  }
  const nodes: TopologyNode[] = pops.map((q) => node(q.id, "regional", p.budget, { x: q.lon, y: q.lat }));
  const links: Topology["links"] = popLinks.map(([a, b]) => {
    const i = index.get(a) as number;
    const j = index.get(b) as number;
    return { a: i, b: j, latencyMs: linkMs(pops[i], pops[j]) };
  });
  pops.forEach((q, i) => {
    for (let k = 0; k < p.access; k++) {
      // Access nodes drawn on a small circle around their PoP.
      const angle = (2 * Math.PI * (k + 0.5)) / p.access;
      const at =
        q.lon === undefined
          ? {}
          : { x: (q.lon as number) + 2.4 * Math.cos(angle), y: (q.lat as number) + 1.8 * Math.sin(angle) };
      nodes.push(node(`${q.id}-a${k + 1}`, "access", p.budget, at));
      links.push({ a: nodes.length - 1, b: i, latencyMs: ACCESS_LINK_MS });
    }
  });
  const c = pops[cloudPop];
  nodes.push(
    node(
      "cloud",
      "cloud",
      p.budget,
      c.lon === undefined ? {} : { x: (c.lon as number) + 3, y: (c.lat as number) + 4 },
    ),
  );
  links.push({ a: nodes.length - 1, b: cloudPop, latencyMs: CLOUD_LINK_MS });
  return validateTopology({ name, nodes, links, provenance });
}

const BACKBONE_PARAMS = {
  access: {
    type: "int",
    default: 2,
    min: 1,
    max: 100,
    description: "access nodes (request sources) per PoP",
  },
  budget: { type: "number", default: 1, min: 0, description: "multiplier of every tier's relative budget" },
} as const;

/** Great-circle distance in km (haversine). */
export function greatCircleKm(a: PopData, b: PopData): number {
  const rad = Math.PI / 180;
  const dLat = ((b.lat as number) - (a.lat as number)) * rad;
  const dLon = ((b.lon as number) - (a.lon as number)) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos((a.lat as number) * rad) * Math.cos((b.lat as number) * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

topologyRegistry.register({
  name: "abilene",
  summary: "Abilene US backbone, 9 PoPs / 13 links; link latency = great-circle distance at 200 km/ms",
  params: {
    ...BACKBONE_PARAMS,
    cloud: {
      type: "string",
      default: "auto",
      description: "PoP the cloud attaches to (auto: highest degree)",
    },
  },
  create: (p) =>
    backbone(
      "abilene",
      ABILENE_POPS,
      ABILENE_LINKS,
      ABILENE_SOURCE,
      (a, b) => greatCircleKm(a, b) / KM_PER_MS,
      p,
    ),
});

topologyRegistry.register({
  name: "geant",
  summary:
    "GEANT European backbone, 22 PoPs / 33 links; link latencies drawn uniformly in [min, max] ms from seed",
  params: {
    ...BACKBONE_PARAMS,
    cloud: {
      type: "string",
      default: "auto",
      description: "PoP the cloud attaches to (auto: highest degree)",
    },
    min: { type: "number", default: 2, min: 0, description: "smallest PoP-to-PoP latency, ms" },
    max: { type: "number", default: 12, min: 0, description: "largest PoP-to-PoP latency, ms" },
    seed: { type: "int", default: 1, min: 0, description: "seed of the latency draw" },
  },
  create(p) {
    if (p.max < p.min)
      fail("INVALID_ARGUMENT", `topology geant: expected min <= max, got min=${p.min}, max=${p.max}`);
    const rng = new Rng(p.seed);
    return backbone("geant", GEANT_POPS, GEANT_LINKS, GEANT_SOURCE, () => rng.uniform(p.min, p.max), p);
  },
});

/** Creates a built-in topology from its spec. */
export function createTopology(spec: string): Topology {
  const parsed = topologyRegistry.parse(spec);
  const topology = parsed.entry.create(parsed.params as never, undefined);
  topology.name = parsed.canonical;
  return topology;
}

interface JsonNode {
  id?: unknown;
  url?: unknown;
  tier?: unknown;
  budgetMB?: unknown;
  budgetRelative?: unknown;
  repository?: unknown;
  source?: unknown;
  x?: unknown;
  y?: unknown;
}

/**
 * Parses the JSON topology format:
 *   {"name": "...", "provenance": "...", "nodes": [{"id": "a", "tier": "access", "budgetMB": 100,
 *    "source": true}, {"id": "c", "tier": "cloud"}], "links": [{"a": "a", "b": "c", "latencyMs": 5}]}
 * A node needs budgetMB or budgetRelative unless it is a repository (tier cloud or
 * "repository": true). Without any "source" flag, the non-repository nodes of the lowest tier present
 * are the sources.
 */
export function parseTopologyJson(text: string, where: string): Topology {
  let raw: { name?: unknown; provenance?: unknown; nodes?: unknown; links?: unknown };
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return fail(
      "BAD_FILE",
      `${where}: malformed JSON (${(e as Error).message}); expected {"nodes": [...], "links": [...]}`,
    );
  }
  if (!raw || typeof raw !== "object" || !Array.isArray(raw.nodes) || !Array.isArray(raw.links))
    fail("BAD_FILE", `${where}: expected an object with "nodes" and "links" arrays`);
  const num = (v: unknown, field: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== "number")
      fail("INVALID_ARGUMENT", `${where}: ${field}: expected a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const flagged = (raw.nodes as JsonNode[]).some((n) => n?.source !== undefined);
  const nodes: TopologyNode[] = (raw.nodes as JsonNode[]).map((n, i) => {
    if (!n || typeof n !== "object")
      fail("BAD_FILE", `${where}: nodes[${i}]: expected an object, got ${JSON.stringify(n)}`);
    const tier = n.tier as Tier;
    if (!TIERS.includes(tier))
      fail(
        "INVALID_ARGUMENT",
        `${where}: nodes[${i}].tier: expected one of ${TIERS.join(", ")}, got ${JSON.stringify(n.tier)}`,
      );
    const repository = tier === "cloud" || n.repository === true;
    return {
      id: String(n.id ?? ""),
      tier,
      budgetMB: num(n.budgetMB, `nodes[${i}].budgetMB`),
      budgetRelative: num(n.budgetRelative, `nodes[${i}].budgetRelative`),
      repository,
      source: flagged ? n.source === true : false,
      x: num(n.x, `nodes[${i}].x`),
      y: num(n.y, `nodes[${i}].y`),
      ...(n.url !== undefined ? { url: nodeUrl(n.url, `${where}: nodes[${i}].url`) } : {}),
    };
  });
  if (!flagged) {
    const lowest = Math.min(...nodes.filter((n) => !n.repository).map((n) => TIERS.indexOf(n.tier)));
    for (const n of nodes) n.source = !n.repository && TIERS.indexOf(n.tier) === lowest;
  }
  const ids = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (ids.has(n.id)) fail("DUPLICATE_ID", `${where}: nodes[${i}].id: id "${n.id}" is used twice`);
    ids.set(n.id, i);
  });
  const links = (raw.links as Array<{ a?: unknown; b?: unknown; latencyMs?: unknown }>).map((l, i) => {
    if (!l || typeof l !== "object")
      fail("BAD_FILE", `${where}: links[${i}]: expected an object, got ${JSON.stringify(l)}`);
    const end = (v: unknown, field: string): number => {
      const k = ids.get(String(v));
      if (k === undefined)
        fail(
          "UNKNOWN_ID",
          `${where}: links[${i}].${field}: unknown node ${JSON.stringify(v)}; expected one of the node ids (${[...ids.keys()].slice(0, 8).join(", ")}${ids.size > 8 ? ", ..." : ""})`,
        );
      return k;
    };
    const latencyMs = num(l.latencyMs, `links[${i}].latencyMs`);
    if (latencyMs === undefined)
      fail("INVALID_ARGUMENT", `${where}: links[${i}].latencyMs: expected a number, got nothing`);
    return { a: end(l.a, "a"), b: end(l.b, "b"), latencyMs };
  });
  const name = typeof raw.name === "string" ? raw.name : where;
  return validateTopology(
    { name, nodes, links, provenance: typeof raw.provenance === "string" ? raw.provenance : where },
    where,
  );
}

/** A live node's address: http(s)://host:port, no path. */
function nodeUrl(v: unknown, at: string): string {
  if (typeof v !== "string" || !/^https?:\/\/[^/\s?#]+\/?$/.test(v))
    fail(
      "INVALID_ARGUMENT",
      `${at}: expected a URL like "http://10.0.0.5:8080" (scheme, host and port, no path), got ${JSON.stringify(v)}`,
    );
  return v.replace(/\/$/, "");
}

/** The topology as JSON text in the format {@link parseTopologyJson} reads (round trip). */
export function topologyToJson(t: Topology): string {
  return `${JSON.stringify(
    {
      name: t.name,
      provenance: t.provenance,
      nodes: t.nodes.map((n) => ({
        id: n.id,
        tier: n.tier,
        ...(n.budgetMB !== undefined ? { budgetMB: n.budgetMB } : {}),
        ...(n.budgetRelative !== undefined && n.budgetMB === undefined
          ? { budgetRelative: n.budgetRelative }
          : {}),
        ...(n.repository && n.tier !== "cloud" ? { repository: true } : {}),
        source: n.source,
        ...(n.x !== undefined ? { x: n.x, y: n.y } : {}),
        ...(n.url !== undefined ? { url: n.url } : {}),
      })),
      links: t.links.map((l) => ({ a: t.nodes[l.a].id, b: t.nodes[l.b].id, latencyMs: l.latencyMs })),
    },
    null,
    1,
  )}\n`;
}
