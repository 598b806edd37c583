/**
 * Throughput of the training engine's matrix kernels on the shapes `mlp:256,128` training uses
 * (batch 128, Fashion-MNIST 784 inputs): the textbook triple loop, the blocked JS kernel and
 * the WebAssembly SIMD kernel, single-threaded, in GMAC/s (10^9 multiply-adds per second).
 * Each figure is the fastest of `--runs` timed runs, so other load on the machine shows as noise
 * rather than as a slower kernel. Prints a table; `--json` prints one JSON line.
 *
 * Usage: npx tsx scripts/bench-matmul.ts [--runs 5] [--json]
 */
import { parseArgs } from "node:util";
import { table } from "../src/core/format.js";
import { Rng } from "../src/core/rng.js";
import { gemmAB, gemmABt, gemmAtB, naiveABt, setGemmBackend } from "../src/models/engine/matmul.js";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "5" }, json: { type: "boolean", default: false } },
});
const runs = Number(args.runs);

function rand(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

type Kernel = (a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number) => void;

function gmacs(kernel: Kernel, m: number, n: number, k: number): number {
  const rng = new Rng(1);
  const a = rand(m * k, rng);
  const b = rand(n * k, rng);
  const c = new Float32Array(m * n);
  const macs = m * n * k;
  const reps = Math.max(1, Math.round(2e8 / macs));
  kernel(a, b, c, m, n, k);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) kernel(a, b, c, m, n, k);
    best = Math.min(best, (performance.now() - t) / 1000 / reps);
  }
  return macs / best / 1e9;
}

const shapes: Array<[string, Kernel, number, number, number]> = [
  ["forward X·W1ᵀ (gemmABt)", gemmABt, 128, 256, 784],
  ["weight grad dYᵀ·X (gemmAtB)", gemmAtB, 256, 784, 128],
  ["input grad dY·W2 (gemmAB)", gemmAB, 128, 256, 128],
];
const rows: Array<Array<string | number>> = [];
const results: Record<string, Record<string, number>> = {};
for (const [name, kernel, m, n, k] of shapes) {
  const r: Record<string, number> = {};
  r.naive = gmacs(naiveABt, m, n, k);
  setGemmBackend("js");
  r.js = gmacs(kernel, m, n, k);
  setGemmBackend("auto");
  r.wasm = gmacs(kernel, m, n, k);
  results[name] = r;
  rows.push([
    name,
    `${m}×${n}×${k}`,
    Number(r.naive.toFixed(2)),
    Number(r.js.toFixed(2)),
    Number(r.wasm.toFixed(2)),
    Number((r.wasm / r.naive).toFixed(1)),
  ]);
}
if (args.json) process.stdout.write(`${JSON.stringify(results)}\n`);
else
  process.stdout.write(
    `${table(["product", "m×n×k", "naive GMAC/s", "JS blocked", "wasm SIMD", "SIMD / naive"], rows)}\n`,
  );
