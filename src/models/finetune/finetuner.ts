/**
 * On-device fine-tuning under a memory budget (Lin et al., NeurIPS 2022; TinyTL, Cai et al. 2020).
 *
 * A {@link FineTuner} updates a stack of dense layers in place, following a plan (which biases and
 * which weight columns, see scheme.ts). It allocates every buffer a training step needs
 * when it is built and records each in a {@link MemoryLedger}; nothing is allocated inside a step,
 * so the ledger total is the step's peak (JS object headers aside). What it keeps is only what the
 * plan needs: the backward pass stops at the lowest updated layer; a layer whose weights are frozen
 * keeps no input activations (a bias gradient is just the layer's delta); ReLU layers the backward
 * pass crosses keep a 1-bit mask; a layer updating a fraction of its input channels keeps only those
 * inputs and gradient columns. Examples go through one at a time and gradients accumulate over a
 * minibatch, so activation memory does not grow with the batch size.
 *
 * int8 layers (weights W̄ = round(W / s_W) per output channel, int32 bias b̄ in units of s_W*s_x)
 * are trained in their quantized domain with quantization-aware scaling (QAS): since
 * G_W̄ = s_W * G_W, the weight gradient is rescaled by s_W^-2 and the bias gradient by
 * (s_W*s_x)^-2, which makes an SGD step on W̄ equal in effect to the float step. The updated entries
 * keep a float32 master copy (so sub-integer progress is not lost to rounding); the int8 / int32
 * arrays the forward pass reads are re-rounded from it after every update. Activations stay float
 * during fine-tuning.
 */
