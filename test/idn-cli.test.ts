/**
 * `mammals idn simulate | describe` in-process through main(): the --json last line has exactly the
 * documented keys and agrees with the library, --out writes the CSV / HTML / SVG files, file specs
 * (topology JSON, catalog JSON, trace CSV) work, and bad input exits with code 2 and a message that
 * names the file or flag, what was expected and what arrived.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { Rng } from "../src/core/rng.js";
import { catalogToJson } from "../src/idn/catalog.js";
import { topologyToJson } from "../src/idn/topologies.js";
import { traceToCsv } from "../src/idn/trace-format.js";
import { generateTrace } from "../src/idn/traces.js";
import { runIdnSimulation } from "../src/jobs/idn-simulate.js";
import { captureOutput, tempDir } from "./cli-harness.js";
import { tinyInstance } from "./idn-fixtures.js";

const dir = tempDir("mammals-idn-cli-");
const io = captureOutput();
const lastJson = () => JSON.parse(io.stdout.trim().split("\n").at(-1) as string);
const KEYS = ["policy", "avgGain", "normalizedGain", "loadsPerSlot", "accuracy", "p50Ms", "p99Ms"];

describe("mammals idn simulate", () => {
  it("--json prints exactly the documented keys, equal to the job's figures; --out writes the reports", async () => {
    const out = join(dir, "run");
    const args = [
      "--topology",
      "abilene",
      "--catalog",
      "published",
      "--trace",
      "sliding:requests=20000",
      "--slots",
      "40",
    ];
    const code = await main([
      "idn",
      "simulate",
      ...args,
      "--policies",
      "infida,greedy-online,lru,offline-opt",
      "--json",
      "--out",
      out,
    ]);
    expect(io.stderr).toBe("");
    expect(code).toBe(0);
    const j = lastJson();
    expect(Object.keys(j)).toEqual(["results"]);
    expect(j.results.map((r: { policy: string }) => r.policy)).toEqual([
      "infida",
      "greedy-online",
      "lru",
      "offline-opt",
    ]);
    for (const r of j.results) expect(Object.keys(r)).toEqual(KEYS);
    expect(j.results[3].normalizedGain).toBe(1);
    const lib = runIdnSimulation({
      topology: "abilene",
      catalog: "published",
      trace: "sliding:requests=20000",
      slots: 40,
      policies: "infida,greedy-online,lru,offline-opt",
    });
    lib.result.results.forEach((r, k) => expect(j.results[k].avgGain).toBeCloseTo(r.avgGain, 9));
    for (const f of [
      "results.json",
      "series.csv",
      "report.html",
      "topology-infida.svg",
      "topology-offline-opt.svg",
    ])
      expect(existsSync(join(out, f))).toBe(true);
    const csv = readFileSync(join(out, "series.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("slot,policy,gain,cost_per_request,loads,accuracy,mean_latency_ms");
    expect(csv.length).toBe(1 + 40 * 4);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toMatch(/<svg[\s\S]*Time-averaged gain/);
    expect(html).toMatch(/mammals idn simulate --topology abilene/);
    expect(readFileSync(join(out, "topology-infida.svg"), "utf8")).toMatch(
      /<svg[\s\S]*<title>NEWY \(regional/,
    );
    expect(JSON.parse(readFileSync(join(out, "results.json"), "utf8")).results[0].spec).toMatch(
      /^infida:eta=/,
    );
  });

  it("prints a table by default, and runs on topology / catalog / trace files", async () => {
    const { instance } = tinyInstance(3);
    const files = {
      topology: join(dir, "net.json"),
      catalog: join(dir, "models.json"),
      trace: join(dir, "trace.csv"),
    };
    writeFileSync(files.topology, topologyToJson(instance.topology));
    writeFileSync(files.catalog, catalogToJson(instance.catalog));
    writeFileSync(
      files.trace,
      traceToCsv(generateTrace("stationary:requests=500", { instance, slots: 12, seed: 3 }), instance),
    );
    const code = await main([
      "idn",
      "simulate",
      "--topology",
      files.topology,
      "--catalog",
      files.catalog,
      "--trace",
      files.trace,
      "--policies",
      "infida,offline-opt",
      "--alpha",
      "50",
    ]);
    expect(code).toBe(0);
    expect(io.stdout).toMatch(/trace .*trace\.csv: 500 requests in 12 slots/);
    expect(io.stdout).toMatch(/offline-opt is EXACT/);
    expect(io.stdout).toMatch(/policy\s+avgGain\s+normalized/);
  });

  it("bad input exits with code 2 and says what was expected and what arrived", async () => {
    const run = async (...extra: string[]) => {
      io.stderr = "";
      const base: Record<string, string> = {
        "--topology": "geant",
        "--catalog": "published",
        "--trace": "stationary:requests=100",
        "--policies": "infida",
      };
      for (let i = 0; i < extra.length; i += 2) base[extra[i]] = extra[i + 1];
      const code = await main(["idn", "simulate", ...Object.entries(base).flat(), "--slots", "5"]);
      expect(code).toBe(2);
      return io.stderr;
    };
    expect(await run("--topology", "ring")).toMatch(
      /error \(UNKNOWN_NAME\): unknown topology "ring"; expected one of tree, abilene, geant/,
    );
    expect(await run("--policies", "infida,belady")).toMatch(/unknown IDN policy "belady"/);
    expect(await run("--trace", "stationary:requests=-1")).toMatch(
      /parameter requests: expected >= 1, got -1/,
    );
    const broken = join(dir, "broken.json");
    writeFileSync(broken, '{"nodes": [');
    expect(await run("--topology", broken)).toMatch(/topology file .*broken\.json: malformed JSON/);
    expect(await run("--catalog", join(dir, "missing.json"))).toMatch(/missing\.json: no such file/);
    const bad = join(dir, "bad-trace.csv");
    writeFileSync(bad, "slot,source,task,count\n0,nowhere,imagenet,3\n");
    expect(await run("--trace", bad)).toMatch(/bad-trace\.csv:2: source: unknown node "nowhere"/);
    expect(await run("--alpha", "-1")).toMatch(/--alpha: expected a number in \[0, Infinity\], got "-1"/);
  });

  it("idn describe lists topologies, catalogs, traces and policies with their parameters", async () => {
    expect(await main(["idn", "describe"])).toBe(0);
    for (const s of [
      "tree",
      "abilene",
      "geant",
      "published",
      "measured",
      "stationary",
      "sliding",
      "adversarial",
      "infida",
      "offline-opt",
      "refresh (int",
    ])
      expect(io.stdout).toContain(s);
  });
});

describe("the job", () => {
  it("refuses file specs without the Node adapter, with a message saying so", () => {
    expect(() =>
      runIdnSimulation({
        topology: "net.json",
        catalog: "published",
        trace: "stationary",
        policies: ["lru"],
        seed: new Rng(1).int(5),
      }),
    ).toThrow(/reading files needs the Node adapter/);
  });
});
