/**
 * The summary of a results page (docs/sim-results*.md), computed from its own tables: per
 * configuration the cheapest online policy (served cost, and with movement charged when the
 * tables have the withMove column) and the excess of our policies (hedge, ftpl) over it; per
 * policy its worst-case excess over the cheapest across all configurations. scripts/sim-results.ts appends it when it finishes; run
 * alone, this script (re)writes the "## Summary" section of an existing results file in place.
 *
 * Usage: npx tsx scripts/sim-summary.ts [--file docs/sim-results.md]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { table } from "../src/core/format.js";

interface Row {
  policy: string;
  avgCost: number;
  normalized: number;
  /** Cost with movement charged (absent in pages written before that column existed). */
  withMove?: number;
}
interface Config {
  catalog: string;
  title: string;
  rows: Row[];
}

const OFFLINE = /^(greedy|static-opt)\b/;
const HEADING = "## Summary";
/** Our policies (issue 16), with a column each in the per-configuration table. */
const OURS: [string, (spec: string) => boolean][] = [
  ["hedge", (p) => key(p) === "hedge"],
  ["hedge:switching=free", (p) => key(p) === "hedge:switching=free"],
  ["hedge:movement=false", (p) => key(p) === "hedge:movement=false"],
  ["ftpl", (p) => key(p) === "ftpl"],
];
/** Non-default parameters that make a variant of one of our policies its own row. */
const VARIANTS = ["rate=fixed", "movement=false", "switching=free", "fill=full"];

