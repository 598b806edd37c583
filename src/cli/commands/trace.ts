/**
 * `mammals trace gen` writes a generated request trace (compact binary or .fvecs);
 * `mammals trace stats FILE` describes one: header, norms, popularity of catalog objects
 * (generated traces), and distances to the nearest catalog object on a sample.
 */
import { type Command, Option } from "commander";
import { CATALOG_HELP, loadCatalog } from "../../caching/catalog.node.js";
import { makeNeighbours } from "../../caching/stored-set.js";
import { openTraceFile, peekTraceFile, writeTraceFile } from "../../caching/trace-file.node.js";
import type { TraceEncoding } from "../../caching/trace-format.js";
import { generateTrace, type Trace, traceGenerators } from "../../caching/traces.js";
import type { Catalog } from "../../caching/types.js";
import { fail } from "../../core/errors.js";
import { parseInteger } from "../args.js";
import { fmt, table } from "../format.js";
import { progress } from "../progress.js";

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

export function traceStats(
  file: string,
  trace: Trace,
  encoding: string,
  catalog: Catalog | undefined,
  sample: number,
  show = false,
): TraceStats {
  const info = trace.info;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  const counts = catalog && encoding === "ref" ? new Float64Array(catalog.n) : undefined;
  const near: number[] = [];
  let exact = 0;
  const nb = makeNeighbours(1);
  const bar = progress(info.count, "trace stats", show);
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
    if (++t % 10000 === 0) bar.tick(10000);
  }
  bar.stop();
  const out: TraceStats = {
    file,
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

function generatorHelp(): string {
  return traceGenerators.describe().replace(/\n(?!\n)/g, "\n  ");
}

export function register(program: Command): void {
  const group = program
    .command("trace")
    .description("request traces for the simulator: `mammals trace gen|stats --help`");
  group
    .command("gen")
    .description("write a generated trace (compact binary: 4 bytes a request; or .fvecs of request vectors)")
    .requiredOption("--catalog <spec>", CATALOG_HELP)
    .requiredOption("--gen <spec>", "generator spec, e.g. irm:alpha=0.8,count=1000000,seed=1,noise=0")
    .requiredOption("--out <file>", "output file; a .fvecs name writes request vectors")
    .option("--encoding <e>", "binary encoding: ref (catalog ids + seeded noise) or f32 (vectors)", "ref")
    .option("--seed <s>", "generator seed (same as seed= in --gen; give one or the other)")
    .option("--data <dir>", "directory searched first for dataset files")
    .addOption(new Option("--json", "print one JSON object on the last line"))
    .addHelpText(
      "after",
      `\nGenerators:\n  ${generatorHelp()}\n\nExamples:\n` +
        "  mammals trace gen --catalog fashion-mnist --gen irm:alpha=0.8,count=1000000 --out fashion-irm.trace\n" +
        "  mammals trace gen --catalog gauss:n=5000,dim=16 --gen shift:phases=8,noise=0.1 --out shift.fvecs\n" +
        "  mammals trace gen --catalog mnist --gen adversarial:m=101,count=10000 --out adv.trace --json",
    )
    .action((opts) => {
      const enc = opts.encoding as TraceEncoding;
      if (enc !== "ref" && enc !== "f32")
        fail("INVALID_ARGUMENT", `--encoding: expected ref or f32, got "${enc}"`);
      const catalog = loadCatalog(opts.catalog, { index: "flat", dataDir: opts.data });
      let gen: string = opts.gen;
      if (opts.seed !== undefined) {
        const seed = parseInteger(opts.seed, "--seed", 0);
        if (/[:,]\s*seed\s*=/.test(gen))
          fail(
            "INVALID_ARGUMENT",
            `give the seed in --gen or in --seed, not both (got "${gen}" and --seed ${seed})`,
          );
        gen += `${gen.includes(":") ? "," : ":"}seed=${seed}`;
      }
      const trace = generateTrace(gen, catalog);
      const t0 = performance.now();
      writeTraceFile(opts.out, trace, enc);
      const summary = { file: opts.out, ...trace.info, seconds: (performance.now() - t0) / 1000 };
      if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else
        process.stdout.write(
          `wrote ${opts.out}: ${trace.info.count} requests of dimension ${trace.info.dim} from ${trace.info.generator} over ${catalog.name}\n`,
        );
    });
  group
    .command("stats")
    .description("describe a trace file (binary trace or .fvecs)")
    .argument("<file>", "trace file")
    .option(
      "--catalog <spec>",
      "catalog for nearest-object distances (default: the one a generated trace names)",
    )
    .option("--sample <n>", "requests whose nearest catalog object is looked up", "1000")
    .option("--data <dir>", "directory searched first for dataset files")
    .addOption(new Option("--json", "print one JSON object on the last line"))
    .addHelpText(
      "after",
      "\nExamples:\n  mammals trace stats fashion-irm.trace\n  mammals trace stats queries.fvecs --catalog base.fvecs --sample 200 --json",
    )
    .action((file: string, opts) => {
      const { encoding, info } = peekTraceFile(file);
      const spec: string | undefined = opts.catalog ?? info.catalog;
      const catalog = spec ? loadCatalog(spec, { dataDir: opts.data }) : undefined;
      const trace = openTraceFile(file, catalog);
      const s = traceStats(file, trace, encoding, catalog, parseInteger(opts.sample, "--sample", 0));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(s)}\n`);
        return;
      }
      const rows: Array<[string, string]> = [
        ["encoding", s.encoding],
        ["requests", String(s.count)],
        ["dimension", String(s.dim)],
        ["generator", s.generator ?? "-"],
        ["catalog", s.catalog ?? spec ?? "-"],
        ["norm mean / min / max", `${fmt(s.norm.mean)} / ${fmt(s.norm.min)} / ${fmt(s.norm.max)}`],
      ];
      if (s.popularity)
        rows.push(
          ["distinct objects", String(s.popularity.distinct)],
          ["top 1% objects' share", fmt(s.popularity.top1PercentShare)],
          ["fitted Zipf alpha", fmt(s.popularity.zipfAlpha)],
        );
      if (s.nearestCatalog)
        rows.push([
          `nearest catalog object (euclidean), first ${s.nearestCatalog.sample}`,
          `mean ${fmt(s.nearestCatalog.mean)}, median ${fmt(s.nearestCatalog.median)}, p90 ${fmt(s.nearestCatalog.p90)}, exact ${s.nearestCatalog.exact}`,
        ]);
      process.stdout.write(`${table(["", file], rows)}\n`);
    });
}
