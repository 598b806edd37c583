/**
 * `mammals policies [--describe] [--kind cache|admission] [--json]`: every registered memory
 * policy with its parameters and defaults (from the one registry in memory/registry.ts).
 */
import { type Command, Option } from "commander";
import { fail } from "../../core/errors.js";
import "../../memory/admission/index.js";
import "../../caching/registry.js";
import { describePolicies, listPolicies, type PolicyKind } from "../../core/policy-registry.js";

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
        "Examples:\n  mammals policies --describe --kind cache\n  mammals policies --json\n" +
        '  mammals simulate ... --policies "lru,qlru-dc:q=0.01,duel:tau=500"',
    )
    .action((opts) => {
      const kind = opts.kind as PolicyKind | undefined;
      if (kind !== undefined && kind !== "cache" && kind !== "admission")
        fail("INVALID_ARGUMENT", `--kind: expected cache or admission, got "${opts.kind}"`);
      const list = listPolicies(kind);
      if (opts.json) {
        const policies = list.map((p) => ({
          name: p.name,
          kind: p.kind,
          summary: p.summary,
          params: p.params,
        }));
        process.stdout.write(`${JSON.stringify({ policies })}\n`);
        return;
      }
      if (opts.describe) {
        process.stdout.write(`${describePolicies(kind)}\n`);
        return;
      }
      const width = Math.max(...list.map((p) => p.name.length));
      for (const p of list) process.stdout.write(`${p.name.padEnd(width)}  [${p.kind}]  ${p.summary}\n`);
    });
}
