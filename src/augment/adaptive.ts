/**
 * The `adaptive` combination rule: lambda (the weight of p_knn) and whether to retrieve at all are
 * predicted per input by two small logistic models, learned online from labeled feedback (in the
 * spirit of adaptive kNN-MT's Meta-k network and efficient kNN-LM's retrieval adaptor).
 *
 * lambda = sigmoid(w . phi) with the features phi (all in [0, 1]):
 *   phi0 1 (bias)                         phi4 model entropy / log C
 *   phi1 1 - exp(-d1 / T) (nearest dist)  phi5 model max probability
 *   phi2 d1 / d2 (distance ratio)         phi6 1 if argmax p_model = argmax p_knn
 *   phi3 max p_knn (neighbour agreement)  phi7 p_model(argmax p_knn)
 * Learning: one SGD step on the log loss -log(lambda p_knn(y) + (1 - lambda) p_model(y)).
 *
 * retrieval gate g = sigmoid(v . psi), psi = (1, phi4, phi5) (computable before any search); the
 * memory is searched unless g < skipBelow. Target: 1 when p_knn(y) > p_model(y) (retrieval helps).
 *
 * Prior (before any feedback): lambda rises with neighbour agreement and model entropy and falls
 * with distance and model confidence (about 0.25 in the middle of the ranges); the gate starts
 * around 0.5, well above the skip threshold, so every input is retrieved until learning says
 * otherwise. Each weight gets a seeded jitter of +-0.01 so runs with different seeds differ.
 */
import { Rng } from "../core/rng.js";
import type { LabeledNeighbours } from "../memory/labeled-memory.js";
import type { CombinationRule } from "./combine.js";

export const ADAPTIVE_LAMBDA_PRIOR: readonly number[] = [-1.5, -2, 0, 2, 1, -1, 0, 0];
export const ADAPTIVE_GATE_PRIOR: readonly number[] = [1, 2, -1];
const N_FEATURES = ADAPTIVE_LAMBDA_PRIOR.length;

export interface AdaptiveParams {
  k: number;
  T: number;
  lr: number;
  skipBelow: number;
  seed: number;
}

export class AdaptiveRule implements CombinationRule {
  readonly name = "adaptive";
  readonly spec: string;
  readonly k: number;
  readonly temperature: number;
  readonly lambdaWhenEmpty = 0;
  /** Lambda weights (phi0..phi7). */
  readonly w = new Float64Array(N_FEATURES);
  /** Gate weights (1, entropy, max prob). */
  readonly v = new Float64Array(3);
  /** Labeled examples learned from. */
  updates = 0;
  private readonly phi = new Float64Array(N_FEATURES);
  private readonly logC: number;

  constructor(
    private readonly p: AdaptiveParams,
    numClasses: number,
  ) {
    this.spec = `adaptive:k=${p.k},T=${p.T},lr=${p.lr},skipBelow=${p.skipBelow},seed=${p.seed}`;
    this.k = p.k;
    this.temperature = p.T;
    this.logC = Math.log(numClasses);
    const rng = new Rng(p.seed);
    for (let i = 0; i < N_FEATURES; i++) this.w[i] = ADAPTIVE_LAMBDA_PRIOR[i] + rng.uniform(-0.01, 0.01);
    for (let i = 0; i < 3; i++) this.v[i] = ADAPTIVE_GATE_PRIOR[i] + rng.uniform(-0.01, 0.01);
  }

  /** Probability that retrieval helps, from the model's distribution alone. */
  gate(modelProba: Float32Array): number {
    const { entropy, maxProb } = this.modelStats(modelProba);
    return sigmoid(this.v[0] + this.v[1] * entropy + this.v[2] * maxProb);
  }

  shouldRetrieve(modelProba: Float32Array): boolean {
    return this.gate(modelProba) >= this.p.skipBelow;
  }

  lambda(modelProba: Float32Array, knnProba: Float32Array, nb: LabeledNeighbours): number {
    this.features(modelProba, knnProba, nb);
    let z = 0;
    for (let i = 0; i < N_FEATURES; i++) z += this.w[i] * this.phi[i];
    return sigmoid(z);
  }

  learn(
    modelProba: Float32Array,
    knnProba: Float32Array,
    nb: LabeledNeighbours,
    label: number,
    weight: number,
  ): void {
    if (nb.count === 0 || !(weight > 0)) return;
    const lambda = this.lambda(modelProba, knnProba, nb); // fills this.phi
    const a = knnProba[label];
    const b = modelProba[label];
    const p = Math.max(1e-6, lambda * a + (1 - lambda) * b);
    const gz = (-(a - b) * lambda * (1 - lambda)) / p;
    const step = this.p.lr * weight;
    for (let i = 0; i < N_FEATURES; i++) this.w[i] -= step * gz * this.phi[i];
    const g = this.gate(modelProba);
    const target = a > b ? 1 : 0;
    const { entropy, maxProb } = this.modelStats(modelProba);
    this.v[0] -= step * (g - target);
    this.v[1] -= step * (g - target) * entropy;
    this.v[2] -= step * (g - target) * maxProb;
    this.updates++;
  }

  /** The feature vector of the last `lambda` call (a copy, for tests and reports). */
  lastFeatures(): number[] {
    return Array.from(this.phi);
  }

  private modelStats(modelProba: Float32Array): { entropy: number; maxProb: number } {
    let h = 0;
    let m = 0;
    for (let y = 0; y < modelProba.length; y++) {
      const q = modelProba[y];
      if (q > 0) h -= q * Math.log(q);
      if (q > m) m = q;
    }
    return { entropy: this.logC > 0 ? h / this.logC : 0, maxProb: m };
  }

  private features(modelProba: Float32Array, knnProba: Float32Array, nb: LabeledNeighbours): void {
    const phi = this.phi;
    const d1 = nb.distances[0];
    const d2 = nb.count > 1 ? nb.distances[1] : d1;
    let knnTop = 0;
    for (let y = 1; y < knnProba.length; y++) if (knnProba[y] > knnProba[knnTop]) knnTop = y;
    let modelTop = 0;
    for (let y = 1; y < modelProba.length; y++) if (modelProba[y] > modelProba[modelTop]) modelTop = y;
    const { entropy, maxProb } = this.modelStats(modelProba);
    phi[0] = 1;
    phi[1] = 1 - Math.exp(-Math.max(0, d1) / this.temperature);
    phi[2] = d2 > 0 ? Math.min(1, Math.max(0, d1 / d2)) : 1;
    phi[3] = knnProba[knnTop];
    phi[4] = entropy;
    phi[5] = maxProb;
    phi[6] = knnTop === modelTop ? 1 : 0;
    phi[7] = modelProba[knnTop];
  }
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

export function createAdaptiveRule(p: AdaptiveParams, numClasses: number): AdaptiveRule {
  return new AdaptiveRule(p, numClasses);
}
