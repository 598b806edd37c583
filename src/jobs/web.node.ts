/**
 * The web page's use cases (Node): build its static files with esbuild, check the JavaScript
 * against its size budget, and serve a folder of them over HTTP (`mammals web`, the browser test).
 *
 * Build output (any static host can serve the folder):
 *   index.html, style.css           from src/web/static/
 *   app.js                          src/web/page/main.ts and everything it imports (the page)
 *   finetune-worker.js              src/web/worker/finetune-worker.ts (the fine-tuning Web Worker)
 *   sw.js                           src/web/page/sw.ts (offline cache), told the file list and a version
 *   model.mammals                   the shipped model (data/web/), or the model file given
 *   samples.json                    100 labeled digits of the embedded MNIST test split (10 per class):
 *                                   the strip of test images, the similarity radius, fine-tuning replay
 * The budget: the page's JavaScript (the three .js files, gzipped, model excluded) <= 150 KB.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { createServer as createTcpServer } from "node:net";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { fail } from "../core/errors.js";
import { loadEmbeddedMnist } from "../data/datasets.node.js";
import { loadModel } from "../models/registry.js";

/** Package root: this file is src/jobs/web.node.ts (tsx, tests) or dist/jobs/web.node.js (built). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SHIPPED_WEB_MODEL = join(PACKAGE_ROOT, "data/web/mnist-mlp64.mammals");
export const DEFAULT_WEB_DIR = join(PACKAGE_ROOT, "dist/web-app");
/** The budget of the page's JavaScript, gzipped (the figure). */
export const WEB_JS_BUDGET_BYTES = 150 * 1024;
const SAMPLES_PER_CLASS = 10;

export interface WebBuildOptions {
  outDir: string;
  /** Model file shipped as model.mammals (default: data/web/mnist-mlp64.mammals). */
  modelFile?: string;
  /** Minify the JavaScript (default true). */
  minify?: boolean;
}

export interface WebFile {
  name: string;
  bytes: number;
  gzipBytes: number;
}

export interface WebBuildResult {
  outDir: string;
  files: WebFile[];
  /** Sum of the gzipped .js files (the budget's measure). */
  jsGzipBytes: number;
  budgetBytes: number;
  withinBudget: boolean;
  version: string;
}

/** Reads a model file and checks it loads, with a message that names the file when it does not. */
export function readWebModel(path: string): Uint8Array {
  if (!existsSync(path) || statSync(path).isDirectory()) fail("BAD_FILE", `${path}: no such model file`);
  // A copy into a plain Uint8Array: the decoder's tensor copies assume one (not a pooled Buffer view).
  const bytes = new Uint8Array(readFileSync(path));
  const model = loadModel(bytes, path);
  if (model.inputDim !== 784)
    fail("BAD_FILE", `${path}: the model takes ${model.inputDim} inputs; the page draws 28x28 = 784 pixels`);
  return bytes;
}

function samplesJson(): string {
  const ds = loadEmbeddedMnist();
  // Round robin over the classes (0, 1, ..., 9, 0, 1, ...), so the strip's first images cover every digit.
  const byClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
  for (let i = 0; i < ds.test.n; i++)
    if (byClass[ds.test.y[i]].length < SAMPLES_PER_CLASS) byClass[ds.test.y[i]].push(i);
  const rows: number[] = [];
  for (let j = 0; j < SAMPLES_PER_CLASS; j++) for (const c of byClass) if (j < c.length) rows.push(c[j]);
  const pixels = new Uint8Array(rows.length * 784);
  rows.forEach((r, j) => {
    for (let k = 0; k < 784; k++) pixels[j * 784 + k] = Math.round(ds.test.x[r * 784 + k] * 255);
  });
  return JSON.stringify({
    dim: 784,
    labels: rows.map((r) => ds.test.y[r]),
    pixels: Buffer.from(pixels).toString("base64"),
  });
}

