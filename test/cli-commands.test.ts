/**
 * Every `mammals` command, in-process through main(): each --help explains every flag and shows an
 * example, the shared flags (--json, --data, --seed) read the same everywhere, lists are
 * comma-separated (demo --policies included), and the commands print what their job returns.
 */
import { join } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram, main } from "../src/cli/main.js";
import { runAnalysis } from "../src/jobs/analyze.node.js";
import { captureOutput, tempDir } from "./cli-harness.js";

const dir = tempDir("mammals-cli-commands-");
const io = captureOutput();
const lastJson = () => JSON.parse(io.stdout.trim().split("\n").at(-1) as string);

/** Paths of every command and subcommand, e.g. ["trace", "gen"]. */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands
    .filter((c) => c.name() !== "help")
    .flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

describe("--help", () => {
  const paths = commandPaths(buildProgram());

  it("lists the commands", () => {
    for (const p of [["demo"], ["simulate"], ["trace", "gen"], ["trace", "stats"], ["bench", "index"]])
      expect(paths).toContainEqual(p);
  });

  it.each(paths.map((p) => [p.join(" "), p] as const))(
    "%s: every flag described, examples given",
    async (_, path) => {
      expect(await main([...path, "--help"])).toBe(0);
      expect(io.stdout).toMatch(/\nExamples?:\n {2}mammals /);
      const options = io.stdout.split("\nOptions:\n")[1]?.split("\n\n")[0] ?? "";
      for (const line of options.split("\n").filter((l) => /^ {2}-/.test(l)))
        expect(line.trim(), `${path.join(" ")}: ${line}`).toMatch(/^\S.*\S\s{2,}\S/);
    },
  );

  it("the shared flags read the same in every command that takes them", async () => {
    const seen = new Map<string, Set<string>>();
    for (const path of paths) {
      io.stdout = "";
      await main([...path, "--help"]);
      for (const flag of ["--json", "--data <dir>", "--seed <n>", "--dataset <name>"])
        if (io.stdout.includes(`  ${flag} `))
          seen.set(flag, (seen.get(flag) ?? new Set()).add(path.join(" ")));
    }
    expect(seen.get("--json")?.size).toBeGreaterThanOrEqual(10);
    expect(seen.get("--seed <n>")?.size).toBeGreaterThanOrEqual(9);
    expect(seen.get("--data <dir>")?.size).toBeGreaterThanOrEqual(8);
  });
});

describe("flags -> job -> print", () => {
  it("analyze --json prints exactly what the job returns", async () => {
    const args = { catalog: "gauss:n=400,dim=3,seed=2", sample: 200, k: 5, seed: 3 };
    expect(
      await main([
        "analyze",
        "--catalog",
        args.catalog,
        "--sample",
        "200",
        "--k",
        "5",
        "--seed",
        "3",
        "--json",
      ]),
    ).toBe(0);
    expect(lastJson()).toEqual(JSON.parse(JSON.stringify(runAnalysis(args))));
  });

  it.each([
    [
      ["analyze", "--catalog", "gauss:n=100,dim=2", "--seed", "1.5"],
      /--seed: expected an integer in \[-2147483648, 4294967295\], got "1.5"/,
    ],
    [
      ["bench", "index", "--ef", "10,x"],
      /--ef: expected comma-separated integers in \[1, Infinity\], got "10,x"/,
    ],
    [
      ["demo", "--scenario", "skew,drift"],
      /--scenario: expected comma-separated values among skew, shift, got "drift"/,
    ],
    [["demo", "--policies", ","], /--policies: expected a comma-separated list of specs/],
    [
      ["finetune", "--in", "m.mammals", "--update", " , "],
      /--update: expected a comma-separated list of specs/,
    ],
    [
      [
        "trace",
        "gen",
        "--catalog",
        "gauss:n=50,dim=2",
        "--gen",
        "irm",
        "--out",
        "x.trace",
        "--encoding",
        "f64",
      ],
      /--encoding: expected ref or f32, got "f64"/,
    ],
  ])("%j is refused with exit code 2 before any work", async (args, message) => {
    expect(await main(args)).toBe(2);
    expect(io.stderr).toMatch(message);
  });

  it("demo: --policies is a comma-separated spec list like every other list", async () => {
    const args = [
      "demo",
      "--small",
      "logreg",
      "--cloud",
      "mlp:16",
      "--requests",
      "200",
      "--scenario",
      "skew",
      "--capacities",
      "0.01",
      "--cache",
      join(dir, "models"),
      "--out",
      join(dir, "demo"),
      "--json",
    ];
    expect(await main([...args, "--policies", "utility:window=32,minScore=0,all"])).toBe(0);
    const j = lastJson();
    expect(j.report).toBe(join(dir, "demo", "index.html"));
    const edges = j.rows.filter((r: { system: string }) => r.system === "edge");
    expect(new Set(edges.map((r: { policy: string }) => r.policy))).toEqual(
      new Set(["utility:window=32,minScore=0", "all"]),
    );
    // the old ';' separator is now part of one (unknown) spec name
    expect(await main([...args, "--policies", "utility;all"])).toBe(2);
    expect(io.stderr).toMatch(/unknown admission policy "utility;all"/);
  });
});
