/**
 * Writes docs/benchmarks/index.md: every figure in it comes from this run.
 *   (a) ann-benchmarks protocol on Fashion-MNIST: the exact indexes (flat, flat-i8), usearch's
 *       hnsw (our adapter) and hnsw-ts (the browser-safe HNSW), recall/QPS curves;
 *   (b) exact single-query search, 60000 x 784: our kernels (WebAssembly SIMD and the TypeScript
 *       fallback) vs usearch's `exactSearch` with one thread, alternating runs, medians, ratios;
 *       plus Python faiss IndexFlatL2 single-threaded when /usr/bin/python3 has it;
 *   (c) ANN in Node vs hnswlib: our `hnsw` kind (usearch; f32, f16, i8 + re-ranking, build
 *       settings from --ann) and Debian's hnswlib (a long-lived Python worker) on the same base,
 *       queries and ground truth, one call per query, batched on one thread and on two threads,
 *       alternating rounds, median QPS: QPS at recall >= 0.95 (and 0.98) and build times;
 *   (d) the browser index in Chromium (scripts/bench-index-browser.ts): hnsw-ts from the browser
 *       bundle, built and searched in the page, next to (c)'s usearch QPS.
 *
 * Usage: npx tsx scripts/bench-index.ts [--dataset fashion-mnist] [--queries 1000]
 *        [--exact-queries 200] [--runs 5] [--out docs/benchmarks/index.md]
 *        [--ann "hnsw:M=16,efConstruction=128;hnsw:quantization=f16"] [--browser-base 60000]
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import usearch from "usearch";
import { fmt, table } from "../src/core/format.js";
import { loadDataset } from "../src/data/datasets.node.js";
import { annRecall, type BenchResult, groundTruth, median, rowIds } from "../src/index/evaluate.js";
import { createIndex, type HnswIndex } from "../src/index/factory.node.js";
import type { Index } from "../src/index/types.js";
import { kernelPath, setKernelPath } from "../src/index/wasm/simd.js";
import { benchData, benchIndexTable } from "../src/jobs/bench-index.js";
import { runBenchIndex } from "../src/jobs/bench-index.node.js";
import { type BrowserAnnResult, CHROMIUM, CHROMIUM_ARGS, runBrowserAnn } from "./bench-index-browser.js";

const { values: args } = parseArgs({
  options: {
    dataset: { type: "string", default: "fashion-mnist" },
    queries: { type: "string", default: "1000" },
    "exact-queries": { type: "string", default: "200" },
    runs: { type: "string", default: "5" },
    seed: { type: "string", default: "1" },
    out: { type: "string", default: "docs/benchmarks/index.md" },
    // (d): base rows the page indexes (the whole base by default).
    "browser-base": { type: "string", default: "60000" },
    // (c): our hnsw configurations, ";"-separated specs, each built once and swept over ef.
    ann: {
      type: "string",
      default:
        "hnsw:M=16,efConstruction=128;hnsw:M=16,efConstruction=128,quantization=f16;hnsw:M=16,efConstruction=128,quantization=i8,rerank=20;hnsw:M=12,efConstruction=64,quantization=i8,rerank=20",
    },
  },
});
const DATASET = args.dataset!;
const QUERIES = Number(args.queries);
const EXACT_QUERIES = Number(args["exact-queries"]);
const RUNS = Number(args.runs);
const SEED = Number(args.seed);
const K = 10;
/** hnswlib reference build parameters (ann-benchmarks' usual M=16, efC=128 on this data). */
const HNSWLIB = { M: 16, efC: 128 };
const command = `npx tsx scripts/bench-index.ts ${process.argv.slice(2).join(" ")}`.trim();
const ratioText = (r: number) => fmt(r, 3);
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
// Every implementation answers the same queries in three modes: one call per query (`single`),
// all queries in one call on one thread (`batch`), and in one call on two threads (`batch x2`).
// The passes alternate between implementations (round r: every implementation, every mode, every
// ef), so a change in the machine's load hits all of them alike; QPS is the median over rounds.
const C_EF = [10, 12, 16, 20, 24, 32, 48, 64];
const MODES = ["single", "batch", "batch x2"] as const;
type Mode = (typeof MODES)[number];
interface AnnRow {
  impl: string;
  params: string;
  buildS: number;
  /** ef -> recall (of the single-query answers) and per-mode QPS over rounds. */
  curve: Array<{ ef: number; recall: number; batchSame: boolean; qps: Record<Mode, number[]> }>;
}
const toIds = (rows: number[][]) => {
  const out = new Int32Array(rows.length * K).fill(-1);
  rows.forEach((r, i) => {
    for (let j = 0; j < Math.min(K, r.length); j++) out[i * K + j] = r[j];
  });
  return out;
};
const ANN_SPECS = args
  .ann!.split(";")
  .map((x) => x.trim())
  .filter(Boolean);