/** Builds the page into `outDir` (needs esbuild, a development dependency, and the sources in src/web/). */
export async function buildWebApp(o: WebBuildOptions): Promise<WebBuildResult> {
  const src = join(PACKAGE_ROOT, "src/web");
  if (!existsSync(join(src, "page/main.ts")))
    fail("UNSUPPORTED", `building the page needs the sources in ${src}: run it from a checkout of mammals`);
  let esbuild: typeof import("esbuild");
  try {
    esbuild = await import("esbuild");
  } catch {
    return fail(
      "UNSUPPORTED",
      "building the page needs esbuild: run `npm install` in a checkout (it is a dev dependency)",
    );
  }
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true });
  const minify = o.minify ?? true;
  const common = {
    bundle: true,
    format: "esm" as const,
    platform: "browser" as const,
    target: "es2022",
    minify,
    write: false,
    logLevel: "silent" as const,
    legalComments: "none" as const,
  };
  const out = new Map<string, Uint8Array | string>();
  const [app, worker] = await Promise.all([
    esbuild.build({ ...common, entryPoints: [join(src, "page/main.ts")] }),
    esbuild.build({ ...common, entryPoints: [join(src, "worker/finetune-worker.ts")] }),
  ]);
  out.set("app.js", app.outputFiles![0].contents);
  out.set("finetune-worker.js", worker.outputFiles![0].contents);
  out.set("index.html", readFileSync(join(src, "static/index.html")));
  out.set("style.css", readFileSync(join(src, "static/style.css")));
  out.set("model.mammals", readWebModel(o.modelFile ?? SHIPPED_WEB_MODEL));
  out.set("samples.json", samplesJson());
  const hash = createHash("sha256");
  for (const [name, body] of [...out].sort(([a], [b]) => a.localeCompare(b))) hash.update(name).update(body);
  const version = hash.digest("hex").slice(0, 12);
  const assets = ["./", ...[...out.keys()].map((n) => (n === "index.html" ? "index.html" : n))];
  const sw = await esbuild.build({
    ...common,
    entryPoints: [join(src, "page/sw.ts")],
    define: { __MAMMALS_ASSETS__: JSON.stringify(assets), __MAMMALS_VERSION__: JSON.stringify(version) },
  });
  out.set("sw.js", sw.outputFiles![0].contents);
  const files: WebFile[] = [];
  for (const [name, body] of out) {
    writeFileSync(join(outDir, name), body);
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    files.push({ name, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length });
  }
  const jsGzipBytes = files.filter((f) => f.name.endsWith(".js")).reduce((s, f) => s + f.gzipBytes, 0);
  return {
    outDir,
    files,
    jsGzipBytes,
    budgetBytes: WEB_JS_BUDGET_BYTES,
    withinBudget: jsGzipBytes <= WEB_JS_BUDGET_BYTES,
    version,
  };
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".mammals": "application/octet-stream",
};

export interface WebServeOptions {
  /** Folder of built files (see buildWebApp). */
  dir: string;
  /** 0 picks a free port. */
  port: number;
  /** Default 127.0.0.1 (this machine only). */
  host?: string;
  /** Serve this model file as model.mammals instead of the folder's. */
  modelFile?: string;
}

