/**
 * The live dashboard at `GET /`: one page, five uPlot charts fed by polling `GET /v1/stats` once
 * a second. Each chart has a title and one sentence saying what it shows. Without the uPlot
 * assets (an app mounted without them) the page still shows the latest figures as text.
 */
import type { ServiceInfo } from "./service.js";

export interface ChartSpec {
  id: string;
  title: string;
  explain: string;
  /** Series of /v1/stats plotted, with their legend labels. */
  series: { key: string; label: string; color: string }[];
  /** Fixed y range, when the quantity has one. */
  range?: [number, number];
  unit: string;
}

export const CHARTS: ChartSpec[] = [
  {
    id: "rps",
    title: "Requests per second",
    explain: "Predictions answered in each second, however they were served.",
    series: [{ key: "rps", label: "requests/s", color: "#1f77b4" }],
    unit: "req/s",
  },
  {
    id: "local",
    title: "Answered locally",
    explain:
      "Share of each second's predictions the edge node answered itself instead of forwarding them to its upstream.",
    series: [{ key: "localFraction", label: "local fraction", color: "#2ca02c" }],
    range: [0, 1],
    unit: "",
  },
  {
    id: "accuracy",
    title: "Accuracy on feedback",
    explain:
      "Of the answers whose true label came back as feedback in the last 30 seconds, the share that were right.",
    series: [{ key: "feedbackAccuracy", label: "accuracy (30 s)", color: "#9467bd" }],
    range: [0, 1],
    unit: "",
  },
  {
    id: "latency",
    title: "Latency percentiles",
    explain:
      "Median and 99th percentile of the time each prediction spent in the service, per second, in milliseconds.",
    series: [
      { key: "p50", label: "p50 ms", color: "#ff7f0e" },
      { key: "p99", label: "p99 ms", color: "#d62728" },
    ],
    unit: "ms",
  },
  {
    id: "memory",
    title: "Memory occupancy",
    explain: "Labeled examples held in the node's k-NN memory, against its capacity.",
    series: [
      { key: "memorySize", label: "entries", color: "#17becf" },
      { key: "memoryCapacity", label: "capacity", color: "#7f7f7f" },
    ],
    unit: "entries",
  },
];

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!,
  );

export function dashboardPage(info: ServiceInfo, withCharts: boolean): string {
  const what =
    info.kind === "edge"
      ? `edge node: ${info.model} + memory (${info.memory?.capacity} entries, ${info.memory?.index}, ${info.memory?.admission})`
      : `model server: ${info.model}${info.expectedLatencyMs ? `, emulated delay mean ${info.expectedLatencyMs.toFixed(1)} ms` : ""}`;
  const charts = CHARTS.map(
    (c) => `<section class="chart" id="chart-${c.id}" data-points="0">
  <h2>${escapeHtml(c.title)}</h2><p>${escapeHtml(c.explain)}</p><div class="plot"></div><div class="latest"></div>
</section>`,
  ).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mammals: ${escapeHtml(info.kind)} dashboard</title>
${withCharts ? '<link rel="stylesheet" href="/assets/uplot.css"><script src="/assets/uplot.js"></script>' : ""}
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.05em; margin: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 1.2em; }
.chart p { margin: .2em 0 .5em; color: #555; } .latest { color: #555; font-size: .9em; }
#status { color: #555; margin-bottom: 1em; }
</style></head>
<body>
<h1>mammals ${escapeHtml(what)}</h1>
<div id="status">waiting for the first figures... <span id="updates" data-count="0"></span></div>
<div class="grid">
${charts}
</div>
<script>
const CHARTS = ${JSON.stringify(CHARTS)};
const plots = {};
let updates = 0;
function points(s) { return s.filter((v) => v !== null && v !== undefined).length; }
function draw(stats) {
  const t = stats.series.t;
  for (const c of CHARTS) {
    const el = document.getElementById("chart-" + c.id);
    const ys = c.series.map((s) => stats.series[s.key]);
    el.dataset.points = String(points(ys[0]));
    el.querySelector(".latest").textContent = c.series
      .map((s, i) => { const v = ys[i][ys[i].length - 1]; return s.label + ": " + (v === null || v === undefined ? "-" : (+v).toFixed(c.unit === "" ? 3 : c.unit === "ms" ? 2 : 0)); })
      .join("   ");
    if (typeof uPlot === "undefined") continue;
    const data = [t, ...ys];
    if (!plots[c.id]) {
      const box = el.querySelector(".plot");
      plots[c.id] = new uPlot({
        width: Math.max(380, box.clientWidth || 420), height: 200,
        scales: { x: { time: true }, y: c.range ? { range: c.range } : { auto: true } },
        series: [{}, ...c.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false }))],
        axes: [{}, { label: c.unit }],
      }, data, box);
    } else plots[c.id].setData(data);
  }
}
async function tick() {
  try {
    const r = await fetch("/v1/stats");
    if (r.ok) {
      const stats = await r.json();
      draw(stats);
      updates++;
      const u = document.getElementById("updates");
      u.dataset.count = String(updates);
      const g = stats.gauges;
      document.getElementById("status").firstChild.textContent =
        "updated " + new Date().toLocaleTimeString() + " - queue " + g.queue + ", batch limit " + g.batchLimit +
        (g.feedbackCount !== undefined ? ", durable feedback " + g.feedbackCount : "") + " ";
    }
  } catch (e) { /* the next tick retries */ }
  setTimeout(tick, 1000);
}
tick();
</script>
</body></html>`;
}
