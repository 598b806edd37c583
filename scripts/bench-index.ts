/**
 * Writes docs/benchmarks/index.md: every figure in it comes from this run.
 *   (a) ann-benchmarks protocol on Fashion-MNIST: the exact indexes (flat, flat-i8), usearch's
 *       hnsw (our adapter) and hnsw-ts (the browser-safe HNSW), recall/QPS curves;
 *   (b) exact single-query search, 60000 x 784: our kernels (WebAssembly SIMD and the TypeScript
 *       fallback) vs usearch's `exactSearch` with one thread, alternating runs, medians, ratios;
 *       plus Python faiss IndexFlatL2 single-threaded when /usr/bin/python3 has it;
 *   (c) ANN in Node vs hnswlib: usearch called directly (f32 and f16 storage, two build settings)
 *       and Debian's hnswlib (Python binding, one thread) on the same base and queries, same
 *       ground truth: QPS at recall >= 0.95 and build times.
 *
 * Usage: npx tsx scripts/bench-index.ts [--dataset fashion-mnist] [--queries 1000]
 *        [--exact-queries 200] [--runs 5] [--out docs/benchmarks/index.md]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import usearch from "usearch";
import { fmt, table } from "../src/core/format.js";
import { loadDataset } from "../src/data/datasets.node.js";
import { annRecall, type BenchResult, median, rowIds } from "../src/index/evaluate.js";
import { createIndex } from "../src/index/factory.node.js";
import type { Index } from "../src/index/types.js";
import { kernelPath, setKernelPath } from "../src/index/wasm/simd.js";
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
const K = 10;
const command = `npx tsx scripts/bench-index.ts ${process.argv.slice(2).join(" ")}`.trim();
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
const started = performance.now();
const loadStart = loadavg();
const PY = "/usr/bin/python3";
const pyHas = (mod: string) =>
  spawnSync(PY, ["-c", `import ${mod}, numpy`], { encoding: "utf8" }).status === 0;
const dir = mkdtempSync(join(tmpdir(), "mammals-bench-"));
const writeF32 = (name: string, a: Float32Array) =>
  writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const python = (code: string): string =>
  execFileSync(PY, ["-c", code, dir], {
    encoding: "utf8",
    env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
    maxBuffer: 1 << 26,
  });

// ---------- (a) ann-benchmarks protocol ----------
const EF_SWEEP = [10, 16, 20, 32, 40, 64, 80, 160];
const INDEXES = ["flat", "flat-i8", "flat-i8:rerank=40", "hnsw-ts:M=16,efConstruction=128"];
log(`(a) bench index on ${DATASET}, ${QUERIES} queries: ${INDEXES.join(" ")}`);
const { results, dataset, nq, base, queries, gt } = runBenchIndex({
  dataset: DATASET,
  indexes: INDEXES,
  queries: QUERIES,
  seed: SEED,
  efSweep: EF_SWEEP,
  cacheDir: ".cache/bench-index",
});
const dim = dataset.train.dim;
const nBase = base.length / dim;
const fastestAt = (rows: BenchResult[], kind: string, minRecall = 0.95) =>
  rows.filter((r) => r.index === kind && r.recall >= minRecall).sort((a, b) => b.qps - a.qps)[0];
const tsOk = fastestAt(results, "hnsw-ts");
const exactRows = results.filter((r) => !r.index.startsWith("hnsw"));

// ---------- (b) exact single-query search ----------
log(`(b) exact single-query search, ${EXACT_QUERIES} queries x ${RUNS} runs`);
const exact = benchData(loadDataset(DATASET), EXACT_QUERIES, SEED + 1);
const build = (spec: string, path: "auto" | "typescript"): Index => {
  setKernelPath(path);
  const index = createIndex(spec, dim, "l2");
  setKernelPath("auto");
  index.add(rowIds(nBase), exact.base);
  return index;
};
interface Contender {
  name: string;
  kernel: string;
  run: (q: Float32Array) => number[];
}
const contenders: Contender[] = [
  {
    name: "usearch exactSearch, 1 thread",
    kernel: "native",
    run: (q) => {
      // exactSearch reads a typed array from the start of its ArrayBuffer, ignoring the view's
      // byteOffset, so a subarray would silently search for the first query: pass a copy.
      const m = usearch.exactSearch(exact.base, q.slice(), dim, K, usearch.MetricKind.L2sq, 1) as {
        keys: BigUint64Array;
      };
      return Array.from(m.keys, Number);
    },
  },
];
for (const [spec, path] of [
  ["flat", "auto"],
  ["flat", "typescript"],
  ["flat-i8", "auto"],
  ["flat-i8:rerank=10", "auto"],
  ["flat-i8:rerank=40", "auto"],
  ["flat-i8:rerank=40", "typescript"],
] as const) {
  const index = build(spec, path);
  contenders.push({
    name: `mammals ${spec}`,
    kernel: (index as { kernel?: string }).kernel ?? "?",
    run: (q) => index.search(q, K).ids,
  });
}
const ms = contenders.map(() => [] as number[]);
const found = contenders.map(() => [] as number[][]);
for (const c of contenders) c.run(exact.queries.subarray(0, dim));
for (let r = 0; r < RUNS; r++) {
  contenders.forEach((c, j) => {
    const ids: number[][] = [];
    const t0 = performance.now();
    for (let i = 0; i < EXACT_QUERIES; i++) ids.push(c.run(exact.queries.subarray(i * dim, (i + 1) * dim)));
    ms[j].push((performance.now() - t0) / EXACT_QUERIES);
    found[j] = ids;
  });
}
// The reference top-10 is the TypeScript flat index (exact, ties by smaller id).
const refIdx = contenders.findIndex((c) => c.name === "mammals flat" && c.kernel === "typescript");
const agreeWithRef = (j: number) => {
  let same = 0;
  let hits = 0;
  for (let i = 0; i < EXACT_QUERIES; i++) {
    const ref = new Set(found[refIdx][i]);
    const got = found[j][i];
    const h = got.filter((id) => ref.has(id)).length;
    hits += h;
    if (h === K && got.length === K) same++;
  }
  return { same, recall: hits / (K * EXACT_QUERIES) };
};
const usearchMed = median(ms[0]);

let faiss: { med: number; runs: number[]; version: string; same: number } | undefined;
if (pyHas("faiss")) {
  log("(b) faiss IndexFlatL2 reference");
  writeF32("exact-base.f32", exact.base);
  writeF32("exact-queries.f32", exact.queries);
  writeFileSync(join(dir, "flat-ids.json"), JSON.stringify(found[refIdx]));
  const out = python(`
import json, sys, time, numpy as np, faiss
d, runs, k = ${dim}, ${RUNS}, ${K}
base = np.fromfile(sys.argv[1] + "/exact-base.f32", dtype=np.float32).reshape(-1, d)
qs = np.fromfile(sys.argv[1] + "/exact-queries.f32", dtype=np.float32).reshape(-1, d)
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
same = sum(1 for a, b in zip(ids, ours) if set(a) == set(b))
print(json.dumps({"runs": out, "version": faiss.__version__, "same": same}))
`);
  const parsed = JSON.parse(out.trim().split("\n").pop()!);
  faiss = { med: median(parsed.runs), runs: parsed.runs, version: parsed.version, same: parsed.same };
}

// ---------- (c) ANN in Node vs hnswlib ----------
const C_EF = [10, 12, 16, 20, 24, 32, 40, 64];
interface AnnRow {
  impl: string;
  params: string;
  buildS: number;
  curve: Array<{ ef: number; recall: number; qps: number }>;
}
const annRows: AnnRow[] = [];
const toIds = (rows: number[][]) => {
  const out = new Int32Array(rows.length * K).fill(-1);
  rows.forEach((r, i) => {
    for (let j = 0; j < Math.min(K, r.length); j++) out[i * K + j] = r[j];
  });
  return out;
};
const USEARCH_CONFIGS = [
  { M: 16, efC: 128, q: "f32" },
  { M: 16, efC: 128, q: "f16" },
] as const;
for (const cfg of USEARCH_CONFIGS) {
  log(`(c) usearch ${cfg.q} M=${cfg.M} efC=${cfg.efC}`);
  const quantization = cfg.q === "f16" ? usearch.ScalarKind.F16 : usearch.ScalarKind.F32;
  const make = (ef: number) =>
    new usearch.Index({
      dimensions: dim,
      metric: usearch.MetricKind.L2sq,
      quantization,
      connectivity: cfg.M,
      expansion_add: cfg.efC,
      expansion_search: ef,
      multi: false,
    });
  const built = make(C_EF[0]);
  const keys = new BigUint64Array(nBase);
  for (let i = 0; i < nBase; i++) keys[i] = BigInt(i);
  const t0 = performance.now();
  built.add(keys, base, 1);
  const buildS = (performance.now() - t0) / 1000;
  const file = join(dir, `usearch-${cfg.q}-${cfg.M}-${cfg.efC}.idx`);
  built.save(file);
  const curve: AnnRow["curve"] = [];
  for (const ef of C_EF) {
    const view = make(ef);
    view.view(file);
    const qs = Array.from({ length: nq }, (_, i) => queries.slice(i * dim, (i + 1) * dim));
    for (let i = 0; i < Math.min(10, nq); i++) view.search(qs[i], K, 1);
    const rows: number[][] = [];
    const t = performance.now();
    for (let i = 0; i < nq; i++)
      rows.push(Array.from((view.search(qs[i], K, 1) as { keys: BigUint64Array }).keys, Number));
    const qps = nq / ((performance.now() - t) / 1000);
    curve.push({ ef, recall: annRecall(toIds(rows), gt, base, queries, dim), qps });
  }
  annRows.push({
    impl: `usearch ${cfg.q} (direct calls)`,
    params: `M=${cfg.M},efC=${cfg.efC}`,
    buildS,
    curve,
  });
}
const HNSWLIB_CONFIGS = [{ M: 16, efC: 128 }];
let hnswlibVersion: string | undefined;
if (pyHas("hnswlib")) {
  writeF32("base.f32", base);
  writeF32("queries.f32", queries);
  for (const cfg of HNSWLIB_CONFIGS) {
    log(`(c) hnswlib M=${cfg.M} efC=${cfg.efC}`);
    const out = python(`
import json, sys, time, numpy as np, hnswlib
d, k = ${dim}, ${K}
base = np.fromfile(sys.argv[1] + "/base.f32", dtype=np.float32).reshape(-1, d)
qs = np.fromfile(sys.argv[1] + "/queries.f32", dtype=np.float32).reshape(-1, d)
p = hnswlib.Index(space="l2", dim=d)
p.init_index(max_elements=len(base), ef_construction=${cfg.efC}, M=${cfg.M}, random_seed=100)
p.set_num_threads(1)
t = time.perf_counter(); p.add_items(base, np.arange(len(base)), num_threads=1); build = time.perf_counter() - t
curve = []
for ef in ${JSON.stringify(C_EF)}:
    p.set_ef(ef)
    for i in range(10): p.knn_query(qs[i:i+1], k=k, num_threads=1)
    ids = []
    t = time.perf_counter()
    for i in range(len(qs)):
        I, _ = p.knn_query(qs[i:i+1], k=k, num_threads=1); ids.append(I[0].tolist())
    curve.append({"ef": ef, "qps": len(qs) / (time.perf_counter() - t), "ids": ids})
import importlib.metadata as md
print(json.dumps({"build": build, "curve": curve, "version": md.version("hnswlib")}))
`);
    const parsed = JSON.parse(out.trim().split("\n").pop()!) as {
      build: number;
      version: string;
      curve: Array<{ ef: number; qps: number; ids: number[][] }>;
    };
    hnswlibVersion = parsed.version;
    annRows.push({
      impl: "hnswlib (Python, 1 thread)",
      params: `M=${cfg.M},efC=${cfg.efC}`,
      buildS: parsed.build,
      curve: parsed.curve.map((c) => ({
        ef: c.ef,
        qps: c.qps,
        recall: annRecall(toIds(c.ids), gt, base, queries, dim),
      })),
    });
  }
}
rmSync(dir, { recursive: true, force: true });
const best = (row: AnnRow) =>
  row.curve.filter((c) => c.recall >= 0.95).sort((a, b) => b.qps - a.qps)[0] as
    | AnnRow["curve"][number]
    | undefined;
const hnswlibRef = annRows.find((r) => r.impl.startsWith("hnswlib") && r.params === "M=16,efC=128");
const hnswlibBest = hnswlibRef ? best(hnswlibRef) : undefined;
// usearch f32 called directly: the reference for hnsw-ts (the browser-safe HNSW) and the exact kinds.
const usearchRef = annRows.find((r) => r.impl.startsWith("usearch f32"));
const usearchOk = usearchRef ? best(usearchRef) : undefined;
const summaryRows = [
  ...(usearchOk && usearchRef
    ? [
        [
          "usearch hnsw (direct)",
          `${usearchRef.params},efSearch=${usearchOk.ef}`,
          "native",
          Number(usearchOk.recall.toFixed(4)),
          Math.round(usearchOk.qps),
          usearchRef.buildS,
          1,
        ],
      ]
    : []),
  ...[...(tsOk ? [tsOk] : []), ...exactRows].map((r) => [
    r.index,
    r.params || "-",
    r.kernel,
    Number(r.recall.toFixed(4)),
    Math.round(r.qps),
    r.buildS,
    usearchOk ? Number((r.qps / usearchOk.qps).toFixed(3)) : null,
  ]),
];

// ---------- report ----------
const cpuModel = (() => {
  try {
    return readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
  } catch {
    return cpus()[0]?.model;
  }
})();
const loadEnd = loadavg();
const ratioText = (r: number) => fmt(r, 3);
const exactTable = table(
  [
    "implementation",
    "kernel",
    "median ms/query",
    "runs (ms/query)",
    "speed vs usearch",
    "same top-10",
    "recall@10",
  ],
  [
    ...contenders.map((c, j) => {
      const a = agreeWithRef(j);
      return [
        c.name,
        c.kernel,
        median(ms[j]),
        ms[j].map((x) => fmt(x, 3)).join(" "),
        Number(ratioText(usearchMed / median(ms[j]))),
        `${a.same}/${EXACT_QUERIES}`,
        Number(a.recall.toFixed(4)),
      ];
    }),
    ...(faiss
      ? [
          [
            `faiss ${faiss.version} IndexFlatL2, 1 thread (Python)`,
            "native",
            faiss.med,
            faiss.runs.map((x) => fmt(x, 3)).join(" "),
            Number(ratioText(usearchMed / faiss.med)),
            `${faiss.same}/${EXACT_QUERIES}`,
            null,
          ],
        ]
      : []),
  ],
);
const annTable = table(
  [
    "implementation",
    "build params",
    "build s",
    "best ef (recall >= 0.95)",
    "recall",
    "QPS",
    "QPS vs hnswlib",
    "build vs hnswlib",
  ],
  annRows.map((r) => {
    const b = best(r);
    return [
      r.impl,
      r.params,
      r.buildS,
      b?.ef ?? "-",
      b ? Number(b.recall.toFixed(4)) : null,
      b ? Math.round(b.qps) : null,
      b && hnswlibBest ? Number((b.qps / hnswlibBest.qps).toFixed(3)) : null,
      hnswlibRef ? Number((r.buildS / hnswlibRef.buildS).toFixed(3)) : null,
    ];
  }),
);
const curveTable = table(
  ["implementation", "build params", ...C_EF.map((ef) => `ef=${ef}`)],
  annRows.map((r) => [
    r.impl,
    r.params,
    ...r.curve.map((c) => `${c.recall.toFixed(3)} / ${Math.round(c.qps)}`),
  ]),
);
const md = `# Index benchmarks

Generated by \`${command}\` on ${new Date().toISOString()} (whole run ${fmt((performance.now() - started) / 1000, 3)} s).
Do not edit by hand: rerun the command.

Machine: ${cpuModel}, ${cpus().length} cores, shared: load average ${loadStart.map((x) => x.toFixed(1)).join(" ")} at the start, ${loadEnd.map((x) => x.toFixed(1)).join(" ")} at the end
(other jobs ran on the machine, so absolute times are noisy; ratios compare implementations timed in the same run, alternately).
Node ${process.version}; usearch ${readPkgVersion("usearch")}; kernel path of new indexes: **${kernelPath()}**.
All searches single-threaded, one query at a time, k = ${K}.

## (a) ann-benchmarks protocol on ${dataset.name}

Base = train split (${dataset.train.n} x ${dataset.train.dim}), queries = ${nq} test images (seeded sample, seed ${SEED}),
pixel units (0..255); recall counts a returned neighbour whose Euclidean distance is <= the true
10th distance + 1e-3 (ground truth from the exact \`flat\` index, cached under .cache/).
Same as \`mammals bench index --dataset ${DATASET} --queries ${QUERIES} --index ${INDEXES.join(",")} --ef ${EF_SWEEP.join(",")}\`.
\`hnsw-ts\` is the browser-safe HNSW (TypeScript graph, WebAssembly SIMD distances); usearch's curve (native HNSW) is in (c).

\`\`\`
${benchIndexTable(results)}
\`\`\`

Fastest setting at recall >= 0.95 of each graph index next to the exact indexes; "QPS vs usearch" = row QPS / QPS of usearch f32
(M=16, efC=128, called directly, from (c)):

\`\`\`
${table(["index", "params", "kernel", "recall", "QPS", "build s", "QPS vs usearch"], summaryRows)}
\`\`\`
${
  usearchOk && tsOk
    ? `\nhnsw-ts reaches recall ${tsOk.recall.toFixed(4)} at **${ratioText(tsOk.qps / usearchOk.qps)}x** usearch's QPS (target: >= 0.95 recall at >= 0.5x); build ${fmt(tsOk.buildS, 3)} s vs ${fmt(usearchRef?.buildS ?? Number.NaN, 3)} s.\n`
    : ""
}
## (b) Exact single-query search, ${nBase} x ${dim}

${EXACT_QUERIES} test queries (seed ${SEED + 1}), each answered alone; ${RUNS} runs, every implementation once per run in turn;
medians of ms/query. "speed vs usearch" = usearch median time / row median time (> 1: faster than usearch).
usearch: \`exactSearch(base, query.slice(), ${dim}, ${K}, L2sq, threads = 1)\` on the same Float32Array.
"same top-10" and recall@10 compare with the exact TypeScript \`flat\` (the reference). \`flat\` on the
wasm-simd path returns bit-for-bit the reference's distances (float32 SIMD pass, exact re-check of possible
top-k rows); \`flat-i8\` ranks by exact integer distances of the int8 codes (lossless for 0..255 pixels),
re-ranking the best \`rerank\` by exact f32 distances.

\`\`\`
${exactTable}
\`\`\`
${faiss ? "" : "\nfaiss: not installed (apt-get install python3-faiss).\n"}
## (c) ANN in Node vs hnswlib

Same base, queries and ground truth as (a). usearch is called directly (no adapter: the per-call cost
is the binding's), its efSearch changed through memory-mapped views of the saved index; f16 stores the
vectors in half precision, which is exact for 0..255 pixels, so no re-ranking is needed on this data.
hnswlib: Debian's python3-hnswlib ${hnswlibVersion ?? "(not installed)"}, \`knn_query\` one query per call,
\`num_threads=1\` for build and search. Builds single-threaded. Recall / QPS per efSearch:

\`\`\`
${curveTable}
\`\`\`

Fastest setting at recall >= 0.95; ratios against hnswlib M=16, efC=128 in the same run:

\`\`\`
${annTable}
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
