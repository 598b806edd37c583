/**
 * Fuzzing the model file reader: MAMMALS_FUZZ_RUNS mutated model files (default 10,000, seeded;
 * see fuzz-harness.ts) of every family (logreg, mlp, projection with and without a dense head,
 * and their int8 forms), each loaded through loadModel: a clean load or a MammalsError. The
 * checksum covers the tensors, not the JSON header, so header edits reach every family's loader.
 */
import { describe, expect, it } from "vitest";
import { quantizeModel } from "../src/models/int8/family.js";
import { loadModel, saveModel, trainModel } from "../src/models/registry.js";
import "../src/models/all.js";
import { FUZZ_RUNS, fuzz } from "./fuzz-harness.js";

const n = 30;
const split = {
  x: Float32Array.from({ length: n * 6 }, (_, i) => ((i * 37) % 11) / 11),
  y: Uint8Array.from({ length: n }, (_, i) => i % 3),
  n,
  dim: 6,
};

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const spec of ["logreg", "mlp:4,3", "projection:T=4,d=2", "projection:T=4,d=2,fc=5,center=true"]) {
    const { model } = trainModel(spec, split, 3, { epochs: 1, seed: 1 });
    out.push(saveModel(model), saveModel(quantizeModel(model, split)));
  }
  return out;
}

describe(`fuzzing model files (${FUZZ_RUNS} mutated files)`, () => {
  it("every mutated model file loads cleanly or fails with a MammalsError", () => {
    const files = seeds();
    for (const f of files) expect(loadModel(f).inputDim).toBe(6);
    const stats = fuzz({
      seeds: files,
      // The JSON header is most of these small files; aim at it.
      header: 700,
      parse: (bytes) => {
        const m = loadModel(bytes, "fuzz.mammals");
        return m.bytes;
      },
      // A loaded model's working buffers may exceed its file; bounded by the header checks.
      expansion: 64,
    });
    expect(stats.parsed).toBeGreaterThan(0);
    expect(stats.rejected.get("BAD_FILE") ?? 0).toBeGreaterThan(0);
  });
});
