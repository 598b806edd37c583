/**
 * A picture of an IDN topology coloured by what each node hosts: every node is a pie whose slices
 * are its hosted models (slice = the model's share of the node's budget; hue = task, darker = more
 * accurate within the task; the unused budget stays light grey); repositories are black squares;
 * hovering a node lists its models. Positions: the nodes' own coordinates when all have them
 * (longitude/latitude for abilene), otherwise a layered drawing of the routing tree (depth = hops to
 * the repository, parents centred over their children). Strings only, browser-safe.
 */
import type { IdnInstance } from "./instance.js";

const TASK_HUES = [210, 10, 130, 40, 280, 180, 330, 90];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Node positions in [0, 1]^2 (y down). */
export function layoutTopology(inst: IdnInstance): { x: Float64Array; y: Float64Array } {
  const nodes = inst.topology.nodes;
  const n = nodes.length;
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  if (nodes.every((v) => v.x !== undefined && v.y !== undefined)) {
    const xs = nodes.map((v) => v.x as number);
    const ys = nodes.map((v) => v.y as number);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    nodes.forEach((v, i) => {
      x[i] = ((v.x as number) - x0) / (x1 - x0 || 1);
      y[i] = 1 - ((v.y as number) - y0) / (y1 - y0 || 1); // north up
    });
    return { x, y };
  }
  // Routing tree: children of each node, depth = hops to the repository.
  const next = inst.routing.next;
  const children: number[][] = Array.from({ length: n }, () => []);
  const roots: number[] = [];
  for (let v = 0; v < n; v++) (next[v] >= 0 ? children[next[v]] : roots).push(v);
  const depth = new Int32Array(n);
  let maxDepth = 0;
  let leaves = 0;
  const place = (v: number, d: number): number => {
    depth[v] = d;
    maxDepth = Math.max(maxDepth, d);
    if (children[v].length === 0) return (x[v] = leaves++);
    let sum = 0;
    for (const c of children[v]) sum += place(c, d + 1);
    return (x[v] = sum / children[v].length);
  };
  for (const r of roots) place(r, 0);
  for (let v = 0; v < n; v++) {
    x[v] = leaves > 1 ? x[v] / (leaves - 1) : 0.5;
    y[v] = maxDepth > 0 ? depth[v] / maxDepth : 0.5;
  }
  return { x, y };
}

function pieSlice(cx: number, cy: number, r: number, from: number, to: number, fill: string): string {
  if (to - from >= 1 - 1e-9) return `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}"/>`;
  const a0 = 2 * Math.PI * from - Math.PI / 2;
  const a1 = 2 * Math.PI * to - Math.PI / 2;
  const p = (a: number) => `${(cx + r * Math.cos(a)).toFixed(2)},${(cy + r * Math.sin(a)).toFixed(2)}`;
  return `<path d="M${cx.toFixed(2)},${cy.toFixed(2)} L${p(a0)} A${r},${r} 0 ${to - from > 0.5 ? 1 : 0} 1 ${p(a1)} Z" fill="${fill}"/>`;
}

/** The SVG picture of `allocation` (one 0/1 per pair) on the instance's topology. */
export function topologySvg(inst: IdnInstance, allocation: ArrayLike<number>, title: string): string {
  const nodes = inst.topology.nodes;
  const n = nodes.length;
  const { x, y } = layoutTopology(inst);
  const W = Math.min(1800, Math.max(640, 14 * n ** 0.75));
  const H = Math.min(900, Math.max(420, W * 0.55));
  const m = 36;
  const r = Math.max(2.5, Math.min(9, (W / Math.sqrt(n)) * 0.12));
  const px = (i: number) => m + x[i] * (W - 2 * m);
  const py = (i: number) => m + 18 + y[i] * (H - 2 * m - 40);
  // Accuracy rank of each model within its task: 0 (least accurate) .. 1 (most).
  const models = inst.catalog.models;
  const rank = new Float64Array(models.length);
  inst.catalog.tasks.forEach((_, task) => {
    const ids = models.map((_, k) => k).filter((k) => inst.modelTask[k] === task);
    ids.sort((a, b) => models[a].accuracy - models[b].accuracy);
    ids.forEach((k, j) => (rank[k] = ids.length > 1 ? j / (ids.length - 1) : 1));
  });
  const colour = (k: number) =>
    `hsl(${TASK_HUES[inst.modelTask[k] % TASK_HUES.length]},70%,${Math.round(78 - 50 * rank[k])}%)`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (const l of inst.topology.links)
    parts.push(
      `<line x1="${px(l.a).toFixed(1)}" y1="${py(l.a).toFixed(1)}" x2="${px(l.b).toFixed(1)}" y2="${py(l.b).toFixed(1)}" stroke="#bbb" stroke-width="1"/>`,
    );
  for (let v = 0; v < n; v++) {
    const cx = px(v);
    const cy = py(v);
    if (nodes[v].repository) {
      parts.push(
        `<rect x="${(cx - r).toFixed(1)}" y="${(cy - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="#222"><title>${esc(`${nodes[v].id} (repository: hosts every model)`)}</title></rect>`,
      );
      continue;
    }
    const hosted: string[] = [];
    const slices: string[] = [`<circle cx="${cx.toFixed(2)}" cy="${cy.toFixed(2)}" r="${r}" fill="#eee"/>`];
    let at = 0;
    const budget = inst.budgetMB[v];
    for (let p = inst.nodePairStart[v]; p < inst.nodePairStart[v + 1]; p++) {
      if (!(allocation[p] > 0)) continue;
      const k = inst.pairModel[p];
      const share = budget > 0 ? Math.min(1 - at, inst.pairSize[p] / budget) : 0;
      if (share > 0) slices.push(pieSlice(cx, cy, r, at, at + share, colour(k)));
      at += share;
      hosted.push(models[k].id);
    }
    const tip = `${nodes[v].id} (${nodes[v].tier}, ${budget.toPrecision(3)} MB): ${hosted.length ? hosted.join(", ") : "nothing"}`;
    parts.push(
      `<g><title>${esc(tip)}</title>${slices.join("")}<circle cx="${cx.toFixed(2)}" cy="${cy.toFixed(2)}" r="${r}" fill="none" stroke="#555" stroke-width="0.6"/></g>`,
    );
  }
  // Legend: one swatch per task (most accurate model's colour).
  inst.catalog.tasks.slice(0, 12).forEach((task, i) => {
    const lx = m + i * 130;
    parts.push(
      `<rect x="${lx}" y="${H - 16}" width="10" height="10" fill="hsl(${TASK_HUES[i % TASK_HUES.length]},70%,40%)"/>`,
    );
    parts.push(`<text x="${lx + 14}" y="${H - 7}">${esc(task)}</text>`);
  });
  parts.push(
    `<text x="${W - m}" y="${H - 24}" text-anchor="end" fill="#555">slice = share of the node's budget; darker = more accurate within a task; black square = repository</text>`,
  );
  parts.push("</svg>");
  return parts.join("\n");
}