export interface WebServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Serves a built page folder (GET/HEAD only, nothing outside the folder). */
export async function serveWebApp(o: WebServeOptions): Promise<WebServer> {
  const dir = resolve(o.dir);
  if (!existsSync(join(dir, "index.html")))
    fail(
      "BAD_FILE",
      `${dir}: no index.html; build the page first (npm run build:web, or mammals web --build)`,
    );
  const model = o.modelFile ? readWebModel(o.modelFile) : undefined;
  const server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (path.endsWith("/")) path += "index.html";
    const file = normalize(join(dir, path));
    const headers = {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      // Always revalidate: the service worker keeps the offline copy, the server the current one.
      "cache-control": "no-cache",
    };
    if (model && path === "/model.mammals") {
      res.writeHead(200, headers).end(req.method === "HEAD" ? undefined : model);
      return;
    }
    if (!file.startsWith(dir + sep) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, headers).end(req.method === "HEAD" ? undefined : readFileSync(file));
  });
  const host = o.host ?? "127.0.0.1";
  await new Promise<void>((ok, ko) => {
    server.once("error", (e) => ko(new Error(`cannot listen on ${host}:${o.port}: ${(e as Error).message}`)));
    server.listen(o.port, host, ok);
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export interface WorkerdBuild {
  dir: string;
  /** The workerd configuration (Cap'n Proto text) that serves the bundle. */
  config: string;
  workerBytes: number;
}

/**
 * Bundles the edge node's fetch handler (src/web/worker/edge-app.ts) for workerd: worker.js (one
 * ES module), the model as a data module, and config.capnp. The socket address is given when the
 * runtime starts (startWorkerd), so one build serves on any port.
 */
export async function buildWorkerdBundle(o: { outDir: string; modelFile?: string }): Promise<WorkerdBuild> {
  const esbuild = await import("esbuild");
  const dir = resolve(o.outDir);
  mkdirSync(dir, { recursive: true });
  const app = join(PACKAGE_ROOT, "src/web/worker/edge-app.ts");
  if (!existsSync(app)) fail("UNSUPPORTED", `bundling for workerd needs the sources (${app})`);
  const entry = [
    '// The model arrives as a workerd "data" module (an ArrayBuffer), declared in config.capnp.',
    'import model from "model.mammals";',
    `import { createEdgeApp } from ${JSON.stringify(app)};`,
    "let app;",
    "export default {",
    "  fetch(req, env) {",
    "    app ??= createEdgeApp({ modelBytes: new Uint8Array(model), upstreamUrl: env.UPSTREAM_URL || undefined });",
    "    return app.fetch(req);",
    "  },",
    "};",
  ].join("\n");
  const r = await esbuild.build({
    stdin: { contents: entry, resolveDir: dir, sourcefile: "workerd-entry.js", loader: "js" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    minify: true,
    write: false,
    external: ["model.mammals"],
    logLevel: "silent",
  });
  const worker = r.outputFiles![0].contents;
  writeFileSync(join(dir, "worker.js"), worker);
  writeFileSync(join(dir, "model.mammals"), readWebModel(o.modelFile ?? SHIPPED_WEB_MODEL));
  const config = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "edge", worker = .edgeWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "edge") ],
);

const edgeWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "model.mammals", data = embed "model.mammals"),
  ],
  bindings = [ (name = "UPSTREAM_URL", text = "") ],
  compatibilityDate = "2024-09-23",
);
`;
  writeFileSync(join(dir, "config.capnp"), config);
  return { dir, config: join(dir, "config.capnp"), workerBytes: worker.length };
}

export interface WorkerdProcess {
  url: string;
  process: ChildProcess;
  /** What workerd printed (for failures). */
  log(): string;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asked of the OS, then released for the runtime to take). */
export async function freePort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
  const addr = srv.address();
  await new Promise<void>((ok) => srv.close(() => ok()));
  return typeof addr === "object" && addr ? addr.port : fail("STATE", "no free port");
}

/**
 * Starts workerd (the `workerd` npm package's binary) on a bundle from buildWorkerdBundle, listening
 * on 127.0.0.1:`port` (default: a free one), and waits until it answers GET /stats (at most
 * `timeoutMs`). close() stops the process it started.
 */
export async function startWorkerd(o: {
  dir: string;
  port?: number;
  timeoutMs?: number;
}): Promise<WorkerdProcess> {
  const require = createRequire(import.meta.url);
  let bin: string;
  try {
    bin = (require("workerd") as { default: string }).default;
  } catch (e) {
    return fail("UNSUPPORTED", `the workerd package is not installed (${(e as Error).message}); npm install`);
  }
  const port = o.port ?? (await freePort());
  const child = spawn(bin, ["serve", "config.capnp", "--socket-addr", `http=127.0.0.1:${port}`], {
    cwd: o.dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (d) => (log += d));
  child.stderr?.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (o.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) fail("STATE", `workerd exited with code ${child.exitCode}: ${log}`);
    try {
      const r = await fetch(`${url}/stats`);
      if (r.ok) return { url, process: child, log: () => log, close };
    } catch {
      // not listening yet
    }
    await new Promise((ok) => setTimeout(ok, 100));
  }
  await close();
  return fail("STATE", `workerd did not answer on ${url} within ${o.timeoutMs ?? 20_000} ms: ${log}`);
}
