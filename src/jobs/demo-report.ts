/**
 * The demo's report, browser-safe: one row of cells per system (shared by the CLI table and the
 * HTML page) and the HTML page with, per scenario, the table, accuracy and local fraction over
 * time, and the latency CDF of every system.
 */
import { bytesHuman, fmt } from "../core/format.js";
import { cdf, htmlReport, htmlTable, lineChart } from "../core/plot.js";
import type { DemoRow, DemoRun } from "./demo.js";

export const DEMO_TABLE_HEADERS = [
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

/** A row's cells under {@link DEMO_TABLE_HEADERS}, numbers rounded for people. */
export function demoTableCells(r: DemoRow): (string | number)[] {
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

export interface DemoReportFacts {
  dataset: string;
  /** Specs of the small and the cloud model. */
  small: string;
  cloud: string;
  /** The class the small model never saw. */
  unseen: number;
}

/** The self-contained HTML page of a demo run. */
export function demoReportHtml(runs: DemoRun[], f: DemoReportFacts): string {
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
          DEMO_TABLE_HEADERS,
          rs.map((r) => demoTableCells(r.row).map(String)),
        ),
        overTime(rs, (p) => p.accuracy, `${scenario}: accuracy over time`, "accuracy (window)"),
        overTime(edges, (p) => p.localFraction, `${scenario}: fraction served locally`, "local fraction"),
        latency,
      ].join(""),
    });
  }
  return htmlReport(
    `Mammals demo on ${f.dataset}`,
    sections,
    `<p>Small model <code>${f.small}</code> (never saw class ${f.unseen}); cloud <code>${f.cloud}</code>. Every system sees the same request stream.</p>`,
  );
}
