/**
 * Reports of an IDN simulation: the table rows, the one-line JSON, the CSV time series and the
 * self-contained HTML page (plots from core/plot.ts, topology pictures from topology-svg.ts).
 * Strings only, browser-safe; files are written by the job's Node adapter.
 */
import { htmlReport, htmlTable, lineChart } from "../core/plot.js";
import type { IdnInstance } from "./instance.js";
import type { SimulationResult } from "./simulator.js";
import { topologySvg } from "./topology-svg.js";

export const IDN_HEADERS = [
  "policy",
  "avgGain",
  "normalized",
  "loads/slot",
  "accuracy",
  "p50 ms",
  "p99 ms",
  "cost/req",
  "overshoot",
  "seconds",
];

function round(v: number): number {
  return Number(v.toPrecision(5));
}

export function idnRows(r: SimulationResult): Array<Array<string | number | null>> {
  return r.results.map((p) => [
    p.policy,
    round(p.avgGain),
    p.normalizedGain === null ? null : round(p.normalizedGain),
    round(p.loadsPerSlot),
    round(p.accuracy),
    round(p.p50Ms),
    round(p.p99Ms),
    round(p.avgCostPerRequest),
    typeof p.extra.maxOvershootOfBudget === "number"
      ? `${(100 * p.extra.maxOvershootOfBudget).toFixed(0)}%`
      : "-",
    round(p.setupSeconds + p.runSeconds),
  ]);
}

/** The documented --json line: {"results":[{"policy",...,"p99Ms"}]}. */
export function idnJsonLine(r: SimulationResult): string {
  return JSON.stringify({
    results: r.results.map((p) => ({
      policy: p.policy,
      avgGain: p.avgGain,
      normalizedGain: p.normalizedGain,
      loadsPerSlot: p.loadsPerSlot,
      accuracy: p.accuracy,
      p50Ms: p.p50Ms,
      p99Ms: p.p99Ms,
    })),
  });
}

/** Header lines of every report. */
export function describeIdnRun(r: SimulationResult): string[] {
  const offline = r.results.find((p) => p.spec.startsWith("offline-opt"));
  const lines = [
    `topology ${r.topology}: ${r.nodes} nodes; catalog ${r.catalog}: ${r.models} models; alpha = ${r.alpha} ms per unit of inaccuracy`,
    `trace ${r.trace}: ${r.requests} requests in ${r.slots} slots over ${r.requestTypes} request types; seed ${r.seed}; ` +
      `${r.warmup ? `averages over slots ${r.warmup}..${r.slots - 1} (warm-up ${r.warmup}); ` : ""}${r.seconds.toFixed(1)} s`,
  ];
  if (offline)
    lines.push(
      `offline-opt is ${offline.extra.exact ? "EXACT (exhaustive search)" : `APPROXIMATE: over all ${r.slots} slots it gains ${Number(offline.extra.valuePerSlot).toPrecision(6)} per slot and the optimum is at most ${Number(offline.extra.upperBound).toPrecision(6)}`}`,
    );
  return lines;
}

/** Long-format CSV: one line per (slot, policy). */
export function idnSeriesCsv(r: SimulationResult): string {
  const lines = ["slot,policy,gain,cost_per_request,loads,accuracy,mean_latency_ms"];
  for (let t = 0; t < r.slots; t++)
    for (const p of r.results) {
      const s = p.series;
      lines.push(
        `${t},${JSON.stringify(p.policy)},${s.gain[t]},${s.costPerRequest[t]},${s.loads[t]},${s.accuracy[t]},${s.meanLatencyMs[t]}`,
      );
    }
  return `${lines.join("\n")}\n`;
}

function running(values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  let s = 0;
  for (let i = 0; i < values.length; i++) out[i] = (s += values[i]) / (i + 1);
  return out;
}

export function idnCharts(r: SimulationResult): string[] {
  const slots = Float64Array.from({ length: r.slots }, (_, t) => t + 1);
  const chart = (
    pick: (s: SimulationResult["results"][number]) => Float64Array,
    title: string,
    yLabel: string,
  ) =>
    lineChart(
      r.results.map((p) => ({ name: p.policy, x: slots, y: pick(p) })),
      { title, xLabel: "slot", yLabel },
    );
  return [
    chart((p) => running(p.series.gain), "Time-averaged gain", "gain per slot (cost saved)"),
    chart((p) => p.series.gain, "Gain per slot", "gain"),
    chart((p) => p.series.loads, "Model loads per slot", "loads"),
    chart((p) => p.series.accuracy, "Mean accuracy of served requests", "accuracy"),
    chart((p) => p.series.meanLatencyMs, "Mean latency of served requests", "ms"),
  ];
}

export function idnHtml(r: SimulationResult, inst: IdnInstance, command: string): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const intro = `<p>${describeIdnRun(r).map(esc).join("<br>")}</p><p><code>${esc(command)}</code></p>`;
  return htmlReport(
    "Inference delivery network simulation",
    [
      {
        heading: "Results",
        html: htmlTable(
          IDN_HEADERS,
          idnRows(r).map((row) => row.map((c) => c ?? "-")),
        ),
      },
      { heading: "Time series", html: idnCharts(r).join("\n") },
      {
        heading: "What each node hosts in the last slot",
        html: r.results
          .filter((p) => !p.spec.startsWith("repository-only"))
          .map((p) => topologySvg(inst, p.finalAllocation, `${p.policy}: allocation in the last slot`))
          .join("\n"),
      },
    ],
    intro,
  );
}
