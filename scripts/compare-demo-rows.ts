/**
 * Checks that two `mammals demo --json` outputs have the same rows on every field but the timing
 * fields (meanMs, p99Ms: measured wall time), in the same order. Used to check that a
 * restructuring left the demo's figures unchanged.
 *
 * Usage: npx tsx scripts/compare-demo-rows.ts BEFORE.json AFTER.json [--ignore meanMs,p99Ms]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: { ignore: { type: "string", default: "meanMs,p99Ms" } },
});
if (positionals.length !== 2) {
  process.stderr.write("usage: npx tsx scripts/compare-demo-rows.ts BEFORE.json AFTER.json [--ignore a,b]\n");
  process.exit(2);
}
const ignored = new Set((a.ignore as string).split(","));
type Row = Record<string, unknown>;
const rowsOf = (file: string): Row[] => {
  const last = readFileSync(file, "utf8").trim().split("\n").at(-1) ?? "";
  return (JSON.parse(last) as { rows: Row[] }).rows;
};
const [before, after] = positionals.map(rowsOf);
const problems: string[] = [];
if (before.length !== after.length) problems.push(`${before.length} rows before, ${after.length} after`);
before.forEach((b, i) => {
  const r = after[i] ?? {};
  for (const key of new Set([...Object.keys(b), ...Object.keys(r)]))
    if (!ignored.has(key) && !Object.is(b[key], r[key]))
      problems.push(
        `row ${i} (${b.scenario} ${b.system} ${b.policy} ${b.key}): ${key} ${b[key]} -> ${r[key]}`,
      );
});
process.stdout.write(
  problems.length === 0
    ? `${before.length} rows equal on every field but ${[...ignored].join(", ")}\n`
    : `${problems.join("\n")}\n`,
);
process.exitCode = problems.length === 0 ? 0 : 1;
