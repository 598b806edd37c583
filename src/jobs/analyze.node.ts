/**
 * The catalog-analysis use case: a catalog named by spec (dataset, vector file, generator) and its
 * geometry for choosing a caching policy (src/caching/geometry.ts `analyzeCatalog`): intrinsic
 * dimension, nearest-neighbour distances, hubness.
 */
import { loadCatalog } from "../caching/catalog.node.js";
import { analyzeCatalog, type GeometryReport } from "../caching/geometry.js";

export interface AnalyzeOptions {
  /** Catalog spec: fashion-mnist, mnist, FILE.fvecs, gauss:n=..,dim=.., or an IDX directory. */
  catalog: string;
  /** Objects sampled (seeded); hubness is measured in their k-NN graph. */
  sample: number;
  /** Neighbours for the MLE and the k-occurrence. */
  k: number;
  /** Catalog index spec: auto, flat, hnsw:... */
  index?: string;
  seed: number;
  /** Directory searched first for dataset files. */
  dataDir?: string;
}

export function runAnalysis(o: AnalyzeOptions): GeometryReport {
  const catalog = loadCatalog(o.catalog, { index: o.index, dataDir: o.dataDir });
  return analyzeCatalog(catalog, { sample: o.sample, k: o.k, seed: o.seed });
}
