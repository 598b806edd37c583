/**
 * `mammals demo --http`'s job: the demo's stream played through two real processes. The cloud
 * over HTTP must be exactly as accurate as the cloud in process (same model, same stream); the edge
 * over HTTP answers part of the stream itself and learns from the feedback it gets.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Rng } from "../src/core/rng.js";
import { type Dataset, type LabeledSplit, takeRows } from "../src/data/types.js";
import { runDemo } from "../src/jobs/demo.js";
import { runDemoOverHttp } from "../src/jobs/demo-http.node.js";
import { serveLauncher } from "../src/jobs/serve-launcher.node.js";
import "../src/models/all.js";
import { writeModelFile } from "../src/models/io/files.node.js";
import { trainModel } from "../src/models/registry.js";

const dir = mkdtempSync(join(tmpdir(), "mammals-demo-http-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Six Gaussian classes of 4x4 "images" in [0, 1]. */
function syntheticDataset(): Dataset {
  const rng = new Rng(3);
  const C = 6;
  const centers = Array.from({ length: C }, () => Array.from({ length: 16 }, () => rng.uniform(0.2, 0.8)));
  const split = (n: number): LabeledSplit => {
    const x = new Float32Array(n * 16);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % C;
      for (let j = 0; j < 16; j++)
        x[i * 16 + j] = Math.min(1, Math.max(0, centers[y[i]][j] + 0.12 * rng.normal()));
    }
    return { x, y, n, dim: 16 };
  };
  return {
    name: "synthetic",
    train: split(1200),
    test: split(600),
    numClasses: C,
    shape: [4, 4],
    source: "test",
    rawScale: 1,
  };
}

describe("demo over HTTP", () => {
  it("plays the demo's stream through a cloud process and an edge process", async () => {
    const dataset = syntheticDataset();
    // The small model never sees class 1 (the demo's unseen class for datasets it does not know); the cloud sees them all.
    const keep = Array.from({ length: dataset.train.n }, (_, i) => i).filter((i) => dataset.train.y[i] !== 1);
    const small = trainModel("mlp:32", takeRows(dataset.train, keep), 6, { epochs: 40, seed: 1 }).model;
    const cloud = trainModel("mlp:64", dataset.train, 6, { epochs: 40, seed: 2 }).model;
    const smallFile = join(dir, "small.mmdl");
    const cloudFile = join(dir, "cloud.mmdl");
    writeModelFile(smallFile, small);
    writeModelFile(cloudFile, cloud);
    const o = {
      requests: 100,
      seed: 1,
      upstreamLatency: "constant:ms=15",
      capacities: [0.05],
      policies: ["all"],
      rule: "adaptive",
      // Latency costs nothing: decisions do not depend on how loaded the machine running the test is.
      latencyWeight: 0,
      scenarios: ["skew" as const],
      calibrate: true,
    };
    const http = await runDemoOverHttp({
      ...o,
      dataset,
      smallFile,
      cloudFile,
      launch: serveLauncher(["--import", "tsx", join(import.meta.dirname, "..", "scripts", "dev.ts")]),
    });
    const inProcess = await runDemo({ ...o, dataset, small, cloud });
    const row = (runs: typeof http, system: string) => runs.find((r) => r.row.system === system)!.row;
    expect(http.map((r) => r.row.system)).toEqual(["cloud over HTTP", "edge over HTTP"]);
    expect(row(http, "cloud over HTTP").accuracy).toBe(row(inProcess, "cloud").accuracy);
    // Every forwarded answer waited for the emulated 15 ms round trip.
    expect(row(http, "cloud over HTTP").meanMs).toBeGreaterThanOrEqual(15);
    const edge = row(http, "edge over HTTP");
    expect(edge).toMatchObject({ policy: "all", capacity: 60, key: "embedding" });
    // Without a latency term, the node's decisions do not depend on timing: the process makes
    // exactly the in-process edge node's decisions, admissions and answers.
    const same = inProcess.find((r) => r.row.system === "edge" && r.row.key === "embedding")!.row;
    const decided = (r: typeof edge) => [
      r.accuracy,
      r.localFraction,
      r.memoryItems,
      r.memoryBytes,
      r.unseenAccuracy,
    ];
    expect(decided(edge)).toEqual(decided(same));
    expect(edge.memoryItems).toBeGreaterThan(0);
    // Forwarding what it is unsure of and remembering the answers beats the small model alone.
    expect(edge.accuracy).toBeGreaterThan(row(inProcess, "small").accuracy);
  });
});
