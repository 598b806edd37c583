/**
 * The live IDN benchmark: `mammals idn up` on abilene (28 node processes on this machine, real
 * models of the measured catalog), then --runs loads of the same trace (each from a fresh network:
 * `idn load` resets the nodes), each next to the simulator's prediction for the same trace and seed
 * (the reference, computed in the same run). Reports the medians of: requests/s sustained while
 * sending, p50/p99 wall-clock latency at the driver, measured/simulated gain, model loads per slot
 * (measured and simulated), failed requests; and the load average around the run. A last run kills
 * the busiest node mid-slot (SIGKILL) and restarts it: failed requests and the gain it cost.
 *
 *   npm run build && npx tsx scripts/idn-live-bench.ts [--runs 3] [--slots 10] [--requests 3000] [--trace sliding]
 *     [--topology abilene] [--catalog measured] [--concurrency 32] [--data-dir out/idn-data]
 *     [--out docs/benchmarks/idn-live.md]
 *
 * The node processes run the built CLI (bin/mammals.js; `--entry tsx` runs the sources through tsx,
 * much slower to start 28 times on a small machine). Models missing from --data-dir are trained first (8 epochs, seed 1: the catalog's recipe; a few
 * minutes once), then reused.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { table } from "../src/core/format.js";
import { type IdnLoadResult, idnNodeArgs, runIdnLoad, runIdnUp } from "../src/jobs/idn-live.node.js";

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
  entryKind === "built"
    ? [join(ROOT, "bin", "mammals.js")]
    : ["--import", "tsx", join(ROOT, "scripts", "dev.ts")];
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
let faulty: IdnLoadResult | undefined;
let faultVictim = "";
let faultSlots = [0, 0];
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
  // One more run with a fault: the node that answered most in run 1 is SIGKILLed a moment after
  // slot `killAt` starts and restarted at slot `restartAt` (it rejoins with a fresh allocation).
  const victim = Object.entries(results[0].servedBy).sort((a, b) => b[1] - a[1])[0][0];
  const v = net.nodes.findIndex((n) => n.id === victim);
  const [killAt, restartAt] = [Math.floor(slots / 3), Math.floor((2 * slots) / 3)];
  let restarted: ChildProcess | undefined;
  try {
    faulty = await runIdnLoad({
      topology,
      basePort,
      trace: `${traceKind}:requests=${requests}`,
      slots,
      seed: 1,
      concurrency,
      async onSlotStart(t) {
        if (t === killAt) setTimeout(() => net.nodes[v].process.kill("SIGKILL"), 50);
        if (t === restartAt) {
          restarted = spawn(
            process.execPath,
            [
              ...entry,
              ...idnNodeArgs({ topology, catalog, alpha: 100, basePort, dataDir, entry }, victim),
              "--log-level",
              "warn",
              "--exit-with-stdin",
            ],
            { stdio: ["pipe", "ignore", "ignore"] },
          );
          for (let k = 0; k < 600; k++) {
            const ok = await fetch(`${net.nodes[v].url}/healthz`)
              .then((r) => r.ok)
              .catch(() => false);
            if (ok) break;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      },
    });
    faultVictim = victim;
    faultSlots = [killAt, restartAt];
    log(
      `fault run (${victim} killed in slot ${killAt}, restarted at slot ${restartAt}): failed ${faulty.measured.failed}, ` +
        `gain ratio ${faulty.gainRatio.toFixed(4)}`,
    );
  } finally {
    restarted?.kill("SIGTERM");
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

Generated by \`${entryKind === "built" ? "npm run build && " : ""}${command}\` (${new Date().toISOString().slice(0, 10)}); do not edit by hand.

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
${
  faulty
    ? `
**Fault run** (one more run of the same trace): node \`${faultVictim}\` (the one that answered most in run 1) SIGKILLed
50 ms into slot ${faultSlots[0]} and restarted at slot ${faultSlots[1]}: ${faulty.measured.requests} requests,
**${faulty.measured.failed} failed**, ${faulty.measured.controlFailures} control calls unanswered, measured / simulated
(fault-free) gain ${faulty.gainRatio.toFixed(4)}, p99 ${faulty.measured.p99Ms.toFixed(1)} ms. Gain per slot, measured
vs simulated: ${faulty.perSlot.map((p) => `${p.gain.toFixed(0)}/${p.simGain.toFixed(0)}`).join(", ")}.
`
    : ""
}`;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, page);
log(`wrote ${out}`);
process.exit(0);
