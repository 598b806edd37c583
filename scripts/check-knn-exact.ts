/**
 * Does `mammals knn --index flat` return exactly the true nearest neighbours on Fashion-MNIST?
 *   1. writes the train / test images as .fvecs (60,000 x 784 and 10,000 x 784) with the raw
 *      0..255 pixel values, so squared distances are integers and ties are real;
 *   2. runs the built CLI, `node bin/mammals.js knn --index flat --k 10` (after `npm run build`);
 *   3. checks the ids with scripts/check-knn-exact.py: faiss IndexFlatL2 as the reference, and
 *      exact integer distances as the judge (ids may differ only among equal distances).
 * Prints the fraction of queries whose 10 neighbours are exactly the true ones.
 *
 * Usage: nice npx tsx scripts/check-knn-exact.ts [--data DIR] [--queries N] [--k 10] [--no-build]
 * Needs /usr/bin/python3 with python3-faiss and python3-numpy (apt-get install python3-faiss).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadDataset } from "../src/data/datasets.node.js";
import { readVectorFile, writeVectorFile } from "../src/data/vectors-file.node.js";

const { values: args } = parseArgs({
  options: {
    data: { type: "string" },
    queries: { type: "string", default: "10000" },
    k: { type: "string", default: "10" },
    "no-build": { type: "boolean", default: false },
    cache: { type: "string", default: ".cache/knn-exact" },
  },
});
const K = Number(args.k);
const QUERIES = Number(args.queries);
const CACHE = args.cache!;
mkdirSync(CACHE, { recursive: true });

// Locate the IDX files the way the CLI does, then read them raw (0..255) through readVectorFile.
const ds = loadDataset("fashion-mnist", { dataDir: args.data });
const idx = (split: string) => {
  const plain = join(ds.source, `${split}-images-idx3-ubyte`);
  return existsSync(`${plain}.gz`) ? `${plain}.gz` : plain;
};
const train = readVectorFile(idx("train"));
const test = readVectorFile(idx("t10k"));
const nq = Math.min(QUERIES, test.n);
const basePath = join(CACHE, "fashion-train.fvecs");
const queryPath = join(CACHE, `fashion-test-${nq}.fvecs`);
const outPath = join(CACHE, `flat-k${K}-${nq}.ivecs`);
writeVectorFile(basePath, train.data, train.dim);
writeVectorFile(queryPath, test.data.subarray(0, nq * test.dim), test.dim);
process.stderr.write(
  `wrote ${basePath} (${train.n} x ${train.dim}) and ${queryPath} (${nq} x ${test.dim})\n`,
);

if (!args["no-build"]) {
  try {
    execFileSync("npm", ["run", "build", "--silent"], { stdio: "inherit" });
  } catch {
    // tsc still emits when other files fail to typecheck; what matters here is the knn command.
    if (!existsSync("dist/cli/commands/knn.js"))
      throw new Error("npm run build failed and emitted no knn command");
    process.stderr.write("warning: npm run build reported errors (above); using the emitted dist/\n");
  }
}
const knnArgs = ["bin/mammals.js", "knn", "--base", basePath, "--queries", queryPath];
knnArgs.push("--k", String(K), "--index", "flat", "--out", outPath, "--json");
process.stderr.write(`$ node ${knnArgs.join(" ")}\n`);
const knn = spawnSync("node", knnArgs, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
if (knn.status !== 0) throw new Error(`mammals knn failed (exit ${knn.status}):\n${knn.stdout}`);
const summary = JSON.parse(knn.stdout.trimEnd().split("\n").at(-1) ?? "{}");

process.stderr.write("checking against faiss IndexFlatL2 and exact integer distances...\n");
const py = spawnSync(
  "/usr/bin/python3",
  ["scripts/check-knn-exact.py", basePath, queryPath, outPath, String(K)],
  { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
);
if (py.status !== 0) throw new Error(`check-knn-exact.py failed (exit ${py.status}):\n${py.stdout}`);
const check = JSON.parse(py.stdout.trimEnd().split("\n").at(-1) ?? "{}");

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
process.stdout.write(
  `mammals knn --index flat on Fashion-MNIST: ${train.n} base x ${train.dim}, ${nq} queries, k=${K}\n` +
    `  build ${summary.buildS.toFixed(2)} s, ${summary.qps.toFixed(1)} QPS single-threaded, ` +
    `p50 ${summary.p50Ms.toFixed(2)} ms, p99 ${summary.p99Ms.toFixed(2)} ms\n` +
    `  queries whose ${K} neighbours are exactly the true ones (ties-aware): ${pct(check.oursExactFraction)}\n` +
    `  same ids as faiss ${check.faissVersion} IndexFlatL2: ${pct(check.oursSameIdsAsFaiss)}, ` +
    `same distances: ${pct(check.oursSameDistancesAsFaiss)}\n` +
    `  faiss IndexFlatL2 (float32) exact by the same test: ${pct(check.faissExactFraction)}\n` +
    `  queries with a tie at the ${K}-th distance: ${check.queriesWithTieAtK}\n` +
    `${JSON.stringify({ knn: summary, check })}\n`,
);
process.exitCode = check.oursExactFraction === 1 ? 0 : 1;
