/**
 * Regenerates docs/benchmarks/models.md: the models' single-example forward passes on both
 * kernel paths (WebAssembly SIMD and the TypeScript reference) measured in one run, ProjectionNet's
 * very sparse projection next to the Gaussian one it replaced as the default (accuracy and
 * speed), and the training epoch of mlp:256,128 with the SIMD Adam step against the TypeScript one.
 *
 *   npx tsx scripts/bench-models.ts [--dataset fashion-mnist|mnist] [--rows 10000] [--epochs 10]
 *     [--runs 5] [--examples 1000] [--train-epochs 3] [--seed 1] [--out docs/benchmarks/models.md]
 *
 * Forward µs: per model and path, latencyUsPerExample over the first --examples test rows (each
 * chunk of 100 rows timed 3 times, fastest kept), repeated --runs times alternating the paths;
 * the median run is reported, and the ratio is TypeScript / WebAssembly within the same run.
 * Training: --runs trainings of --train-epochs epochs on --rows rows per path, alternating; the
 * median epoch time; the trained weights of both paths are compared byte for byte.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { table } from "../src/core/format.js";
import { loadDataset } from "../src/data/datasets.node.js";
import { type LabeledSplit, takeRows } from "../src/data/types.js";
import type { Sequential } from "../src/models/engine/network.js";
import { accuracy, latencyUsPerExample } from "../src/models/evaluate.js";
import { quantizeModel } from "../src/models/int8/family.js";
import { trainModel } from "../src/models/registry.js";
import type { Model } from "../src/models/types.js";
import { type ModelKernelPath, modelKernelPath, setModelKernelPath } from "../src/models/wasm/kernels.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const dataset = arg("dataset", "fashion-mnist");
const rows = Number(arg("rows", "10000"));
const epochs = Number(arg("epochs", "10"));
const runs = Number(arg("runs", "5"));
const examples = Number(arg("examples", "1000"));
const trainEpochs = Number(arg("train-epochs", "3"));
const seed = Number(arg("seed", "1"));
const out = arg("out", "docs/benchmarks/models.md");
const specs = [
  "mlp:32",
  "mlp:256,128",
  "projection:T=60,d=10",
  "projection:T=60,d=10,planes=gaussian",
  "projection:T=60,d=10,fc=128",
  "projection:T=60,d=10,fc=128,planes=gaussian",
];

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (v: number, d = 1) => Number(v.toFixed(d));
const log = (s: string) => process.stderr.write(`${s}\n`);

const load0 = loadavg();
const ds = loadDataset(dataset);
const first = (s: LabeledSplit, n: number) =>
  takeRows(
    s,
    Uint32Array.from({ length: Math.min(n, s.n) }, (_, i) => i),
  );
const train = first(ds.train, rows);
const test = ds.test;
const timed = first(ds.test, examples);

/** Median µs per example of each path over `runs` alternating runs. */
function forwardUs(model: Model): Record<ModelKernelPath, number> {
  const t: Record<ModelKernelPath, number[]> = { typescript: [], "wasm-simd": [] };
  for (let r = 0; r < runs; r++)
    for (const path of r % 2
      ? (["wasm-simd", "typescript"] as const)
      : (["typescript", "wasm-simd"] as const)) {
      setModelKernelPath(path === "typescript" ? "typescript" : "auto");
      if (modelKernelPath() !== path) throw new Error(`the ${path} path is not available here`);
      t[path].push(latencyUsPerExample(model, timed, { examples, repeats: 3 }));
    }
  setModelKernelPath("auto");
  return { typescript: median(t.typescript), "wasm-simd": median(t["wasm-simd"]) };
}

interface Row {
  spec: string;
  floatAccuracy: number;
  int8Accuracy: number;
  float: Record<ModelKernelPath, number>;
  int8: Record<ModelKernelPath, number>;
  trainS: number;
}

