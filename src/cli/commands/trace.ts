/**
 * `mammals trace gen` (flags -> src/jobs/trace-gen.node.ts `runTraceGen` -> one line or
 * JSON) writes a generated request trace; `mammals trace stats FILE` (flags ->
 * src/jobs/trace-stats.node.ts `runTraceStats` -> a table or JSON) describes one.
 */
import type { Command } from "commander";
import { CATALOG_HELP } from "../../caching/catalog.node.js";
import { traceGenerators } from "../../caching/traces.js";
import { fmt, table } from "../../core/format.js";
import { parseChoice, parseInteger, parseSeed } from "../../jobs/parse.js";
import { runTraceGen } from "../../jobs/trace-gen.node.js";
import type { TraceStats } from "../../jobs/trace-stats.js";
import { runTraceStats } from "../../jobs/trace-stats.node.js";
import { dataFlag, jsonFlag, seedFlag } from "../flags.js";
import { print, printJson } from "../output.js";
import { withProgress } from "../progress.js";

function generatorHelp(): string {
  return traceGenerators.describe().replace(/\n(?!\n)/g, "\n  ");
}

export function register(program: Command): void {
  const group = program
    .command("trace")
    .description("request traces for the simulator: `mammals trace gen|stats --help`")
    .addHelpText(
      "after",
      "\nExamples:\n  mammals trace gen --catalog mnist --gen irm:alpha=0.8,count=100000 --out mnist.trace\n" +
        "  mammals trace stats mnist.trace",
    );
  group
    .command("gen")
    .description("write a generated trace (compact binary: 4 bytes a request; or .fvecs of request vectors)")
    .requiredOption("--catalog <spec>", CATALOG_HELP)
    .requiredOption("--gen <spec>", "generator spec, e.g. irm:alpha=0.8,count=1000000,seed=1,noise=0")
    .requiredOption("--out <file>", "output file; a .fvecs name writes request vectors")
    .option("--encoding <e>", "binary encoding: ref (catalog ids + seeded noise) or f32 (vectors)", "ref")
    .addOption(seedFlag("generator seed (same as seed= in --gen; give one or the other)", null))
    .addOption(dataFlag())
    .addOption(jsonFlag())
    .addHelpText(
      "after",
      `\nGenerators:\n  ${generatorHelp()}\n\nExamples:\n` +
        "  mammals trace gen --catalog fashion-mnist --gen irm:alpha=0.8,count=1000000 --out fashion-irm.trace\n" +
        "  mammals trace gen --catalog gauss:n=5000,dim=16 --gen shift:phases=8,noise=0.1 --out shift.fvecs\n" +
        "  mammals trace gen --catalog mnist --gen adversarial:m=101,count=10000 --out adv.trace --json",
    )
    .action((opts) => {
      const r = runTraceGen({
        catalog: opts.catalog,
        gen: opts.gen,
        out: opts.out,
        encoding: parseChoice(opts.encoding, "--encoding", ["ref", "f32"] as const),
        seed: opts.seed === undefined ? undefined : parseSeed(opts.seed),
        dataDir: opts.data,
      });
      if (opts.json) return printJson(r);
      print(
        `wrote ${r.file}: ${r.count} requests of dimension ${r.dim} from ${r.generator} over ${r.catalog}`,
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
    .option(
      "--force",
      "use --catalog even when it is not the catalog the trace was generated over (fingerprint differs)",
    )
    .addOption(dataFlag())
    .addOption(jsonFlag())
    .addHelpText(
      "after",
      "\nExamples:\n  mammals trace stats fashion-irm.trace\n  mammals trace stats queries.fvecs --catalog base.fvecs --sample 200 --json\n" +
        "  mammals trace stats mnist.trace --catalog fashion-mnist --force",
    )
    .action(async (file: string, opts) => {
      const { stats, catalog } = await withProgress((onProgress) =>
        runTraceStats(
          {
            file,
            catalog: opts.catalog,
            sample: parseInteger(opts.sample, "--sample", 0),
            dataDir: opts.data,
            force: opts.force === true,
          },
          onProgress,
        ),
      );
      if (opts.json) return printJson(stats);
      print(statsTable(stats, catalog));
    });
}

function statsTable(s: TraceStats, catalog: string | undefined): string {
  const rows: Array<[string, string]> = [
    ["encoding", s.encoding],
    ["requests", String(s.count)],
    ["dimension", String(s.dim)],
    ["generator", s.generator ?? "-"],
    ["catalog", s.catalog ?? catalog ?? "-"],
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
  return table(["", s.file], rows);
}
