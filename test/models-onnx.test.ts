/**
 * ONNX round trip: an MLP exported by our hand-written protobuf writer, run by onnxruntime through
 * OnnxModel, gives the native model's probabilities and embeddings; bad files and bad options get
 * clear errors. Skipped when the optional onnxruntime-node package is not installed.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ErrorCode, MammalsError } from "../src/core/errors.js";
import { Rng } from "../src/core/rng.js";
import { runExportOnnx } from "../src/jobs/export-onnx.node.js";
import type { Sequential } from "../src/models/engine/network.js";
import { quantizeForDevice } from "../src/models/finetune/run.js";
import { writeModelFile } from "../src/models/io/files.node.js";
import { OnnxModel } from "../src/models/io/onnx.node.js";
import { denseLayersOf, exportMlpOnnx } from "../src/models/io/onnx-export.js";
import { createModel } from "../src/models/registry.js";
import type { Model } from "../src/models/types.js";

const hasOrt = (() => {
  try {
    createRequire(import.meta.url).resolve("onnxruntime-node");
    return true;
  } catch {
    return false;
  }
})();

const dir = mkdtempSync(join(tmpdir(), "mammals-onnx-"));
const open: OnnxModel[] = [];
afterAll(async () => {
  for (const m of open) await m.close();
});

async function load(path: string | Uint8Array, opts = {}): Promise<OnnxModel> {
  const m = await OnnxModel.load(path, opts);
  open.push(m);
  return m;
}

function inputs(n: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * dim }, () => rng.next());
}

function expectClose(a: Float32Array, b: Float32Array, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  expect(worst).toBeLessThanOrEqual(tol);
}

async function expectError(p: Promise<unknown> | (() => unknown), code: ErrorCode, message: RegExp) {
  let caught: unknown;
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MammalsError);
  expect((caught as MammalsError).code).toBe(code);
  expect((caught as MammalsError).message).toMatch(message);
}

/** Native vs ONNX on n rows, batch and single-example paths. */
async function roundTrip(native: Model, file: string) {
  const onnx = await load(file);
  expect([onnx.inputDim, onnx.embedDim, onnx.numClasses]).toEqual([
    native.inputDim,
    native.embedDim,
    native.numClasses,
  ]);
  const n = 37;
  const x = inputs(n, native.inputDim, 3);
  expectClose(onnx.predictProbaBatch(x, n), native.predictProbaBatch(x, n));
  expectClose(onnx.embedBatch(x, n), native.embedBatch(x, n));
  const row = x.subarray(0, native.inputDim);
  const both = onnx.embedAndPredict(row);
  expectClose(both.proba, native.predictProba(row));
  expectClose(both.embedding, native.embed(row));
  expectClose(await onnx.predictProbaBatchAsync(x, n), native.predictProbaBatch(x, n));
  return onnx;
}

