/**
 * `mammals demo`: the main job (what `npm start` runs). Trains, or loads from the cache directory,
 * a small model (which never sees one class of the local mix) and a cloud model, plays the `skew`
 * and `shift` workloads through the small model alone, the cloud always, and edge nodes with several
 * memories, then prints a table, writes an HTML report with plots and, with --json, one JSON line.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { fail } from "../../core/errors.js";
import { cdf, htmlReport, htmlTable, lineChart } from "../../core/plot.js";
import { loadDataset } from "../../data/datasets.node.js";
import { type DemoRow, type DemoRun, demoClasses, runDemo } from "../../jobs/demo.js";
import { obtainModel } from "../../jobs/model-cache.node.js";
import { parseInteger, parseNumber, parseNumberList } from "../args.js";
import { bytesHuman, fmt, table } from "../format.js";
import { type Progress, progress } from "../progress.js";

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
}

export function register(program: Command): void {
  program
    .command("demo")
    .description("the main job: a memory-augmented edge node against the small model alone and the cloud")
    .option("--dataset <name>", "mnist (embedded) | fashion-mnist | a directory of IDX files", "mnist")
    .option("--data <dir>", "where to look for Fashion-MNIST's IDX files (default: Debian's location)")
    .option("--requests <n>", "requests per workload", "5000")
    .option("--small <spec>", "small model spec (trained without the unseen class)", "mlp:64")
    .option("--cloud <spec>", "cloud model spec (trained on every class)", "mlp:256,128")
    .option("--capacities <list>", "memory capacities as fractions of the training set", "0.0025,0.01,0.05")
    .option(
      "--policies <list>",
      "admission policies compared at 1% capacity (';'-separated specs)",
      "utility;ib3;ib2;all",
    )
    .option("--rule <spec>", "combination rule of the edge nodes", "adaptive")
    .option(
      "--latency <spec>",
      "cloud round trip: constant:ms=M | uniform:min=,max= | lognormal:median=,sigma=",
      "lognormal:median=20,sigma=0.3",
    )
    .option("--latency-weight <w>", "cost of 1 ms of latency in units of a wrong answer", "0.01")
    .option("--scenario <list>", "workloads to play: skew,shift", "skew,shift")
    .option("--cache <dir>", "where trained models are kept between runs", ".cache/models")
    .option("--out <dir>", "where the HTML report is written", "out/demo")
    .option("--seed <n>", "seed of every random choice (training, workloads, latencies)", "1")
    .option("--no-calibrate", "trust 1 - confidence as P(error) instead of learning it from feedback")
    .option("--retrain", "train the models even if the cache has them")
    .option("--json", "print one JSON object with every row on the last line")
    .addHelpText(
      "after",
      `
Systems compared on the same stream: small (the small model alone), cloud (every request forwarded),
and edge nodes (small model + k-NN memory + forward decision) with several capacities, admission
policies (utility, ib3, ib2, all = store everything and evict LRU) and memory keys (the model's
embedding, the raw input, a 64-d random projection).

Examples:
  mammals demo                                   # embedded MNIST, about a minute
  mammals demo --dataset fashion-mnist --json    # the targets' setting
  mammals demo --scenario shift --requests 2000 --out /tmp/report`,
    )
    .action(async (f: DemoFlags) => {
      const seed = parseInteger(f.seed, "--seed", 0);
      const requests = parseInteger(f.requests, "--requests", 1);
      const capacities = parseNumberList(f.capacities, "--capacities", 0, 1);
      const scenarios = f.scenario.split(",").map((s) => s.trim());
      for (const s of scenarios)
        if (s !== "skew" && s !== "shift")
          fail("INVALID_ARGUMENT", `--scenario: expected skew and/or shift (comma-separated), got "${s}"`);
      const dataset = loadDataset(f.dataset, { dataDir: f.data });
      const { mix, unseen } = demoClasses(dataset);
      const log = (s: string) => {
        if (!f.json) process.stdout.write(`${s}\n`);
        else process.stderr.write(`${s}\n`);
      };
      log(
        `demo on ${dataset.name} (${dataset.source}): mix ${mix.join(",")}; the small model never sees class ${unseen}`,
      );
      const t0 = performance.now();
      const small = await obtainModel({
        spec: f.small,
        dataset,
        excludeClasses: [unseen],
        seed,
        cacheDir: f.cache,
        retrain: f.retrain === true,
        log,
      });
      const cloud = await obtainModel({
        spec: f.cloud,
        dataset,
        excludeClasses: [],
        seed,
        cacheDir: f.cache,
        retrain: f.retrain === true,
        log,
      });
      let bar: Progress | undefined;
      let last = 0;
      const runs = await runDemo({
        dataset,
        small: small.model,
        cloud: cloud.model,
        requests,
        seed,
        upstreamLatency: f.latency,
        capacities,
        policies: f.policies.split(";").map((s) => s.trim()),
        rule: f.rule,
        latencyWeight: parseNumber(f.latencyWeight, "--latency-weight", 0),
        scenarios: scenarios as ("skew" | "shift")[],
        calibrate: f.calibrate,
        onProgress: (done, total) => {
          bar ??= progress(total, "demo", !f.json && process.stderr.isTTY === true);
          if (done - last >= 100 || done === total) {
            bar.tick(done - last);
            last = done;
          }
        },
      });
      bar?.stop();
      const seconds = (performance.now() - t0) / 1000;
      const rows = runs.map((r) => r.row);
      const outDir = resolve(f.out);
      mkdirSync(outDir, { recursive: true });
      const reportPath = join(outDir, "index.html");
      writeFileSync(reportPath, report(runs, dataset.name, small.model.spec, cloud.model.spec, unseen));
      if (f.json) {
        process.stdout.write(
          `${JSON.stringify({ dataset: dataset.name, seconds, report: reportPath, rows })}\n`,
        );
        return;
      }
      for (const s of scenarios) {
        log(`\n${s}: ${requests} requests`);
        log(printable(rows.filter((r) => r.scenario === s)));
      }
      log(`\nsmall model: ${small.model.spec}, test accuracy ${fmt(small.testAccuracy, 4)} (${small.from})`);
      log(`cloud model: ${cloud.model.spec}, test accuracy ${fmt(cloud.testAccuracy, 4)} (${cloud.from})`);
      log(`report: ${reportPath}   (${seconds.toFixed(1)} s)`);
    });
}

const HEADERS = [
  "system",
  "policy",
  "key",
  "capacity",
  "accuracy",
  "local",
  "mean ms",
  "p99 ms",
  "memory",
  "unseen acc",
  "unseen after",
];

function cells(r: DemoRow): (string | number)[] {
  return [
    r.system,
    r.policy,
    r.key,
    r.capacity || "-",
    fmt(r.accuracy, 4),
    fmt(r.localFraction, 3),
    fmt(r.meanMs, 3),
    fmt(r.p99Ms, 3),
    r.memoryBytes ? bytesHuman(r.memoryBytes) : "-",
    fmt(r.unseenAccuracy, 3),
    r.unseenRecognizedAfter === null ? "-" : `${r.unseenRecognizedAfter} fb`,
  ];
}

function printable(rows: DemoRow[]): string {
  return table(HEADERS, rows.map(cells));
}

function label(r: DemoRow): string {
  return r.system === "edge" ? `edge ${r.policy} ${r.key} ${r.capacity}` : r.system;
}

/** One line per run of a time series (window start -> value), values in [0, 1]. */
function overTime(
  rs: DemoRun[],
  value: (p: DemoRun["result"]["series"][number]) => number,
  title: string,
  yLabel: string,
): string {
  const series = rs.map((r) => ({
    name: label(r.row),
    x: r.result.series.map((p) => p.start),
    y: r.result.series.map(value),
  }));
  return lineChart(series, { title, xLabel: "request", yLabel, yMin: 0, yMax: 1 });
}

