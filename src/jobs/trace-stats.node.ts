/**
 * The trace-statistics use case on a trace file (binary trace or .fvecs): the catalog for
 * popularity and nearest-object distances is the one given, else the one a generated trace names.
 */
import { loadCatalog } from "../caching/catalog.node.js";
import { openTraceFile, peekTraceFile } from "../caching/trace-file.node.js";
import type { OnProgress } from "./progress.js";
import { type TraceStats, traceStats } from "./trace-stats.js";

export interface TraceStatsFileOptions {
  file: string;
  /** Catalog spec; default: the catalog a generated trace names in its header. */
  catalog?: string;
  /** Requests whose nearest catalog object is looked up. */
  sample: number;
  /** Directory searched first for dataset files. */
  dataDir?: string;
  /** Describe the trace over a catalog other than the one it was generated over. */
  force?: boolean;
}

export interface TraceStatsFileResult {
  stats: TraceStats;
  /** The catalog spec used (given or from the header), if any. */
  catalog?: string;
}

export function runTraceStats(o: TraceStatsFileOptions, onProgress?: OnProgress): TraceStatsFileResult {
  const { encoding, info } = peekTraceFile(o.file);
  const spec = o.catalog ?? info.catalog;
  const catalog = spec ? loadCatalog(spec, { dataDir: o.dataDir }) : undefined;
  const trace = openTraceFile(o.file, catalog, { force: o.force });
  const stats = traceStats(trace, { file: o.file, encoding, catalog, sample: o.sample }, onProgress);
  return { stats, catalog: spec };
}
