/**
 * Feedback answers its repeated k-NN searches for one key from the first (LabeledMemory.reusingSearches).
 * The reference is the same node without it: on one seeded trace of predictions, feedback by id and
 * labeled inputs, both must give the same answers and end with the same memory (entries, slots,
 * usage statistics, policy records), the same learned state (rule, calibration, distance scale)
 * and the same counters, while the memory did answer searches from the previous one.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../src/core/rng.js";
import { captureEdgeNode } from "../src/edge/snapshot.js";
import "../src/index/factory.node.js";
import { draws, edgeService } from "./serve-fixtures.js";

type Step =
  | { kind: "predict"; x: number[] }
  | { kind: "example"; x: number[]; y: number }
  | { kind: "label"; back: number; y: number };

/** A seeded mix of steps over a pool of inputs smaller than the trace: inputs come back, as in real traffic. */
function trace(n: number, seed: number): Step[] {
  const rng = new Rng(seed);
  const pool = draws(40);
  return Array.from({ length: n }, () => {
    const { x, y } = pool[rng.int(pool.length)];
    const u = rng.next();
    if (u < 0.45) return { kind: "predict", x };
    if (u < 0.75) return { kind: "example", x, y };
    return { kind: "label", back: 1 + rng.int(4), y };
  });
}

async function run(steps: Step[], index: string, admission: string, reuseSearches: boolean) {
  const { service } = edgeService({ index, admission, capacity: 48, reuseSearches });
  const answers: unknown[] = [];
  const ids: number[] = [];
  for (const s of steps) {
    if (s.kind === "predict") {
      const [p] = await service.predict(Float32Array.from(s.x), 1, { probabilities: true });
      ids.push(p.id);
      answers.push([p.id, p.label, p.confidence, p.servedBy, p.probabilities]);
    } else if (s.kind === "example") {
      answers.push(await service.feedback({ input: s.x, label: s.y }));
    } else {
      const id = ids[ids.length - s.back];
      if (id === undefined) continue;
      try {
        answers.push(await service.feedback({ id, label: s.y }));
      } catch (e) {
        answers.push(String(e)); // already labeled: both sides must refuse it the same way
      }
    }
  }
  const node = service.node;
  const snap = captureEdgeNode(node, { withIndex: false });
  const { latency: _l, localCompute: _c, ...stats } = node.stats();
  return {
    answers,
    memory: snap.memory,
    local: snap.local,
    stats,
    digest: await service.memoryInfo().then((m) => m.digest),
    hits: node.local.memory.searchReuse.hits,
  };
}

describe("feedback reuses its k-NN searches", () => {
  for (const [index, admission] of [
    ["flat", "all"],
    ["flat", "utility"],
    ["hnsw", "all"],
    ["hnsw-ts", "ib2"],
  ])
    it(`${index}, admission ${admission}: same answers and state as without reuse`, async () => {
      const steps = trace(240, 7);
      const memo = await run(steps, index, admission, true);
      const plain = await run(steps, index, admission, false);
      expect(memo.hits).toBeGreaterThan(100);
      expect(plain.hits).toBe(0);
      expect(memo.answers).toEqual(plain.answers);
      expect(memo.memory).toEqual(plain.memory);
      expect(memo.local).toEqual(plain.local);
      expect(memo.stats).toEqual(plain.stats);
      expect(memo.digest).toBe(plain.digest);
    });
});