interface Contender3 {
  row: AnnRow;
  /** Runs one pass; returns seconds (measured where the search runs) and, for single, the ids. */
  pass: (ef: number, mode: Mode) => Promise<{ s: number; ids?: number[][] }>;
}
const contenders3: Contender3[] = [];
const annIndexes = new Map<string, HnswIndex>();
const qRows = Array.from({ length: nq }, (_, i) => queries.slice(i * dim, (i + 1) * dim));
for (const spec of ANN_SPECS) {
  log(`(c) build ${spec}`);
  const index = createIndex(spec, dim, "l2") as HnswIndex;
  const t0 = performance.now();
  index.add(rowIds(nBase), base);
  const buildS = (performance.now() - t0) / 1000;
  annIndexes.set(spec, index);
  const row: AnnRow = {
    impl: `mammals ${spec.split(":")[0]}`,
    params: index.spec.slice(index.spec.indexOf(":") + 1).replace(/,?efSearch=\d+/, ""),
    buildS,
    curve: [],
  };
  contenders3.push({
    row,
    pass: async (ef, mode) => {
      const opts = { efSearch: ef };
      if (mode === "single") {
        const ids: number[][] = [];
        const t = performance.now();
        for (let i = 0; i < nq; i++) ids.push(index.search(qRows[i], K, opts).ids);
        return { s: (performance.now() - t) / 1000, ids };
      }
      index.setSearchThreads(mode === "batch" ? 1 : 2);
      const t = performance.now();
      const r = index.searchBatch(queries, K, opts);
      const s = (performance.now() - t) / 1000;
      return { s, ids: r.map((x) => x.ids) };
    },
  });
}
let hnswlibVersion: string | undefined;
let py: ReturnType<typeof spawn> | undefined;
if (pyHas("hnswlib")) {
  writeF32("base.f32", base);
  writeF32("queries.f32", queries);
  // A long-lived worker: one build, then passes on request, timed inside Python (no pipe time).
  py = spawn(
    PY,
    [
      "-u",
      "-c",
      `
import json, sys, time, numpy as np, hnswlib, importlib.metadata as md
d, k = ${dim}, ${K}
base = np.fromfile(sys.argv[1] + "/base.f32", dtype=np.float32).reshape(-1, d)
qs = np.fromfile(sys.argv[1] + "/queries.f32", dtype=np.float32).reshape(-1, d)
p = hnswlib.Index(space="l2", dim=d)
p.init_index(max_elements=len(base), ef_construction=${HNSWLIB.efC}, M=${HNSWLIB.M}, random_seed=100)
p.set_num_threads(1)
t = time.perf_counter(); p.add_items(base, np.arange(len(base)), num_threads=1); build = time.perf_counter() - t
print(json.dumps({"build": build, "version": md.version("hnswlib")}), flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    p.set_ef(cmd["ef"])
    if cmd["mode"] == "single":
        ids = []
        t = time.perf_counter()
        for i in range(len(qs)):
            I, _ = p.knn_query(qs[i:i+1], k=k, num_threads=1); ids.append(I[0])
        s = time.perf_counter() - t
    else:
        t = time.perf_counter()
        I, _ = p.knn_query(qs, k=k, num_threads=1 if cmd["mode"] == "batch" else 2)
        s = time.perf_counter() - t
        ids = I
    print(json.dumps({"s": s, "ids": [r.tolist() for r in ids]}), flush=True)
`,
      dir,
    ],
    {
      env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: py.stdout! });
  const it = lines[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await it.next()).value as string);
  log(`(c) build hnswlib M=${HNSWLIB.M} efC=${HNSWLIB.efC} (Python worker)`);
  const hello = (await next()) as { build: number; version: string };
  hnswlibVersion = hello.version;
  const worker = py;
  contenders3.push({
    row: {
      impl: "hnswlib (Python)",
      params: `M=${HNSWLIB.M},efC=${HNSWLIB.efC}`,
      buildS: hello.build,
      curve: [],
    },
    pass: async (ef, mode) => {
      worker.stdin!.write(`${JSON.stringify({ ef, mode })}\n`);
      return (await next()) as { s: number; ids: number[][] };
    },
  });
}
for (const c of contenders3)
  c.row.curve = C_EF.map((ef) => ({
    ef,
    recall: 0,
    batchSame: true,
    qps: { single: [], batch: [], "batch x2": [] },
  }));
