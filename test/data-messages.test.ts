/**
 * Messages that used to point elsewhere now name the file or argument, what was expected and what
 * arrived: index.add(5, vec), an all-duplicate catalog in analyze, an edited model header, and
 * the WebAssembly kernel's fallback under a strict Content-Security-Policy (said once, queryable).
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { makeCatalog } from "../src/caching/catalog.js";
import { analyzeCatalog } from "../src/caching/geometry.js";
import { type MammalsWarning, setWarningHandler } from "../src/core/warnings.js";
import { createIndex } from "../src/index/factory.js";
import { readModelFile, writeModelFile } from "../src/models/io/files.node.js";
import { createModel } from "../src/models/registry.js";
import { errorOf } from "./error-fixtures.js";
import "../src/models/all.js";
import { tempDir } from "./cli-harness.js";

const dir = tempDir("mammals-messages-");

describe("messages", () => {
  it("index.add(5, vec) says ids are an array and shows the call to write", () => {
    const index = createIndex("flat", 2);
    const e = errorOf(() => index.add(5 as never, Float32Array.from([1, 2])));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(
      /flat\.add: ids must be an array of ids .* got the number 5; for one id write add\(\[5\], vector\)/,
    );
    expect(errorOf(() => index.remove(7 as never)).message).toMatch(/remove\(\[7\]\)/);
  });

  it("analyze on an all-duplicate catalog is a clear error, not TwoNN Infinity and MLE NaN", () => {
    const v = new Float32Array(50 * 3).fill(0.5);
    const e = errorOf(() => analyzeCatalog(makeCatalog("dups.fvecs", v, 3), { k: 5 }));
    expect(e.code).toBe("INVALID_ARGUMENT");
    expect(e.message).toMatch(
      /dups\.fvecs: every one of the 50 sampled objects has a duplicate at distance 0/,
    );
  });

  it("an edited model header is reported with the file's path", () => {
    const p = join(dir, "edited.mammals");
    writeModelFile(p, createModel("mlp:32", { inputDim: 784, numClasses: 10 }, 1));
    const text = readFileSync(p).toString("latin1");
    for (const [from, to] of [
      ['"spec":"mlp:32"', '"spec":"mlp:33"'],
      ['"inputDim":784', '"inputDim":785'],
      ['"spec":"mlp:32"', '"spec":"abc:32"'],
    ]) {
      writeFileSync(p, Buffer.from(text.replace(from, to), "latin1"));
      const e = errorOf(() => readModelFile(p));
      expect(e.code).toBe("BAD_FILE");
      expect(e.message.startsWith(`${p}: `), e.message).toBe(true);
    }
  });

  it("the WebAssembly kernel refused by a strict CSP: one warning and a queryable reason", async () => {
    vi.resetModules();
    const csp = vi.spyOn(WebAssembly, "Module").mockImplementation(() => {
      throw new WebAssembly.CompileError("WebAssembly.Module(): Wasm code generation disallowed by embedder");
    });
    const seen: MammalsWarning[] = [];
    const warnings = await import("../src/core/warnings.js");
    const previous = warnings.setWarningHandler((w) => seen.push(w));
    try {
      const wasm = await import("../src/models/engine/wasm-gemm.js");
      const matmul = await import("../src/models/engine/matmul.js");
      expect(wasm.wasmGemm()).toBeNull();
      expect(matmul.activeGemmBackend()).toBe("js");
      expect(wasm.wasmKernelUnavailable()).toMatch(/disallowed by embedder/);
      wasm.wasmGemm();
    } finally {
      warnings.setWarningHandler(previous);
      csp.mockRestore();
      vi.resetModules();
    }
    expect(seen.map((w) => w.code)).toEqual(["MAMMALS_WASM_FALLBACK"]);
    expect(seen[0].message).toMatch(/JavaScript kernel, about 2x slower.*wasm-unsafe-eval/);
    setWarningHandler(undefined);
  });
});
