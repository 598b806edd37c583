/**
 * The use-case layer (src/jobs/): text values parse one way with messages that say what was
 * expected, jobs return typed results and report progress through their callback (no printing),
 * and the browser-safe jobs stay browser-safe.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it, vi } from "vitest";
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { generateTrace } from "../src/caching/traces.js";
import { MammalsError } from "../src/core/errors.js";
import { encodeFvecs } from "../src/data/vecs.js";
import { runKnn } from "../src/jobs/knn.node.js";
import {
  parseChoice,
  parseChoiceList,
  parseInteger,
  parseNumber,
  parseNumberList,
  parseSeed,
  parseSpecList,
} from "../src/jobs/parse.js";
import { progressCounter } from "../src/jobs/progress.js";
import { parseCapacity, summarizeSimulation } from "../src/jobs/simulate.js";
import { runSimulation } from "../src/jobs/simulate.node.js";
import { seededGeneratorSpec } from "../src/jobs/trace-gen.node.js";
import { fitZipf, traceStats } from "../src/jobs/trace-stats.js";
import { tempDir } from "./cli-harness.js";

const dir = tempDir("mammals-jobs-");

function expectInvalid(f: () => unknown, message: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MammalsError);
    expect((e as MammalsError).code).toBe("INVALID_ARGUMENT");
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected an INVALID_ARGUMENT error matching ${message}`);
}

describe("values given as text (jobs/parse.ts)", () => {
  it("numbers and integers: range and kind checked, the message names the field and the value", () => {
    expect(parseNumber("0.5", "--lr", { min: 0, max: 1 })).toBe(0.5);
    expect(parseInteger("7", "--k", 1)).toBe(7);
    expectInvalid(
      () => parseNumber("abc", "--lr", { min: 0 }),
      /^--lr: expected a number in \[0, Infinity\], got "abc"$/,
    );
    expectInvalid(() => parseNumber(" ", "--lr"), /got " "/);
    expectInvalid(
      () => parseNumber("2", "--val", { max: 0.9 }),
      /--val: expected a number in \[-Infinity, 0.9\]/,
    );
    expectInvalid(
      () => parseInteger("1.5", "--k", 1, 10),
      /^--k: expected an integer in \[1, 10\], got "1.5"$/,
    );
    expectInvalid(() => parseInteger("11", "--k", 1, 10), /got "11"/);
  });

  it("seeds: any 32-bit integer, signed or unsigned", () => {
    expect(parseSeed("0")).toBe(0);
    expect(parseSeed("-2147483648")).toBe(-(2 ** 31));
    expect(parseSeed("4294967295")).toBe(2 ** 32 - 1);
    expectInvalid(
      () => parseSeed("4294967296"),
      /^--seed: expected an integer in \[-2147483648, 4294967295\]/,
    );
    expectInvalid(() => parseSeed("x", "seed"), /^seed: /);
  });

  it("lists are comma-separated; spec lists keep a spec's own parameters together", () => {
    expect(parseNumberList("0.0025, 0.01,0.05", "--capacities", { min: 0, max: 1 })).toEqual([
      0.0025, 0.01, 0.05,
    ]);
    expectInvalid(
      () => parseNumberList("10,x", "--ef", { min: 1, integer: true }),
      /^--ef: expected comma-separated integers in \[1, Infinity\], got "10,x"$/,
    );
    expect(parseSpecList("utility:window=32,minScore=0,ib3,all", "--policies")).toEqual([
      "utility:window=32,minScore=0",
      "ib3",
      "all",
    ]);
    expect(parseSpecList("flat,hnsw:M=16,efSearch=64", "--index")).toEqual(["flat", "hnsw:M=16,efSearch=64"]);
    expectInvalid(
      () => parseSpecList(" , ", "--policies"),
      /--policies: expected a comma-separated list of specs/,
    );
  });

  it("choices: one of a fixed set, singly or as a list", () => {
    expect(parseChoice("f32", "--encoding", ["ref", "f32"])).toBe("f32");
    expectInvalid(
      () => parseChoice("zz", "--encoding", ["ref", "f32"]),
      /^--encoding: expected ref or f32, got "zz"$/,
    );
    expect(parseChoiceList("shift, skew", "--scenario", ["skew", "shift"])).toEqual(["shift", "skew"]);
    expectInvalid(
      () => parseChoiceList("skew;shift", "--scenario", ["skew", "shift"]),
      /--scenario: expected comma-separated values among skew, shift, got "skew;shift"/,
    );
  });
});

describe("simulate job", () => {
  it("capacity: objects, or a percentage of the catalog (at least 1)", () => {
    expect(parseCapacity("1%", 600)).toBe(6);
    expect(parseCapacity("0.01%", 600)).toBe(1);
    expect(parseCapacity(" 25 ", 600)).toBe(25);
    expectInvalid(() => parseCapacity("601", 600), /--capacity: expected an integer in \[1, 600\]/);
    expectInvalid(() => parseCapacity("150%", 600), /--capacity \(percent\)/);
  });

  it("runs every policy over one trace, reports progress and summarizes without the series", () => {
    const progress = vi.fn();
    const run = runSimulation(
      {
        catalog: "gauss:n=500,dim=4,seed=2",
        trace: "irm:alpha=1,count=3000,seed=3",
        policies: ["lru", "sim-lru"],
        capacity: "2%",
        k: 1,
        cr: 0.5,
        seed: 1,
      },
      progress,
    );
    expect(run.capacity).toBe(10);
    expect(run.result.results.map((r) => r.policy)).toEqual(["lru", "sim-lru"]);
    expect(progress).toHaveBeenCalled();
    for (const [done, total, phase] of progress.mock.calls) {
      expect(phase).toBe("simulate");
      expect(total).toBe(3000);
      expect(done).toBeLessThanOrEqual(total);
    }
    const summary = summarizeSimulation(run);
    expect(summary.capacity).toBe(10);
    expect(summary.requests).toBe(3000);
    expect(summary.results[1]).not.toHaveProperty("series");
    expect(summary.results[1].avgCost).toBe(run.result.results[1].avgCost);
  });

  it("a capacity below k is refused before the trace is opened", () => {
    expectInvalid(
      () =>
        runSimulation({
          catalog: "gauss:n=100,dim=3",
          trace: "/no/such/trace/file",
          policies: ["lru"],
          capacity: "3",
          k: 5,
          seed: 1,
        }),
      /--capacity 3 is below --k 5/,
    );
  });
});

describe("trace jobs", () => {
  it("fitZipf recovers the exponent of exact Zipf counts", () => {
    const counts = Float64Array.from({ length: 400 }, (_, r) => Math.round(1e6 / (r + 1) ** 0.8));
    expect(fitZipf(counts)).toBeCloseTo(0.8, 2);
    expect(fitZipf(new Float64Array([5, 1, 1]))).toBeNaN(); // one rank with count >= 2: no slope
  });

  it("traceStats counts popularity over catalog ids and finds requests on catalog rows", () => {
    const g = gaussVectors("n=300,dim=3,seed=5");
    const catalog = makeCatalog(g.canonical, g.vectors, g.dim);
    const trace = generateTrace("irm:alpha=1,count=2000,seed=4", catalog);
    const s = traceStats(trace, { file: "irm", encoding: "ref", catalog, sample: 100 });
    expect(s.count).toBe(2000);
    expect(s.popularity?.distinct).toBeGreaterThan(50);
    expect(s.popularity?.zipfAlpha).toBeGreaterThan(0.6);
    expect(s.nearestCatalog).toMatchObject({ sample: 100, exact: 100, median: 0 });
  });

  it("the generator seed is given once: in the spec or as a separate value", () => {
    expect(seededGeneratorSpec("irm:alpha=1", 7)).toBe("irm:alpha=1,seed=7");
    expect(seededGeneratorSpec("irm", 7)).toBe("irm:seed=7");
    expect(seededGeneratorSpec("irm:seed=2", undefined)).toBe("irm:seed=2");
    expectInvalid(
      () => seededGeneratorSpec("irm:count=5,seed=2", 3),
      /give the seed in --gen or in --seed, not both/,
    );
  });
});

describe("knn job", () => {
  it("reports its build and search phases through the callback", () => {
    const base = join(dir, "base.fvecs");
    const data = Float32Array.from({ length: 40 * 3 }, (_, i) => (i * 7919) % 13);
    writeFileSync(base, encodeFvecs(data, 3));
    const phases = new Map<string, [number, number]>();
    const r = runKnn(
      {
        base,
        queries: base,
        k: 2,
        index: "flat",
        out: join(dir, "nn.ivecs"),
        metric: "l2",
      },
      (done, total, phase) => phases.set(phase, [done, total]),
    );
    expect(r.summary.queries).toBe(40);
    expect(phases.get("build flat")).toEqual([40, 40]);
    expect(phases.get("search flat")).toEqual([40, 40]);
  });

  it("progressCounter ticks through the callback, and is free without one", () => {
    const seen: number[] = [];
    const c = progressCounter((d) => seen.push(d), 5, "x");
    c.tick();
    c.tick(3);
    expect(seen).toEqual([1, 4]);
    progressCounter(undefined, 5, "x").tick();
  });
});

describe("browser-safe jobs", () => {
  it("the jobs that are not *.node.ts import no Node builtin, however indirectly", async () => {
    const root = join(import.meta.dirname, "..");
    const files = readdirSync(join(root, "src/jobs"))
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".node.ts"))
      .map((f) => `src/jobs/${f}`);
    expect(files).toContain("src/jobs/simulate.ts");
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const seen: string[] = [];
    const result = await build({
      stdin: {
        contents: files.map((f, i) => `export * as m${i} from "./${f}";`).join("\n"),
        resolveDir: root,
        loader: "ts",
      },
      bundle: true,
      write: false,
      platform: "browser",
      format: "esm",
      logLevel: "silent",
      plugins: [
        {
          name: "record-node-imports",
          setup(b) {
            b.onResolve({ filter: /.*/ }, (args) => {
              if (!args.path.startsWith("node:") && !builtins.has(args.path)) return undefined;
              seen.push(`${args.path} (from ${args.importer.replace(`${root}/`, "")})`);
              return { path: args.path, external: true };
            });
          },
        },
      ],
    });
    expect(result.errors).toEqual([]);
    expect(seen).toEqual([]);
  });
});
