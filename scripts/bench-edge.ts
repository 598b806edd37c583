/**
 * Latency of in-process local prediction at an edge node: embed (a small MLP) + memory lookup
 * (k-NN over a 10,000-item labeled memory) + combination, one request at a time, as the node's hot
 * path runs it. Also times the whole EdgeNode.request local path (decision + recent-request ring).
 *
 *   npx tsx scripts/bench-edge.ts [--dataset fashion-mnist|mnist] [--items 10000] [--queries 20000]
 *                                 [--dims 32,64] [--hidden 128] [--index flat,hnsw] [--json]
 *
 * The MLP (784 -> hidden -> dim embedding -> 10, ReLU; --hidden 128) has seeded random weights: latency does not
 * depend on the weights' values, and the trained models of models/ share the same shapes. Memory
 * keys are the embeddings of real training images; queries are test images. Percentiles are exact
 * order statistics of per-request wall times (performance.now), after a warm-up.
 */
import { MemoryAugmentedModel, type Prediction } from "../src/augment/memory-augmented-model.js";
import { Rng } from "../src/core/rng.js";
import { loadDataset } from "../src/data/datasets.js";
import { row } from "../src/data/types.js";
import { EdgeNode } from "../src/edge/edge-node.js";
import { InProcessUpstream } from "../src/edge/upstream.js";
import { createIndex } from "../src/index/node.js";
import { LabeledMemory } from "../src/memory/labeled-memory.js";
import type { Model } from "../src/models/types.js";

/** A dense ReLU MLP forward pass with preallocated activations (timing stand-in with seeded weights). */
class BenchMlp implements Model {
  readonly kind = "bench-mlp";
  readonly spec: string;
  readonly bytes: number;
  private readonly layers: { w: Float32Array; b: Float32Array; nIn: number; nOut: number }[] = [];
  private readonly hidden: Float32Array;
  private readonly logits: Float32Array;

  constructor(
    readonly inputDim: number,
    readonly hiddenDim: number,
    readonly embedDim: number,
    readonly numClasses: number,
    seed: number,
  ) {
    const rng = new Rng(seed);
    for (const [nIn, nOut] of [
      [inputDim, hiddenDim],
      [hiddenDim, embedDim],
      [embedDim, numClasses],
    ]) {
      const w = new Float32Array(nIn * nOut);
      const s = Math.sqrt(2 / nIn);
      for (let i = 0; i < w.length; i++) w[i] = rng.normal() * s;
      this.layers.push({ w, b: new Float32Array(nOut), nIn, nOut });
    }
    this.spec = `bench-mlp:${hiddenDim},${embedDim}`;
    this.bytes = this.layers.reduce((s, l) => s + 4 * (l.w.length + l.b.length), 0);
    this.hidden = new Float32Array(hiddenDim);
    this.logits = new Float32Array(numClasses);
  }

  private dense(i: number, x: Float32Array, out: Float32Array, relu: boolean): void {
    const { w, b, nIn, nOut } = this.layers[i];
    for (let o = 0; o < nOut; o++) {
      let s = b[o];
      const base = o * nIn;
      for (let j = 0; j < nIn; j++) s += w[base + j] * x[j];
      out[o] = relu && s < 0 ? 0 : s;
    }
  }

