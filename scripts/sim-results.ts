/**
 * Writes docs/sim-results.md: the table of every cache policy on each catalog, capacity and k,
 * with an IRM Zipf trace, and the exact command of every row. Every figure comes from this run.
 *
 * Catalogs: Fashion-MNIST (60,000 x 784, pixels / 255) and an .fvecs catalog (--fvecs FILE; by
 * default a clustered Gaussian catalog written to .cache/sim/, since no SIFT file ships here).
 * Costs: k = 1 single-answer with C_r = the catalog's median nearest-neighbour distance (so about
 * half the requests could be served approximately by their nearest other object), k = 10 with
 * c_f = the same distance.
 *
 * When done it appends a summary computed from the tables (scripts/sim-summary.ts).
 *
 * --jobs 2 runs each catalog in its own child process (same flags, one catalog each) and
 * concatenates their sections, so the whole document is still one command.
 *
 * Usage: npx tsx scripts/sim-results.ts [--count 1000000] [--capacities 0.1%,1%,5%] [--ks 1,10]
 *        [--policies LIST] [--fvecs FILE] [--catalogs fashion-mnist,fvecs] [--jobs 1]
 *        [--seed 1] [--neighbours 200] [--trace irm:alpha=0.8] [--note TEXT] [--out docs/sim-results.md]
 *
 * --trace: the generator and its parameters without count and seed (added from --count, --seed),
 * e.g. "shift:alpha=0.8,phases=10" or "irm:alpha=0.8,noise=0.3". Several traces: separate them
 * with ";" (--trace "irm:alpha=0.8;shift:alpha=0.8,phases=10;adversarial;inputs"); each catalog
 * runs every trace. `adversarial` without m gets m = h + 1 per capacity (the cycle that defeats
 * LRU); a trace whose generator refuses the catalog (e.g. `inputs`, whose Fashion-MNIST test
 * images have 784 dimensions, on the 32-d catalog) is skipped with a note in the page.
 *
 * --neighbours: catalog neighbours searched once per request and shared by every policy (the
 * simulator's --neighbours). Results barely depend on it (a longer hnsw list is a slightly more
 * exact one); speed does: the stored members of a 200-long list are the nearest stored objects
 * up to its last distance, which spares most fall-back scans over large stored sets (measured
 * 3-6x per policy at k = 10, h = 5% on Fashion-MNIST).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { gaussVectors } from "../src/caching/catalog.js";
import { loadCatalog } from "../src/caching/catalog.node.js";
import { createCostModel } from "../src/caching/cost.js";
import { analyzeCatalog } from "../src/caching/geometry.js";
import { cachePolicies, parsePolicyList } from "../src/caching/registry.js";
import { generateTrace } from "../src/caching/traces.js";
import { MammalsError } from "../src/core/errors.js";
import { table } from "../src/core/format.js";
import { writeVectorFile } from "../src/data/vectors-file.node.js";
import { parseCapacity, simulateCatalog } from "../src/jobs/simulate.js";
import { openTrace } from "../src/jobs/simulate.node.js";
import { withSummary } from "./sim-summary.js";

const { values: a } = parseArgs({
  options: {
    count: { type: "string", default: "1000000" },
    capacities: { type: "string", default: "0.1%,1%,5%" },
    ks: { type: "string", default: "1,10" },
    policies: {
      type: "string",
      default: "lru,lfu,fifo,random,sim-lru,rnd-lru,cls-lru,qlru-dc,duel,oga,acai,greedy,static-opt",
    },
    fvecs: { type: "string" },
    catalogs: { type: "string", default: "fashion-mnist,fvecs" },
    jobs: { type: "string", default: "1" },
    seed: { type: "string", default: "1" },
    neighbours: { type: "string", default: "200" },
    trace: { type: "string", default: "irm:alpha=0.8" },
    note: { type: "string" },
    /** Internal: write only the catalog sections (a child of --jobs). */
    part: { type: "boolean", default: false },
    out: { type: "string", default: "docs/sim-results.md" },
  },
});

