/**
 * Trains the model shipped with the web page (data/web/mnist-mlp64.mammals) from the embedded MNIST
 * digits and writes it in the mammals binary model format.
 *
 * Digits drawn with a mouse or a finger are bolder and less upright than the scanned MNIST ones, so
 * the training rows are the originals plus three deterministic variants of each (thicker
 * strokes, rotated by +-12 degrees); the test accuracy printed is on the untouched test split.
 *
 *   npx tsx scripts/train-web-model.ts [--model mlp:64] [--epochs 12] [--out data/web/mnist-mlp64.mammals]
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { loadEmbeddedMnist } from "../src/data/datasets.node.js";
import type { LabeledSplit } from "../src/data/types.js";
import { trainAndMeasure } from "../src/jobs/train.js";
import { shiftSplit } from "../src/models/finetune/shift.js";
import { writeModelFile } from "../src/models/io/files.node.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const spec = arg("model", "mlp:64");
const epochs = Number(arg("epochs", "12"));
const out = arg("out", "data/web/mnist-mlp64.mammals");

function concat(splits: LabeledSplit[]): LabeledSplit {
  const n = splits.reduce((s, p) => s + p.n, 0);
  const dim = splits[0].dim;
  const x = new Float32Array(n * dim);
  const y = new Uint8Array(n);
  let at = 0;
  for (const s of splits) {
    x.set(s.x, at * dim);
    y.set(s.y, at);
    at += s.n;
  }
  return { x, y, n, dim };
}

const ds = loadEmbeddedMnist();
const shape = ds.shape!;
const train = concat([
  ds.train,
  shiftSplit(ds.train, shape, "thicken:r=1"),
  shiftSplit(ds.train, shape, "rotate:deg=12"),
  shiftSplit(ds.train, shape, "rotate:deg=-12"),
]);
const t0 = performance.now();
const r = trainAndMeasure(spec, { ...ds, train }, { epochs, seed: 1, patience: 3 });
mkdirSync(dirname(out), { recursive: true });
const bytes = writeModelFile(out, r.model);
console.log(
  `${r.model.spec}: test accuracy ${(r.testAccuracy * 100).toFixed(2)}% on ${ds.test.n} embedded test digits, ` +
    `${r.usPerExample.toFixed(1)} µs/example, trained on ${train.n} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
    `wrote ${out} (${bytes} bytes)`,
);
