/**
 * A small, deterministic run of the main job (runDemo) on the embedded MNIST: tiny models trained
 * for a few epochs, short streams. Golden figures are this seeded run's own (regenerate with
 * PRINT_GOLDEN=1 after a deliberate behaviour change); the structural checks hold for any seed.
 */
import { describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/datasets.node.js";
import { takeRows } from "../src/data/types.js";
import { type DemoRow, demoClasses, demoSystems, runDemo } from "../src/jobs/demo.js";
import "../src/models/all.js";
import { trainModel } from "../src/models/registry.js";

const ds = loadDataset("mnist");
const { unseen } = demoClasses(ds);
const keep: number[] = [];
for (let i = 0; i < ds.train.n; i++) if (ds.train.y[i] !== unseen) keep.push(i);
const opts = { epochs: 3, seed: 3, valFraction: 0 };
const small = trainModel("mlp:16", takeRows(ds.train, keep), ds.numClasses, opts).model;
const cloud = trainModel("mlp:64", ds.train, ds.numClasses, opts).model;

const settings = {
  dataset: ds,
  small,
  cloud,
  requests: 800,
  seed: 5,
  upstreamLatency: "constant:ms=20",
  capacities: [0.01],
  policies: ["utility", "all"],
  rule: "adaptive",
  latencyWeight: 0.01,
  scenarios: ["skew", "shift"] as ("skew" | "shift")[],
};

function find(rows: DemoRow[], scenario: string, system: string, policy = "-", key = "-"): DemoRow {
  const r = rows.find(
    (x) => x.scenario === scenario && x.system === system && x.policy === policy && x.key === key,
  );
  if (!r) throw new Error(`no row ${scenario} ${system} ${policy} ${key}`);
  return r;
}

describe("runDemo (small deterministic demo)", () => {
  it("plays every system on the same streams, reproducibly, and the edge node beats the small model", async () => {
    const a = (await runDemo(settings)).map((r) => r.row);
    const b = (await runDemo(settings)).map((r) => r.row);
    const strip = (rows: DemoRow[]) =>
      rows.map((r) => [r.scenario, r.system, r.policy, r.key, r.accuracy, r.localFraction]);
    expect(strip(a)).toEqual(strip(b));
    expect(a.length).toBe(2 * demoSystems(settings).length);
    for (const s of ["skew", "shift"]) {
      const smallRow = find(a, s, "small");
      const cloudRow = find(a, s, "cloud");
      const edge = find(a, s, "edge", "utility", "embedding");
      expect(smallRow.localFraction).toBe(1);
      expect(cloudRow.localFraction).toBe(0);
      expect(cloudRow.meanMs).toBe(20);
      expect(edge.capacity).toBe(80);
      expect(edge.memoryItems).toBeLessThanOrEqual(80);
      expect(edge.accuracy).toBeGreaterThan(smallRow.accuracy + 0.05);
      expect(edge.meanMs).toBeLessThan(cloudRow.meanMs);
      expect(smallRow.unseenAccuracy).toBe(0); // it never saw the class
    }
    const golden: Record<string, [number, number]> = {
      skew: [0.8475, 0.5588],
      shift: [0.4725, 0.5613],
    };
    for (const s of ["skew", "shift"]) {
      const edge = find(a, s, "edge", "utility", "embedding");
      if (process.env.PRINT_GOLDEN) console.log(s, edge.accuracy, edge.localFraction);
      if (process.env.PRINT_GOLDEN) continue;
      expect(Math.abs(edge.accuracy - golden[s][0])).toBeLessThan(0.02);
      expect(Math.abs(edge.localFraction - golden[s][1])).toBeLessThan(0.03);
    }
  }, 60_000);
});
