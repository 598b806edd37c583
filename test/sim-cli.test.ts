/**
 * `mammals simulate | trace gen | trace stats | policies | analyze` in-process through main():
 * the --json last line has the documented shape and agrees with the library, --out writes the
 * CSV / SVG / HTML files, and bad input exits with code 2 and a message saying what was expected.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { captureOutput, tempDir } from "./cli-harness.js";

const dir = tempDir("mammals-sim-cli-");
const io = captureOutput();

const lastJson = () => JSON.parse(io.stdout.trim().split("\n").at(-1) as string);
const CAT = "gauss:n=600,dim=6,seed=4,clusters=10,spread=0.3";

describe("mammals simulate", () => {
  it("--json: one result per policy with the documented keys; --out writes the reports", async () => {
    const out = join(dir, "run");
    const code = await main([
      "simulate",
      "--catalog",
      CAT,
      "--trace",
      "irm:alpha=1,count=4000,noise=0.05",
      "--policies",
      "lru,sim-lru,qlru-dc:q=0.1",
      "--capacity",
      "5%",
      "--cr",
      "0.5",
      "--json",
      "--out",
      out,
    ]);
    expect(io.stderr).toBe("");
    expect(code).toBe(0);
    const j = lastJson();
    expect(j.distance).toMatch(/euclidean/);
    expect(j.capacity).toBe(30);
    expect(j.results.map((r: { policy: string }) => r.policy)).toEqual(["lru", "sim-lru", "qlru-dc:q=0.1"]);
    for (const r of j.results)
      for (const key of ["avgCost", "normalizedCost", "hitRatio", "fetched", "reqPerSec"])
        expect(typeof r[key]).toBe("number");
    const csv = readFileSync(join(out, "running-cost.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe('t,"lru","sim-lru","qlru-dc:q=0.1"');
    // the last running average is the reported average cost
    const last = csv.at(-1)?.split(",").map(Number) as number[];
    expect(last[0]).toBe(4000);
    expect(last[2]).toBeCloseTo(j.results[1].avgCost, 12);
    expect(readFileSync(join(out, "running-cost.svg"), "utf8")).toMatch(/^<svg/);
    expect(readFileSync(join(out, "report.html"), "utf8")).toMatch(/euclidean \(L2, not squared\)/);
  });

  it("a trace written by `trace gen` gives the same figures as the generator", async () => {
    const file = join(dir, "t.trace");
    expect(
      await main([
        "trace",
        "gen",
        "--catalog",
        CAT,
        "--gen",
        "shift:count=3000,seed=2",
        "--out",
        file,
        "--json",
      ]),
    ).toBe(0);
    const args = ["simulate", "--catalog", CAT, "--policies", "lru,duel", "--capacity", "12", "--json"];
    await main([...args, "--trace", "shift:count=3000,seed=2"]);
    const fromGen = lastJson().results;
    io.stdout = "";
    await main([...args, "--trace", file]);
    const fromFile = lastJson().results;
    expect(fromFile.map((r: { avgCost: number }) => r.avgCost)).toEqual(
      fromGen.map((r: { avgCost: number }) => r.avgCost),
    );
    io.stdout = "";
    expect(await main(["trace", "stats", file, "--json"])).toBe(0);
    const s = lastJson();
    expect(s).toMatchObject({
      encoding: "ref",
      count: 3000,
      dim: 6,
      catalog: "gauss:n=600,dim=6,seed=4,clusters=10,spread=0.3",
    });
    expect(s.nearestCatalog.exact).toBe(s.nearestCatalog.sample);
  });

  it.each([
    [["--policies", "lru,nope"], /unknown cache policy "nope"/],
    [["--policies", "qlru-dc:q=7"], /<= 1/],
    [["--capacity", "0"], /--capacity: expected an integer in \[1, 600\]/],
    [["--k", "3", "--cr", "1"], /--cr is the single-answer setting and needs --k 1/],
    [["--approx", "cubic"], /unknown approximation cost "cubic"/],
    [
      ["--trace", "zipf:alpha=1"],
      /trace "zipf:alpha=1": no such file; expected a trace file .* or a generator spec/,
    ],
  ])("rejects %j with exit code 2", async (extra, msg) => {
    const base: Record<string, string> = {
      "--catalog": CAT,
      "--trace": "irm:count=100",
      "--policies": "lru",
      "--capacity": "10",
    };
    const args = ["simulate"];
    for (let i = 0; i < extra.length; i += 2) base[extra[i]] = extra[i + 1];
    for (const [k, v] of Object.entries(base)) args.push(k, v);
    expect(await main(args)).toBe(2);
    expect(io.stderr).toMatch(msg);
  });
});

describe("mammals policies / analyze", () => {
  it("policies --json lists every cache policy with its parameters", async () => {
    expect(await main(["policies", "--kind", "cache", "--json"])).toBe(0);
    const names = lastJson().policies.map((p: { name: string }) => p.name);
    for (const n of ["lru", "lfu", "fifo", "random", "sim-lru", "rnd-lru", "cls-lru", "qlru-dc", "duel"])
      expect(names).toContain(n);
    io.stdout = "";
    expect(await main(["policies", "--describe", "--kind", "cache"])).toBe(0);
    expect(io.stdout).toMatch(/q \(number \[0, 1\], default 0\.05\)/);
  });

  it("analyze --json reports intrinsic dimension, NN distances and hubness", async () => {
    expect(
      await main(["analyze", "--catalog", "gauss:n=1500,dim=3,seed=1", "--sample", "500", "--json"]),
    ).toBe(0);
    const r = lastJson();
    expect(r.twoNN).toBeGreaterThan(2.4);
    expect(r.twoNN).toBeLessThan(3.6);
    expect(r.distance).toMatch(/euclidean/);
    expect(r.nnDistance.p50).toBeGreaterThan(0);
    expect(typeof r.hubness).toBe("number");
  });
});
