import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isMammalsError } from "../src/core/errors.js";
import { loadDataset } from "../src/data/datasets.node.js";
import { takeRows } from "../src/data/types.js";
import { runTrain } from "../src/jobs/train.node.js";
import {
  crc32,
  createModel,
  decodeModelFile,
  encodeModelFile,
  loadModel,
  MODEL_MAGIC,
  type ModelFile,
  runTraining,
  type Sequential,
  saveModel,
} from "../src/models/all.js";
import { readModelFile, writeModelFile } from "../src/models/io/files.node.js";

const dir = mkdtempSync(join(tmpdir(), "mammals-models-format-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectBadFile(f: () => unknown, pattern?: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isMammalsError(e), String(e)).toBe(true);
    expect((e as { code: string }).code, (e as Error).message).toBe("BAD_FILE");
    if (pattern) expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error("expected a BAD_FILE error");
}

const ds = loadDataset("mnist");
const sample = takeRows(
  ds.test,
  Array.from({ length: 300 }, (_, i) => i),
);

function trainedMlp(): Sequential {
  const net = createModel("mlp:24,12", { inputDim: 784, numClasses: 10 }, 4) as Sequential;
  runTraining(
    net,
    takeRows(
      ds.train,
      Array.from({ length: 500 }, (_, i) => i),
    ),
    { epochs: 2 },
  );
  net.meta = { note: "round trip", classNames: ["0", "1"] };
  return net;
}

describe("model file round trip", () => {
  const net = trainedMlp();

  it("reloads with bit-exact outputs, the same spec, bytes and metadata", () => {
    const bytes = saveModel(net);
    expect(bytes.length % 8).toBe(0);
    expect(String.fromCharCode(...bytes.subarray(0, 8))).toBe(MODEL_MAGIC);
    const back = loadModel(bytes) as Sequential;
    expect([back.kind, back.spec, back.inputDim, back.embedDim, back.numClasses, back.bytes]).toEqual([
      net.kind,
      net.spec,
      net.inputDim,
      net.embedDim,
      net.numClasses,
      net.bytes,
    ]);
    expect(back.meta).toEqual(net.meta);
    const p1 = net.predictProbaBatch(sample.x, sample.n);
    const p2 = back.predictProbaBatch(sample.x, sample.n);
    expect(p1.every((v, i) => Object.is(v, p2[i]))).toBe(true);
    const e1 = net.embedBatch(sample.x, sample.n);
    const e2 = back.embedBatch(sample.x, sample.n);
    expect(e1.every((v, i) => Object.is(v, e2[i]))).toBe(true);
    const x0 = sample.x.subarray(0, 784);
    expect(Array.from(back.predictProba(x0))).toEqual(Array.from(net.predictProba(x0)));
    // Re-encoding the loaded model reproduces the file byte for byte.
    expect(Buffer.from(saveModel(back)).equals(Buffer.from(bytes))).toBe(true);
  });

  it("round-trips through files, for logreg too", () => {
    const path = join(dir, "lr.mammals");
    const lr = createModel("logreg", { inputDim: 784, numClasses: 10 }, 9);
    const size = writeModelFile(path, lr);
    expect(size).toBe(readFileSync(path).length);
    const back = readModelFile(path);
    expect(back.spec).toBe("logreg");
    expect(Array.from(back.predictProbaBatch(sample.x.subarray(0, 5 * 784), 5))).toEqual(
      Array.from(lr.predictProbaBatch(sample.x.subarray(0, 5 * 784), 5)),
    );
    expectBadFile(() => readModelFile(join(dir, "missing.mammals")), /no such model file/);
    expectBadFile(() => readModelFile(dir), /directory/);
  });

  it("stores every dtype with metadata, 8-byte aligned (what int8 and projection models need)", () => {
    const file: ModelFile = {
      family: "test-family",
      spec: "test:a=1",
      inputDim: 3,
      numClasses: 2,
      embedDim: 5,
      meta: { seed: 123456789, scales: [0.5, 0.25], nested: { T: 60, d: 10 } },
      tensors: [
        { name: "q", shape: [3, 1], data: Int8Array.from([-128, 0, 127]) },
        { name: "bits", shape: [2], data: Uint32Array.from([0xffffffff, 1]) },
        { name: "acc", shape: [1], data: Int32Array.from([-(2 ** 31)]) },
        { name: "h", shape: [3], data: Int16Array.from([-1, 2, 3]) },
        { name: "u", shape: [0], data: new Uint8Array(0) },
        { name: "d", shape: [2], data: Float64Array.from([Math.PI, -0]) },
        { name: "f", shape: [1, 2], data: Float32Array.from([1.5, Number.NaN]) },
      ],
    };
    const bytes = encodeModelFile(file);
    const back = decodeModelFile(bytes);
    expect(back.meta).toEqual(file.meta);
    expect(back.tensors.map((t) => [t.name, t.shape, t.data.constructor.name, Array.from(t.data)])).toEqual(
      file.tensors.map((t) => [t.name, t.shape, t.data.constructor.name, Array.from(t.data)]),
    );
    const header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(16, 16 + new DataView(bytes.buffer).getUint32(8, true))),
    );
    for (const t of header.tensors) expect(t.offset % 8).toBe(0);
    expect(header.tensors.map((t: { dtype: string }) => t.dtype)).toEqual([
      "i8",
      "u32",
      "i32",
      "i16",
      "u8",
      "f64",
      "f32",
    ]);
    // An unregistered family decodes but does not load.
    expectBadFile(() => loadModel(bytes), /family "test-family" is not registered/);
  });

  it("checks the CRC-32 against the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });
});

