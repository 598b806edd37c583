/**
 * The page's edge node without a browser: the shipped model, one correction, a near-duplicate
 * answered from memory with the corrected label, a far input left to the model, the memory rebuilt
 * from its stored images, the memory file refusing malformed input, and the canvas preprocessing.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEmbeddedMnist } from "../src/data/datasets.node.js";
import { row } from "../src/data/types.js";
import { loadModel } from "../src/models/registry.js";
import { DeviceNode } from "../src/web/core/device-node.js";
import { decodeMemoryFile, encodeMemoryFile } from "../src/web/core/memory-file.js";
import { SIDE, toModelInput } from "../src/web/core/preprocess.js";

const ROOT = join(import.meta.dirname, "..");
// A plain Uint8Array copy: the model decoder copies tensors with .slice(), which on a Node Buffer is a view.
const model = loadModel(
  new Uint8Array(readFileSync(join(ROOT, "data/web/mnist-mlp64.mammals"))),
  "web model",
);
const ds = loadEmbeddedMnist();
const reference = { x: ds.test.x.subarray(0, 100 * 784), labels: ds.test.y.subarray(0, 100), n: 100 };

function node(): DeviceNode {
  return new DeviceNode({ model, reference });
}

/** A copy of x with a little seeded noise (a near-duplicate drawing). */
function jitter(x: Float32Array, seed: number): Float32Array {
  let s = seed;
  return x.map((v) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return Math.min(1, Math.max(0, v + (s / 2 ** 31 - 0.5) * 0.1));
  });
}

describe("DeviceNode (the page's edge node)", () => {
  it("learns a correction at once: a near-duplicate is answered from memory with the corrected label", () => {
    const d = node();
    const x = row(ds.test, 500);
    const first = d.predictLocal(x);
    expect(first.decidedBy).toBe("model");
    const wrong = (first.label + 3) % 10;
    const r = d.correct(first.id, wrong);
    expect(r.admitted).toBe(true);
    expect(r.added).toHaveLength(1);
    const again = d.predictLocal(jitter(x, 7));
    expect(again.label).toBe(wrong);
    expect(again.decidedBy).toBe("memory");
    expect(again.neighbours[0].label).toBe(wrong);
    expect(again.neighbours[0].pixels).toHaveLength(784);
    // A digit of another class, far from the correction, stays the model's.
    let far = 0;
    while (ds.test.y[far] === ds.test.y[500]) far++;
    const other = d.predictLocal(row(ds.test, far));
    expect(other.decidedBy).toBe("model");
  });

  it("rebuilds the memory from its stored images (reload, import, new model)", () => {
    const d = node();
    const x = row(ds.test, 501);
    const a = d.predictLocal(x);
    d.correct(a.id, (a.label + 1) % 10);
    const file = encodeMemoryFile({ inputDim: 784, numClasses: 10, examples: d.storedExamples() });
    const e = node();
    expect(e.restore(decodeMemoryFile(file, { inputDim: 784, numClasses: 10 }).examples)).toBe(1);
    expect(e.predictLocal(x).label).toBe((a.label + 1) % 10);
  });

  it("refuses malformed memory files with a message saying what was expected", () => {
    const shape = { inputDim: 784, numClasses: 10 };
    expect(() => decodeMemoryFile("nope", shape)).toThrow(/not JSON/);
    expect(() => decodeMemoryFile('{"format":"x"}', shape)).toThrow(/mammals-web-memory/);
    const ok = JSON.parse(encodeMemoryFile({ ...shape, examples: [] }));
    expect(() => decodeMemoryFile(JSON.stringify({ ...ok, inputDim: 10 }), shape)).toThrow(/takes 784/);
    const bad = { ...ok, examples: [{ label: 12, source: "feedback", pixels: "" }] };
    expect(() => decodeMemoryFile(JSON.stringify(bad), shape)).toThrow(/label in \[0, 10\)/);
    const short = { ...ok, examples: [{ label: 1, source: "feedback", pixels: btoa("abc") }] };
    expect(() => decodeMemoryFile(JSON.stringify(short), shape)).toThrow(/784 pixel bytes, got 3/);
  });

  it("preprocesses a drawing like MNIST: ink fit to 20x20, centred by mass", () => {
    const w = 200;
    const ink = new Float32Array(w * w);
    for (let y = 20; y < 120; y++) for (let x = 150; x < 170; x++) ink[y * w + x] = 1; // a bar, off-centre
    const x = toModelInput(ink, w, w);
    let mass = 0;
    let cx = 0;
    let cy = 0;
    let rows = 0;
    for (let y = 0; y < SIDE; y++) {
      let any = false;
      for (let c = 0; c < SIDE; c++) {
        const v = x[y * SIDE + c];
        mass += v;
        cx += v * c;
        cy += v * y;
        if (v > 0) any = true;
      }
      if (any) rows++;
    }
    expect(rows).toBe(20);
    expect(Math.abs(cx / mass - 13.5)).toBeLessThanOrEqual(1);
    expect(Math.abs(cy / mass - 13.5)).toBeLessThanOrEqual(1);
    expect(toModelInput(new Float32Array(100), 10, 10).every((v) => v === 0)).toBe(true);
  });
});