describe.skipIf(!hasOrt)("ONNX export and OnnxModel", () => {
  for (const spec of ["mlp:16,8", "mlp:32", "logreg"])
    it(`${spec}: exported file runs in onnxruntime with the native outputs (within 1e-5)`, async () => {
      const native = createModel(spec, { inputDim: 20, numClasses: 5 }, 7) as Sequential;
      const modelFile = join(dir, `${spec.replace(/[:,]/g, "_")}.mammals`);
      writeModelFile(modelFile, native);
      const out = join(dir, `${spec.replace(/[:,]/g, "_")}.onnx`);
      const r = runExportOnnx({ input: modelFile, out });
      expect(r.opset).toBe(13);
      const onnx = await roundTrip(native, out);
      expect(onnx.kind).toBe("onnx");
    });

  it("an exported int8 model carries its dequantized weights", async () => {
    const native = createModel("mlp:8", { inputDim: 12, numClasses: 3 }, 2);
    const calib = { x: inputs(50, 12, 5), y: new Uint8Array(50), n: 50, dim: 12 };
    const q = quantizeForDevice(native, calib, 50);
    const file = join(dir, "q.onnx");
    // the int8 model quantizes activations, the export does not: compare with the float network instead
    writeFileSync(file, exportMlpOnnx(denseLayersOf(q)));
    const onnx = await load(file);
    const x = inputs(10, 12, 9);
    const p = onnx.predictProbaBatch(x, 10);
    const ref = native.predictProbaBatch(x, 10);
    for (let i = 0; i < p.length; i++) expect(Math.abs(p[i] - ref[i])).toBeLessThan(0.05);
  });

  it("a model with a fixed batch size is fed in zero-padded chunks", async () => {
    const native = createModel("mlp:8", { inputDim: 5, numClasses: 3 }, 4);
    const m = await load(exportMlpOnnx(denseLayersOf(native), { batchSize: 4 }));
    expect(m.fixedBatch).toBe(4);
    const x = inputs(10, 5, 8);
    expectClose(m.predictProbaBatch(x, 10), native.predictProbaBatch(x, 10));
    expectClose(m.embedBatch(x, 10), native.embedBatch(x, 10));
    expectClose(m.predictProba(x.subarray(0, 5)), native.predictProba(x.subarray(0, 5)));
  });

  it("softmax option turns a logits output into probabilities; output names are configurable", async () => {
    const native = createModel("mlp:6", { inputDim: 4, numClasses: 3 }, 1);
    const file = join(dir, "soft.onnx");
    writeFileSync(file, exportMlpOnnx(denseLayersOf(native)));
    const m = await load(file, { probabilities: "embedding", embedding: "embedding", softmax: true });
    const x = inputs(1, 4, 4);
    const e = native.embed(x);
    const max = Math.max(...e);
    const sum = e.reduce((s, v) => s + Math.exp(v - max), 0);
    expectClose(
      m.predictProba(x),
      e.map((v) => Math.exp(v - max) / sum),
    );
    expectClose(m.embed(x), e);
  });

  it("malformed or missing files and bad options get clear errors", async () => {
    await expectError(
      load(new Uint8Array([8, 1, 18, 3, 1, 2])),
      "BAD_FILE",
      /could not load it as an ONNX model/,
    );
    const junk = join(dir, "junk.onnx");
    writeFileSync(junk, "this is not protobuf");
    await expectError(load(junk), "BAD_FILE", /junk\.onnx: onnxruntime could not load/);
    await expectError(load(join(dir, "missing.onnx")), "BAD_FILE", /no such \.onnx file/);
    const native = createModel("mlp:4", { inputDim: 3, numClasses: 2 }, 1);
    const good = exportMlpOnnx(denseLayersOf(native));
    await expectError(
      load(good, { probabilities: "scores" }),
      "BAD_FILE",
      /no probabilities output named "scores"; outputs are probabilities, embedding/,
    );
    await expectError(load(good, { input: "pixels" }), "BAD_FILE", /no input named "pixels"/);
    const m = await load(good);
    await expectError(
      () => m.predictProba(new Float32Array(2)),
      "DIMENSION_MISMATCH",
      /expected 3 values, got 2/,
    );
    await expectError(
      () => m.predictProba(new Float32Array([1, Number.NaN, 0])),
      "INVALID_ARGUMENT",
      /value 1 is NaN/,
    );
    await expectError(
      () => m.predictProbaBatch(new Float32Array(5), 2),
      "DIMENSION_MISMATCH",
      /expected 2x3 = 6 values/,
    );
    await m.close();
    await expectError(() => m.predictProba(new Float32Array(3)), "STATE", /after close/);
  });

  it("export rejects inconsistent layer chains", () => {
    const W = new Float32Array(6);
    expect(() =>
      exportMlpOnnx([
        { W, b: new Float32Array(2), inDim: 3, outDim: 2, relu: true },
        { W, b: new Float32Array(2), inDim: 3, outDim: 2, relu: false },
      ]),
    ).toThrow(/layer 0 outputs 2 features but layer 1 expects 3/);
    expect(() => exportMlpOnnx([{ W, b: new Float32Array(1), inDim: 3, outDim: 2, relu: false }])).toThrow(
      /b has 1 values, expected 2/,
    );
    expect(() => exportMlpOnnx([])).toThrow(/at least one dense layer/);
  });
});
