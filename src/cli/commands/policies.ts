/**
 * `mammals policies [--describe] [--kind cache|admission] [--json]`: every registered memory
 * policy with its capabilities, parameters and defaults, from the two registries (cache policies
 * in caching/cache-policies.ts, admission policies in memory/admission/admission-policies.ts).
 */
import { type Command, Option } from "commander";
import { cachePolicies } from "../../caching/registry.js";
import { fail } from "../../core/errors.js";
import { admissionPolicies } from "../../memory/admission/index.js";

const KINDS = { cache: cachePolicies, admission: admissionPolicies } as const;
type PolicyKind = keyof typeof KINDS;

export function register(program: Command): void {
  program
    .command("policies")
    .description(
      "list the memory policies: similarity-caching (kind cache) and admission rules (kind admission)",
    )
    .option("--describe", "print every parameter with its type, range, default and meaning")
    .option("--kind <kind>", "only this kind: cache or admission")
    .addOption(new Option("--json", "print one JSON object on the last line"))
    .addHelpText(
      "after",
      "\nA policy is named by a spec string NAME[:key=value,...]; unknown keys are rejected.\n" +
        "A cache policy lists the settings it is defined for: single-answer (--k 1 --cr C), knn (--cf C).\n" +
        "Examples:\n  mammals policies --describe --kind cache\n  mammals policies --json\n" +
        '  mammals simulate ... --policies "lru,qlru-dc:q=0.01,duel:tau=500"',
    )
    .action((opts) => {
      const kind = opts.kind as PolicyKind | undefined;
      if (kind !== undefined && !(kind in KINDS))
        fail("INVALID_ARGUMENT", `--kind: expected cache or admission, got "${opts.kind}"`);
      const kinds = (kind ? [kind] : Object.keys(KINDS)) as PolicyKind[];
      if (opts.json) {
        const policies = kinds.flatMap((k) =>
          KINDS[k].list().map((p) => ({
            name: p.name,
            kind: k,
            summary: p.summary,
            capabilities: p.capabilities ?? [],
            params: p.params,
          })),
        );
        process.stdout.write(`${JSON.stringify({ policies })}\n`);
        return;
      }
      if (opts.describe) {
        const blocks = kinds.map((k) => `${KINDS[k].kind} (kind ${k}):\n\n${KINDS[k].describe()}`);
        process.stdout.write(`${blocks.join("\n\n")}\n`);
        return;
      }
      const rows = kinds.flatMap((k) => KINDS[k].list().map((p) => ({ kind: k, ...p })));
      const width = Math.max(...rows.map((p) => p.name.length));
      for (const p of rows) {
        const caps = p.capabilities?.length ? ` (${p.capabilities.join(", ")})` : "";
        process.stdout.write(`${p.name.padEnd(width)}  [${p.kind}]  ${p.summary}${caps}\n`);
      }
    });
}