function fvecsCatalog(): string {
  if (a.fvecs) return a.fvecs;
  const file = ".cache/sim/gauss-100k-32.fvecs";
  if (!existsSync(file)) {
    mkdirSync(".cache/sim", { recursive: true });
    const g = gaussVectors("n=100000,dim=32,seed=1,clusters=200,spread=0.3");
    writeVectorFile(file, g.vectors, g.dim);
  }
  return file;
}

const command = `npx tsx scripts/sim-results.ts${process.argv
  .slice(2)
  .map((x) => ` ${/[\s;]/.test(x) ? JSON.stringify(x) : x}`)
  .join("")}`;
const catalogNames = (a.catalogs as string).split(",");
const policies = parsePolicyList(a.policies as string);
const traceSpecs = (a.trace as string)
  .split(";")
  .map((t) => t.trim())
  .filter((t) => t !== "");
const seed = Number(a.seed);
const t0 = performance.now();
const machine = () =>
  `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ")} (1 / 5 / 15 min)`;

const header: string[] = [
  "# Similarity-caching results",
  "",
  `Generated by \`${command}\``,
  `(the machine at the start: ${machine()}).`,
  "",
  traceSpecs.length > 1
    ? `Traces: ${traceSpecs.map((t) => `\`${t}\``).join(", ")} (\`mammals trace gen --help\` describes the generators; adversarial without m: m = h + 1), ${Number(a.count).toLocaleString("en-US")} requests each, trace seed ${seed}, policy seeds ${seed}.`
    : a.trace === "irm:alpha=0.8"
      ? `Trace: IRM, Zipf alpha = 0.8 over a seeded permutation of the catalog, noise-free, ${Number(a.count).toLocaleString("en-US")} requests, trace seed ${seed}, policy seeds ${seed}.`
      : `Trace: \`${a.trace}\` (\`mammals trace gen --help\` describes the generator), ${Number(a.count).toLocaleString("en-US")} requests, trace seed ${seed}, policy seeds ${seed}.`,
  "Distances are Euclidean (not squared). k = 1: single-answer setting (C_r = the catalog's median",
  "nearest-neighbour distance); k = 10: k-NN setting (c_f = the same distance). duel is single-answer only.",
  "normalized = served cost / cost of answering every request remotely; hitRatio = requests served",
  "entirely locally; moved = objects inserted that no answer had fetched (movement);",
  "withMove = avgCost + moved / requests x (c_f, or C_r single-answer): the cost with movement charged;",
  "req/s = requests / (this policy's serve + update time + the shared neighbour-search time), on a",
  "shared machine: compare within a table, not across runs. greedy and static-opt are offline",
  "references (they know the trace); the other policies are online.",
  "",
  ...(a.note ? [a.note as string, ""] : []),
];

