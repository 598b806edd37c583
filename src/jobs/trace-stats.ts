/**
 * The trace-statistics use case, browser-safe part: one pass over a trace measures request norms,
 * the popularity of catalog objects (generated traces, where each request names its origin) with a
 * fitted Zipf exponent, and the distance from a sample of requests to their nearest catalog object.
 * trace-stats.node.ts opens trace files.
 */
import { makeNeighbours } from "../caching/stored-set.js";
import type { Trace } from "../caching/traces.js";
import type { Catalog } from "../caching/types.js";
import { type OnProgress, progressCounter } from "./progress.js";

export interface TraceStats {
  file: string;
  encoding: string;
  dim: number;
  count: number;
  generator?: string;
  seed?: number;
  catalog?: string;
  noise?: number;
  norm: { mean: number; min: number; max: number };
  /** Generated traces: distinct objects, share of the top 1% objects, fitted Zipf exponent. */
  popularity?: { distinct: number; top1PercentShare: number; zipfAlpha: number };
  /** Distance from a request to its nearest catalog object, on the first `sample` requests. */
  nearestCatalog?: { sample: number; mean: number; median: number; p90: number; exact: number };
}

/** Least-squares slope of log(frequency) against log(rank) over the ranks with count >= 2. */
export function fitZipf(counts: Float64Array): number {
  const c = Float64Array.from(counts).sort().reverse();
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let r = 0; r < c.length && c[r] >= 2; r++) {
    const x = Math.log(r + 1);
    const y = Math.log(c[r]);
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  if (n < 2) return Number.NaN;
  return -(n * sxy - sx * sy) / (n * sxx - sx * sx);
}

export interface TraceStatsOptions {
  /** How the trace is named in the result (its file). */
  file: string;
  /** "ref" (catalog ids: popularity is counted), "f32" or "fvecs". */
  encoding: string;
  /** Catalog for popularity and nearest-object distances; without one, norms only. */
  catalog?: Catalog;
  /** Requests whose nearest catalog object is looked up (the first ones). */
  sample: number;
}

/** Progress is reported every this many requests (a callback per request would cost more than the work). */
const PROGRESS_EVERY = 10_000;

export function traceStats(trace: Trace, o: TraceStatsOptions, onProgress?: OnProgress): TraceStats {
  const { catalog, encoding, sample } = o;
  const info = trace.info;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  const counts = catalog && encoding === "ref" ? new Float64Array(catalog.n) : undefined;
  const near: number[] = [];
  let exact = 0;
  const nb = makeNeighbours(1);
  const progress = progressCounter(onProgress, info.count, "trace stats");
  let t = 0;
  for (const r of trace.requests()) {
    let s = 0;
    for (let j = 0; j < r.x.length; j++) s += r.x[j] * r.x[j];
    const norm = Math.sqrt(s);
    sum += norm;
    if (norm < min) min = norm;
    if (norm > max) max = norm;
    if (counts && r.origin >= 0) counts[r.origin]++;
    if (catalog && t < sample) {
      // a request that is a catalog row is at distance 0 from it (no index needed)
      const d = r.row >= 0 ? 0 : catalog.nearest(r.x, 1, nb).dists[0];
      near.push(d);
      if (d === 0) exact++;
    }
    if (++t % PROGRESS_EVERY === 0) progress.tick(PROGRESS_EVERY);
  }
  const out: TraceStats = {
    file: o.file,
    encoding,
    dim: info.dim,
    count: info.count,
    generator: info.generator,
    seed: info.seed,
    catalog: info.catalog,
    noise: info.noise,
    norm: { mean: t ? sum / t : 0, min: t ? min : 0, max },
  };
  if (counts) {
    const sorted = Float64Array.from(counts).sort().reverse();
    const top = Math.max(1, Math.round(sorted.length / 100));
    let topSum = 0;
    for (let i = 0; i < top; i++) topSum += sorted[i];
    out.popularity = {
      distinct: counts.reduce((a, c) => a + (c > 0 ? 1 : 0), 0),
      top1PercentShare: t ? topSum / t : 0,
      zipfAlpha: fitZipf(counts),
    };
  }
  if (near.length) {
    const s = near.slice().sort((a, b) => a - b);
    out.nearestCatalog = {
      sample: s.length,
      mean: s.reduce((a, b) => a + b, 0) / s.length,
      median: s[Math.floor(s.length / 2)],
      p90: s[Math.floor(0.9 * (s.length - 1))],
      exact,
    };
  }
  return out;
}
