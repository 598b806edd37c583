/**
 * Every built-in model family is reachable from the registry's entry points, without relying on an
 * import side effect a bundler may drop: a browser bundle whose app imports only `loadModel` from
 * the browser entry (package.json `sideEffects` honoured, as a consumer's bundler does) loads a
 * projection and an int8 model file. Also: `loadModel` given a Node Buffer (a view into Node's
 * shared pool, as `readFileSync` returns small files) reads the tensors from the right bytes.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { loadModel } from "../src/models/registry.js";
import { tempDir } from "./cli-harness.js";

const ROOT = join(import.meta.dirname, "..");
const FIXTURES = join(import.meta.dirname, "fixtures", "models");
const dir = tempDir("mammals-models-registration-");

describe("model families registered explicitly", () => {
  it("a loadModel-only browser bundle loads projection and int8 model files", async () => {
    const entry = join(dir, "load-only.mjs");
    const files = ["projection-fc.mammals", "int8-projection.mammals", "int8-mlp.mammals", "mlp.mammals"];
    writeFileSync(
      entry,
      `import { loadModel } from ${JSON.stringify(join(ROOT, "src", "browser.ts"))};
       import { readFileSync } from "node:fs";
       const out = [];
       for (const f of ${JSON.stringify(files.map((f) => join(FIXTURES, f)))}) {
         try { const m = loadModel(new Uint8Array(readFileSync(f)), f); out.push(m.spec); }
         catch (e) { out.push("ERROR " + e.message); }
       }
       console.log(JSON.stringify(out));`,
    );
    const outfile = join(dir, "load-only.bundle.mjs");
    // platform "neutral" with node:fs external: the app reads its fixtures with Node, the library
    // part is bundled exactly as for a browser (browser entry, sideEffects honoured, tree-shaken).
    await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "browser",
      external: ["node:fs"],
      outfile,
      logLevel: "silent",
    });
    const r = spawnSync(process.execPath, [outfile], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    const specs = JSON.parse(r.stdout) as string[];
    expect(specs.filter((s) => s.startsWith("ERROR"))).toEqual([]);
    expect(specs[0]).toMatch(/^projection:/);
    expect(specs[1]).toMatch(/^int8:projection:/);
    expect(specs[2]).toMatch(/^int8:mlp:/);
  });
});

describe("loadModel and Node Buffers", () => {
  it("a Buffer from readFileSync (a view into the shared pool) gives the same outputs as a copy", () => {
    for (const f of ["mlp.mammals", "logreg.mammals", "int8-mlp.mammals", "projection-fc.mammals"]) {
      const path = join(FIXTURES, f);
      const copy = loadModel(new Uint8Array(readFileSync(path)), path);
      // A small Buffer lives at a non-zero offset of a larger pool ArrayBuffer: prepend one so it
      // does even when the pool is not used for this read.
      const pooled = Buffer.concat([Buffer.from([1, 2, 3]), readFileSync(path)]).subarray(3);
      expect(pooled.byteOffset).toBeGreaterThan(0);
      const fromBuffer = loadModel(pooled, path);
      const x = Float32Array.from({ length: copy.inputDim }, (_, i) => ((i * 37) % 11) / 11);
      const a = copy.predictProba(x);
      const b = fromBuffer.predictProba(x);
      expect(Array.from(b).every(Number.isFinite), f).toBe(true);
      expect(Array.from(b), f).toEqual(Array.from(a));
    }
  });
});

describe("deserializeIndex and Node Buffers", () => {
  it("a snapshot read back as a pooled Buffer finds the same neighbours", async () => {
    const { createIndex, deserializeIndex } = await import("../src/index/factory.js");
    for (const spec of ["flat", "flat-i8", "hnsw-ts:M=8"]) {
      const index = createIndex(spec, 4);
      const data = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i * 1.7));
      index.add(
        Array.from({ length: 10 }, (_, i) => i + 100),
        data,
      );
      const pooled = Buffer.concat([Buffer.from([9, 9, 9]), Buffer.from(index.serialize())]).subarray(3);
      const q = Float32Array.from([0.1, 0.5, -0.2, 0.3]);
      const copy = deserializeIndex(pooled);
      expect(Array.from(copy.search(q, 3).ids), spec).toEqual(Array.from(index.search(q, 3).ids));
    }
  });
});
