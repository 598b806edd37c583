/**
 * Memory keys: what a memory-augmented model stores and searches by. The default is the small
 * model's embedding (penultimate features, computed in the same forward pass as the prediction);
 * the raw input and a seeded Gaussian random projection of it are the alternatives the demo compares.
 */
import { check } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { dot } from "../core/vectors.js";

/** A key computed from the raw input (the embedding key is built into the model). */
export interface InputKey {
  readonly name: string;
  readonly dim: number;
  /** Writes the key of `x` into `out` (length dim) without allocating. */
  extract(x: Float32Array, out: Float32Array): void;
}

/** The raw input itself. */
export function rawInputKey(inputDim: number): InputKey {
  return { name: "input", dim: inputDim, extract: (x, out) => out.set(x) };
}

/**
 * A Johnson-Lindenstrauss projection: out = R x / sqrt(dim) with R's entries standard normal,
 * drawn from `seed` (so squared distances are preserved in expectation).
 */
export function randomProjectionKey(inputDim: number, dim: number, seed = 1): InputKey {
  check(Number.isInteger(dim) && dim >= 1, () => `projection dim: expected an integer >= 1, got ${dim}`);
  const rng = new Rng(seed);
  const r = new Float32Array(dim * inputDim);
  const scale = 1 / Math.sqrt(dim);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal() * scale;
  return {
    name: `projection:dim=${dim},seed=${seed}`,
    dim,
    extract: (x, out) => {
      for (let j = 0; j < dim; j++) out[j] = dot(r, x, inputDim, j * inputDim, 0);
    },
  };
}
