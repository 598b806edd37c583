/**
 * Bring your own model: {@link OnnxModel} exposes a user's `.onnx` file through the Model contract,
 * running it with `onnxruntime-node` (an optional dependency, imported lazily so that a missing
 * package gives a clear error instead of breaking the whole library).
 *
 * Design: the Model contract is synchronous (the edge node's hot path is synchronous by design),
 * but onnxruntime-node only has an asynchronous `session.run`. Rather than pretend, or make callers
 * precompute, the session lives in a worker thread and each synchronous call posts the input to it
 * and blocks on `Atomics.wait` until the worker has answered; the answer is then read with
 * `receiveMessageOnPort`, which is synchronous. So an OnnxModel is a real, drop-in `Model`, at the
 * price of one thread hop per call (tens of microseconds; batch calls amortise it). Callers that can
 * await get `predictProbaBatchAsync` / `embedBatchAsync` / `runBatchAsync`, which do not block the
 * event loop. `load` is async (ORT session creation is). Call `close()` to end the worker; it is
 * unref'd, so a forgotten model does not keep the process alive.
 *
 * Inputs: flat Float32Arrays of length `inputDim`, reshaped to the model's declared input shape
 * (e.g. [batch, 1, 28, 28]); a fixed batch size in the model (e.g. 1) is honoured by chunking
 * and zero-padding. Outputs: "probabilities" and "embedding" if the model has outputs so named,
 * else the first and second outputs (or the first for both when there is only one); both names
 * are configurable, and `softmax: true` turns a logits output into probabilities.
 */
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename } from "node:path";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import { check, fail } from "../../core/errors.js";
import { checkVector } from "../../core/vectors.js";
import { softmaxRows } from "../engine/softmax.js";
import type { Model } from "../types.js";

export interface OnnxModelOptions {
  /** Input to feed; default the model's first input. */
  input?: string;
  /** Output holding class probabilities (or logits with `softmax`); default "probabilities" or the first output. */
  probabilities?: string;
  /** Output holding the embedding; default "embedding", else the second output, else the first. */
  embedding?: string;
  /** Apply a softmax to the probabilities output (for models that end in logits). Default false. */
  softmax?: boolean;
  /** Input width, needed only when the model declares no numeric non-batch dims. */
  inputDim?: number;
  /** ORT intra-op threads; default 1 (the project measures single-threaded). */
  threads?: number;
  /** Longest a synchronous call waits for the worker, in ms. Default 60,000. */
  timeoutMs?: number;
}

interface LoadReply {
  ok: boolean;
  error?: string;
  inputNames?: string[];
  outputNames?: string[];
  inputs?: Array<{ name: string; type: string; shape: Array<number | string> }>;
}

interface RunReply {
  ok: boolean;
  error?: string;
  outputs?: Record<string, { data: Float32Array; dims: number[] }>;
}

