/**
 * Writes docs/benchmarks/index.md: every figure in it comes from this run.
 *   (a) ann-benchmarks protocol on Fashion-MNIST: hnsw's QPS at recall >= 0.95 next to the exact
 *       indexes (flat, flat-i8);
 *   (b) exact single-query search, 60000 x 784: our `flat` vs usearch's own exact search
 *       (`exactSearch`, one thread) in the same run, several runs, medians and their ratio;
 *       plus Python faiss IndexFlatL2 single-threaded as a reference when /usr/bin/python3 has it;
 *   (c) the l2 kernel choice behind `flat`: plain l2sq scan vs the norm expansion vs
 *       early-abandoning l2sq.
 *
 * Usage: npx tsx scripts/bench-index.ts [--dataset fashion-mnist] [--queries 1000]
 *        [--exact-queries 200] [--runs 5] [--out docs/benchmarks/index.md]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import usearch from "usearch";
import { fmt, table } from "../src/core/format.js";
import { TopK } from "../src/core/topk.js";
import { dot, l2sq } from "../src/core/vectors.js";
import { loadDataset } from "../src/data/datasets.node.js";
import { median, rowIds } from "../src/index/evaluate.js";
import { FlatIndex } from "../src/index/flat.js";
import { benchData, benchIndexTable } from "../src/jobs/bench-index.js";
import { runBenchIndex } from "../src/jobs/bench-index.node.js";

const { values: args } = parseArgs({
  options: {
    dataset: { type: "string", default: "fashion-mnist" },
    queries: { type: "string", default: "1000" },
    "exact-queries": { type: "string", default: "200" },
    runs: { type: "string", default: "5" },
    seed: { type: "string", default: "1" },
    out: { type: "string", default: "docs/benchmarks/index.md" },
  },
});
const DATASET = args.dataset!;
const QUERIES = Number(args.queries);
const EXACT_QUERIES = Number(args["exact-queries"]);
const RUNS = Number(args.runs);
const SEED = Number(args.seed);
const command = `npx tsx scripts/bench-index.ts ${process.argv.slice(2).join(" ")}`.trim();
const log = (s: string) => process.stderr.write(`${s}\n`);
const started = performance.now();

// ---------- (a) ann-benchmarks protocol ----------
const INDEXES = ["flat", "flat-i8", "flat-i8:rerank=40", "hnsw:M=16,efConstruction=128"];
log(`(a) bench index on ${DATASET}, ${QUERIES} queries: ${INDEXES.join(" ")}`);
const { results, dataset, nq } = runBenchIndex({
  dataset: DATASET,
  indexes: INDEXES,
  queries: QUERIES,
  seed: SEED,
  efSweep: [10, 20, 40, 80, 160, 320],
  cacheDir: ".cache/bench-index",
});
const hnswOk = results.filter((r) => r.index === "hnsw" && r.recall >= 0.95).sort((a, b) => b.qps - a.qps)[0];
const exactRows = results.filter((r) => r.index !== "hnsw");
const summaryRows = [...(hnswOk ? [hnswOk] : []), ...exactRows].map((r) => [
  r.index,
  r.params || "-",
  Number(r.recall.toFixed(4)),
  Math.round(r.qps),
  hnswOk ? Number((hnswOk.qps / r.qps).toFixed(1)) : null,
]);

// ---------- (b) exact single-query search: flat vs usearch exactSearch (1 thread) ----------
log(`(b) exact single-query search, ${EXACT_QUERIES} queries x ${RUNS} runs`);
const ds = loadDataset(DATASET);
const { base, queries, dim } = benchData(ds, EXACT_QUERIES, SEED + 1);
const nBase = base.length / dim;
const flat = new FlatIndex(dim, "l2", nBase);
flat.add(rowIds(nBase), base);
const K = 10;

function timeQueries(run: (q: Float32Array) => number[]): { msPerQuery: number; ids: number[][] } {
  const ids: number[][] = [];
  const t0 = performance.now();
  for (let i = 0; i < EXACT_QUERIES; i++) ids.push(run(queries.subarray(i * dim, (i + 1) * dim)));
  return { msPerQuery: (performance.now() - t0) / EXACT_QUERIES, ids };
}
const runFlat = (q: Float32Array) => flat.search(q, K).ids;
const runUsearch = (q: Float32Array) => {
  // usearch's exactSearch reads a typed array from the start of its ArrayBuffer, ignoring the
  // view's byteOffset, so a subarray would silently search for the first query: pass a copy.
  const m = usearch.exactSearch(base, q.slice(), dim, K, usearch.MetricKind.L2sq, 1) as {
    keys: BigUint64Array;
  };
  return Array.from(m.keys, Number);
};
runFlat(queries.subarray(0, dim));
runUsearch(queries.subarray(0, dim));
const flatMs: number[] = [];
const usearchMs: number[] = [];
let flatIds: number[][] = [];
let usearchIds: number[][] = [];
for (let r = 0; r < RUNS; r++) {
  const a = timeQueries(runFlat);
  const b = timeQueries(runUsearch);
  flatMs.push(a.msPerQuery);
  usearchMs.push(b.msPerQuery);
  flatIds = a.ids;
  usearchIds = b.ids;
}
// How often usearch's exact top-10 equals ours as a set (it ranks by f32 distances, so exact ties may differ).
let agree = 0;
for (let i = 0; i < EXACT_QUERIES; i++) {
  const s = new Set(flatIds[i]);
  if (usearchIds[i].length === K && usearchIds[i].every((id) => s.has(id))) agree++;
}
const flatMed = median(flatMs);
const usearchMed = median(usearchMs);

// Optional reference: Python faiss IndexFlatL2, one thread, same base and queries.
let faiss: { med: number; runs: number[]; version: string; agree: number } | undefined;
const dir = mkdtempSync(join(tmpdir(), "mammals-bench-"));
try {
  const probe = spawnSync("/usr/bin/python3", ["-c", "import faiss, numpy; print(faiss.__version__)"], {
    encoding: "utf8",
  });
  if (probe.status === 0) {
    log("(b) faiss IndexFlatL2 reference");
    writeFileSync(join(dir, "base.f32"), new Uint8Array(base.buffer, base.byteOffset, base.byteLength));
    writeFileSync(
      join(dir, "queries.f32"),
      new Uint8Array(queries.buffer, queries.byteOffset, queries.byteLength),
    );
    writeFileSync(join(dir, "flat-ids.json"), JSON.stringify(flatIds));
    const py = `
import json, sys, time, numpy as np, faiss
d, runs, k = ${dim}, ${RUNS}, ${K}
base = np.fromfile(sys.argv[1] + "/base.f32", dtype=np.float32).reshape(-1, d)
qs = np.fromfile(sys.argv[1] + "/queries.f32", dtype=np.float32).reshape(-1, d)
ours = json.load(open(sys.argv[1] + "/flat-ids.json"))
faiss.omp_set_num_threads(1)
index = faiss.IndexFlatL2(d); index.add(base)
index.search(qs[:1], k)
out = []
for r in range(runs):
    t = time.perf_counter(); ids = []
    for i in range(len(qs)):
        _, I = index.search(qs[i:i+1], k); ids.append(I[0].tolist())
    out.append((time.perf_counter() - t) * 1000 / len(qs))
agree = sum(1 for a, b in zip(ids, ours) if set(a) == set(b))
print(json.dumps({"runs": out, "version": faiss.__version__, "agree": agree}))
`;
    const res = execFileSync("/usr/bin/python3", ["-c", py, dir], {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: "1" },
      maxBuffer: 1 << 24,
    });
    const parsed = JSON.parse(res.trim().split("\n").pop()!);
    faiss = { med: median(parsed.runs), runs: parsed.runs, version: parsed.version, agree: parsed.agree };
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// ---------- (c) l2 kernel choice behind flat ----------
log("(c) l2 kernel variants");
const norms = new Float64Array(nBase);
for (let i = 0; i < nBase; i++) norms[i] = dot(base, base, dim, i * dim, i * dim);
const KERNEL_QUERIES = Math.min(100, EXACT_QUERIES);
function plainScan(qo: number): number[] {
  const h = new TopK(K);
  for (let i = 0; i < nBase; i++) h.push(i, l2sq(queries, base, dim, qo, i * dim));
  return h.drain().ids;
}
function expansionScan(qo: number): number[] {
  // ||q||^2 + ||x||^2 - 2 q.x with cached norms; exact l2sq only for rows that may enter the top-k
  const h = new TopK(K);
  const qn = dot(queries, queries, dim, qo, qo);
  for (let i = 0; i < nBase; i++) {
    const approx = qn + norms[i] - 2 * dot(queries, base, dim, qo, i * dim);
    if (approx <= h.worst() + 1e-9 * (qn + norms[i])) h.push(i, l2sq(queries, base, dim, qo, i * dim));
  }
  return h.drain().ids;
}
const abandonScan = (qo: number) => flat.search(queries.subarray(qo, qo + dim), K).ids;
const kernels: Array<[string, (qo: number) => number[]]> = [
  ["plain l2sq scan", plainScan],
  ["norm expansion (cached norms)", expansionScan],
  ["early-abandoning l2sq (flat)", abandonScan],
];
const kernelMs = kernels.map(() => [] as number[]);
const reference = Array.from({ length: KERNEL_QUERIES }, (_, i) => plainScan(i * dim).join());
let kernelsAgree = true;
for (let r = 0; r < Math.max(3, Math.min(RUNS, 3)); r++) {
  kernels.forEach(([, f], j) => {
    const t0 = performance.now();
    for (let i = 0; i < KERNEL_QUERIES; i++) {
      const ids = f(i * dim);
      if (ids.join() !== reference[i]) kernelsAgree = false;
    }
    kernelMs[j].push((performance.now() - t0) / KERNEL_QUERIES);
  });
}

// ---------- report ----------
const cpuModel = (() => {
  try {
    return readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
  } catch {
    return cpus()[0]?.model;
  }
})();
const ratio = usearchMed / flatMed;
const md = `# Index benchmarks

Generated by \`${command}\` on ${new Date().toISOString()} (whole run ${fmt((performance.now() - started) / 1000, 3)} s).
Do not edit by hand: rerun the command.

Machine: ${cpuModel}, ${cpus().length} cores; Node ${process.version}; usearch ${readPkgVersion("usearch")}.
All searches single-threaded, one query at a time, k = ${K}.

## (a) ann-benchmarks protocol on ${dataset.name}

Base = train split (${dataset.train.n} x ${dataset.train.dim}), queries = ${nq} test images (seeded sample, seed ${SEED}),
pixel units (0..255); recall counts a returned neighbour whose Euclidean distance is <= the true
10th distance + 1e-3 (ground truth from the exact \`flat\` index in the same run, cached under .cache/).
Same as \`mammals bench index --dataset ${DATASET} --queries ${QUERIES} --index ${INDEXES.join(",")}\`.

\`\`\`
${benchIndexTable(results)}
\`\`\`

hnsw at recall >= 0.95 (fastest setting) next to the exact indexes; "hnsw speed-up" = hnsw QPS / row QPS:

\`\`\`
${table(["index", "params", "recall", "QPS", "hnsw speed-up"], summaryRows)}
\`\`\`

## (b) Exact single-query search, ${nBase} x ${dim}

${EXACT_QUERIES} test queries (seed ${SEED + 1}), each answered alone; ${RUNS} runs, alternating; medians of ms/query.
usearch: \`exactSearch(base, query, ${dim}, ${K}, "l2sq", threads = 1)\` on the same Float32Array.

\`\`\`
${table(
  ["implementation", "median ms/query", "runs (ms/query)", "same top-10 as flat"],
  [
    [
      "mammals flat (TypeScript)",
      flatMed,
      flatMs.map((x) => fmt(x, 3)).join(" "),
      `${EXACT_QUERIES}/${EXACT_QUERIES}`,
    ],
    [
      "usearch exactSearch, 1 thread",
      usearchMed,
      usearchMs.map((x) => fmt(x, 3)).join(" "),
      `${agree}/${EXACT_QUERIES}`,
    ],
    ...(faiss
      ? [
          [
            `faiss ${faiss.version} IndexFlatL2, 1 thread (Python)`,
            faiss.med,
            faiss.runs.map((x) => fmt(x, 3)).join(" "),
            `${faiss.agree}/${EXACT_QUERIES}`,
          ],
        ]
      : []),
  ],
)}
\`\`\`

Ratio usearch / flat time: **${fmt(ratio, 3)}** (${ratio >= 1 ? `flat is ${fmt(ratio, 3)}x faster` : `usearch is ${fmt(1 / ratio, 3)}x faster`}).${
  faiss ? ` faiss / flat time: ${fmt(faiss.med / flatMed, 3)}.` : " faiss: not available."
}
"same top-10" compares sets of ids; implementations that rank by f32 distances may order exact ties differently.

## (c) l2 kernel choice behind \`flat\`

${KERNEL_QUERIES} queries, median of ${kernelMs[0].length} runs; all three return identical ids: ${kernelsAgree ? "yes" : "NO"}.

\`\`\`
${table(
  ["kernel", "median ms/query"],
  kernels.map(([name], j) => [name, median(kernelMs[j])]),
)}
\`\`\`
`;
writeFileSync(args.out!, md);
log(`wrote ${args.out}`);

function readPkgVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join("node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}
