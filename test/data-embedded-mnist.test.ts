/**
 * The embedded digits now ship as two gzipped IDX files in data/ instead of the 41 MB `mnist`
 * dependency; loadDataset("mnist") must give the very same rows as reading that package did:
 * checked against the package itself (a devDependency) with the previous loader's algorithm, and
 * against a digest of the arrays recorded before the change.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadEmbeddedMnist } from "../src/data/datasets.node.js";
import type { LabeledSplit } from "../src/data/types.js";

/** sha256 of train.x, train.y, test.x, test.y as loaded from the mnist package before the change. */
const DIGEST_BEFORE = "362fc22cb95a3e5e699fbebf30fe91314a3139a3e96d5db82e4046153f873730";

function digest(splits: LabeledSplit[]): string {
  const h = createHash("sha256");
  for (const s of splits) {
    h.update(new Uint8Array(s.x.buffer, s.x.byteOffset, s.x.byteLength));
    h.update(s.y);
  }
  return h.digest("hex");
}

/** The previous loader, verbatim in substance: per-digit JSON, 80/20 split, digits interleaved. */
function fromMnistPackage(): { train: LabeledSplit; test: LabeledSplit } {
  const root = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));
  const perDigit: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    const values = (
      JSON.parse(readFileSync(join(root, "src", "digits", `${d}.json`), "utf8")) as { data: number[] }
    ).data;
    perDigit.push(Uint8Array.from(values, (v) => Math.round(v * 255)));
  }
  const counts = perDigit.map((a) => a.length / 784);
  const trainCounts = counts.map((c) => Math.round(c * 0.8));
  const nTrain = trainCounts.reduce((a, b) => a + b, 0);
  const nTest = counts.reduce((a, b) => a + b, 0) - nTrain;
  const split = (n: number): LabeledSplit => ({
    x: new Float32Array(n * 784),
    y: new Uint8Array(n),
    n,
    dim: 784,
  });
  const train = split(nTrain);
  const test = split(nTest);
  const put = (s: LabeledSplit, at: number, digit: number, sample: number) => {
    for (let j = 0; j < 784; j++) s.x[at * 784 + j] = perDigit[digit][sample * 784 + j] / 255;
    s.y[at] = digit;
  };
  let tr = 0;
  let te = 0;
  for (let s = 0; s < Math.max(...counts); s++)
    for (let d = 0; d < 10; d++) {
      if (s < trainCounts[d]) put(train, tr++, d, s);
      else if (s < counts[d]) put(test, te++, d, s);
    }
  return { train, test };
}

describe("embedded MNIST from data/", () => {
  const ds = loadEmbeddedMnist();

  it("has the same 8,000 + 2,000 rows, bit for bit, as the mnist package gave", () => {
    expect([ds.train.n, ds.test.n, ds.numClasses]).toEqual([8000, 2000, 10]);
    expect(digest([ds.train, ds.test])).toBe(DIGEST_BEFORE);
    const ref = fromMnistPackage();
    expect(Buffer.from(ds.train.x.buffer).equals(Buffer.from(ref.train.x.buffer))).toBe(true);
    expect(Buffer.from(ds.test.x.buffer).equals(Buffer.from(ref.test.x.buffer))).toBe(true);
    expect(ds.train.y).toEqual(ref.train.y);
    expect(ds.test.y).toEqual(ref.test.y);
  });

  it("mnist is no longer a runtime dependency", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8"));
    expect(pkg.dependencies?.mnist).toBeUndefined();
    expect(pkg.devDependencies?.mnist).toBeDefined();
  });
});