  embedAndPredict(
    x: Float32Array,
    embedOut: Float32Array = new Float32Array(this.embedDim),
    probaOut: Float32Array = new Float32Array(this.numClasses),
  ) {
    this.dense(0, x, this.hidden, true);
    this.dense(1, this.hidden, embedOut, true);
    this.dense(2, embedOut, this.logits, false);
    let m = Number.NEGATIVE_INFINITY;
    for (let y = 0; y < this.numClasses; y++) m = Math.max(m, this.logits[y]);
    let z = 0;
    for (let y = 0; y < this.numClasses; y++) z += probaOut[y] = Math.exp(this.logits[y] - m);
    for (let y = 0; y < this.numClasses; y++) probaOut[y] /= z;
    return { embedding: embedOut, proba: probaOut };
  }
  predictProba(x: Float32Array, out?: Float32Array): Float32Array {
    return this.embedAndPredict(x, undefined, out).proba;
  }
  embed(x: Float32Array, out?: Float32Array): Float32Array {
    return this.embedAndPredict(x, out).embedding;
  }
  predictProbaBatch(x: Float32Array, n: number): Float32Array {
    const out = new Float32Array(n * this.numClasses);
    for (let i = 0; i < n; i++)
      this.predictProba(
        x.subarray(i * this.inputDim, (i + 1) * this.inputDim),
        out.subarray(i * this.numClasses),
      );
    return out;
  }
  embedBatch(x: Float32Array, n: number): Float32Array {
    const out = new Float32Array(n * this.embedDim);
    for (let i = 0; i < n; i++)
      this.embed(x.subarray(i * this.inputDim, (i + 1) * this.inputDim), out.subarray(i * this.embedDim));
    return out;
  }
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

function percentiles(times: Float64Array) {
  const s = Float64Array.from(times).sort();
  const q = (p: number) => s[Math.max(1, Math.ceil(p * s.length)) - 1];
  let sum = 0;
  for (const t of s) sum += t;
  return {
    mean: sum / s.length,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    p999: q(0.999),
    max: s[s.length - 1],
  };
}

const datasetName = arg("dataset", "fashion-mnist");
const items = Number(arg("items", "10000"));
const queries = Number(arg("queries", "20000"));
const dims = arg("dims", "32,64").split(",").map(Number);
const hiddenDim = Number(arg("hidden", "128"));
const indexSpecs = arg("index", "flat,hnsw").split(",");
const rules = arg("rules", "interpolate:lambda=0.25,T=1,k=8;adaptive:k=8,T=1").split(";");
const json = process.argv.includes("--json");

const ds = loadDataset(datasetName);
const train = ds.train;
const test = ds.test;
const rows: Record<string, unknown>[] = [];
const fmt = (v: number) => v.toFixed(3).padStart(7);
if (!json)
  console.log(
    `local prediction latency (ms), ${datasetName}, MLP 784-${hiddenDim}-dim-10, memory ${items} items, ${queries} queries, node ${process.version}`,
  );
for (const dim of dims) {
  const model = new BenchMlp(train.dim, hiddenDim, dim, ds.numClasses, 7);
  for (const indexSpec of indexSpecs) {
    for (const rule of rules) {
      const memory = new LabeledMemory({
        index: createIndex(indexSpec, dim),
        numClasses: ds.numClasses,
        capacityItems: items,
        admission: "all",
      });
      const mam = new MemoryAugmentedModel({ model, memory, rule });
      const p: Prediction = mam.createPrediction();
      for (let i = 0; i < items; i++) {
        const x = row(train, i % train.n);
        model.embedAndPredict(x, p.key, p.modelProba);
        memory.offer({
          key: p.key,
          label: train.y[i % train.n],
          source: "feedback",
          predictedLabel: -1,
          confidence: 0,
          neighbours: p.neighbours,
          forwarded: false,
        });
      }
      const times = new Float64Array(queries);
      const warm = Math.min(2000, queries);
      for (let i = 0; i < warm; i++) mam.predict(row(test, i % test.n), p);
      let correct = 0;
      for (let i = 0; i < queries; i++) {
        const x = row(test, i % test.n);
        const t0 = performance.now();
        mam.predict(x, p);
        times[i] = performance.now() - t0;
        if (p.label === test.y[i % test.n]) correct++;
      }
      const predict = percentiles(times);
      // The whole node request on the local path (forwarding made prohibitively expensive).
      const node = new EdgeNode({
        local: mam,
        upstream: new InProcessUpstream(model, { latency: "constant:ms=1000" }),
        latencyWeight: 1,
      });
      const nodeTimes = new Float64Array(Math.min(queries, 10_000));
      for (let i = 0; i < nodeTimes.length; i++) {
        const x = row(test, i % test.n);
        const t0 = performance.now();
        await node.request(x);
        nodeTimes[i] = performance.now() - t0;
      }
      const request = percentiles(nodeTimes);
      const r = {
        dim,
        index: indexSpec,
        rule,
        items: memory.size,
        memoryBytes: memory.bytes,
        modelBytes: model.bytes,
        predict,
        request,
        servedLocally: node.stats().localFraction,
      };
      rows.push(r);
      if (!json)
        console.log(
          `dim ${String(dim).padStart(3)} ${indexSpec.padEnd(8)} ${rule.padEnd(32)} predict mean ${fmt(predict.mean)} p50 ${fmt(predict.p50)} p99 ${fmt(predict.p99)} p99.9 ${fmt(predict.p999)} | node.request p99 ${fmt(request.p99)} | memory ${(memory.bytes / 1024).toFixed(0)} KiB (${correct} ok)`,
        );
    }
  }
}
console.log(
  JSON.stringify({ dataset: datasetName, hidden: hiddenDim, items, queries, node: process.version, rows }),
);
