/**
 * A Sequential network (a list of layers ending in a Dense layer that produces class logits)
 * implementing the {@link Model} contract, plus what the trainer needs: its params, a loss and
 * gradient on a minibatch, and accuracy on a split.
 *
 * `embed` returns the input of the last Dense layer (the penultimate features, used as k-NN
 * keys); for logistic regression that is the input itself.
 *
 * Memory: the activations of a minibatch live in a {@link Workspace} owned by the network
 * (one buffer per layer boundary, plus two gradient buffers used in turn), created for the
 * largest batch seen and reused; single-example inference uses its own preallocated buffers, so
 * `predictProba(x, out)` allocates nothing.
 */
import { check, fail } from "../../core/errors.js";
import { checkVector } from "../../core/vectors.js";
import type { LabeledSplit } from "../../data/types.js";
import type { ModelFile, StorableModel } from "../io/format.js";
import type { Model } from "../types.js";
import { FloatStackKernel } from "../wasm/dense-stack.js";
import { modelKernelPath } from "../wasm/kernels.js";
import type { DenseLayer } from "./dense-layer.js";
import { Dense, type Layer, type Param } from "./layers.js";
import { softmaxCrossEntropy, softmaxInPlace, softmaxRows } from "./softmax.js";

/** Buffers for one minibatch of up to `capacity` rows. */
export interface Workspace {
  capacity: number;
  /** acts[i + 1] = output of layer i (n×outputDim). acts[0] is the caller's input, not owned. */
  acts: Float32Array[];
  /** Two buffers of capacity×maxDim that carry dL/d(activation) backwards, used alternately. */
  grads: [Float32Array, Float32Array];
}

/** Rows processed per chunk by the batch inference methods (bounds their workspace). */
const CHUNK = 256;

export class Sequential implements Model, StorableModel {
  readonly inputDim: number;
  readonly numClasses: number;
  readonly embedDim: number;
  /** Index of the last Dense layer; its input is the embedding. */
  readonly headIndex: number;
  /** Extra header fields saved with the model (training summary, class names...). */
  meta: Record<string, unknown> = {};
  private ws: Workspace | null = null;
  private readonly one: Float32Array[];
  /** The SIMD form of the dense layers (made on first use; null: unavailable or not dense-only). */
  private kernel: FloatStackKernel | null | undefined;

  constructor(
    readonly kind: string,
    readonly spec: string,
    readonly layers: readonly Layer[],
  ) {
    check(layers.length > 0, "Sequential: expected at least one layer");
    for (let i = 1; i < layers.length; i++)
      check(
        layers[i].inputDim === layers[i - 1].outputDim,
        () =>
          `Sequential: layer ${i} (${layers[i].kind}) expects ${layers[i].inputDim} inputs but layer ${i - 1} gives ${layers[i - 1].outputDim}`,
      );
    let head = -1;
    for (let i = layers.length - 1; i >= 0 && head < 0; i--) if (layers[i] instanceof Dense) head = i;
    check(head >= 0, "Sequential: expected a Dense layer producing the class logits");
    this.headIndex = head;
    this.inputDim = layers[0].inputDim;
    this.numClasses = layers[layers.length - 1].outputDim;
    this.embedDim = layers[head].inputDim;
    this.one = layers.map((l) => new Float32Array(l.outputDim));
  }

  /**
   * The network as the shared float representation: each Dense layer with the ReLU that follows
   * it folded in. Views of the params, not copies, so what is done to them (fine-tuning) is done
   * to the network. Throws UNSUPPORTED for any other layer; `what` says who asked.
   */
  denseLayers(what: string): DenseLayer[] {
    const out: DenseLayer[] = [];
    this.layers.forEach((layer, i) => {
      if (layer instanceof Dense) out.push(layer.asDenseLayer(this.layers[i + 1]?.kind === "relu"));
      else if (layer.kind !== "relu" || !(this.layers[i - 1] instanceof Dense))
        fail(
          "UNSUPPORTED",
          `${what}: layer ${i} of ${this.spec} is a "${layer.kind}" layer; only Dense layers, each optionally followed by ReLU, have a dense form`,
        );
    });
    return out;
  }

  /** Every parameter tensor, in layer order. */
  params(): Param[] {
    return this.layers.flatMap((l) => l.params);
  }

  /** Bytes of the parameters as stored (float32: 4 per weight). */
  get bytes(): number {
    return this.params().reduce((s, p) => s + p.value.byteLength, 0);
  }

  // ---- Single example (serving hot path) ---------------------------------------------------

  predictProba(x: Float32Array, out?: Float32Array): Float32Array {
    const proba = outBuffer(out, this.numClasses, "predictProba");
    this.forwardOne(x, null, proba);
    return proba;
  }

  embed(x: Float32Array, out?: Float32Array): Float32Array {
    const e = outBuffer(out, this.embedDim, "embed");
    this.forwardOne(x, e, null);
    return e;
  }

