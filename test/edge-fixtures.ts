/**
 * Tiny models and synthetic data for the memory / augment / edge tests (not a test file itself).
 */
import { Rng } from "../src/core/rng.js";
import { l2sq } from "../src/core/vectors.js";
import type { Model } from "../src/models/types.js";

/**
 * A softmax over negative squared distances to class centroids, p_y ∝ exp(-sharpness ||x - c_y||^2),
 * restricted to the classes it "knows" (the others get probability 0). Its embedding is the input
 * scaled by `embedScale` (so embeddings differ from inputs but keep their geometry).
 */
export class CentroidModel implements Model {
  readonly kind = "test-centroid";
  readonly spec = "test-centroid";
  readonly inputDim: number;
  readonly embedDim: number;
  readonly numClasses: number;
  readonly bytes: number;
  calls = 0;

  constructor(
    readonly centroids: Float32Array,
    numClasses: number,
    readonly known: boolean[] = Array(numClasses).fill(true),
    readonly sharpness = 1,
    readonly embedScale = 2,
  ) {
    this.numClasses = numClasses;
    this.inputDim = centroids.length / numClasses;
    this.embedDim = this.inputDim;
    this.bytes = centroids.length * 4;
  }

  predictProba(x: Float32Array, out: Float32Array = new Float32Array(this.numClasses)): Float32Array {
    this.calls++;
    const d = this.inputDim;
    let best = Number.POSITIVE_INFINITY;
    const logits = new Float64Array(this.numClasses);
    for (let y = 0; y < this.numClasses; y++) {
      logits[y] = this.known[y]
        ? -this.sharpness * l2sq(x, this.centroids, d, 0, y * d)
        : Number.NEGATIVE_INFINITY;
      best = Math.min(best, -logits[y]);
    }
    let z = 0;
    for (let y = 0; y < this.numClasses; y++) z += Math.exp(logits[y] + best);
    for (let y = 0; y < this.numClasses; y++) out[y] = Math.exp(logits[y] + best) / z;
    return out;
  }

  embed(x: Float32Array, out: Float32Array = new Float32Array(this.embedDim)): Float32Array {
    for (let i = 0; i < this.inputDim; i++) out[i] = x[i] * this.embedScale;
    return out;
  }

  embedAndPredict(x: Float32Array, embedOut?: Float32Array, probaOut?: Float32Array) {
    return { embedding: this.embed(x, embedOut), proba: this.predictProba(x, probaOut) };
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

/** Two classes; p = [x0, 1 - x0] exactly as given (for decision-boundary tests). Embedding = x. */
export class ProbeModel implements Model {
  readonly kind = "test-probe";
  readonly spec = "test-probe";
  readonly numClasses = 2;
  readonly bytes = 0;
  constructor(
    readonly inputDim = 2,
    readonly embedDim = inputDim,
  ) {}
  predictProba(x: Float32Array, out: Float32Array = new Float32Array(2)): Float32Array {
    out[0] = x[0];
    out[1] = 1 - x[0];
    return out;
  }
  embed(x: Float32Array, out: Float32Array = new Float32Array(this.embedDim)): Float32Array {
    out.set(x.subarray(0, this.embedDim));
    return out;
  }
  embedAndPredict(x: Float32Array, embedOut?: Float32Array, probaOut?: Float32Array) {
    return { embedding: this.embed(x, embedOut), proba: this.predictProba(x, probaOut) };
  }
  predictProbaBatch(x: Float32Array, n: number): Float32Array {
    const out = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) this.predictProba(x.subarray(i * this.inputDim), out.subarray(2 * i));
    return out;
  }
  embedBatch(x: Float32Array, n: number): Float32Array {
    const out = new Float32Array(n * this.embedDim);
    for (let i = 0; i < n; i++) this.embed(x.subarray(i * this.inputDim), out.subarray(i * this.embedDim));
    return out;
  }
}

/** Gaussian clusters: `numClasses` centroids in [-1, 1]^dim, points = centroid + spread * N(0, I). */
export function clusters(seed: number, numClasses: number, dim: number, spread: number) {
  const rng = new Rng(seed);
  const centroids = new Float32Array(numClasses * dim);
  for (let i = 0; i < centroids.length; i++) centroids[i] = rng.uniform(-1, 1);
  const draw = (label: number, out = new Float32Array(dim)) => {
    for (let j = 0; j < dim; j++) out[j] = centroids[label * dim + j] + spread * rng.normal();
    return out;
  };
  return { centroids, draw, rng };
}