log(`(c) ${RUNS} rounds x ${C_EF.length} ef x ${MODES.length} modes x ${contenders3.length} implementations`);
for (const c of contenders3) await c.pass(C_EF[0], "single"); // warm-up
for (let r = 0; r < RUNS; r++) {
  for (const [e, ef] of C_EF.entries()) {
    for (const mode of MODES) {
      for (const c of contenders3) {
        const { s, ids } = await c.pass(ef, mode);
        const point = c.row.curve[e];
        point.qps[mode].push(nq / s);
        if (r === 0 && ids) {
          if (mode === "single") point.recall = annRecall(toIds(ids), gt, base, queries, dim);
          else point.batchSame &&= annRecall(toIds(ids), gt, base, queries, dim) === point.recall;
        }
      }
    }
  }
  log(`(c) round ${r + 1}/${RUNS} done`);
}
py?.stdin?.end();
rmSync(dir, { recursive: true, force: true });
const annRows = contenders3.map((c) => c.row);
const qpsOf = (p: AnnRow["curve"][number], mode: Mode) => median(p.qps[mode]);
const best = (row: AnnRow, mode: Mode = "single", minRecall = 0.95) =>
  row.curve.filter((c) => c.recall >= minRecall).sort((a, b) => qpsOf(b, mode) - qpsOf(a, mode))[0] as
    | AnnRow["curve"][number]
    | undefined;