  embedAndPredict(
    x: Float32Array,
    embedOut?: Float32Array,
    probaOut?: Float32Array,
  ): { embedding: Float32Array; proba: Float32Array } {
    const embedding = outBuffer(embedOut, this.embedDim, "embedAndPredict embedOut");
    const proba = outBuffer(probaOut, this.numClasses, "embedAndPredict probaOut");
    this.forwardOne(x, embedding, proba);
    return { embedding, proba };
  }

  /** The SIMD kernel of this network, or null where it cannot run (see wasm/kernels.ts). */
  private simd(): FloatStackKernel | null {
    if (this.kernel === undefined) {
      const dense = this.layers.every(
        (l, i) => l instanceof Dense || (l.kind === "relu" && this.layers[i - 1] instanceof Dense),
      );
      this.kernel = dense ? FloatStackKernel.create(this.denseLayers("wasm")) : null;
    }
    return this.kernel;
  }

  /** One example through the layers, fusing Dense+ReLU; stops after the embedding if no proba wanted. */
  private forwardOne(x: Float32Array, embedOut: Float32Array | null, probaOut: Float32Array | null): void {
    checkVector(x, this.inputDim, `${this.kind} input`);
    const simd = modelKernelPath() === "wasm-simd" ? this.simd() : null;
    if (simd !== null) {
      this.forwardOneSimd(simd, x, embedOut, probaOut);
      return;
    }
    const layers = this.layers;
    let cur = x;
    for (let i = 0; i < layers.length; i++) {
      if (i === this.headIndex) {
        if (embedOut) embedOut.set(cur);
        if (!probaOut) return;
      }
      const layer = layers[i];
      const y = this.one[i];
      if (layer instanceof Dense) {
        const fuse = i + 1 < layers.length && layers[i + 1].kind === "relu";
        layer.forwardOne(cur, fuse ? this.one[i + 1] : y, fuse);
        if (fuse) {
          i++;
          cur = this.one[i];
          continue;
        }
      } else {
        layer.forward(cur, y, 1);
      }
      cur = y;
    }
    if (probaOut) softmaxRows(cur, probaOut, 1, this.numClasses);
  }

  /** forwardOne on the SIMD kernel: dense layer i of the kernel is the i-th Dense layer here. */
  private forwardOneSimd(
    simd: FloatStackKernel,
    x: Float32Array,
    embedOut: Float32Array | null,
    probaOut: Float32Array | null,
  ): void {
    const f = simd.heap.f32;
    const last = simd.layers.length - 1;
    f.set(x, simd.inputAt);
    simd.run(probaOut ? last + 1 : last);
    // Element loops rather than subarray copies: the serving path allocates nothing.
    if (embedOut) {
      const at = last === 0 ? simd.inputAt : simd.outputAt(last - 1);
      for (let j = 0; j < this.embedDim; j++) embedOut[j] = f[at + j];
    }
    if (probaOut) {
      const at = simd.outputAt(last);
      for (let j = 0; j < this.numClasses; j++) probaOut[j] = f[at + j];
      softmaxInPlace(probaOut);
    }
  }

  // ---- Batches --------------------------------------------------------------------------

  predictProbaBatch(x: Float32Array, n: number): Float32Array {
    this.checkBatch(x, n, "predictProbaBatch");
    const out = new Float32Array(n * this.numClasses);
    for (let r = 0; r < n; r += CHUNK) {
      const m = Math.min(CHUNK, n - r);
      const logits = this.forwardBatch(x.subarray(r * this.inputDim, (r + m) * this.inputDim), m);
      softmaxRows(logits, out.subarray(r * this.numClasses), m, this.numClasses);
    }
    return out;
  }

  embedBatch(x: Float32Array, n: number): Float32Array {
    this.checkBatch(x, n, "embedBatch");
    const out = new Float32Array(n * this.embedDim);
    for (let r = 0; r < n; r += CHUNK) {
      const m = Math.min(CHUNK, n - r);
      const xs = x.subarray(r * this.inputDim, (r + m) * this.inputDim);
      this.forwardBatch(xs, m, this.headIndex);
      const e = this.headIndex === 0 ? xs : this.workspace(m).acts[this.headIndex];
      out.set(e.subarray(0, m * this.embedDim), r * this.embedDim);
    }
    return out;
  }

  private checkBatch(x: Float32Array, n: number, what: string): void {
    if (!Number.isInteger(n) || n < 0)
      fail("INVALID_ARGUMENT", `${what}: n must be a non-negative integer, got ${n}`);
    if (x.length !== n * this.inputDim)
      fail(
        "DIMENSION_MISMATCH",
        `${what}: expected ${n}×${this.inputDim} = ${n * this.inputDim} values, got ${x.length}`,
      );
    for (let i = 0; i < x.length; i++)
      if (!Number.isFinite(x[i]))
        fail(
          "INVALID_ARGUMENT",
          `${what}: row ${Math.floor(i / this.inputDim)} column ${i % this.inputDim} is ${x[i]}; expected a finite number`,
        );
  }

