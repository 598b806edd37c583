/**
 * The summary of docs/sim-results.md, computed from its own tables: per configuration, the
 * cheapest online policy, acai's rank among the online policies and its distance to the
 * cheapest, and the offline references. scripts/sim-results.ts appends it when it finishes; run
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
}
interface Config {
  catalog: string;
  title: string;
  rows: Row[];
}

const OFFLINE = /^(greedy|static-opt)\b/;
const HEADING = "## Summary";

/** Parses the "## catalog" / "### k = ..." sections and their policy tables. */
export function parseResults(md: string): Config[] {
  const configs: Config[] = [];
  let catalog = "";
  let current: Config | null = null;
  for (const line of md.split("\n")) {
    if (line.startsWith("## ") && !line.startsWith(HEADING)) catalog = line.slice(3).split(" (")[0];
    else if (line.startsWith("### ")) {
      current = { catalog, title: line.slice(4).split(",").slice(0, 2).join(","), rows: [] };
      configs.push(current);
    } else if (current && /^[a-z][\w:=.,-]*\s+[\d.]+\s+[\d.]+\s/.test(line)) {
      const f = line.trim().split(/\s+/);
      current.rows.push({ policy: f[0], avgCost: Number(f[1]), normalized: Number(f[2]) });
    }
  }
  return configs.filter((c) => c.rows.length > 0);
}

export function summarize(md: string): string {
  const configs = parseResults(md);
  const rows: (string | number)[][] = [];
  let acaiBest = 0;
  let acaiSeen = 0;
  const winners = new Map<string, number>();
  for (const c of configs) {
    const online = c.rows.filter((r) => !OFFLINE.test(r.policy)).sort((a, b) => a.avgCost - b.avgCost);
    const best = online[0];
    const name = (p: string) => p.split(":")[0];
    winners.set(name(best.policy), (winners.get(name(best.policy)) ?? 0) + 1);
    const ai = online.findIndex((r) => name(r.policy) === "acai");
    const acai = online[ai];
    if (acai) {
      acaiSeen++;
      if (ai === 0) acaiBest++;
    }
    const ref = c.rows.find((r) => name(r.policy) === "static-opt");
    rows.push([
      c.catalog.split("/").pop() ?? c.catalog,
      c.title,
      name(best.policy),
      best.normalized,
      acai ? `${ai + 1} of ${online.length}` : "-",
      acai ? acai.normalized : "-",
      acai ? `${(((acai.avgCost - best.avgCost) / best.avgCost) * 100).toFixed(1)}%` : "-",
      ref ? ref.normalized : "-",
    ]);
  }
  const tally = [...winners.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([p, n]) => `${p} ${n}`)
    .join(", ");
  return [
    HEADING,
    "",
    `Computed from the tables above by \`npx tsx scripts/sim-summary.ts\` (normalized cost; online = every policy but greedy and static-opt). acai is the cheapest online policy in ${acaiBest} of ${acaiSeen} configurations; cheapest online policy per configuration: ${tally}.`,
    "",
    "```",
    table(
      [
        "catalog",
        "configuration",
        "cheapest online",
        "normalized",
        "acai rank",
        "acai",
        "acai above cheapest",
        "static-opt",
      ],
      rows,
    ),
    "```",
    "",
    "greedy and static-opt build their tables from a uniform sample of `maxRequests` requests (shown in their spec), so on traces much longer than that they are estimates of the best fixed cache, not bounds. The reading of these tables is in docs/sim.md.",
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
