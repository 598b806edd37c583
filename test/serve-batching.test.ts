/**
 * Adaptive micro-batching: the batch limit grows while the latency objective holds and halves
 * when it is missed; batched answers equal one-at-a-time answers; switched off, every request
 * runs alone on arrival; the admission gate bounds what is in flight.
 */
import { describe, expect, it } from "vitest";
import { isMammalsError } from "../src/core/errors.js";
import { AdmissionGate, MicroBatcher } from "../src/serve/batcher.js";
import { cloudModel, draws, modelApp, postJson } from "./serve-fixtures.js";

const tick = () => new Promise((r) => setImmediate(r));

describe("MicroBatcher", () => {
  it("grows the limit by one per full batch within the objective, halves it on a miss", async () => {
    let now = 0;
    let costPerInput = 0.01; // ms of fake compute per input: 40 inputs wait and run within 2 ms
    const sizes: number[] = [];
    const b = new MicroBatcher<number>(
      (jobs) => {
        sizes.push(jobs.length);
        now += costPerInput * jobs.length;
      },
      { enabled: true, objectiveMs: 2, maxBatch: 8, now: () => now },
    );
    // A steady backlog: 40 requests waiting, drained batch by batch.
    for (let i = 0; i < 40; i++) b.submit(i, 1);
    while (b.queued > 0) await tick();
    expect(sizes.slice(0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(b.limit).toBe(8);
    expect(sizes.reduce((a, s) => a + s, 0)).toBe(40);
    // Compute becomes slow: 1 ms per input, so a batch of 8 misses the 2 ms objective.
    costPerInput = 1;
    for (let i = 0; i < 4; i++) b.submit(i, 1);
    await tick();
    expect(b.limit).toBe(4);
    expect(b.batches).toBe(sizes.length);
  });

  it("never splits a client's batch, even one above the limit", async () => {
    const seen: number[][] = [];
    const b = new MicroBatcher<number[]>((jobs) => seen.push(jobs.flat()), {
      enabled: true,
      objectiveMs: 5,
      maxBatch: 2,
    });
    b.submit([1, 2, 3, 4, 5], 5);
    await tick();
    expect(seen).toEqual([[1, 2, 3, 4, 5]]);
  });

  it("switched off, runs each request at once, alone", () => {
    const sizes: number[] = [];
    const b = new MicroBatcher<number>((jobs) => sizes.push(jobs.length), {
      enabled: false,
      objectiveMs: 2,
      maxBatch: 64,
    });
    for (let i = 0; i < 5; i++) b.submit(i, 1);
    expect(sizes).toEqual([1, 1, 1, 1, 1]);
    expect(b.limit).toBe(1);
  });
});

describe("AdmissionGate", () => {
  it("admits up to its capacity and says why it refuses", () => {
    const g = new AdmissionGate(3);
    g.admit(2);
    g.admit(1);
    let err: unknown;
    try {
      g.admit(1);
    } catch (e) {
      err = e;
    }
    expect(isMammalsError(err, "OVERLOADED")).toBe(true);
    expect((err as Error).message).toMatch(/3 inputs are already queued or in flight \(limit 3\)/);
    g.release(2);
    g.admit(2);
    expect(g.pending).toBe(3);
  });
});

describe("a model server with batching", () => {
  it("batches concurrent requests into one forward pass with the same answers", async () => {
    // An objective no batch can miss, so the limit grows with the backlog whatever the machine's load
    // (at 50 ms a cold first pass on a loaded CI machine kept every batch at one input).
    const { app, service } = modelApp({ batching: { enabled: true, objectiveMs: 60_000, maxBatch: 32 } });
    const inputs = draws(60).map((d) => d.x);
    const replies = await Promise.all(
      inputs.map((x) => postJson(app, "/v1/predict?probabilities=1", { input: x })),
    );
    const model = cloudModel();
    for (const [i, r] of replies.entries()) {
      const p = model.predictProba(Float32Array.from(inputs[i]));
      expect(r.body.probabilities as number[]).toEqual(Array.from(p));
    }
    expect(service.batcher.inputs).toBe(60);
    expect(service.batcher.batches).toBeLessThan(60);
  });

  it("without batching answers the same, one input per pass", async () => {
    const { app, service } = modelApp({ batching: { enabled: false } });
    const inputs = draws(10).map((d) => d.x);
    await Promise.all(inputs.map((x) => postJson(app, "/v1/predict", { input: x })));
    expect([service.batcher.batches, service.batcher.inputs]).toEqual([10, 10]);
  });
});
