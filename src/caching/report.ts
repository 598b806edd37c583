/**
 * Reports of a simulation: the people table, the CSV series, the SVG chart and the HTML page.
 * Every report names the distance and the cost model. Browser-safe (strings only).
 */
import { htmlReport, htmlTable, lineChart } from "../core/plot.js";
import { type SimResult, seriesCsv } from "./simulator.js";

export const RESULT_HEADERS = [
  "policy",
  "avgCost",
  "normalized",
  "hitRatio",
  "fetched",
  "moved",
  "req/s",
  "scans",
];

export function resultRows(r: SimResult): Array<Array<string | number>> {
  return r.results.map((p) => [
    p.policy,
    round(p.avgCost),
    round(p.normalizedCost),
    round(p.hitRatio),
    p.fetched,
    p.moved,
    Math.round(p.reqPerSec),
    p.scans,
  ]);
}

function round(v: number): number {
  return Number(v.toPrecision(5));
}

/** The header lines every report starts with. */
export function describeRun(r: SimResult, capacity: number): string[] {
  return [
    `catalog ${r.catalog} (index ${r.catalogIndex}), distance: ${r.distance}`,
    `cost: ${r.cost}; capacity h = ${capacity}`,
    `trace ${r.trace}: ${r.requests} requests; ${r.neighbours} catalog neighbours per request ` +
      `(${r.neighbourSeconds.toFixed(1)} s, ${r.memoHits} memo hits); total ${r.totalSeconds.toFixed(1)} s`,
  ];
}

export function runningCostSvg(r: SimResult): string {
  return lineChart(
    r.results.map((p) => ({ name: p.policy, x: p.series.t, y: p.series.avgCost })),
    { title: "Running average cost", xLabel: "requests", yLabel: "average cost per request" },
  );
}

export function simulationHtml(r: SimResult, capacity: number, command: string): string {
  const intro = `<p>${describeRun(r, capacity)
    .map((l) => l.replace(/&/g, "&amp;").replace(/</g, "&lt;"))
    .join("<br>")}</p><p><code>${command.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</code></p>`;
  return htmlReport(
    "Similarity-caching simulation",
    [
      { heading: "Results", html: htmlTable(RESULT_HEADERS, resultRows(r)) },
      { heading: "Running average cost", html: runningCostSvg(r) },
    ],
    intro,
  );
}

export { seriesCsv };
