/**
 * Dependency-free SVG line plots and a self-contained HTML report, shared by the simulator and the
 * demo. Output is a string (no DOM), so it runs anywhere; files are written by the CLI.
 */

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Log-scale x axis (e.g. latency CDFs). */
  logX?: boolean;
  yMin?: number;
  yMax?: number;
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** "Nice" tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => (hi - lo) / s <= count * 1.5) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

/**
 * Ticks of a log axis, in log10 units: every decade inside [lo, hi], with 2x and 5x marks added
 * when the range spans fewer than three decades (so a narrow log axis still has labels).
 */
export function decadeTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const multipliers = hi - lo < 3 ? [1, 2, 5] : [1];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++)
    for (const mult of multipliers) {
      const v = e + Math.log10(mult);
      if (v >= lo - 1e-9 && v <= hi + 1e-9) out.push(v);
    }
  return out.length ? out : [lo];
}

/** A line plot of several series as a standalone <svg> element. */
export function lineChart(series: Series[], o: PlotOptions): string {
  const W = o.width ?? 640;
  const H = o.height ?? 360;
  const m = { l: 64, r: 16, t: 32, b: 48 };
  const legendH = 18 * Math.ceil(series.length / 3);
  const ph = H - m.t - m.b - legendH;
  const pw = W - m.l - m.r;
  const tx = (v: number) => (o.logX ? Math.log10(Math.max(v, 1e-12)) : v);
  let x0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (const s of series)
    for (let i = 0; i < s.x.length; i++) {
      const xv = tx(s.x[i]);
      const yv = s.y[i];
      if (!Number.isFinite(xv) || !Number.isFinite(yv)) continue;
      x0 = Math.min(x0, xv);
      x1 = Math.max(x1, xv);
      y0 = Math.min(y0, yv);
      y1 = Math.max(y1, yv);
    }
  if (!Number.isFinite(x0)) {
    x0 = 0;
    x1 = 1;
    y0 = 0;
    y1 = 1;
  }
  if (o.yMin !== undefined) y0 = o.yMin;
  if (o.yMax !== undefined) y1 = o.yMax;
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const px = (v: number) => m.l + ((tx(v) - x0) / (x1 - x0)) * pw;
  const py = (v: number) => m.t + ph - ((v - y0) / (y1 - y0)) * ph;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  for (const v of ticks(y0, y1)) {
    const y = py(v);
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${tickLabel(v)}</text>`);
  }
  for (const v of o.logX ? decadeTicks(x0, x1) : ticks(x0, x1)) {
    const x = m.l + ((v - x0) / (x1 - x0)) * pw;
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${m.t + ph}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x}" y="${m.t + ph + 16}" text-anchor="middle">${tickLabel(o.logX ? 10 ** v : v)}</text>`,
    );
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 34}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  series.forEach((s, k) => {
    const color = PALETTE[k % PALETTE.length];
    const pts: string[] = [];
    // Thin long series to ~2 points per pixel: the picture is the same, the file much smaller.
    const stride = Math.max(1, Math.floor(s.x.length / (2 * pw)));
    for (let i = 0; i < s.x.length; i += stride) {
      if (!Number.isFinite(s.y[i]) || !Number.isFinite(tx(s.x[i]))) continue;
      pts.push(`${px(s.x[i]).toFixed(1)},${py(s.y[i]).toFixed(1)}`);
    }
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(" ")}"/>`);
    const lx = m.l + (k % 3) * (pw / 3);
    const ly = H - legendH + 4 + 18 * Math.floor(k / 3);
    parts.push(`<rect x="${lx}" y="${ly}" width="12" height="3" fill="${color}"/>`);
    parts.push(`<text x="${lx + 16}" y="${ly + 5}">${esc(s.name)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** Empirical CDF points of a sample (sorted values vs cumulative fraction). */
export function cdf(values: ArrayLike<number>, maxPoints = 400): { x: number[]; y: number[] } {
  const v = Float64Array.from(values).sort();
  const n = v.length;
  const x: number[] = [];
  const y: number[] = [];
  const step = Math.max(1, Math.floor(n / maxPoints));
  for (let i = 0; i < n; i += step) {
    x.push(v[i]);
    y.push((i + 1) / n);
  }
  if (n > 0) {
    x.push(v[n - 1]);
    y.push(1);
  }
  return { x, y };
}

export interface ReportSection {
  heading: string;
  /** Raw HTML (tables, <svg> charts from lineChart, paragraphs). */
  html: string;
}

/** A self-contained HTML page (no scripts, no external assets). */
export function htmlReport(title: string, sections: ReportSection[], intro = ""): string {
  const body = sections.map((s) => `<section><h2>${esc(s.heading)}</h2>\n${s.html}\n</section>`).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}svg{margin:6px}</style></head>
<body><h1>${esc(title)}</h1>${intro}
${body}
</body></html>
`;
}

/** An HTML table from headers and rows (numbers formatted by the caller). */
export function htmlTable(headers: string[], rows: Array<Array<string | number>>): string {
  const th = headers.map((h) => `<th>${esc(h)}</th>`).join("");
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}
