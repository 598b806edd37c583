/**
 * The trace-generation use case: a generator (irm, shift, adversarial) over a catalog, written as a
 * compact binary trace (4 bytes a request with the "ref" encoding) or as .fvecs request vectors.
 */
import { loadCatalog } from "../caching/catalog.node.js";
import { writeTraceFile } from "../caching/trace-file.node.js";
import type { TraceEncoding } from "../caching/trace-format.js";
import { generateTrace, type TraceInfo } from "../caching/traces.js";
import { fail } from "../core/errors.js";
import { checkOutputPath } from "../data/atomic-write.node.js";

export interface TraceGenOptions {
  /** Catalog spec the requests are drawn from. */
  catalog: string;
  /** Generator spec, e.g. irm:alpha=0.8,count=1000000. */
  gen: string;
  /** Output file; a .fvecs name writes request vectors. */
  out: string;
  encoding: TraceEncoding;
  /** Generator seed, when not given as seed= in `gen`. */
  seed?: number;
  /** Directory searched first for dataset files. */
  dataDir?: string;
}

/** The written trace's header facts (its `catalog` is the catalog's name), the file and the write time. */
export type TraceGenResult = TraceInfo & { file: string; seconds: number };

/** `gen` with `seed` appended; a seed given both ways is refused rather than silently picked. */
export function seededGeneratorSpec(gen: string, seed: number | undefined): string {
  if (seed === undefined) return gen;
  if (/[:,]\s*seed\s*=/.test(gen))
    fail(
      "INVALID_ARGUMENT",
      `give the seed in --gen or in --seed, not both (got "${gen}" and --seed ${seed})`,
    );
  return `${gen}${gen.includes(":") ? "," : ":"}seed=${seed}`;
}

export function runTraceGen(o: TraceGenOptions): TraceGenResult {
  // Before loading the catalog and generating: a bad --out fails in milliseconds.
  checkOutputPath(o.out, { label: "--out" });
  const catalog = loadCatalog(o.catalog, { index: "flat", dataDir: o.dataDir });
  const trace = generateTrace(seededGeneratorSpec(o.gen, o.seed), catalog);
  const t0 = performance.now();
  // The catalog goes along so its fingerprint is recorded and a replay on another one is refused.
  writeTraceFile(o.out, trace, o.encoding, { catalog });
  return { file: o.out, ...trace.info, seconds: (performance.now() - t0) / 1000 };
}