function report(runs: DemoRun[], dataset: string, small: string, cloud: string, unseen: number): string {
  const sections = [];
  for (const scenario of [...new Set(runs.map((r) => r.row.scenario))]) {
    const rs = runs.filter((r) => r.row.scenario === scenario);
    const edges = rs.filter((r) => r.row.system === "edge");
    const latency = lineChart(
      rs.map((r) => {
        const c = cdf(Array.from(r.result.latencies, (v) => Math.max(v, 1e-3)));
        return { name: label(r.row), x: c.x, y: c.y };
      }),
      {
        title: `${scenario}: end-to-end latency CDF`,
        xLabel: "ms (log)",
        yLabel: "fraction of requests",
        logX: true,
      },
    );
    sections.push({
      heading: scenario,
      html: [
        htmlTable(
          HEADERS,
          rs.map((r) => cells(r.row).map(String)),
        ),
        overTime(rs, (p) => p.accuracy, `${scenario}: accuracy over time`, "accuracy (window)"),
        overTime(edges, (p) => p.localFraction, `${scenario}: fraction served locally`, "local fraction"),
        latency,
      ].join(""),
    });
  }
  return htmlReport(
    `Mammals demo on ${dataset}`,
    sections,
    `<p>Small model <code>${small}</code> (never saw class ${unseen}); cloud <code>${cloud}</code>. Every system sees the same request stream.</p>`,
  );
}
