/**
 * Regenerates test/fixtures/sim-golden.json: exact hit counts, fetches, movements and total costs
 * of every registered cache policy (offline references included) on a fixed small catalog and
 * trace, at several capacities, in each cost setting the policy declares (test/golden-sim.ts).
 * Run after registering a policy or an intended change of the simulator's semantics, then review
 * the diff (rows of unchanged policies must not move):
 *   npx tsx scripts/gen-golden-sim.ts
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cachePolicies } from "../src/caching/registry.js";
import { GOLDEN, goldenRows } from "../test/golden-sim.js";

const file = join(import.meta.dirname, "..", "test", "fixtures", "sim-golden.json");
const policies = cachePolicies.names();
const rows = goldenRows(policies);
const fixture = { generatedBy: "npx tsx scripts/gen-golden-sim.ts", case: { ...GOLDEN, policies }, rows };
writeFileSync(file, `${JSON.stringify(fixture, null, 1)}\n`);
// The repository's JSON layout is biome's; format here so that `biome check` passes as generated.
const biome = join(import.meta.dirname, "..", "node_modules", ".bin", "biome");
execFileSync(biome, ["format", "--write", file], { stdio: "ignore" });
process.stdout.write(`wrote ${file}: ${rows.length} rows for ${policies.length} cache policies\n`);