// CommonJS, evaluated in the worker. It loads ORT from the path the main thread resolved.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const ort = require(workerData.ortPath);
let session;
const errorText = (e) => (e && e.message) || String(e);
async function run(req) {
  const feeds = { [req.input]: new ort.Tensor("float32", req.data, req.dims) };
  const res = await session.run(feeds, req.outputs);
  const outputs = {};
  for (const name of req.outputs) {
    const t = res[name];
    if (t.type !== "float32") throw new Error("output " + name + " has type " + t.type + ", expected float32");
    outputs[name] = { data: t.data, dims: t.dims.slice() };
  }
  return { ok: true, outputs };
}
let syncPort, flag;
parentPort.on("message", async (req) => {
  if (req.kind === "bind") { syncPort = req.port; flag = req.flag; return; }
  if (req.kind === "load") {
    try {
      session = await ort.InferenceSession.create(req.bytes, {
        intraOpNumThreads: req.threads, interOpNumThreads: 1, executionMode: "sequential",
      });
      const inputs = (session.inputMetadata || []).map((m) => ({ name: m.name, type: m.type, shape: m.shape || [] }));
      parentPort.postMessage({ ok: true, inputNames: session.inputNames, outputNames: session.outputNames, inputs });
    } catch (e) { parentPort.postMessage({ ok: false, error: errorText(e) }); }
    return;
  }
  let reply;
  try { reply = await run(req); } catch (e) { reply = { ok: false, error: errorText(e) }; }
  if (req.sync) {
    syncPort.postMessage(reply);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  } else {
    parentPort.postMessage({ id: req.id, ...reply });
  }
});
`;

async function resolveOrt(): Promise<string> {
  try {
    const require = createRequire(import.meta.url);
    const path = require.resolve("onnxruntime-node");
    await import("onnxruntime-node"); // fails here, with ORT's own message, if the native binding is broken
    return path;
  } catch (e) {
    return fail(
      "UNSUPPORTED",
      `OnnxModel needs the package onnxruntime-node, which could not be loaded (${String((e as Error).message).split("\n")[0]}); ` +
        "ONNX support is opt-in (an optional peer dependency of mammals): install it with `npm install onnxruntime-node`",
    );
  }
}

export class OnnxModel implements Model {
  readonly kind = "onnx";
  readonly spec: string;
  readonly inputDim: number;
  readonly embedDim: number;
  readonly numClasses: number;
  /** Size of the .onnx file: weights plus the (small) graph description. */
  readonly bytes: number;
  readonly inputName: string;
  readonly probabilitiesName: string;
  readonly embeddingName: string;
  /** Shape of one example as the model declares it (without the batch dim). */
  readonly exampleShape: number[];
  /** The model's fixed batch size, or 0 when the batch dim is dynamic. */
  readonly fixedBatch: number;
  private readonly applySoftmax: boolean;
  private readonly timeoutMs: number;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly syncPort: MessagePort;
  private readonly pending = new Map<number, (r: RunReply) => void>();
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    meta: {
      spec: string;
      bytes: number;
      input: string;
      proba: string;
      emb: string;
      exampleShape: number[];
      fixedBatch: number;
      softmax: boolean;
      timeoutMs: number;
    },
  ) {
    this.spec = meta.spec;
    this.bytes = meta.bytes;
    this.inputName = meta.input;
    this.probabilitiesName = meta.proba;
    this.embeddingName = meta.emb;
    this.exampleShape = meta.exampleShape;
    this.inputDim = meta.exampleShape.reduce((a, b) => a * b, 1);
    this.fixedBatch = meta.fixedBatch;
    this.applySoftmax = meta.softmax;
    this.timeoutMs = meta.timeoutMs;
    const channel = new MessageChannel();
    this.syncPort = channel.port1;
    this.syncPort.unref();
    worker.on("message", (m: RunReply & { id?: number }) => {
      const resolve = m.id === undefined ? undefined : this.pending.get(m.id);
      if (resolve && m.id !== undefined) {
        this.pending.delete(m.id);
        resolve(m);
      }
    });
    // The worker answers synchronous calls on this port and wakes us through the shared flag.
    worker.postMessage({ kind: "bind", port: channel.port2, flag: this.flag }, [channel.port2]);
    // Probe once with a zero batch to learn the output widths.
    const probe = this.runSync(new Float32Array(this.inputDim), 1);
    this.numClasses = probe.proba.length;
    this.embedDim = probe.embedding.length;
  }

  /** Loads a .onnx file (or its bytes) and starts its worker. */
  static async load(source: string | Uint8Array, options: OnnxModelOptions = {}): Promise<OnnxModel> {
    const ortPath = await resolveOrt();
    let bytes: Uint8Array;
    if (typeof source === "string") {
      try {
        if (!statSync(source).isFile()) fail("BAD_FILE", `${source}: not a file; expected a .onnx model`);
        bytes = new Uint8Array(readFileSync(source));
      } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") fail("BAD_FILE", `${source}: no such .onnx file`);
        throw e;
      }
    } else bytes = source;
    const label = typeof source === "string" ? source : "ONNX bytes";
    const threads = options.threads ?? 1;
    check(
      Number.isInteger(threads) && threads >= 1,
      `OnnxModel: threads must be an integer >= 1, got ${threads}`,
    );
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath } });
    worker.unref();
    const reply = await new Promise<LoadReply>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.postMessage({ kind: "load", bytes, threads });
    });
    const bad = (msg: string): never => {
      void worker.terminate();
      return fail("BAD_FILE", `${label}: ${msg}`);
    };
    if (!reply.ok) return bad(`onnxruntime could not load it as an ONNX model (${reply.error})`);
    const inputNames = reply.inputNames ?? [];
    const outputNames = reply.outputNames ?? [];
    const input = options.input ?? inputNames[0];
    if (!inputNames.includes(input)) bad(`no input named "${input}"; inputs are ${inputNames.join(", ")}`);
    const pick = (want: string | undefined, fallback: string | undefined, what: string): string => {
      const name = want ?? fallback;
      if (name === undefined || !outputNames.includes(name))
        bad(`no ${what} output named "${name}"; outputs are ${outputNames.join(", ")}`);
      return name as string;
    };
    const proba = pick(
      options.probabilities,
      outputNames.includes("probabilities") ? "probabilities" : outputNames[0],
      "probabilities",
    );
    const emb = pick(
      options.embedding,
      outputNames.includes("embedding") ? "embedding" : (outputNames[1] ?? outputNames[0]),
      "embedding",
    );
    const meta = reply.inputs?.find((m) => m.name === input);
    if (meta && meta.type !== "float32")
      bad(`input "${input}" has type ${meta.type}; only float32 inputs are supported`);
    const shape = meta?.shape ?? [];
    const rest = shape.slice(1);
    let exampleShape: number[];
    if (rest.length > 0 && rest.every((d) => typeof d === "number" && d > 0)) {
      exampleShape = rest as number[];
      const dim = exampleShape.reduce((a, b) => a * b, 1);
      if (options.inputDim !== undefined && options.inputDim !== dim)
        fail(
          "DIMENSION_MISMATCH",
          `${label}: input "${input}" takes ${dim} values per example, not ${options.inputDim}`,
        );
    } else if (options.inputDim !== undefined) {
      check(
        Number.isInteger(options.inputDim) && options.inputDim > 0,
        "OnnxModel: inputDim must be a positive integer",
      );
      exampleShape = [options.inputDim];
    } else {
      return bad(`input "${input}" has shape [${shape.join(", ")}] with no fixed width; pass inputDim`);
    }
    const fixedBatch = typeof shape[0] === "number" && shape[0] > 0 ? shape[0] : 0;
    try {
      return new OnnxModel(worker, {
        spec: `onnx:${typeof source === "string" ? basename(source) : "bytes"}`,
        bytes: bytes.length,
        input,
        proba,
        emb,
        exampleShape,
        fixedBatch,
        softmax: options.softmax ?? false,
        timeoutMs: options.timeoutMs ?? 60_000,
      });
    } catch (e) {
      void worker.terminate();
      throw e;
    }
  }

  predictProba(x: Float32Array, out?: Float32Array): Float32Array {
    return this.embedAndPredict(x, undefined, out).proba;
  }

  embed(x: Float32Array, out?: Float32Array): Float32Array {
    return this.embedAndPredict(x, out).embedding;
  }

  embedAndPredict(x: Float32Array, embedOut?: Float32Array, probaOut?: Float32Array) {
    checkVector(x, this.inputDim, "OnnxModel input");
    const r = this.runSync(x, 1);
    const embedding = embedOut ?? new Float32Array(this.embedDim);
    const proba = probaOut ?? new Float32Array(this.numClasses);
    embedding.set(r.embedding);
    proba.set(r.proba);
    return { embedding, proba };
  }

  predictProbaBatch(x: Float32Array, n: number): Float32Array {
    this.checkBatch(x, n);
    return this.runSync(x, n).proba;
  }

  embedBatch(x: Float32Array, n: number): Float32Array {
    this.checkBatch(x, n);
    return this.runSync(x, n).embedding;
  }

  /** Both outputs for n row-major inputs without blocking the event loop. */
  async runBatchAsync(x: Float32Array, n: number): Promise<{ proba: Float32Array; embedding: Float32Array }> {
    this.checkBatch(x, n);
    const parts = [];
    for (const [data, rows] of this.chunks(x, n)) {
      const id = this.nextId++;
      const reply = new Promise<RunReply>((resolve) => this.pending.set(id, resolve));
      this.worker.postMessage({ kind: "run", id, sync: false, ...this.request(data) });
      parts.push(this.unpack(await reply, rows));
    }
    return this.concat(parts);
  }

  async predictProbaBatchAsync(x: Float32Array, n: number): Promise<Float32Array> {
    return (await this.runBatchAsync(x, n)).proba;
  }

  async embedBatchAsync(x: Float32Array, n: number): Promise<Float32Array> {
    return (await this.runBatchAsync(x, n)).embedding;
  }

  /** Ends the worker thread; later calls fail with STATE. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.syncPort.close();
    await this.worker.terminate();
  }

  private checkBatch(x: Float32Array, n: number): void {
    check(Number.isInteger(n) && n >= 0, `OnnxModel: n must be a non-negative integer, got ${n}`);
    if (x.length !== n * this.inputDim)
      fail(
        "DIMENSION_MISMATCH",
        `OnnxModel: expected ${n}x${this.inputDim} = ${n * this.inputDim} values, got ${x.length}`,
      );
    for (let i = 0; i < x.length; i++)
      if (!Number.isFinite(x[i]))
        fail("INVALID_ARGUMENT", `OnnxModel input: value ${i} is ${x[i]}; expected a finite number`);
  }

  /** Splits n rows into runs the model accepts: one run when the batch dim is dynamic. */
  private *chunks(x: Float32Array, n: number): Generator<[Float32Array, number]> {
    const size = this.fixedBatch || Math.max(n, 1);
    for (let r = 0; r < Math.max(n, 1); r += size) {
      const rows = Math.min(size, n - r);
      const data = new Float32Array(size * this.inputDim); // zero-padded to the fixed batch
      data.set(x.subarray(r * this.inputDim, (r + rows) * this.inputDim));
      yield [data, rows];
    }
  }

  private request(data: Float32Array) {
    const batch = data.length / this.inputDim;
    const outputs = [...new Set([this.probabilitiesName, this.embeddingName])];
    return { input: this.inputName, data, dims: [batch, ...this.exampleShape], outputs };
  }

  private runSync(x: Float32Array, n: number): { proba: Float32Array; embedding: Float32Array } {
    if (this.closed) fail("STATE", "OnnxModel: used after close()");
    const parts = [];
    for (const [data, rows] of this.chunks(x, n)) {
      Atomics.store(this.flag, 0, 0);
      this.worker.postMessage({ kind: "run", sync: true, ...this.request(data) });
      const waited = Atomics.wait(this.flag, 0, 0, this.timeoutMs);
      const msg = receiveMessageOnPort(this.syncPort);
      if (waited === "timed-out" || !msg) {
        // A late answer would be read by the next call: this model cannot be trusted any more.
        void this.close();
        fail(
          "STATE",
          `OnnxModel: the onnxruntime worker did not answer within ${this.timeoutMs} ms; model closed`,
        );
      }
      parts.push(this.unpack(msg.message as RunReply, rows));
    }
    return this.concat(parts);
  }

  private unpack(reply: RunReply, rows: number): { proba: Float32Array; embedding: Float32Array } {
    if (!reply.ok || !reply.outputs)
      return fail("INVALID_ARGUMENT", `OnnxModel: onnxruntime failed: ${reply.error}`);
    const take = (name: string) => {
      const t = reply.outputs![name];
      const batch = t.dims[0] ?? 1;
      const width = t.data.length / Math.max(batch, 1);
      return t.data.slice(0, rows * width);
    };
    // Taken before the softmax, so a single logits output serves as the embedding unchanged.
    const embedding = take(this.embeddingName);
    const proba = take(this.probabilitiesName);
    if (this.applySoftmax && rows > 0) softmaxRows(proba, proba, rows, proba.length / rows);
    return { proba, embedding };
  }

  private concat(parts: Array<{ proba: Float32Array; embedding: Float32Array }>) {
    if (parts.length === 1) return parts[0];
    const join = (key: "proba" | "embedding") => {
      const out = new Float32Array(parts.reduce((s, p) => s + p[key].length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p[key], at);
        at += p[key].length;
      }
      return out;
    };
    return { proba: join("proba"), embedding: join("embedding") };
  }
}
