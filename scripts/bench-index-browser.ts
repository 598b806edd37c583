/**
 * The browser index in Chromium: bundles the browser entry (src/browser.ts) with esbuild, serves
 * it and the benchmark's vectors from 127.0.0.1, and in a headless Chromium (playwright-core,
 * the system's /usr/bin/chromium, no browser download) builds `hnsw-ts` over the base rows and
 * answers the queries one call at a time for each efSearch. Between the page's passes the caller's
 * Node-side pass runs (usearch in bench-index.ts), so both are timed alternately in one run.
 * Used by scripts/bench-index.ts (section (d)); also runnable alone for a quick look:
 *
 *   npx tsx scripts/bench-index-browser.ts [--base 10000] [--queries 200]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface BrowserAnnOptions {
  base: Float32Array;
  queries: Float32Array;
  dim: number;
  k: number;
  /** hnsw-ts spec without efSearch, e.g. "hnsw-ts:M=16,efConstruction=128". */
  spec: string;
  efs: number[];
  rounds: number;
  /** A Node-side pass at this ef, run right after each page pass; returns seconds. */
  nodePass?: (ef: number) => number;
  log?: (s: string) => void;
}

export interface BrowserAnnResult {
  chromium: string;
  userAgent: string;
  kernel: string;
  spec: string;
  buildS: number;
  /** Per ef: the first round's ids (nq x k, row-major, -1 padded), page and Node QPS per round. */
  curve: Array<{ ef: number; ids: Int32Array; qps: number[]; nodeQps: number[] }>;
}

/** Runs the benchmark in Chromium; throws with a clear message when Chromium is missing. */
export async function runBrowserAnn(o: BrowserAnnOptions): Promise<BrowserAnnResult> {
  const log = o.log ?? (() => {});
  const [{ chromium }, esbuild] = await Promise.all([import("playwright-core"), import("esbuild")]);
  const dir = mkdtempSync(join(tmpdir(), "mammals-bench-browser-"));
  const root = resolve(import.meta.dirname, "..");
  await esbuild.build({
    entryPoints: [join(root, "src/browser.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    outfile: join(dir, "mammals.js"),
    logLevel: "error",
  });
  const files: Record<string, { type: string; body: Uint8Array | string | Buffer }> = {
    "/index.html": { type: "text/html", body: "<!doctype html><title>bench index</title>" },
    "/base.f32": { type: "application/octet-stream", body: bytesOf(o.base) },
    "/queries.f32": { type: "application/octet-stream", body: bytesOf(o.queries) },
  };
  files["/mammals.js"] = { type: "text/javascript", body: readFileSync(join(dir, "mammals.js")) };
  const server = createServer((req, res) => {
    const f = files[req.url ?? ""];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": f.type }).end(f.body);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`${url}/index.html`);
    const nq = o.queries.length / o.dim;
    log(
      `(d) Chromium ${browser.version()}: loading the bundle and ${o.base.length / o.dim} x ${o.dim} base rows`,
    );
    const info = (await page.evaluate(call(BUILD_IN_PAGE, { url, spec: o.spec, dim: o.dim }))) as {
      buildS: number;
      kernel: string;
      ua: string;
    };
    log(`(d) hnsw-ts built in Chromium in ${info.buildS.toFixed(1)} s (${info.kernel})`);
    const curve: BrowserAnnResult["curve"] = o.efs.map((ef) => ({
      ef,
      ids: new Int32Array(0),
      qps: [],
      nodeQps: [],
    }));
    for (let r = 0; r < o.rounds; r++) {
      for (const point of curve) {
        const pass = (await page.evaluate(
          call(SEARCH_IN_PAGE, { ef: point.ef, k: o.k, dim: o.dim, wantIds: r === 0 }),
        )) as { s: number; ids: number[] };
        point.qps.push(nq / pass.s);
        if (r === 0) point.ids = Int32Array.from(pass.ids);
        if (o.nodePass) point.nodeQps.push(nq / o.nodePass(point.ef));
      }
      log(`(d) round ${r + 1}/${o.rounds} done`);
    }
    return {
      chromium: browser.version(),
      userAgent: info.ua,
      kernel: info.kernel,
      spec: o.spec,
      buildS: info.buildS,
      curve,
    };
  } finally {
    await browser.close();
    await new Promise<void>((ok) => server.close(() => ok()));
    rmSync(dir, { recursive: true, force: true });
  }
}

// The page's code is plain JavaScript text: functions passed to page.evaluate from here would be
// serialized after tsx's transform, which adds helpers (__name) the page does not have.
const BUILD_IN_PAGE = `async ({ url, spec, dim }) => {
  const m = await import(url + "/mammals.js");
  const get = async (p) => new Float32Array(await (await fetch(url + p)).arrayBuffer());
  const base = await get("/base.f32");
  const queries = await get("/queries.f32");
  const n = base.length / dim;
  const index = m.createIndex(spec, dim, "l2");
  const ids = new Float64Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  const t0 = performance.now();
  index.add(ids, base);
  const buildS = (performance.now() - t0) / 1000;
  globalThis.benchIndex = index;
  globalThis.benchQueries = queries;
  return { buildS, kernel: index.kernel ?? "?", ua: navigator.userAgent };
}`;

const SEARCH_IN_PAGE = `({ ef, k, dim, wantIds }) => {
  const index = globalThis.benchIndex;
  const qs = globalThis.benchQueries;
  const n = qs.length / dim;
  const rows = Array.from({ length: n }, (_, i) => qs.slice(i * dim, (i + 1) * dim));
  const out = new Int32Array(wantIds ? n * k : 0).fill(-1);
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const got = index.search(rows[i], k, { efSearch: ef }).ids;
    if (wantIds) for (let j = 0; j < got.length; j++) out[i * k + j] = got[j];
  }
  const s = (performance.now() - t) / 1000;
  return { s, ids: wantIds ? Array.from(out) : [] };
}`;

const call = (fn: string, arg: unknown) => `(${fn})(${JSON.stringify(arg)})`;

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

// Alone: a quick look on a subset, recall against the exact flat index, no page written.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({
    options: { base: { type: "string", default: "10000" }, queries: { type: "string", default: "200" } },
  });
  const { loadDataset } = await import("../src/data/datasets.node.js");
  const { benchData } = await import("../src/jobs/bench-index.js");
  const { groundTruth, annRecall } = await import("../src/index/evaluate.js");
  const d = benchData(loadDataset("fashion-mnist"), Number(values.queries), 1);
  const base = d.base.slice(0, Number(values.base) * d.dim);
  const gt = groundTruth(base, d.queries, d.dim, 10);
  const r = await runBrowserAnn({
    base,
    queries: d.queries,
    dim: d.dim,
    k: 10,
    spec: "hnsw-ts:M=16,efConstruction=128",
    efs: [16, 40],
    rounds: 1,
    log: (s) => process.stderr.write(`${s}\n`),
  });
  for (const p of r.curve)
    console.log(
      `ef=${p.ef} recall ${annRecall(p.ids, gt, base, d.queries, d.dim).toFixed(4)} QPS ${p.qps.map(Math.round).join(" ")}`,
    );
  console.log(`build ${r.buildS.toFixed(2)} s, kernel ${r.kernel}, Chromium ${r.chromium}`);
}
