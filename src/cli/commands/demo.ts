/**
 * `mammals demo`: the main job (what `npm start` runs). Flags -> src/jobs/demo.node.ts
 * `runDemoJob` (a small model that never sees one class of the local mix and a cloud model, from
 * the cache or trained; the `skew` and `shift` workloads played through the small model alone, the
 * cloud always, and edge nodes with several memories; an HTML report written) -> a table per
 * scenario, or one JSON line with every row.
 */
import type { Command } from "commander";
import { fmt, table } from "../../core/format.js";
import { DEMO_DEFAULTS as D } from "../../jobs/demo.js";
import { runDemoJob } from "../../jobs/demo.node.js";
import { runDemoOverHttp } from "../../jobs/demo-http.node.js";
import { DEMO_TABLE_HEADERS, demoTableCells } from "../../jobs/demo-report.js";
import {
  parseChoiceList,
  parseInteger,
  parseNumber,
  parseNumberList,
  parseSeed,
  parseSpecList,
} from "../../jobs/parse.js";
import { serveLauncher } from "../../jobs/serve-launcher.node.js";
import { dataFlag, datasetFlag, jsonFlag, seedFlag } from "../flags.js";
import { logger, printJson } from "../output.js";
import { withProgress } from "../progress.js";

interface DemoFlags {
  dataset: string;
  data?: string;
  requests: string;
  small: string;
  cloud: string;
  capacities: string;
  policies: string;
  rule: string;
  latency: string;
  latencyWeight: string;
  scenario: string;
  cache: string;
  out: string;
  seed: string;
  retrain?: boolean;
  calibrate: boolean;
  json?: boolean;
  http?: boolean;
}

export function register(program: Command): void {
  program
    .command("demo")
    .description("the main job: a memory-augmented edge node against the small model alone and the cloud")
    .addOption(datasetFlag("mnist (embedded) | fashion-mnist | a directory of IDX files"))
    .addOption(dataFlag("where to look for Fashion-MNIST's IDX files (default: Debian's location)"))
    .option("--requests <n>", "requests per workload", String(D.requests))
    .option("--small <spec>", "small model spec (trained without the unseen class)", D.small)
    .option("--cloud <spec>", "cloud model spec (trained on every class)", D.cloud)
    .option(
      "--capacities <list>",
      "memory capacities as fractions of the training set",
      D.capacities.join(","),
    )
    .option(
      "--policies <list>",
      "admission policies compared at 1% capacity (comma-separated specs)",
      D.policies.join(","),
    )
    .option("--rule <spec>", "combination rule of the edge nodes", D.rule)
    .option(
      "--latency <spec>",
      "cloud round trip: constant:ms=M | uniform:min=,max= | lognormal:median=,sigma=",
      D.upstreamLatency,
    )
    .option(
      "--latency-weight <w>",
      "cost of 1 ms of latency in units of a wrong answer",
      String(D.latencyWeight),
    )
    .option("--scenario <list>", "workloads to play: skew,shift", D.scenarios.join(","))
    .option("--cache <dir>", "where trained models are kept between runs", ".cache/models")
    .option("--out <dir>", "where the HTML report is written", "out/demo")
    .addOption(seedFlag("seed of every random choice (training, workloads, latencies)"))
    .option("--no-calibrate", "trust 1 - confidence as P(error) instead of learning it from feedback")
    .option("--retrain", "train the models even if the cache has them")
    .addOption(jsonFlag("print one JSON object with every row on the last line"))
    .option(
      "--http",
      "also play each workload through real processes: a cloud `mammals serve` with the --latency delay and an edge node forwarding to it (measured requests, rows 'over HTTP')",
    )
    .addHelpText(
      "after",
      `
Systems compared on the same stream: small (the small model alone), cloud (every request forwarded),
and edge nodes (small model + k-NN memory + forward decision) with several capacities, admission
policies (utility, ib3, ib2, all = store everything and evict LRU) and memory keys (the model's
embedding, the raw input, a 64-d random projection). Lists are comma-separated, specs included:
--policies "utility:window=32,ib3" is two policies.

Examples:
  mammals demo                                   # embedded MNIST, about a minute
  mammals demo --dataset fashion-mnist --json    # the targets' setting
  mammals demo --scenario shift --requests 2000 --out /tmp/report
  mammals demo --policies utility,all --capacities 0.01,0.05 --seed 2
  mammals demo --http --requests 1000            # the same table, plus two processes measured over HTTP`,
    )
    .action(async (f: DemoFlags) => {
      const options = {
        dataset: f.dataset,
        dataDir: f.data,
        requests: parseInteger(f.requests, "--requests", 1),
        small: f.small,
        cloud: f.cloud,
        capacities: parseNumberList(f.capacities, "--capacities", { min: 0, max: 1 }),
        policies: parseSpecList(f.policies, "--policies"),
        rule: f.rule,
        upstreamLatency: f.latency,
        latencyWeight: parseNumber(f.latencyWeight, "--latency-weight", { min: 0 }),
        scenarios: parseChoiceList(f.scenario, "--scenario", ["skew", "shift"] as const),
        calibrate: f.calibrate,
        cacheDir: f.cache,
        retrain: f.retrain === true,
        outDir: f.out,
        seed: parseSeed(f.seed),
      };
      const log = logger(f.json);
      const r = await withProgress(
        (onProgress) => runDemoJob(options, { onProgress, log }),
        !f.json && process.stderr.isTTY === true,
      );
      const http = f.http
        ? await withProgress(
            (onProgress) =>
              runDemoOverHttp({
                ...options,
                dataset: r.dataset,
                smallFile: r.small.path,
                cloudFile: r.cloud.path,
                // The child processes run this same program (bin/mammals.js, or tsx + scripts/dev.ts).
                launch: serveLauncher([...process.execArgv, process.argv[1]]),
                onProgress,
              }),
            !f.json && process.stderr.isTTY === true,
          )
        : [];
      const httpRows = http.map((h) => h.row);
      if (f.json) {
        printJson({
          dataset: r.dataset.name,
          seconds: r.seconds,
          report: r.reportPath,
          rows: r.rows,
          httpRows,
        });
        return;
      }
      for (const s of options.scenarios) {
        log(
          `\n${s}: ${options.requests} requests${f.http ? " (rows 'over HTTP': real processes, measured latency)" : ""}`,
        );
        const rows = [...r.rows, ...httpRows].filter((row) => row.scenario === s);
        log(table(DEMO_TABLE_HEADERS, rows.map(demoTableCells)));
      }
      log(
        `\nsmall model: ${r.small.model.spec}, test accuracy ${fmt(r.small.testAccuracy, 4)} (${r.small.from})`,
      );
      log(
        `cloud model: ${r.cloud.model.spec}, test accuracy ${fmt(r.cloud.testAccuracy, 4)} (${r.cloud.from})`,
      );
      log(`report: ${r.reportPath}   (${r.seconds.toFixed(1)} s)`);
    });
}