import { check, fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import type { LabeledSplit } from "../../data/types.js";
import { type DenseLayer, denseForwardRow } from "../engine/dense-layer.js";
import { softmaxInPlace } from "../engine/softmax.js";
import { MAX_INT32_BIAS } from "../int8/kernels.js";
import { isQuantizedLayer, type QuantizedLayer } from "../int8/quantize.js";
import { markWeightsChanged } from "../wasm/kernels.js";
import type { LayerPlan } from "./scheme.js";

/**
 * What fine-tuning updates in place: the shared float DenseLayer (W out×in, e.g. views into a
 * Sequential) or its int8 form, a QuantizedLayer (e.g. a QuantizedNetwork's own layers), whose
 * float-activation forward pass is y[c] = s_W[c] · (Σ_j wt[j·outDim + c] · x_j + s_x · bias[c]).
 */
export type TunableLayer = DenseLayer | QuantizedLayer;

export type MemCategory = "parameters" | "activations" | "gradients" | "optimizer" | "indices";
export const MEM_CATEGORIES: MemCategory[] = [
  "parameters",
  "activations",
  "gradients",
  "optimizer",
  "indices",
];

/** Every buffer a training step uses, by category; `total()` is the step's peak. */
export class MemoryLedger {
  readonly entries: Array<{ category: MemCategory; name: string; array: ArrayBufferView }> = [];

  track<T extends ArrayBufferView>(category: MemCategory, name: string, array: T): T {
    this.entries.push({ category, name, array });
    return array;
  }

  total(): number {
    return this.entries.reduce((s, e) => s + e.array.byteLength, 0);
  }

  byCategory(): Record<MemCategory, number> {
    const out = Object.fromEntries(MEM_CATEGORIES.map((c) => [c, 0])) as Record<MemCategory, number>;
    for (const e of this.entries) out[e.category] += e.array.byteLength;
    return out;
  }
}

/** QAS factors for one output channel: multiply G_W̄ by `weight` and G_b̄ by `bias`. */
export function qasFactors(wScale: number, xScale: number): { weight: number; bias: number } {
  return { weight: 1 / (wScale * wScale), bias: 1 / (wScale * xScale) ** 2 };
}

/** What a fine-tuning step updates with: plain SGD, or SGD with momentum when the budget allows its buffers. */
export type TuneOptimizer = "sgd" | "momentum";

export interface FineTunerOptions {
  optimizer?: TuneOptimizer;
  /** Momentum coefficient (optimizer "momentum"). Default 0.9. */
  momentum?: number;
  /** Quantization-aware gradient scaling for int8 layers. Default true. */
  qas?: boolean;
}

export interface FitOptions {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  onBatch?: (done: number, total: number) => void;
}

interface Slot {
  layer: TunableLayer;
  /** Number of updated weight columns (input channels). */
  nCols: number;
  /** Their indices, or null when all columns train (identity, no index array held). */
  columns: Int32Array | null;
  bias: boolean;
  /** Inputs of this layer at the planned columns, for the weight gradient. */
  kept?: Float32Array;
  /** Bit-packed ReLU mask of this layer's output, when the backward pass crosses it. */
  mask?: Uint8Array;
  gW?: Float32Array;
  gb?: Float32Array;
  vW?: Float32Array;
  vb?: Float32Array;
  /** int8 layers: float masters of the updated entries, in the quantized domain. */
  masterW?: Float32Array;
  masterB?: Float32Array;
}

export class FineTuner {
  readonly ledger = new MemoryLedger();
  readonly optimizer: TuneOptimizer;
  /** Lowest layer the backward pass reaches (layers.length when nothing is updated). */
  readonly lowest: number;
  private readonly slots: Slot[];
  private readonly input: Float32Array;
  private readonly fwd: [Float32Array, Float32Array];
  private readonly bwd: [Float32Array, Float32Array];
  private readonly momentum: number;
  private readonly qas: boolean;
  private pending = 0;

  constructor(layers: TunableLayer[], plans: LayerPlan[], options: FineTunerOptions = {}) {
    check(layers.length > 0 && layers.length === plans.length, "FineTuner: expected one plan per layer");
    layers.forEach((l, i) => {
      if (i > 0 && layers[i - 1].outDim !== l.inDim)
        fail(
          "DIMENSION_MISMATCH",
          `FineTuner: layer ${i - 1} outputs ${layers[i - 1].outDim}, layer ${i} takes ${l.inDim}`,
        );
    });
    this.optimizer = options.optimizer ?? "sgd";
    this.momentum = options.momentum ?? 0.9;
    this.qas = options.qas ?? true;
    const t = this.ledger;
    const updates = (p: LayerPlan) => p.bias || p.columns.length > 0;
    const firstUpdated = plans.findIndex(updates);
    this.lowest = firstUpdated < 0 ? layers.length : firstUpdated;
    this.slots = layers.map((layer, i) => {
      const plan = plans[i];
      const nCols = plan.columns.length;
      check(
        plan.columns.every((c, k) => c >= 0 && c < layer.inDim && (k === 0 || c > plan.columns[k - 1])),
        () => `FineTuner: layer ${i} columns must be ascending indices in [0, ${layer.inDim})`,
      );
      const partial = nCols > 0 && nCols < layer.inDim;
      const columns = partial ? t.track("indices", `layer${i}.columns`, Int32Array.from(plan.columns)) : null;
      const s: Slot = { layer, nCols, columns, bias: plan.bias };
      if (isQuantizedLayer(layer)) {
        t.track("parameters", `layer${i}.wt`, layer.wt);
        t.track("parameters", `layer${i}.bias`, layer.bias);
        t.track("parameters", `layer${i}.wScale`, layer.wScale);
      } else {
        t.track("parameters", `layer${i}.W`, layer.W);
        t.track("parameters", `layer${i}.b`, layer.b);
      }
      // The input example buffer doubles as layer 0's kept input when all its columns train.
      if (nCols > 0 && !(i === 0 && nCols === layer.inDim))
        s.kept = t.track("activations", `layer${i}.keptInput`, new Float32Array(nCols));
      if (layer.relu && i >= this.lowest && i < layers.length - 1)
        s.mask = t.track("activations", `layer${i}.reluMask`, new Uint8Array(Math.ceil(layer.outDim / 8)));
      if (nCols > 0) s.gW = t.track("gradients", `layer${i}.gW`, new Float32Array(layer.outDim * nCols));
      if (plan.bias) s.gb = t.track("gradients", `layer${i}.gb`, new Float32Array(layer.outDim));
      if (this.optimizer === "momentum") {
        if (s.gW) s.vW = t.track("optimizer", `layer${i}.vW`, new Float32Array(s.gW.length));
        if (s.gb) s.vb = t.track("optimizer", `layer${i}.vb`, new Float32Array(s.gb.length));
      }
      if (isQuantizedLayer(layer)) {
        if (nCols > 0) {
          // Column-major like wt: masterW[c * outDim + o] mirrors wt[columns[c] * outDim + o].
          s.masterW = t.track("parameters", `layer${i}.masterW`, new Float32Array(layer.outDim * nCols));
          for (let c = 0; c < nCols; c++)
            for (let o = 0; o < layer.outDim; o++)
              s.masterW[c * layer.outDim + o] = layer.wt[plan.columns[c] * layer.outDim + o];
        }
        if (plan.bias) s.masterB = t.track("parameters", `layer${i}.masterB`, Float32Array.from(layer.bias));
      }
      return s;
    });
    const maxOut = Math.max(...layers.map((l) => l.outDim));
    this.input = t.track("activations", "input", new Float32Array(layers[0].inDim));
    this.fwd = [
      t.track("activations", "forward.a", new Float32Array(maxOut)),
      t.track("activations", "forward.b", new Float32Array(maxOut)),
    ];
    const maxBack = Math.max(0, ...layers.slice(this.lowest).map((l) => l.outDim));
    this.bwd = [
      t.track("activations", "backward.a", new Float32Array(maxBack)),
      t.track("activations", "backward.b", new Float32Array(maxBack)),
    ];
  }

  /** Bytes of every buffer a step uses (the peak), and by category. */
  memory(): { peakBytes: number; byCategory: Record<MemCategory, number> } {
    return { peakBytes: this.ledger.total(), byCategory: this.ledger.byCategory() };
  }

  /** Forward pass of one example (copied into the input buffer); returns the class probabilities. */
  forward(x: Float32Array, keep = false): Float32Array {
    this.input.set(x);
    let a = this.input;
    this.slots.forEach((s, i) => {
      const l = s.layer;
      const z = this.fwd[i % 2].subarray(0, l.outDim);
      if (keep && s.kept) {
        if (s.columns) for (let c = 0; c < s.nCols; c++) s.kept[c] = a[s.columns[c]];
        else s.kept.set(a.subarray(0, s.nCols));
      }
      if (!isQuantizedLayer(l)) {
        // The float networks' own row kernel (no gather buffers: the ledger holds every buffer).
        denseForwardRow(l, a, z, false, null);
      } else {
        for (let o = 0; o < l.outDim; o++) z[o] = l.inScale * l.bias[o];
        for (let j = 0; j < l.inDim; j++) {
          const v = a[j];
          if (v === 0) continue;
          const row = j * l.outDim;
          for (let o = 0; o < l.outDim; o++) z[o] += l.wt[row + o] * v;
        }
        for (let o = 0; o < l.outDim; o++) z[o] *= l.wScale[o];
      }
      if (l.relu) {
        if (keep && s.mask) s.mask.fill(0);
        for (let o = 0; o < l.outDim; o++) {
          if (z[o] > 0) {
            if (keep && s.mask) s.mask[o >> 3] |= 1 << (o & 7);
          } else z[o] = 0;
        }
      }
      a = z;
    });
    softmaxInPlace(a);
    return a;
  }

  /** Forward + backward of one example; accumulates gradients. Returns the example's loss. */
  accumulate(x: Float32Array, label: number): number {
    const p = this.forward(x, true);
    const loss = -Math.log(Math.max(p[label], 1e-30));
    if (this.lowest >= this.slots.length) return loss;
    let delta = this.bwd[0].subarray(0, p.length);
    delta.set(p);
    delta[label] -= 1;
    for (let i = this.slots.length - 1; i >= this.lowest; i--) {
      const s = this.slots[i];
      const l = s.layer;
      const n = s.nCols;
      const kept = s.kept ?? this.input;
      const int8 = isQuantizedLayer(l);
      // int8: dL/d(accumulator) = delta * s_W, shared by the bias, weight and input gradients.
      if (int8) for (let o = 0; o < l.outDim; o++) delta[o] *= l.wScale[o];
      if (s.gb) {
        const f = int8 ? l.inScale : 1;
        for (let o = 0; o < l.outDim; o++) s.gb[o] += delta[o] * f;
      }
      if (s.gW && !int8) {
        for (let o = 0; o < l.outDim; o++) {
          const d = delta[o];
          if (d === 0) continue;
          for (let c = 0; c < n; c++) s.gW[o * n + c] += d * kept[c];
        }
      } else if (s.gW) {
        for (let c = 0; c < n; c++) {
          const v = kept[c];
          if (v === 0) continue;
          const row = c * l.outDim;
          for (let o = 0; o < l.outDim; o++) s.gW[row + o] += delta[o] * v;
        }
      }
      if (i === this.lowest) break;
      // delta of layer i-1's output: W^T delta, through layer i-1's ReLU.
      const below = this.slots[i - 1];
      const next = this.bwd[(this.slots.length - i) % 2].subarray(0, l.inDim);
      if (!isQuantizedLayer(l)) {
        next.fill(0);
        for (let o = 0; o < l.outDim; o++) {
          const d = delta[o];
          if (d === 0) continue;
          const row = o * l.inDim;
          for (let j = 0; j < l.inDim; j++) next[j] += l.W[row + j] * d;
        }
      } else {
        for (let j = 0; j < l.inDim; j++) {
          const row = j * l.outDim;
          let acc = 0;
          for (let o = 0; o < l.outDim; o++) acc += l.wt[row + o] * delta[o];
          next[j] = acc;
        }
      }
      if (below.mask)
        for (let j = 0; j < l.inDim; j++) if (!(below.mask[j >> 3] & (1 << (j & 7)))) next[j] = 0;
      delta = next;
    }
    this.pending++;
    return loss;
  }

  /**
   * Raw accumulated gradients of layer i, before QAS and averaging: float layers dL/dW as
   * gW[o * nCols + c], int8 layers dL/dW̄ (= s_W * dL/dW) as gW[c * outDim + o], biases likewise.
   */
  gradients(i: number): { gW?: Float32Array; gb?: Float32Array } {
    return { gW: this.slots[i].gW, gb: this.slots[i].gb };
  }

  /** int8 layer i: the float masters of its updated entries (weights column-major like gW), for tests. */
  masters(i: number): { W?: Float32Array; b?: Float32Array } {
    return { W: this.slots[i].masterW, b: this.slots[i].masterB };
  }

  /** One optimizer step on the averaged accumulated gradients (QAS-scaled for int8), then clears them. */
  update(lr: number): void {
    if (this.pending === 0) return;
    const scale = 1 / this.pending;
    for (const { layer: l } of this.slots)
      if (isQuantizedLayer(l)) markWeightsChanged(l.wt, l.bias);
      else markWeightsChanged(l.W, l.b);
    for (const s of this.slots) {
      const l = s.layer;
      const n = s.nCols;
      const col = (c: number) => (s.columns ? s.columns[c] : c);
      if (!isQuantizedLayer(l)) {
        if (s.gW)
          for (let o = 0; o < l.outDim; o++)
            for (let c = 0; c < n; c++)
              l.W[o * l.inDim + col(c)] -= this.step(s.gW, s.vW, o * n + c, scale, lr);
        if (s.gb) for (let o = 0; o < l.outDim; o++) l.b[o] -= this.step(s.gb, s.vb, o, scale, lr);
      } else {
        // The forward pass reads the rounded int8 / int32 values; the masters keep the fractions.
        if (s.gW && s.masterW)
          for (let c = 0; c < n; c++)
            for (let o = 0; o < l.outDim; o++) {
              const k = c * l.outDim + o;
              const f = scale * (this.qas ? qasFactors(l.wScale[o], l.inScale).weight : 1);
              s.masterW[k] -= this.step(s.gW, s.vW, k, f, lr);
              l.wt[col(c) * l.outDim + o] = clampRound(s.masterW[k], 127);
            }
        if (s.gb && s.masterB)
          for (let o = 0; o < l.outDim; o++) {
            const f = scale * (this.qas ? qasFactors(l.wScale[o], l.inScale).bias : 1);
            s.masterB[o] -= this.step(s.gb, s.vb, o, f, lr);
            l.bias[o] = clampRound(s.masterB[o], MAX_INT32_BIAS);
          }
      }
      s.gW?.fill(0);
      s.gb?.fill(0);
    }
    this.pending = 0;
  }

  private step(g: Float32Array, v: Float32Array | undefined, k: number, f: number, lr: number): number {
    if (!v) return lr * g[k] * f;
    v[k] = this.momentum * v[k] + g[k] * f;
    return lr * v[k];
  }

  /** Minibatch SGD over a split; returns the mean loss of each epoch. */
  tune(data: LabeledSplit, o: FitOptions): number[] {
    check(
      data.dim === this.input.length,
      () => `fine-tuning data has ${data.dim} features, the model takes ${this.input.length}`,
    );
    check(o.batch >= 1 && o.epochs >= 0 && o.lr > 0, "tune: expected batch >= 1, epochs >= 0, lr > 0");
    const rng = new Rng(o.seed);
    const losses: number[] = [];
    const batches = Math.ceil(data.n / o.batch);
    for (let e = 0; e < o.epochs; e++) {
      const order = rng.permutation(data.n);
      let sum = 0;
      for (let b = 0; b < batches; b++) {
        for (let r = b * o.batch; r < Math.min(data.n, (b + 1) * o.batch); r++) {
          const i = order[r];
          sum += this.accumulate(data.x.subarray(i * data.dim, (i + 1) * data.dim), data.y[i]);
        }
        this.update(o.lr);
        o.onBatch?.(e * batches + b + 1, o.epochs * batches);
      }
      losses.push(sum / data.n);
    }
    return losses;
  }

  /** Accuracy of the layers as they are now (float activations). */
  accuracy(data: LabeledSplit): number {
    let hits = 0;
    for (let i = 0; i < data.n; i++) {
      const p = this.forward(data.x.subarray(i * data.dim, (i + 1) * data.dim));
      let best = 0;
      for (let c = 1; c < p.length; c++) if (p[c] > p[best]) best = c;
      if (best === data.y[i]) hits++;
    }
    return data.n === 0 ? 0 : hits / data.n;
  }
}

function clampRound(v: number, limit: number): number {
  const r = Math.round(v);
  return Math.min(limit, Math.max(-limit, r));
}