const hnswlibRef = annRows.find((r) => r.impl.startsWith("hnswlib"));
// usearch f32 with the default build parameters: the reference for hnsw-ts and the exact kinds.
const usearchRef = annRows.find((r) => r.impl === "mammals hnsw" && !/quantization/.test(r.params));
const usearchOk = usearchRef ? best(usearchRef) : undefined;
const summaryRows = [
  ...(usearchOk && usearchRef
    ? [
        [
          "hnsw (usearch)",
          `${usearchRef.params},efSearch=${usearchOk.ef}`,
          "native",
          Number(usearchOk.recall.toFixed(4)),
          Math.round(qpsOf(usearchOk, "single")),
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
    usearchOk ? Number((r.qps / qpsOf(usearchOk, "single")).toFixed(3)) : null,
  ]),
];

// ---------- (d) the browser index in Chromium ----------
const BROWSER_SPEC = "hnsw-ts:M=16,efConstruction=128";
const browserBase = Math.min(nBase, Number(args["browser-base"]));
let browser: BrowserAnnResult | undefined;
let browserGt = gt;
let browserSkip = "";
const usearchIndex = usearchRef ? annIndexes.get(ANN_SPECS[annRows.indexOf(usearchRef)]) : undefined;
if (!existsSync(CHROMIUM))
  browserSkip = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
else if (!usearchIndex) browserSkip = "no f32 hnsw configuration in --ann to compare with";
else {
  const bBase = browserBase === nBase ? base : base.slice(0, browserBase * dim);
  if (browserBase !== nBase) browserGt = groundTruth(bBase, queries, dim, K);
  // usearch over the same rows: the (c) index when the page has the whole base, else a fresh one.
  let node = usearchIndex;
  if (browserBase !== nBase) {
    node = createIndex(usearchIndex.spec, dim, "l2") as HnswIndex;
    node.add(rowIds(browserBase), bBase);
  }
  browser = await runBrowserAnn({
    base: bBase,
    queries,
    dim,
    k: K,
    spec: BROWSER_SPEC,
    efs: C_EF,
    rounds: RUNS,
    log,
    nodePass: (ef) => {
      const t = performance.now();
      for (let i = 0; i < nq; i++) node.search(qRows[i], K, { efSearch: ef });
      return (performance.now() - t) / 1000;
    },
  });
  if (browserBase !== nBase) {
    // The usearch recall on the subset (the (c) curve is over the whole base).
    for (const p of browser.curve) {
      const ids = qRows.map((q) => node.search(q, K, { efSearch: p.ef }).ids);
      (p as { nodeRecall?: number }).nodeRecall = annRecall(toIds(ids), browserGt, bBase, queries, dim);
    }
  }
}
const browserRows = browser
  ? browser.curve.map((p) => {
      const bBase = browserBase === nBase ? base : base.slice(0, browserBase * dim);
      const recall = annRecall(p.ids, browserGt, bBase, queries, dim);
      const nodeRecall =
        (p as { nodeRecall?: number }).nodeRecall ??
        usearchRef?.curve.find((c) => c.ef === p.ef)?.recall ??
        Number.NaN;
      return { ef: p.ef, recall, qps: median(p.qps), nodeRecall, nodeQps: median(p.nodeQps) };
    })
  : [];
const browserTable = table(
  [
    "efSearch",
    "hnsw-ts recall (Chromium)",
    "hnsw-ts QPS (Chromium)",
    "hnsw recall (Node)",
    "hnsw QPS (Node)",
    "QPS ratio",
  ],
  browserRows.map((r) => [
    r.ef,
    Number(r.recall.toFixed(4)),
    Math.round(r.qps),
    Number(r.nodeRecall.toFixed(4)),
    Math.round(r.nodeQps),
    Number((r.qps / r.nodeQps).toFixed(3)),
  ]),
);
const browserHeadline = (() => {
  const b = browserRows.filter((r) => r.recall >= 0.95).sort((x, y) => y.qps - x.qps)[0];
  const u = browserRows.filter((r) => r.nodeRecall >= 0.95).sort((x, y) => y.nodeQps - x.nodeQps)[0];
  if (!b || !u) return "No setting reached recall 0.95 on one side; see the table.";
  return `Fastest at recall >= 0.95: hnsw-ts in Chromium ef=${b.ef} (recall ${b.recall.toFixed(4)}, ${Math.round(b.qps)} QPS) vs usearch in Node ef=${u.ef} (recall ${u.nodeRecall.toFixed(4)}, ${Math.round(u.nodeQps)} QPS): **${ratioText(b.qps / u.nodeQps)}x** (target: >= 0.5x).`;
})();

// ---------- report ----------
const cpuModel = (() => {
  try {
    return readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpus()[0]?.model;
  } catch {
    return cpus()[0]?.model;
  }
})();
const loadEnd = loadavg();
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
const annTable = (minRecall: number) =>
  table(
    [
      "implementation",
      "params",
      "mode",
      "build s",
      "best ef",
      "recall",
      "QPS (median)",
      "QPS vs hnswlib same mode",
      "QPS vs hnswlib single",
      "build vs hnswlib",
    ],
    annRows.flatMap((r) =>
      MODES.map((mode) => {
        const b = best(r, mode, minRecall);
        const ref = hnswlibRef ? best(hnswlibRef, mode, minRecall) : undefined;
        const refSingle = hnswlibRef ? best(hnswlibRef, "single", minRecall) : undefined;
        return [
          r.impl,
          r.params,
          mode,
          r.buildS,
          b?.ef ?? "-",
          b ? Number(b.recall.toFixed(4)) : null,
          b ? Math.round(qpsOf(b, mode)) : null,
          b && ref ? Number((qpsOf(b, mode) / qpsOf(ref, mode)).toFixed(3)) : null,
          b && refSingle ? Number((qpsOf(b, mode) / qpsOf(refSingle, "single")).toFixed(3)) : null,
          hnswlibRef ? Number((r.buildS / hnswlibRef.buildS).toFixed(3)) : null,
        ];
      }),
    ),
  );
const curveTable = table(
  ["implementation", "params", "mode", ...C_EF.map((ef) => `ef=${ef}`)],
  annRows.flatMap((r) =>
    MODES.map((mode) => [
      r.impl,
      r.params,
      mode,
      ...r.curve.map((c) => `${c.recall.toFixed(3)} / ${Math.round(qpsOf(c, mode))}`),
    ]),
  ),
);
const batchMismatch = annRows.flatMap((r) =>
  r.curve.filter((c) => !c.batchSame).map((c) => `${r.impl} ${r.params} ef=${c.ef}`),
);
// The headline: the fastest single-thread configuration of ours against hnswlib's, both at recall >= 0.95.
const headline = (() => {
  if (!hnswlibRef) return "";
  const ref = best(hnswlibRef, "single");
  if (!ref) return "";
  const ours = annRows
    .filter((r) => r !== hnswlibRef)
    .flatMap((r) => (["single", "batch"] as const).map((mode) => ({ r, mode, b: best(r, mode) })))
    .filter((x) => x.b)
    .sort((x, y) => qpsOf(y.b!, y.mode) - qpsOf(x.b!, x.mode))[0];
  if (!ours) return "";
  const refBatch = best(hnswlibRef, "batch");
  const vs = (mode: Mode, p: AnnRow["curve"][number] | undefined) =>
    p ? `${ratioText(qpsOf(ours.b!, ours.mode) / qpsOf(p, mode))}x` : "-";
  return `Fastest one-thread configuration of ours at recall >= 0.95: \`${ours.r.impl} ${ours.r.params}\` (${ours.mode}, ef=${ours.b!.ef}, recall ${ours.b!.recall.toFixed(4)}): **${vs("single", ref)}** hnswlib's one-query-per-call QPS, ${vs("batch", refBatch)} hnswlib's batched QPS (target: 1.3x); build ${fmt(ours.r.buildS, 3)} s vs hnswlib ${fmt(hnswlibRef.buildS, 3)} s.`;
})();
const md = `# Index benchmarks

Generated by \`${command}\` on ${new Date().toISOString()} (whole run ${fmt((performance.now() - started) / 1000, 3)} s).
Do not edit by hand: rerun the command.

Machine: ${cpuModel}, ${cpus().length} cores, shared: load average ${loadStart.map((x) => x.toFixed(1)).join(" ")} at the start, ${loadEnd.map((x) => x.toFixed(1)).join(" ")} at the end
(other jobs ran on the machine, so absolute times are noisy; ratios compare implementations timed in the same run, alternately).
Node ${process.version}; usearch ${readPkgVersion("usearch")}; kernel path of new indexes: **${kernelPath()}**.
All searches single-threaded and one query per call, k = ${K}, except the \`batch\` and \`batch x2\` (two threads) modes of (c).

## (a) ann-benchmarks protocol on ${dataset.name}

Base = train split (${dataset.train.n} x ${dataset.train.dim}), queries = ${nq} test images (seeded sample, seed ${SEED}),
pixel units (0..255); recall counts a returned neighbour whose Euclidean distance is <= the true
10th distance + 1e-3 (ground truth from the exact \`flat\` index, cached under .cache/).
Same as \`mammals bench index --dataset ${DATASET} --queries ${QUERIES} --index ${INDEXES.join(",")} --ef ${EF_SWEEP.join(",")}\`.
\`hnsw-ts\` is the browser-safe HNSW (TypeScript graph, WebAssembly SIMD distances); usearch's curve (native HNSW) is in (c).

\`\`\`
${benchIndexTable(results)}
\`\`\`

Fastest setting at recall >= 0.95 of each graph index next to the exact indexes; "QPS vs usearch" = row QPS / QPS of \`hnsw\` f32
(usearch, M=16, efC=128, one query per call, median of the rounds in (c)):

\`\`\`
${table(["index", "params", "kernel", "recall", "QPS", "build s", "QPS vs usearch"], summaryRows)}
\`\`\`
${
  usearchOk && tsOk
    ? `\nhnsw-ts reaches recall ${tsOk.recall.toFixed(4)} at **${ratioText(tsOk.qps / qpsOf(usearchOk, "single"))}x** usearch's QPS (target: >= 0.95 recall at >= 0.5x); build ${fmt(tsOk.buildS, 3)} s vs ${fmt(usearchRef?.buildS ?? Number.NaN, 3)} s.\n`
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

Same base, queries and ground truth as (a). Ours: the \`hnsw\` index kind (usearch's HNSW through our adapter,
which calls usearch's compiled binding; efSearch per call through memory-mapped views of the saved graph),
built with one thread. \`quantization=f16\` stores half floats (exact for 0..255 pixels); \`quantization=i8\`
stores one-range affine int8 codes (254 steps over the learned range 0..255 here, so at most half a
grey level of rounding per pixel), and \`rerank=20\` re-ranks 20 candidates by exact f32 distances.
hnswlib: Debian's python3-hnswlib ${hnswlibVersion ?? "(not installed)"} in a long-lived Python worker, built with
\`num_threads=1\`; its passes are timed inside Python, so the pipe to the worker is not counted.
Modes: \`single\` = one call per query (ours: \`search\`; hnswlib: \`knn_query\` on one row), \`batch\` = all
${nq} queries in one call on one thread (ours: \`searchBatch\` with \`searchThreads=1\`; hnswlib: \`knn_query\` on
the matrix, \`num_threads=1\`), \`batch x2\` = the same on **two threads** (\`searchThreads=2\`, \`num_threads=2\`;
the machine has 2 cores, shared). ${RUNS} rounds; in each, every implementation runs every mode and ef in turn;
QPS = median over rounds. Recall is the single-query answers'${batchMismatch.length === 0 ? "; batch answers scored the same recall at every point" : `; batch recall differed at: ${batchMismatch.join(", ")}`}.

Recall / QPS per efSearch:

\`\`\`
${curveTable}
\`\`\`

Fastest setting at recall >= 0.95 per implementation and mode; ratios against hnswlib (M=${HNSWLIB.M}, efC=${HNSWLIB.efC}) in the same run:

\`\`\`
${annTable(0.95)}
\`\`\`

${headline}

The same at recall >= 0.98:

\`\`\`
${annTable(0.98)}
\`\`\`

## (d) The browser index in Chromium
${
  browser
    ? `
Headless Chromium ${browser.chromium} (\`${CHROMIUM}\`, flags \`${CHROMIUM_ARGS.join(" ")}\`, driven by playwright-core) loads the
browser bundle (\`src/browser.ts\` bundled by esbuild) and the vectors from 127.0.0.1, builds \`${BROWSER_SPEC}\` over
${browserBase === nBase ? `the whole base (${nBase} x ${dim})` : `the first ${browserBase} base rows (a subset, to keep the run short; recall against the exact neighbours within it)`} in the page, distance path **${browser.kernel}**, in
${fmt(browser.buildS, 3)} s (usearch f32 in Node: ${fmt(usearchRef?.buildS ?? Number.NaN, 3)} s in (c)${browserBase === nBase ? "" : ", on the whole base"}), and answers the ${nq} queries one \`search\` call each.
After every page pass, usearch (\`${usearchIndex?.spec}\`, one query per call) answers the same queries in Node
at the same efSearch, so both are timed alternately; ${RUNS} rounds, median QPS.

\`\`\`
${browserTable}
\`\`\`

${browserHeadline}
`
    : `\nNot run: ${browserSkip}.\n`
}`;
writeFileSync(args.out!, md);
log(`wrote ${args.out}`);

function readPkgVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join("node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}
