/**
 * `mammals idn simulate | describe`: inference delivery networks (models placed across device,
 * access, edge, regional and cloud tiers). Flags -> the job (jobs/idn-simulate.ts) -> a table,
 * one JSON line (--json) or report files (--out); a progress bar on stderr when it is a TTY.
 */
import type { Command } from "commander";
import { table } from "../../core/format.js";
import { catalogRegistry } from "../../idn/catalogs.js";
import { idnPolicyRegistry } from "../../idn/policies.js";
import { describeIdnRun, IDN_HEADERS, idnJsonLine, idnRows } from "../../idn/report.js";
import { topologyRegistry } from "../../idn/topologies.js";
import { traceRegistry } from "../../idn/traces.js";
import { IDN_DEFAULTS } from "../../jobs/idn-simulate.js";
import { runIdnSimulationNode, writeIdnOutputs } from "../../jobs/idn-simulate.node.js";
import { parseInteger, parseNumber, parseSeed } from "../../jobs/parse.js";
import { jsonFlag, seedFlag } from "../flags.js";
import { progressBars } from "../progress.js";
import { registerLive } from "./idn-live.js";

/** The command line as the user gave it (the root command's raw arguments), for report headers. */
function commandLine(cmd: Command): string {
  let root = cmd;
  while (root.parent) root = root.parent;
  const quote = (a: string) => (/^[\w.,:=/-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  // rawArgs is set by commander's parse() but missing from its typings.
  const raw = (root as unknown as { rawArgs?: string[] }).rawArgs ?? process.argv.slice(2);
  return `mammals ${raw.map(quote).join(" ")}`;
}

export function register(program: Command): void {
  const idn = program
    .command("idn")
    .description("inference delivery networks: place models on network nodes online (INFIDA and baselines)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  mammals idn simulate --topology abilene --catalog published --trace stationary --policies infida,lru,offline-opt\n" +
        "  mammals idn up --topology abilene --catalog measured --base-port 9000       # a live network\n" +
        "  mammals idn load --topology abilene --base-port 9000 --trace sliding --slots 20\n" +
        "  mammals idn describe",
    );

  idn
    .command("simulate")
    .description(
      "serve a request trace on a network with every listed allocation policy; report gain against repository-only, " +
        "gain normalised by offline-opt, model loads, accuracy and latency",
    )
    .requiredOption(
      "--topology <spec|file.json>",
      "tree:depth=D,fanout=F, abilene, geant, or a JSON topology file",
    )
    .requiredOption(
      "--catalog <spec|file.json>",
      "published, measured (each takes tasks=K), or a JSON catalog file",
    )
    .requiredOption(
      "--trace <spec|file.csv>",
      "stationary, sliding, adversarial (with requests=N,...), or a CSV trace file",
    )
    .requiredOption(
      "--policies <list>",
      "comma-separated IDN policy specs; `mammals idn describe` lists them",
    )
    .option("--alpha <a>", "cost of inaccuracy: ms per unit of (1 - accuracy)", String(IDN_DEFAULTS.alpha))
    .option(
      "--slots <T>",
      `time slots of a generated trace (default ${IDN_DEFAULTS.slots}); cuts a file trace`,
    )
    .addOption(
      seedFlag("seed of the trace generator and every policy's random choices", String(IDN_DEFAULTS.seed)),
    )
    .option("--warmup <W>", "first slots left out of every average (the online baselines start empty)", "0")
    .option("--out <dir>", "write results.json, series.csv, report.html and topology-<policy>.svg here")
    .addOption(jsonFlag())
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  mammals idn simulate --topology geant --catalog measured --trace sliding --policies infida,greedy-online,lru,offline-opt\n" +
        "  mammals idn simulate --topology tree:depth=3,fanout=10 --catalog published:tasks=4 --trace stationary:requests=1000000 --policies infida,lru --alpha 200\n" +
        "  mammals idn simulate --topology my-net.json --catalog my-models.json --trace my-trace.csv --policies infida:eta=0.2,refresh=5,offline-opt --json",
    )
    .action((opts, cmd: Command) => {
      const slots = opts.slots === undefined ? undefined : parseInteger(opts.slots, "--slots", 1, 10_000_000);
      const bars = progressBars();
      const sim = runIdnSimulationNode({
        topology: opts.topology,
        catalog: opts.catalog,
        trace: opts.trace,
        policies: opts.policies,
        alpha: parseNumber(opts.alpha, "--alpha", { min: 0 }),
        slots,
        seed: parseSeed(opts.seed),
        warmup: parseInteger(opts.warmup, "--warmup", 0),
        onSlot(done, total) {
          bars.onProgress(done, total, "idn simulate");
          if (done === total) bars.stop();
        },
      });
      const written = opts.out ? writeIdnOutputs(opts.out, sim, commandLine(cmd)) : [];
      if (opts.json) {
        process.stdout.write(`${idnJsonLine(sim.result)}\n`);
        return;
      }
      process.stdout.write(
        `${describeIdnRun(sim.result).join("\n")}\n\n${table(IDN_HEADERS, idnRows(sim.result))}\n` +
          (written.length ? `\nwrote ${opts.out}/{${written.join(",")}}\n` : ""),
      );
    });

  registerLive(idn);

  idn
    .command("describe")
    .description("list the IDN topologies, model catalogs, traces and policies with their parameters")
    .addHelpText("after", "\nExamples:\n  mammals idn describe\n  mammals idn describe | less")
    .action(() => {
      const blocks = [
        ["Topologies (--topology)", topologyRegistry.describe()],
        ["Model catalogs (--catalog)", catalogRegistry.describe()],
        ["Traces (--trace)", traceRegistry.describe()],
        ["Policies (--policies)", idnPolicyRegistry.describe()],
      ];
      process.stdout.write(`${blocks.map(([h, b]) => `${h}\n${"=".repeat(h.length)}\n${b}`).join("\n\n")}\n`);
    });
}
