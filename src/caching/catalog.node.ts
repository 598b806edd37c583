/**
 * Node loader for simulator catalogs from a spec:
 *   fashion-mnist | mnist       the dataset's train split, pixels scaled to [0, 1]
 *   FILE.fvecs (or .bvecs, .npy, .csv ... any vector file data/ reads), rows in file order
 *   gauss:n=..,dim=..,seed=..[,clusters=C,spread=S]
 *   DIR                         a directory of IDX files (train split)
 * Index "auto" is exact `flat` for small catalogs (n * dim <= 2e6) and `hnsw` otherwise.
 */
import { existsSync, statSync } from "node:fs";
import { fail } from "../core/errors.js";
import { splitSpec } from "../core/spec.js";
import { loadDataset } from "../data/datasets.node.js";
import { vectorFormatOf } from "../data/vector-formats.js";
import { readVectorFile } from "../data/vectors-file.node.js";
import "../index/factory.node.js";
import { gaussVectors, makeCatalog } from "./catalog.js";
import { registerInputSource } from "./traces.js";
import type { Catalog } from "./types.js";

export const CATALOG_HELP =
  "fashion-mnist | mnist (train split, pixels / 255) | FILE.fvecs (any vector file) | gauss:n=..,dim=..,seed=.. | IDX DIR";

export const AUTO_HNSW = "hnsw:M=16,efConstruction=64,efSearch=64,threads=2";

export interface CatalogOptions {
  /** Index spec or "auto". */
  index?: string;
  /** Directory searched first for dataset files (--data). */
  dataDir?: string;
}

export function loadCatalogVectors(
  spec: string,
  dataDir?: string,
): { name: string; vectors: Float32Array; dim: number } {
  const s = spec.trim();
  if (s === "mnist" || s === "fashion-mnist") {
    const ds = loadDataset(s, { dataDir });
    return { name: s, vectors: ds.train.x, dim: ds.train.dim };
  }
  const { name, rest } = splitSpec(s);
  if (name === "gauss") {
    const g = gaussVectors(rest);
    return { name: g.canonical, vectors: g.vectors, dim: g.dim };
  }
  if (existsSync(s) && statSync(s).isDirectory()) {
    const ds = loadDataset(s, { dataDir });
    return { name: s, vectors: ds.train.x, dim: ds.train.dim };
  }
  // A name that looks like a vector file is read as one, so a missing file says so.
  if (existsSync(s) || looksLikeVectorFile(s)) {
    const f = readVectorFile(s, undefined, { label: "catalog" });
    if (f.n === 0) fail("BAD_FILE", `catalog ${s}: the file holds no vectors`);
    return { name: s, vectors: f.data, dim: f.dim };
  }
  return fail("UNKNOWN_NAME", `unknown catalog "${spec}"; expected ${CATALOG_HELP}`);
}

function looksLikeVectorFile(s: string): boolean {
  try {
    vectorFormatOf(s);
    return true;
  } catch {
    return false;
  }
}

// The `inputs` trace generator's Fashion-MNIST source: the test split (never in the train-split
// catalog), pixels / 255 like the catalog; loaded on first use only.
registerInputSource("fashion-mnist-test", () => {
  const t = loadDataset("fashion-mnist").test;
  return { x: t.x, y: t.y, n: t.n, dim: t.dim };
});

export function resolveIndexSpec(index: string | undefined, n: number, dim: number): string {
  if (index === undefined || index === "auto") return n * dim <= 2_000_000 ? "flat" : AUTO_HNSW;
  return index;
}

export function loadCatalog(spec: string, o: CatalogOptions = {}): Catalog {
  const { name, vectors, dim } = loadCatalogVectors(spec, o.dataDir);
  return makeCatalog(name, vectors, dim, resolveIndexSpec(o.index, vectors.length / dim, dim));
}