describe("bad model files are refused with clear errors", () => {
  const bytes = saveModel(trainedMlp());

  it("truncated anywhere", () => {
    for (const cut of [0, 5, 8, 15, 16, 40, 200, bytes.length - 1000, bytes.length - 8, bytes.length - 1])
      expectBadFile(() => loadModel(bytes.slice(0, cut)), cut < 8 ? /magic/ : /truncated/);
  });

  it("wrong magic, trailing bytes, flipped data bits, broken header", () => {
    const wrongMagic = bytes.slice();
    wrongMagic[0] = 0x58;
    expectBadFile(() => loadModel(wrongMagic), /not a mammals model file/);
    const longer = new Uint8Array(bytes.length + 8);
    longer.set(bytes);
    expectBadFile(() => loadModel(longer), /8 unexpected bytes after the last tensor/);
    const flipped = bytes.slice();
    flipped[bytes.length - 100] ^= 0x10;
    expectBadFile(() => loadModel(flipped), /checksum/);
    const badJson = bytes.slice();
    badJson[16] = 0x7d; // "}" where "{" was
    expectBadFile(() => loadModel(badJson), /not valid UTF-8 JSON/);
    expectBadFile(() => loadModel(new Uint8Array(0)), /magic/);
  });

  it("headers inconsistent with the data or with the spec", () => {
    const file = decodeModelFile(bytes);
    // Spec that needs other shapes than the stored tensors.
    expectBadFile(
      () => loadModel(encodeModelFile({ ...file, spec: "mlp:25,12" })),
      /dense0\.weight" is f32 \[24, 784\]/,
    );
    // A missing tensor.
    expectBadFile(() => loadModel(encodeModelFile({ ...file, tensors: file.tensors.slice(1) })), /missing/);
    // A tensor of the wrong dtype.
    const asI8 = file.tensors.map((t, i) => (i === 1 ? { ...t, data: new Int8Array(t.data.length) } : t));
    expectBadFile(() => loadModel(encodeModelFile({ ...file, tensors: asI8 })), /dense0\.bias" is i8/);
    // Header dimensions that disagree with the spec.
    expectBadFile(
      () => loadModel(encodeModelFile({ ...file, embedDim: 13 })),
      /header says 784 inputs, 13-d embedding/,
    );
    // Family and spec that disagree.
    expectBadFile(() => loadModel(encodeModelFile({ ...file, family: "logreg" })), /spec "mlp:24,12"/);
    // Hand-edited header: a byteLength that does not match the shape (same JSON length, so offsets hold).
    const text = new TextDecoder().decode(bytes);
    const i = text.indexOf('"byteLength":75264');
    expect(i).toBeGreaterThan(0);
    const edited = bytes.slice();
    edited.set(new TextEncoder().encode('"byteLength":75265'), i);
    expectBadFile(() => loadModel(edited), /byteLength 75265 does not match f32 \[24, 784\]/);
  });
});

describe("mammals train", () => {
  it("trains, evaluates, measures and writes a loadable model", () => {
    const out = join(dir, "cli.mammals");
    const r = runTrain({ model: "mlp:16", dataset: "mnist", out, train: { epochs: 2, batchSize: 64 } });
    expect(r.model).toBe("mlp:16");
    expect(r.testAccuracy).toBeGreaterThan(0.8);
    expect(r.bytes).toBe((784 * 16 + 16 + 16 * 10 + 10) * 4);
    expect(r.usPerExample).toBeGreaterThan(0);
    expect(r.trainS).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(true);
    const back = readModelFile(out);
    expect(back.spec).toBe("mlp:16");
    writeFileSync(out, readFileSync(out).subarray(0, 100));
    expectBadFile(() => readModelFile(out), /truncated/);
  });
});
