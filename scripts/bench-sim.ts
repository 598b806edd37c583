/**
 * Speed of the similarity-caching simulator (issue 4's target: a 10^6-request sim-lru run at
 * h = 1% of the 60,000-object Fashion-MNIST catalog in under 60 s on 2 cores). Prints wall-clock
 * and CPU seconds of each phase (CPU time is the honest figure on a shared machine), and
 * requests per second of every policy given.
 *
 * Usage: npx tsx scripts/bench-sim.ts [--catalog fashion-mnist] [--count 1000000]
 *        [--policies sim-lru] [--capacity 1%] [--cr 4] [--k 1] [--cf C] [--noise 0] [--json]
 */
import { parseArgs } from "node:util";
import { parsePolicyList } from "../src/caching/registry.js";
import { runSimulation } from "../src/jobs/simulate.node.js";

const { values: a } = parseArgs({
  options: {
    catalog: { type: "string", default: "fashion-mnist" },
    count: { type: "string", default: "1000000" },
    policies: { type: "string", default: "sim-lru" },
    capacity: { type: "string", default: "1%" },
    cr: { type: "string" },
    cf: { type: "string" },
    k: { type: "string", default: "1" },
    alpha: { type: "string", default: "0.8" },
    noise: { type: "string", default: "0" },
    json: { type: "boolean", default: false },
  },
});

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const cr = a.cr === undefined && a.cf === undefined && a.k === "1" ? 4 : a.cr ? Number(a.cr) : undefined;
const w0 = performance.now();
const c0 = cpu();
const { result, capacity } = runSimulation({
  catalog: a.catalog as string,
  trace: `irm:alpha=${a.alpha},count=${a.count},seed=1,noise=${a.noise}`,
  policies: parsePolicyList(a.policies as string),
  capacity: a.capacity as string,
  k: Number(a.k),
  cr,
  cf: a.cf === undefined ? undefined : Number(a.cf),
  seed: 1,
});
const out = {
  command: `npx tsx scripts/bench-sim.ts ${process.argv.slice(2).join(" ")}`.trim(),
  catalog: result.catalog,
  capacity,
  requests: result.requests,
  cost: result.cost,
  wallSeconds: (performance.now() - w0) / 1000,
  cpuSeconds: cpu() - c0,
  simulateWallSeconds: result.totalSeconds,
  neighbourSeconds: result.neighbourSeconds,
  indexBuildSeconds: result.indexBuildSeconds,
  policies: result.results.map((r) => ({
    policy: r.policy,
    reqPerSec: Math.round(r.reqPerSec),
    policySeconds: r.policySeconds,
    avgCost: r.avgCost,
    hitRatio: r.hitRatio,
    scans: r.scans,
  })),
};
if (a.json) process.stdout.write(`${JSON.stringify(out)}\n`);
else {
  process.stdout.write(
    `${out.command}\n${out.catalog}, h = ${capacity}, ${out.requests} requests, ${out.cost}\n` +
      `total: ${out.wallSeconds.toFixed(1)} s wall, ${out.cpuSeconds.toFixed(1)} s CPU (load + simulate); ` +
      `simulate loop ${out.simulateWallSeconds.toFixed(1)} s wall\n`,
  );
  for (const p of out.policies)
    process.stdout.write(
      `  ${p.policy}: ${p.reqPerSec} req/s, ${p.policySeconds.toFixed(1)} s in serve+update, avgCost ${p.avgCost.toFixed(4)}, hit ratio ${p.hitRatio.toFixed(4)}, ${p.scans} stored-set scans\n`,
    );
}
