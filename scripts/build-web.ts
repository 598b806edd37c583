/**
 * `npm run build:web`: builds the page into dist/web-app (or --out DIR), prints each file's size
 * raw and gzipped, and checks the budget: the page's JavaScript, gzipped, model excluded, <= 150 KB.
 * Exits 1 when over budget.
 *
 *   npx tsx scripts/build-web.ts [--out DIR] [--model FILE]
 */
import { buildWebApp, DEFAULT_WEB_DIR } from "../src/jobs/web.node.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const r = await buildWebApp({ outDir: arg("out") ?? DEFAULT_WEB_DIR, modelFile: arg("model") });
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
for (const f of r.files)
  console.log(`${f.name.padEnd(20)} ${kb(f.bytes).padStart(10)}  gzip ${kb(f.gzipBytes).padStart(9)}`);
console.log(
  `\nJavaScript (app.js + finetune-worker.js + sw.js), gzipped: ${kb(r.jsGzipBytes)} of a ${kb(r.budgetBytes)} budget: ` +
    `${r.withinBudget ? "within budget" : "OVER BUDGET"}\nwrote ${r.outDir} (version ${r.version})`,
);
if (!r.withinBudget) process.exit(1);