const results: Row[] = [];
for (const spec of specs) {
  log(`training ${spec} on ${train.n} rows of ${dataset} (${epochs} epochs)...`);
  const t0 = performance.now();
  const { model } = trainModel(spec, train, ds.numClasses, { epochs, seed });
  const trainS = (performance.now() - t0) / 1000;
  const q = quantizeModel(model, train, { seed });
  const row: Row = {
    spec,
    floatAccuracy: accuracy(model, test),
    int8Accuracy: accuracy(q, test),
    float: forwardUs(model),
    int8: forwardUs(q),
    trainS,
  };
  log(JSON.stringify(row));
  results.push(row);
}

/** Epoch seconds of mlp:256,128 per path (alternating runs) and a digest of the trained weights. */
function trainingEpochs() {
  const spec = "mlp:256,128";
  const s: Record<ModelKernelPath, number[]> = { typescript: [], "wasm-simd": [] };
  const cpu: Record<ModelKernelPath, number[]> = { typescript: [], "wasm-simd": [] };
  const digests: Record<ModelKernelPath, Set<string>> = { typescript: new Set(), "wasm-simd": new Set() };
  for (let r = 0; r < runs; r++)
    for (const path of r % 2
      ? (["wasm-simd", "typescript"] as const)
      : (["typescript", "wasm-simd"] as const)) {
      setModelKernelPath(path === "typescript" ? "typescript" : "auto");
      log(`training ${spec}, ${path} path, run ${r + 1}/${runs}...`);
      const c0 = process.cpuUsage();
      const { model, report } = trainModel(spec, train, ds.numClasses, {
        epochs: trainEpochs,
        seed,
        patience: 0,
      });
      const c = process.cpuUsage(c0);
      s[path].push(...report.epochs.map((e) => e.seconds));
      cpu[path].push((c.user + c.system) / 1e6 / report.epochs.length);
      const h = createHash("sha256");
      for (const p of (model as Sequential).params()) h.update(new Uint8Array(p.value.buffer));
      digests[path].add(h.digest("hex"));
    }
  setModelKernelPath("auto");
  const same =
    digests.typescript.size === 1 &&
    digests["wasm-simd"].size === 1 &&
    [...digests.typescript][0] === [...digests["wasm-simd"]][0];
  return {
    typescript: median(s.typescript),
    wasm: median(s["wasm-simd"]),
    cpuTypescript: median(cpu.typescript),
    cpuWasm: median(cpu["wasm-simd"]),
    same,
    epochs: s,
  };
}
const training = trainingEpochs();
const load1 = loadavg();

const pct = (v: number) => round(100 * v, 2);
const forwardTable = table(
  [
    "model",
    "float acc %",
    "int8 acc %",
    "float TS µs",
    "float WASM µs",
    "float TS/WASM",
    "int8 TS µs",
    "int8 WASM µs",
    "int8 TS/WASM",
  ],
  results.map((r) => [
    r.spec,
    pct(r.floatAccuracy),
    pct(r.int8Accuracy),
    round(r.float.typescript),
    round(r.float["wasm-simd"]),
    round(r.float.typescript / r.float["wasm-simd"], 2),
    round(r.int8.typescript),
    round(r.int8["wasm-simd"]),
    round(r.int8.typescript / r.int8["wasm-simd"], 2),
  ]),
);

const pairs = results
  .filter((r) => r.spec.startsWith("projection") && !r.spec.includes("gaussian"))
  .map((r) => {
    const g = results.find((o) => o.spec === `${r.spec},planes=gaussian`);
    if (!g) throw new Error(`no Gaussian counterpart for ${r.spec}`);
    return [
      r.spec,
      pct(r.floatAccuracy),
      pct(g.floatAccuracy),
      round(100 * (r.floatAccuracy - g.floatAccuracy), 2),
      round(r.float["wasm-simd"]),
      round(g.float.typescript),
      round(g.float.typescript / r.float["wasm-simd"], 1),
    ];
  });
