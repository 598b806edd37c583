import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryAugmentedModel } from "../src/augment/memory-augmented-model.js";
import { Rng } from "../src/core/rng.js";
import { decodeState, encodeState, type StateTree } from "../src/core/state-tree.js";
import { EdgeNode } from "../src/edge/edge-node.js";
import { loadEdgeNode, saveEdgeNode } from "../src/edge/snapshot-file.node.js";
import { InProcessUpstream } from "../src/edge/upstream.js";
import { createIndex } from "../src/index/factory.js";
import { LabeledMemory } from "../src/memory/labeled-memory.js";
import { loadMemory, saveMemory } from "../src/memory/snapshot-file.node.js";
import { CentroidModel, clusters } from "./edge-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "mammals-snapshot-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DIM = 6;
const C = 4;
const { centroids } = clusters(5, C, DIM, 0.4);

function buildNode(admission: string, rule: string) {
  // The small model never saw class 3: the memory and the upstream have to teach it.
  const small = new CentroidModel(centroids, C, [true, true, true, false], 2);
  const memory = new LabeledMemory({
    index: createIndex("flat", DIM),
    numClasses: C,
    capacityItems: 40,
    admission,
    seed: 3,
  });
  const local = new MemoryAugmentedModel({
    model: small,
    memory,
    rule,
    seed: 3,
    forward: { latencyWeight: 0.01, upstreamLatencyMs: 20 },
  });
  const upstream = new InProcessUpstream(new CentroidModel(centroids, C), {
    latency: "constant:ms=20",
    seed: 1,
  });
  // A fake clock: every reading advances 0.25 ms, so the latency histograms are reproducible.
  let t = 0;
  const now = () => (t += 0.25);
  return new EdgeNode({ local, upstream, recentCapacity: 64, now });
}

/** Plays `n` requests from a seeded stream, with feedback on every third one; returns what the node said. */
async function play(node: EdgeNode, seed: number, n: number) {
  const { draw, rng } = clusters(5, C, DIM, 0.4);
  for (let i = 0; i < seed; i++) rng.next();
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const y = rng.int(C);
    const r = await node.request(draw(y));
    out.push([r.id, r.label, r.servedLocally, Array.from(r.proba)]);
    if (i % 3 === 0) out.push(node.feedback(r.id, y));
  }
  return out;
}

describe("EdgeNode snapshots", () => {
  for (const [admission, rule] of [
    ["ib3", "adaptive"],
    ["utility:window=16", "adaptive"],
    ["all:evict=lru", "interpolate:lambda=0.3,k=4"],
  ]) {
    it(`restore a node (${admission}, ${rule.split(":")[0]}) that then behaves exactly like the original`, async () => {
      const a = buildNode(admission, rule);
      await play(a, 0, 150);
      const path = join(dir, `node-${admission.split(":")[0]}.json`);
      saveEdgeNode(path, a);
      const b = buildNode(admission, rule);
      loadEdgeNode(path, b);
      expect(b.local.memory.ids()).toEqual(a.local.memory.ids());
      expect(b.stats()).toEqual(a.stats());
      // The continuation is the oracle: same answers, same feedback results, same memory, same stats.
      expect(await play(b, 7, 120)).toEqual(await play(a, 7, 120));
      expect(b.stats()).toEqual(a.stats());
      b.local.memory.checkInvariants();
    });
  }

  it("rejects a snapshot taken of a differently configured node, leaving it untouched", async () => {
    const a = buildNode("ib3", "adaptive");
    await play(a, 0, 40);
    const path = join(dir, "ib3.json");
    saveEdgeNode(path, a);
    const b = buildNode("ib2", "adaptive");
    expect(() => loadEdgeNode(path, b)).toThrow(/policy = ib3.*this memory has ib2/);
    expect(b.local.memory.size).toBe(0);
  });

  it("saves and loads a bare LabeledMemory", async () => {
    const a = buildNode("ib3", "adaptive");
    await play(a, 0, 100);
    const path = join(dir, "memory.json");
    saveMemory(path, a.local.memory);
    const m = new LabeledMemory({
      index: createIndex("flat", DIM),
      numClasses: C,
      capacityItems: 40,
      admission: "ib3",
    });
    loadMemory(path, m);
    expect(m.ids()).toEqual(a.local.memory.ids());
    for (const id of m.ids())
      expect([m.label(id), m.source(id), m.weight(id)]).toEqual([
        a.local.memory.label(id),
        a.local.memory.source(id),
        a.local.memory.weight(id),
      ]);
    const q = new Float32Array(DIM).fill(0.1);
    expect(m.index.search(q, 5)).toEqual(a.local.memory.index.search(q, 5));
  });
});

describe("state trees", () => {
  it("encode typed arrays as standard base64 (Node's Buffer is the reference) and decode them back", () => {
    const rng = new Rng(9);
    for (const n of [0, 1, 2, 3, 4, 5, 255, 1000, 4099]) {
      const bytes = Uint8Array.from({ length: n }, () => rng.int(256));
      const json = JSON.parse(encodeState({ b: bytes })) as { b: { $a: string; b: string } };
      expect(json.b.b).toBe(Buffer.from(bytes).toString("base64"));
      expect((decodeState(encodeState({ b: bytes })) as StateTree).b).toEqual(bytes);
    }
    expect(() => decodeState('{"x": {"$a": "u8", "b": "ab*="}}')).toThrow(/expected base64 bytes/);
    expect(() => decodeState('{"x": {"$a": "f32", "b": "AAA="}}')).toThrow(
      /2 bytes is not a whole number of f32 values/,
    );
  });

  it("round-trip special numbers, typed arrays, Maps and Sets exactly", () => {
    const t: StateTree = {
      n: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0.1 + 0.2, 5e-324],
      f: Float64Array.from([Math.PI, -1e300]),
      i: Int32Array.from([-7, 2 ** 31 - 1]),
      m: new Map<number, StateTree>([[3, { a: 1 }]]),
      s: new Set([1, "x"]),
    };
    const back = decodeState(encodeState(t)) as StateTree;
    expect(back).toEqual(t);
    expect(Object.is((back.n as number[])[3], -0)).toBe(true);
  });
});