  /** The workspace for batches of up to n rows (grown, never shrunk). */
  workspace(n: number): Workspace {
    if (this.ws && this.ws.capacity >= n) return this.ws;
    const cap = Math.max(n, this.ws?.capacity ?? 0);
    const maxDim = Math.max(this.inputDim, ...this.layers.map((l) => l.outputDim));
    this.ws = {
      capacity: cap,
      acts: [new Float32Array(0), ...this.layers.map((l) => new Float32Array(cap * l.outputDim))],
      grads: [new Float32Array(cap * maxDim), new Float32Array(cap * maxDim)],
    };
    return this.ws;
  }

  /** Drops the minibatch workspace (it is recreated on demand). */
  releaseWorkspace(): void {
    this.ws = null;
  }

  /**
   * Forward pass of n rows (no input validation: the trainer's hot loop). Runs layers [0, upTo)
   * and returns the last output computed (the logits when upTo = number of layers), a view into
   * the workspace valid until the next call.
   */
  forwardBatch(x: Float32Array, n: number, upTo = this.layers.length): Float32Array {
    const ws = this.workspace(n);
    ws.acts[0] = x;
    let cur = x;
    for (let i = 0; i < upTo; i++) {
      const y = ws.acts[i + 1];
      this.layers[i].forward(cur, y, n);
      cur = y;
    }
    return cur.subarray(0, n * (upTo === 0 ? this.inputDim : this.layers[upTo - 1].outputDim));
  }

  /**
   * Backward pass after `forwardBatch(x, n)`, from dL/dlogits (n×numClasses, may be clobbered).
   * Writes the gradients of every trainable param. Stops early once no earlier layer has
   * anything trainable, so frozen feature extractors cost no backward work.
   */
  backwardBatch(dLogits: Float32Array, n: number): void {
    const ws = this.workspace(n);
    const layers = this.layers;
    let first = layers.length;
    for (let i = 0; i < layers.length; i++)
      if (layers[i].params.some((p) => p.trainable)) {
        first = i;
        break;
      }
    let dy = dLogits;
    let slot = 0;
    for (let i = layers.length - 1; i >= first; i--) {
      const dx = i > first ? ws.grads[slot] : null;
      layers[i].backward(ws.acts[i], ws.acts[i + 1], dy, dx, n);
      if (dx) {
        dy = dx;
        slot ^= 1;
      }
    }
  }

  /** Mean softmax cross-entropy on a minibatch; leaves the gradients in the params. */
  lossAndGrad(x: Float32Array, y: ArrayLike<number>, n: number): number {
    const logits = this.forwardBatch(x, n);
    const ws = this.workspace(n);
    const dLogits = ws.grads[1].subarray(0, n * this.numClasses);
    const loss = softmaxCrossEntropy(logits, y, n, this.numClasses, dLogits);
    // grads[1] holds dLogits; backward starts writing into grads[0], then alternates.
    this.backwardBatch(dLogits, n);
    return loss;
  }

  /** Fraction of rows whose arg-max logit equals the label. */
  evaluate(split: LabeledSplit): number {
    if (split.dim !== this.inputDim)
      fail("DIMENSION_MISMATCH", `evaluate: split has ${split.dim} features, model expects ${this.inputDim}`);
    let correct = 0;
    const k = this.numClasses;
    for (let r = 0; r < split.n; r += CHUNK) {
      const m = Math.min(CHUNK, split.n - r);
      const logits = this.forwardBatch(split.x.subarray(r * split.dim, (r + m) * split.dim), m);
      for (let i = 0; i < m; i++) if (argmax(logits, i * k, k) === split.y[r + i]) correct++;
    }
    return split.n === 0 ? 0 : correct / split.n;
  }

  toModelFile(): ModelFile {
    return {
      family: this.kind,
      spec: this.spec,
      inputDim: this.inputDim,
      numClasses: this.numClasses,
      embedDim: this.embedDim,
      meta: {
        ...this.meta,
        layers: this.layers.map((l) => ({ kind: l.kind, in: l.inputDim, out: l.outputDim })),
      },
      tensors: this.params().map((p) => ({ name: p.name, shape: [...p.shape], data: p.value })),
    };
  }
}

/** Checks that `x` holds `n` rows of `inputDim` values (`spec` names the model in the message). */
export function checkBatchShape(spec: string, x: Float32Array, n: number, inputDim: number): void {
  check(Number.isInteger(n) && n >= 0, () => `${spec}: batch size must be a non-negative integer, got ${n}`);
  if (x.length !== n * inputDim)
    fail(
      "DIMENSION_MISMATCH",
      `${spec}: ${n} rows of ${inputDim} need ${n * inputDim} values, got ${x.length}`,
    );
}

/** The caller's output buffer after checking its length, or a new one. */
export function outBuffer(out: Float32Array | undefined, length: number, what: string): Float32Array {
  if (out === undefined) return new Float32Array(length);
  if (out.length !== length)
    fail("DIMENSION_MISMATCH", `${what}: out buffer has ${out.length} entries, expected ${length}`);
  return out;
}

export function argmax(a: ArrayLike<number>, offset = 0, k = a.length - offset): number {
  let best = 0;
  let bestV = a[offset];
  for (let j = 1; j < k; j++)
    if (a[offset + j] > bestV) {
      bestV = a[offset + j];
      best = j;
    }
  return best;
}