const projectionTable = table(
  [
    "very sparse (new default)",
    "acc %",
    "Gaussian acc %",
    "difference (points)",
    "very sparse WASM µs",
    "Gaussian TS µs (before)",
    "speed-up",
  ],
  pairs,
);

const trainingTable = table(
  ["mlp:256,128 training", "median epoch s (wall)", "median epoch s (process CPU)", "epochs timed"],
  [
    [
      "before (TypeScript path)",
      round(training.typescript, 3),
      round(training.cpuTypescript, 3),
      training.epochs.typescript.length,
    ],
    [
      "after (SIMD path)",
      round(training.wasm, 3),
      round(training.cpuWasm, 3),
      training.epochs["wasm-simd"].length,
    ],
    [
      "ratio before / after",
      round(training.typescript / training.wasm, 2),
      round(training.cpuTypescript / training.cpuWasm, 2),
      "",
    ],
  ],
);

const cmd = `npx tsx scripts/bench-models.ts ${process.argv.slice(2).join(" ")}`.trim();
const md = `# Model kernels: WebAssembly SIMD against the TypeScript reference

Generated by \`${cmd}\` on ${new Date().toISOString().slice(0, 10)}.
Machine: ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores, one thread used), Node ${process.version};
load average ${load0.map((v) => v.toFixed(2)).join(" ")} at the start, ${load1.map((v) => v.toFixed(2)).join(" ")} at the end
(the machine is shared: absolute times move with the load, ratios are measured within one run).

Data: ${dataset} (${ds.source}), models trained on the first ${train.n} training rows for ${epochs} epochs
(Adam, cosine schedule, 10% held out for early stopping, seed ${seed}), accuracy on the ${test.n} test rows.
int8 = post-training quantization (per-channel int8 weights, calibrated int8 activations).

## Single-example forward pass (\`predictProba\`, µs per example)

Median of ${runs} runs alternating the paths; each run times the first ${examples} test rows in chunks of 100,
each chunk 3 times keeping the fastest. "WASM" = the SIMD kernels with the weights resident in the
model's WebAssembly memory (src/models/wasm/), "TS" = the same model forced onto the TypeScript path
(\`setModelKernelPath("typescript")\`). Targets: mlp:32 ≤ 5 µs; ProjectionNet T=60,d=10 ≤ 30 µs.

\`\`\`
${forwardTable}
\`\`\`

## ProjectionNet: very sparse ±1 hyperplanes against Gaussian ones

The default hyperplanes are now very sparse ±1 (Li, Hastie & Church 2006: about sqrt(784) = 28 inputs
each), computed from input-major lists without a multiply; Gaussian hyperplanes (the default of
model files before projectionFormat 2) remain available as \`planes=gaussian\`. Same training rows,
epochs and seed; target: accuracy within 0.5 point of the Gaussian net. "before" = the Gaussian net
on the TypeScript path, which is what \`projection:T=60,d=10\` ran before this change.

\`\`\`
${projectionTable}
\`\`\`

## Training epoch of mlp:256,128

${runs} trainings of ${trainEpochs} epochs per path on the same ${train.n} rows, alternating (wall time per epoch from the
trainer, and process CPU time per epoch, which counts less of the waiting on a loaded machine). The
products run on the WebAssembly SIMD GEMM kernel (engine/wasm-gemm.ts) on both paths, as they did
before; the SIMD path adds the Adam update on the SIMD kernel (wasm/optim-kernel.ts: float64 lanes in
the loop's order) and the transposes of the backward products fused into the kernel's operand
copies. Target: 2x. Trained weights of both paths
${training.same ? "are byte-identical (SHA-256 of every parameter tensor)" : "DIFFER: the SIMD training path is not bit-identical"}.

\`\`\`
${trainingTable}
\`\`\`
`;
writeFileSync(out, md);
log(`wrote ${out}`);
