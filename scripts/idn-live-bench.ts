/**
 * The live IDN benchmark: `mammals idn up` on abilene (28 node processes on this machine, real
 * models of the measured catalog), then --runs loads of the same trace (each from a fresh network:
 * `idn load` resets the nodes), each next to the simulator's prediction for the same trace and seed
 * (the reference, computed in the same run). Reports the medians of: requests/s sustained while
 * sending, p50/p99 wall-clock latency at the driver, measured/simulated gain, model loads per slot
 * (measured and simulated), failed requests; and the load average around the run.
 *
 *   npm run build && npx tsx scripts/idn-live-bench.ts [--runs 3] [--slots 10] [--requests 3000] [--trace sliding]
 *     [--topology abilene] [--catalog measured] [--concurrency 32] [--data-dir out/idn-data]
 *     [--out docs/benchmarks/idn-live.md]
 *
 * The node processes run the built CLI (bin/mammals.js; `--entry tsx` runs the sources through tsx,
 * much slower to start 28 times on a small machine). Models missing from --data-dir are trained first (8 epochs, seed 1: the catalog's recipe; a few
 * minutes once), then reused.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { table } from "../src/core/format.js";
import { type IdnLoadResult, runIdnLoad, runIdnUp } from "../src/jobs/idn-live.node.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const runs = Number(arg("runs", "3"));
const slots = Number(arg("slots", "10"));
const requests = Number(arg("requests", "3000"));
const traceKind = arg("trace", "sliding");
const topology = arg("topology", "abilene");
const catalog = arg("catalog", "measured");
const concurrency = Number(arg("concurrency", "32"));
const dataDir = arg("data-dir", "out/idn-data");
const out = arg("out", "docs/benchmarks/idn-live.md");
const entryKind = arg("entry", "built");
const command = `npx tsx scripts/idn-live-bench.ts ${process.argv.slice(2).join(" ")}`.trim();
const ROOT = join(import.meta.dirname, "..");

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

async function freeBase(n: number): Promise<number> {
  for (let base = 30000; base < 60000; base += n) {
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error("no free port range");
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const log = (line: string) => process.stderr.write(`${line}\n`);

if (entryKind === "built" && !existsSync(join(ROOT, "dist", "cli", "main.js"))) {
  log("dist/ is missing: run `npm run build` first (or pass --entry tsx)");
  process.exit(2);
}
const entry =
  entryKind === "built" ? [join(ROOT, "bin", "mammals.js")] : ["--import", "tsx", join(ROOT, "scripts", "dev.ts")];
const load0 = loadavg()[0];
const t0 = performance.now();
const nodeCount = (await import("../src/idn/topologies.js")).createTopology(topology).nodes.length;
const basePort = await freeBase(nodeCount);
log(`starting ${nodeCount} nodes of ${topology} from port ${basePort}...`);
const net = await runIdnUp({
  topology,
  catalog,
  alpha: 100,
  basePort,
  dataDir,
  entry,
  nodeArgs: ["--log-level", "warn"],
  log,
  timeoutMs: 300_000,
});
const startSeconds = (performance.now() - t0) / 1000;
log(`${net.nodes.length} nodes up in ${startSeconds.toFixed(1)} s`);
const results: IdnLoadResult[] = [];
try {
  for (let r = 0; r < runs; r++) {
    const res = await runIdnLoad({
      topology,
      basePort,
      trace: `${traceKind}:requests=${requests}`,
      slots,
      seed: 1,
      concurrency,
    });
    log(
      `run ${r + 1}/${runs}: ${res.measured.requestsPerSecond.toFixed(0)} req/s, p99 ${res.measured.p99Ms.toFixed(1)} ms, ` +
        `gain ratio ${res.gainRatio.toFixed(4)}, loads/slot ${res.measured.loadsPerSlot.toFixed(2)} (sim ${res.simulated.loadsPerSlot.toFixed(2)}), failed ${res.measured.failed}`,
    );
    results.push(res);
  }
} finally {
  await net.stop();
}
const load1 = loadavg()[0];
const m = (f: (r: IdnLoadResult) => number) => median(results.map(f));
const first = results[0];
const rows = [
  ["requests/s sustained (while sending)", m((r) => r.measured.requestsPerSecond).toFixed(0), "-"],
  ["p50 latency, ms", m((r) => r.measured.p50Ms).toFixed(1), m((r) => r.simulated.p50Ms).toFixed(2)],
  ["p99 latency, ms", m((r) => r.measured.p99Ms).toFixed(1), m((r) => r.simulated.p99Ms).toFixed(2)],
  ["gain per slot", m((r) => r.measured.avgGain).toFixed(1), m((r) => r.simulated.avgGain).toFixed(1)],
  ["measured / simulated gain", m((r) => r.gainRatio).toFixed(4), "1"],
  [
    "model loads per slot",
    m((r) => r.measured.loadsPerSlot).toFixed(2),
    m((r) => r.simulated.loadsPerSlot).toFixed(2),
  ],
  [
    "accuracy, % (measured on test examples / catalog)",
    `${m((r) => r.measured.accuracy * 100).toFixed(2)} / ${m((r) => r.measured.modelAccuracy * 100).toFixed(2)}`,
    m((r) => r.simulated.accuracy * 100).toFixed(2),
  ],
  ["failed requests", String(m((r) => r.measured.failed)), "0"],
];
const servedBy = Object.entries(first.servedBy)
  .sort((a, b) => b[1] - a[1])
  .map(([k, v]) => `${k} ${v}`)
  .join(", ");
const page = `# Live IDN benchmark (issue 13)

Generated by \`${command}\` (${new Date().toISOString().slice(0, 10)}); do not edit by hand.

Machine: ${cpus()[0]?.model ?? "unknown CPU"} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version};
load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after (the 2 cores are shared with other work).

Network: \`${topology}\` (${net.nodes.length} node processes of the ${entryKind === "built" ? "built CLI" : "sources through tsx"} on 127.0.0.1, started in ${startSeconds.toFixed(1)} s, link
latencies emulated on every forwarding hop), catalog \`${catalog}\` (real models from \`${dataDir}/models\`), alpha 100,
policy \`${first.network.policy}\`. Trace \`${first.trace}\`, ${slots} slots (${first.measured.requests} requests
per run), driven by \`mammals idn load\` logic with ${concurrency} requests in flight, slots advanced by the driver
(the live network and the simulator see the same per-slot requests). Medians of ${runs} runs; every run resets the
nodes to their fresh state and is compared with the simulator on the same trace and seed, computed in the same run.

${table(["", "live (measured)", "simulator"], rows)}

Measured latency is the wall-clock time at the driver (emulated links, HTTP between node processes, JSON, inference,
and queueing on this shared machine); the simulator's latency is links + inference only. The gain is costed from
which node and model answered each request (the instance's cost), so its ratio to the simulator's checks the live
network's placement and routing decisions, not the machine's speed. Answers per node in run 1: ${servedBy}.
`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, page);
log(`wrote ${out}`);
process.exit(0);
