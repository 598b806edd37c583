/**
 * The qlru-dc figures of docs/sim.md ("qlru-dc does not reach greedy's local optimum"):
 * exact-match qLRU simulated vs the characteristic-time approximation (src/caching/cta.ts) and greedy,
 * and the similarity-cost gap to greedy. Costs and hit ratios are over the second half of each
 * run (the first half is warm-up). 2-D Gaussian catalog, IRM alpha 0.9, C_r = 0.6.
 *
 * Usage: npx tsx scripts/qlru-cta.ts [--n 1000] [--count 400000] [--capacities 10,50]
 *        [--qs 0.1,0.01,0.001] [--similarity-count 1000000]
 */
import { parseArgs } from "node:util";
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { createCostModel } from "../src/caching/cost.js";
import { qlruCta } from "../src/caching/cta.js";
import type { SimResult } from "../src/caching/simulator.js";
import { generateTrace } from "../src/caching/traces.js";
import { runPolicies } from "../test/sim-fixtures.js";

const { values: a } = parseArgs({
  options: {
    n: { type: "string", default: "1000" },
    count: { type: "string", default: "400000" },
    capacities: { type: "string", default: "10,50" },
    qs: { type: "string", default: "0.1,0.01,0.001" },
    "similarity-count": { type: "string", default: "1000000" },
  },
});
const n = Number(a.n);
const cr = 0.6;
const g = gaussVectors(`n=${n},dim=2,seed=5`);
const catalog = makeCatalog(g.canonical, g.vectors, g.dim, "flat");
const qs = (a.qs as string).split(",").map(Number);

function run(approx: string, count: number, specs: string[], h: number): SimResult {
  const cost = createCostModel({ k: 1, cr, approx });
  const trace = generateTrace(`irm:alpha=0.9,count=${count},seed=3`, catalog);
  return runPolicies(catalog, cost, trace, specs, h).result;
}
const secondHalfCost = (r: SimResult["results"][number]) => {
  const s = r.series;
  const m = s.t.length;
  const half = Math.floor(m / 2);
  return (s.avgCost[m - 1] * s.t[m - 1] - s.avgCost[half] * s.t[half]) / (s.t[m - 1] - s.t[half]);
};

const count = Number(a.count);
const p = new Float64Array(n);
for (const r of generateTrace(`irm:alpha=0.9,count=${count},seed=3`, catalog).requests())
  p[r.row] += 1 / count;
console.log(
  `exact-match (--approx step:0.000001), gauss:n=${n},dim=2,seed=5, ${count} requests; hit ratio over the second half`,
);
console.log("h\tpolicy\tsimulated\tCTA");
for (const h of (a.capacities as string).split(",").map(Number)) {
  const specs = [...qs.map((q) => `qlru-dc:q=${q}`), "lru", "greedy"];
  const res = run("step:0.000001", count, specs, h);
  const top = Array.from(p)
    .sort((x, y) => y - x)
    .slice(0, h)
    .reduce((x, y) => x + y, 0);
  res.results.forEach((r, i) => {
    const q = i < qs.length ? qs[i] : specs[i] === "lru" ? 1 : undefined;
    const cta = q === undefined ? `top-h ${top.toFixed(4)}` : qlruCta(p, h, q).hitRatio.toFixed(4);
    console.log(`${h}\t${r.policy}\t${(1 - secondHalfCost(r) / cr).toFixed(4)}\t${cta}`);
  });
  console.log(`${h}\tCTA limit q = 1e-9\t\t${qlruCta(p, h, 1e-9).hitRatio.toFixed(4)}`);
}
const sc = Number(a["similarity-count"]);
const h = 50;
console.log(`\nsimilarity (identity C_a, C_r = ${cr}), h = ${h}, ${sc} requests; cost over the second half`);
const res = run("identity", sc, ["qlru-dc:q=0.01", "qlru-dc:q=0.001", "greedy", "sim-lru", "lru"], h);
const greedy = secondHalfCost(res.results[2]);
for (const r of res.results)
  console.log(
    `${r.policy}\t${secondHalfCost(r).toFixed(4)}\t(${((secondHalfCost(r) / greedy - 1) * 100).toFixed(1)}% vs greedy)`,
  );