/** Runs every (k, capacity) configuration on one catalog; returns its markdown section. */
function catalogSection(name: string, flush: (lines: string[]) => void): string[] {
  const spec = name === "fvecs" ? fvecsCatalog() : name;
  const lines: string[] = [];
  const cat = loadCatalog(spec);
  const geo = analyzeCatalog(cat, { sample: 1000, k: 10 });
  const dnn = Number(geo.nnDistance.p50.toPrecision(3));
  lines.push(
    `## ${spec} (${cat.n} x ${cat.dim}; intrinsic dimension TwoNN ${geo.twoNN.toFixed(1)}, median NN distance ${dnn})`,
    "",
  );
  for (const traceSpec of traceSpecs) {
    const kind = `${traceSpec.split(":")[0]}${/noise=(?!0(,|$))/.test(traceSpec) ? "+noise" : ""}`;
    try {
      generateTrace(`${traceSpec}${traceSpec.includes(":") ? "," : ":"}count=1`, cat);
    } catch (e) {
      if (!(e instanceof MammalsError)) throw e;
      lines.push(`### [${kind}] skipped on this catalog: ${e.message}`, "");
      flush(lines);
      continue;
    }
    for (const k of (a.ks as string).split(",").map(Number))
      for (const capacity of (a.capacities as string).split(",")) {
        const single = k === 1;
        const costFlag = single ? `--cr ${dnn}` : `--cf ${dnn}`;
        const hOf = parseCapacity(capacity, cat.n);
        const sep = traceSpec.includes(":") ? "," : ":";
        const m = kind.startsWith("adversarial") && !/\bm=/.test(traceSpec) ? `${sep}m=${hOf + 1}` : "";
        const trace = `${traceSpec}${m}${m ? "," : sep}count=${a.count},seed=${seed}`;
        const used = policies.filter((p) => cachePolicies.supports(p, single ? "single-answer" : "knn"));
        const cmd = `mammals simulate --catalog ${spec} --trace ${trace} --policies ${used.join(",")} --capacity ${capacity} --k ${k} ${costFlag} --neighbours ${a.neighbours} --seed ${seed}`;
        process.stderr.write(`${cmd}\n`);
        const t1 = performance.now();
        // The catalog (and its index, built once on first use: 35 s for Fashion-MNIST's hnsw) is
        // shared by every configuration; `mammals simulate` with the printed flags loads the same
        // catalog and builds the same index, so each table is what its command prints.
        const { result, capacity: h } = simulateCatalog({
          catalog: cat,
          cost: createCostModel({ k, cr: single ? dnn : undefined, cf: single ? undefined : dnn }),
          capacity: hOf,
          trace: openTrace(trace, cat),
          policies: used,
          seed,
          neighbours: Number(a.neighbours),
        });
        const rows = result.results
          .slice()
          .sort((x, y) => x.avgCost - y.avgCost)
          .map((r) => [
            r.policy,
            r.avgCost,
            r.normalizedCost,
            r.avgCostWithMovement,
            r.hitRatio,
            r.fetched,
            r.moved,
            Math.round(r.reqPerSec),
          ]);
        lines.push(
          `### ${traceSpecs.length > 1 ? `[${kind}] ` : ""}k = ${k}, h = ${h} (${capacity}), ${result.cost}`,
          "",
          "```",
          `$ ${cmd}`,
          table(
            ["policy", "avgCost", "normalized", "withMove", "hitRatio", "fetched", "moved", "req/s"],
            rows,
          ),
          `(${((performance.now() - t1) / 1000).toFixed(0)} s wall, catalog index ${result.catalogIndex}, load average now ${loadavg()[0].toFixed(2)})`,
          "```",
          "",
        );
        flush(lines);
      }
  }
  return lines;
}

const footer = () => [
  `Total: ${((performance.now() - t0) / 1000 / 60).toFixed(1)} min wall; machine at the end: ${machine()}.`,
  "",
];

if (a.part) {
  // A child of --jobs: only the sections of its one catalog.
  catalogSection(catalogNames[0], (l) => writeFileSync(a.out as string, `${l.join("\n")}\n`));
} else if (Number(a.jobs) > 1 && catalogNames.length > 1) {
  mkdirSync(".cache/sim", { recursive: true });
  const parts = catalogNames.map((_c, i) => `.cache/sim/results-part-${i}.md`);
  // Children share flags; each gets one catalog and its own output.
  const base = process.argv.slice(2).filter((x, i, all) => {
    const prev = all[i - 1];
    return (
      !["--catalogs", "--out", "--jobs"].includes(x) &&
      !["--catalogs", "--out", "--jobs"].includes(prev ?? "")
    );
  });
  const children = catalogNames.map(
    (c, i) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [...process.execArgv, process.argv[1], ...base, "--catalogs", c, "--out", parts[i], "--part"],
          { stdio: ["ignore", "inherit", "inherit"] },
        );
        child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${c}: exit ${code}`))));
      }),
  );
  await Promise.all(children);
  const body = parts.map((p) => readFileSync(p, "utf8"));
  writeFileSync(a.out as string, withSummary(`${[...header, ...body, ...footer()].join("\n")}\n`));
  process.stderr.write(`wrote ${a.out}\n`);
} else {
  const done: string[] = [];
  for (const c of catalogNames) {
    const sec = catalogSection(c, (l) =>
      writeFileSync(a.out as string, `${[...header, ...done, ...l].join("\n")}\n`),
    );
    done.push(...sec);
  }
  writeFileSync(a.out as string, withSummary(`${[...header, ...done, ...footer()].join("\n")}\n`));
  process.stderr.write(`wrote ${a.out}\n`);
}