/** Parses the "## catalog" / "### k = ..." sections and their policy tables (columns by header). */
export function parseResults(md: string): Config[] {
  const configs: Config[] = [];
  let catalog = "";
  let current: Config | null = null;
  let cols: string[] = [];
  for (const line of md.split("\n")) {
    if (line.startsWith("## ") && !line.startsWith(HEADING)) catalog = line.slice(3).split(" (")[0];
    else if (line.startsWith("### ")) {
      current = { catalog, title: line.slice(4).split(",").slice(0, 2).join(","), rows: [] };
      configs.push(current);
    } else if (current && line.startsWith("$ mammals simulate")) {
      // The run's trace, from its command: "irm" and "irm with noise" are different configurations.
      const spec = /--trace (\S+)/.exec(line)?.[1] ?? "";
      const label = `${spec.split(":")[0]}${/noise=(?!0(,|$))/.test(spec) ? "+noise" : ""}`;
      current.title = `[${label}] ${current.title.replace(/^\[[^\]]*\] /, "")}`;
    } else if (current && /^policy\s+avgCost/.test(line)) cols = line.trim().split(/\s+/);
    else if (current && /^[a-z][\w:=.,+;-]*\s+[\d.]+\s+[\d.]+\s/.test(line)) {
      const f = line.trim().split(/\s+/);
      const at = (c: string) => cols.indexOf(c);
      current.rows.push({
        policy: f[0],
        avgCost: Number(f[at("avgCost")]),
        normalized: Number(f[at("normalized")]),
        withMove: at("withMove") > 0 ? Number(f[at("withMove")]) : undefined,
      });
    }
  }
  return configs.filter((c) => c.rows.length > 0);
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const name = (p: string) => p.split(":")[0];
/** A policy's key across tables: its name, plus the non-default parameters of our variants. */
function key(p: string): string {
  const params = (p.split(":")[1] ?? "").split(",");
  const v = VARIANTS.filter((x) => params.includes(x));
  return v.length > 0 ? `${name(p)}:${v.join(",")}` : name(p);
}

export function summarize(md: string): string {
  const configs = parseResults(md);
  const perConfig: (string | number)[][] = [];
  const winners = new Map<string, number>();
  const winnersMove = new Map<string, number>();
  // Per policy: worst excess over the cheapest online policy, served and with movement, and where.
  const worst = new Map<
    string,
    {
      served: number;
      where: string;
      move: number;
      whereMove: string;
      n: number;
      /** Configurations within 1% of the cheapest (served; with movement). */
      close: number;
      closeMove: number;
      /** Worst excess outside the adversarial trace (served; with movement). */
      servedNonAdv: number;
      moveNonAdv: number;
    }
  >();
  const hasMove = configs.every((c) => c.rows.every((r) => r.withMove !== undefined));
  for (const c of configs) {
    const online = c.rows.filter((r) => !OFFLINE.test(r.policy));
    const best = online.reduce((x, y) => (y.avgCost < x.avgCost ? y : x));
    const bestMove = hasMove
      ? online.reduce((x, y) => ((y.withMove ?? 0) < (x.withMove ?? 0) ? y : x))
      : best;
    winners.set(key(best.policy), (winners.get(key(best.policy)) ?? 0) + 1);
    if (hasMove) winnersMove.set(key(bestMove.policy), (winnersMove.get(key(bestMove.policy)) ?? 0) + 1);
    const where = `${c.catalog.split("/").pop()} ${c.title}`;
    for (const r of online) {
      const served = best.avgCost > 0 ? (r.avgCost - best.avgCost) / best.avgCost : 0;
      const move =
        hasMove && (bestMove.withMove ?? 0) > 0
          ? ((r.withMove ?? 0) - (bestMove.withMove ?? 0)) / (bestMove.withMove ?? 1)
          : 0;
      const w = worst.get(key(r.policy)) ?? {
        served: -1,
        where: "",
        move: -1,
        whereMove: "",
        n: 0,
        close: 0,
        closeMove: 0,
        servedNonAdv: 0,
        moveNonAdv: 0,
      };
      if (served > w.served) Object.assign(w, { served, where });
      if (move > w.move) Object.assign(w, { move, whereMove: where });
      if (served <= 0.01) w.close++;
      if (move <= 0.01) w.closeMove++;
      if (!c.title.startsWith("[adversarial]")) {
        w.servedNonAdv = Math.max(w.servedNonAdv, served);
        w.moveNonAdv = Math.max(w.moveNonAdv, move);
      }
      w.n++;
      worst.set(key(r.policy), w);
    }
    const ours = OURS.map(([, is]) => online.find((r) => is(r.policy)));
    const ref = c.rows.find((r) => name(r.policy) === "static-opt");
    perConfig.push([
      c.catalog.split("/").pop() ?? c.catalog,
      c.title,
      key(best.policy),
      best.normalized,
      ...ours.map((r) => (r ? pct((r.avgCost - best.avgCost) / best.avgCost) : "-")),
      ...(hasMove ? [key(bestMove.policy)] : []),
      ...(hasMove
        ? ours.map((r) =>
            r ? pct(((r.withMove ?? 0) - (bestMove.withMove ?? 0)) / (bestMove.withMove ?? 1)) : "-",
          )
        : []),
      ref ? ref.normalized : "-",
    ]);
  }
  const tally = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([p, n]) => `${p} ${n}`)
      .join(", ");
  const policyRows = [...worst.entries()]
    .sort((a, b) => a[1].served - b[1].served)
    .map(([p, w]) => [
      p,
      `${w.n} of ${configs.length}`,
      pct(w.served),
      w.where,
      ...(hasMove ? [pct(w.move), w.whereMove] : []),
      `${w.close}${hasMove ? ` / ${w.closeMove}` : ""}`,
      `${pct(w.servedNonAdv)}${hasMove ? ` / ${pct(w.moveNonAdv)}` : ""}`,
    ]);
  return [
    HEADING,
    "",
    `Computed from the tables above by \`npx tsx scripts/sim-summary.ts --file FILE\` (online = every policy but greedy and static-opt; excess = (policy - cheapest online) / cheapest online, on avgCost${hasMove ? " and on withMove, the cost with movement charged" : ""}). Cheapest online policy per configuration (served cost): ${tally(winners)}${hasMove ? `; with movement charged: ${tally(winnersMove)}` : ""}.`,
    "",
    "Per policy, its worst-case excess over the cheapest online policy across the configurations it ran in:",
    "",
    "```",
    table(
      [
        "policy",
        "configurations",
        "worst excess (served)",
        "where",
        ...(hasMove ? ["worst excess (with movement)", "where"] : []),
        hasMove ? "within 1% (served / move)" : "within 1%",
        hasMove ? "worst excluding adversarial (served / move)" : "worst excluding adversarial",
      ],
      policyRows,
    ),
    "```",
    "",
    "Per configuration:",
    "",
    "```",
    table(
      [
        "catalog",
        "configuration",
        "cheapest online",
        "normalized",
        ...OURS.map(([o]) => `${o} excess`),
        ...(hasMove ? ["cheapest with movement", ...OURS.map(([o]) => `${o} excess (move)`)] : []),
        "static-opt",
      ],
      perConfig,
    ),
    "```",
    "",
    "greedy and static-opt replay the whole trace unless their spec shows `maxRequests=N` > 0 (then a uniform sample of N requests stands for it, an estimate of the best fixed cache, not a bound). The reading of these tables is in docs/sim.md.",
    "",
  ].join("\n");
}

/** Replaces (or inserts before the closing "Total:" line) the summary section of a results file. */
export function withSummary(md: string): string {
  const start = md.indexOf(`${HEADING}\n`);
  const base = start >= 0 ? md.slice(0, start) + md.slice(md.indexOf("\nTotal:", start) + 1) : md;
  const at = base.lastIndexOf("\nTotal:");
  const summary = summarize(base);
  return at >= 0 ? `${base.slice(0, at + 1)}${summary}\n${base.slice(at + 1)}` : `${base}\n${summary}`;
}

if (process.argv[1]?.endsWith("sim-summary.ts")) {
  const { values: a } = parseArgs({ options: { file: { type: "string", default: "docs/sim-results.md" } } });
  const file = a.file as string;
  writeFileSync(file, withSummary(readFileSync(file, "utf8")));
  process.stderr.write(`summary written into ${file}\n`);
}
