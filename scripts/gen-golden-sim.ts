/**
 * Regenerates test/fixtures/sim-golden.json: exact hit counts, fetches and total costs of lru and
 * sim-lru on a fixed small catalog and trace, at several capacities, in both cost settings.
 * Run after an intended change of the simulator's semantics, then review the diff:
 *   npx tsx scripts/gen-golden-sim.ts
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GOLDEN, goldenRows } from "../test/sim-fixtures.js";

const file = join(import.meta.dirname, "..", "test", "fixtures", "sim-golden.json");
const rows = goldenRows();
writeFileSync(
  file,
  `${JSON.stringify({ generatedBy: "npx tsx scripts/gen-golden-sim.ts", case: GOLDEN, rows }, null, 1)}\n`,
);
process.stdout.write(`wrote ${file}: ${rows.length} rows\n`);
