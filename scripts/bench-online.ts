/**
 * Per-request cost of the online-learning policies against sim-lru on a large catalog
 * (the target: acai at most 5x sim-lru's time per request, 60,000 objects, h = 600).
 * Each policy runs ALONE through the simulator (so each pays for the catalog neighbour list it
 * asks for) on the same catalog, index and trace; the time per request is the whole loop's
 * (neighbour search + serve + update). Distances: Euclidean (L2, not squared).
 *
 * Usage: nice npx tsx scripts/bench-online.ts [--catalog fashion-mnist] [--requests 20000]
 *        [--capacity 600] [--k 10] [--cf 5] [--policies sim-lru,acai,oga] [--index auto]
 */
import { parseArgs } from "node:util";
import "../src/index/factory.node.js";
import { loadCatalog } from "../src/caching/catalog.node.js";
import { createCostModel } from "../src/caching/cost.js";
import { createCachePolicy, parsePolicyList } from "../src/caching/registry.js";
import { simulate } from "../src/caching/simulator.js";
import { generateTrace } from "../src/caching/traces.js";
import { fmt, table } from "../src/core/format.js";

const { values: a } = parseArgs({
  options: {
    catalog: { type: "string", default: "fashion-mnist" },
    index: { type: "string", default: "auto" },
    requests: { type: "string", default: "20000" },
    capacity: { type: "string", default: "600" },
    k: { type: "string", default: "10" },
    cf: { type: "string", default: "5" },
    trace: { type: "string", default: "irm:alpha=0.8,noise=0.05" },
    policies: { type: "string", default: "sim-lru,acai,oga" },
    seed: { type: "string", default: "1" },
  },
});
const t0 = performance.now();
const catalog = loadCatalog(a.catalog!, { index: a.index });
console.log(
  `catalog ${catalog.name}: ${catalog.n} x ${catalog.dim}, index ${catalog.indexSpec}, built in ${fmt((performance.now() - t0) / 1000)} s`,
);
const k = Number(a.k);
const cost =
  k === 1 && a.cf === "none" ? createCostModel({ k: 1, cr: 1 }) : createCostModel({ k, cf: Number(a.cf) });
const count = Number(a.requests);
const trace = generateTrace(`${a.trace},count=${count},seed=${a.seed}`, catalog);
const h = Number(a.capacity);
const rows: (string | number)[][] = [];
let base = 0;
for (const spec of parsePolicyList(a.policies!)) {
  const offline = {
    count,
    *requests() {
      for (const r of trace.requests()) yield r.x;
    },
  };
  const tc = performance.now();
  const policy = createCachePolicy(spec, { capacity: h, catalog, cost, seed: Number(a.seed), offline });
  const createSec = (performance.now() - tc) / 1000;
  const r = simulate({ catalog, cost, policies: [policy], trace });
  const res = r.results[0];
  const usPerReq = (r.totalSeconds / count) * 1e6;
  if (base === 0) base = usPerReq;
  rows.push([
    res.policy,
    r.neighbours,
    fmt(usPerReq),
    fmt((res.policySeconds / count) * 1e6),
    fmt((r.neighbourSeconds / count) * 1e6),
    fmt(usPerReq / base),
    fmt(createSec),
    fmt(res.avgCost),
    fmt(res.hitRatio),
    res.moved,
  ]);
  console.log(
    JSON.stringify({
      policy: res.policy,
      usPerRequest: usPerReq,
      policyUs: (res.policySeconds / count) * 1e6,
      neighbourUs: (r.neighbourSeconds / count) * 1e6,
      avgCost: res.avgCost,
      moved: res.moved,
    }),
  );
}
console.log(`trace ${trace.info.source}, h = ${h}, ${r0(cost)}; distances ${catalog.distanceName}`);
console.log(
  table(
    [
      "policy",
      "K",
      "us/req (all)",
      "us/req (policy)",
      "us/req (neighbours)",
      "x first",
      "setup s",
      "avg cost",
      "hit",
      "moved",
    ],
    rows,
  ),
);
function r0(c: typeof cost): string {
  return c.setting === "knn" ? `k = ${c.k}, c_f = ${c.cf}, approx ${c.approxSpec}` : `single, C_r = ${c.cr}`;
}
