/**
 * Optimizers: SGD (optionally with momentum) and Adam, both with weight decay on the params that
 * ask for it (weights, not biases). State buffers (momentum, Adam moments) are allocated per
 * param on its first update and exposed through `stateBuffers()`, so a memory budget can be
 * checked against what an optimizer really holds: plain SGD holds nothing.
 */
import { check, fail } from "../../core/errors.js";
import { markWeightsChanged, modelKernelPath } from "../wasm/kernels.js";
import { adamStepSimd } from "../wasm/optim-kernel.js";
import type { Param } from "./layers.js";

export interface Optimizer {
  readonly name: string;
  /** Learning rate; the trainer changes it when a schedule is in use. */
  lr: number;
  /** Applies one update to every trainable param that has a gradient. */
  step(params: readonly Param[]): void;
  /** Every state buffer currently allocated (for memory accounting). */
  stateBuffers(): Float32Array[];
  /** Forgets all state (e.g. when fine-tuning starts afresh). */
  reset(): void;
}

export interface SgdOptions {
  lr: number;
  /** Heavy-ball momentum in [0, 1); 0 = plain SGD, which keeps no state. */
  momentum?: number;
  /** L2 penalty coefficient added to the gradient of decaying params. */
  weightDecay?: number;
}

export class Sgd implements Optimizer {
  readonly name = "sgd";
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly velocity = new Map<Param, Float32Array>();

  constructor(o: SgdOptions) {
    checkHyper(o.lr, o.weightDecay);
    const momentum = o.momentum ?? 0;
    check(momentum >= 0 && momentum < 1, () => `sgd: momentum must be in [0, 1), got ${momentum}`);
    this.lr = o.lr;
    this.momentum = momentum;
    this.weightDecay = o.weightDecay ?? 0;
  }

  step(params: readonly Param[]): void {
    markWeightsChanged(...params.map((p) => p.value));
    const lr = this.lr;
    const mu = this.momentum;
    for (const p of params) {
      if (!p.trainable || p.grad === null) continue;
      const w = p.value;
      const g = p.grad;
      const wd = p.decay ? this.weightDecay : 0;
      if (mu === 0) {
        for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + wd * w[i]);
        continue;
      }
      let v = this.velocity.get(p);
      if (!v) this.velocity.set(p, (v = new Float32Array(w.length)));
      for (let i = 0; i < w.length; i++) {
        const vi = mu * v[i] + g[i] + wd * w[i];
        v[i] = vi;
        w[i] -= lr * vi;
      }
    }
  }

  stateBuffers(): Float32Array[] {
    return [...this.velocity.values()];
  }

  reset(): void {
    this.velocity.clear();
  }
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW): w -= lr · weightDecay · w on decaying params. */
  weightDecay?: number;
}

/** Adam (Kingma & Ba) with bias correction; weight decay is decoupled as in AdamW. */
export class Adam implements Optimizer {
  readonly name = "adam";
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private t = 0;
  private readonly moments = new Map<Param, { m: Float32Array; v: Float32Array }>();

  constructor(o: AdamOptions) {
    checkHyper(o.lr, o.weightDecay);
    this.lr = o.lr;
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    for (const [k, v] of [
      ["beta1", this.beta1],
      ["beta2", this.beta2],
    ] as const)
      check(v >= 0 && v < 1, () => `adam: ${k} must be in [0, 1), got ${v}`);
    check(this.eps > 0, () => `adam: eps must be > 0, got ${this.eps}`);
  }

  step(params: readonly Param[]): void {
    markWeightsChanged(...params.map((p) => p.value));
    this.t++;
    const b1 = this.beta1;
    const b2 = this.beta2;
    // Bias corrections folded into the step size and epsilon (the paper's efficient form).
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    const stepSize = (this.lr * Math.sqrt(c2)) / c1;
    const eps = this.eps * Math.sqrt(c2);
    // The SIMD update is bit-identical to the loop below (see wasm/optim-kernel.ts).
    const simd = modelKernelPath() === "wasm-simd";
    for (const p of params) {
      if (!p.trainable || p.grad === null) continue;
      const w = p.value;
      const g = p.grad;
      let s = this.moments.get(p);
      if (!s) this.moments.set(p, (s = { m: new Float32Array(w.length), v: new Float32Array(w.length) }));
      const { m, v } = s;
      const decay = p.decay ? 1 - this.lr * this.weightDecay : 1;
      if (simd && adamStepSimd(w, g, m, v, { b1, b2, decay, stepSize, eps })) continue;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        const mi = b1 * m[i] + (1 - b1) * gi;
        const vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay - (stepSize * mi) / (Math.sqrt(vi) + eps);
      }
    }
  }

  stateBuffers(): Float32Array[] {
    const out: Float32Array[] = [];
    for (const { m, v } of this.moments.values()) out.push(m, v);
    return out;
  }

  reset(): void {
    this.moments.clear();
    this.t = 0;
  }
}

export type OptimizerName = "adam" | "sgd";

export interface OptimizerOptions {
  optimizer: OptimizerName;
  lr: number;
  /** SGD only. */
  momentum?: number;
  weightDecay?: number;
}

export function createOptimizer(o: OptimizerOptions): Optimizer {
  if (o.optimizer === "adam") return new Adam({ lr: o.lr, weightDecay: o.weightDecay });
  if (o.optimizer === "sgd") return new Sgd({ lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay });
  return fail("UNKNOWN_NAME", `unknown optimizer "${String(o.optimizer)}"; expected adam or sgd`);
}

function checkHyper(lr: number, weightDecay: number | undefined): void {
  check(Number.isFinite(lr) && lr > 0, () => `optimizer: lr must be a positive number, got ${lr}`);
  const wd = weightDecay ?? 0;
  check(Number.isFinite(wd) && wd >= 0, () => `optimizer: weightDecay must be >= 0, got ${wd}`);
}
