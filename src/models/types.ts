/**
 * The Model contract: what an edge node needs from its small model and what an upstream needs
 * from a big one. Inputs are flat Float32Arrays of length `inputDim` (images scaled to [0, 1]).
 * Single-example calls may write into a caller-provided `out` buffer so that the serving hot path
 * allocates nothing.
 */
export interface Model {
  /** Family name, e.g. "logreg", "mlp", "projection", "onnx". */
  readonly kind: string;
  /** Spec string that recreates the architecture, e.g. "mlp:256,128". */
  readonly spec: string;
  readonly inputDim: number;
  /** Length of `embed`'s output: the penultimate-layer features used as k-NN keys. */
  readonly embedDim: number;
  readonly numClasses: number;
  /** Bytes the parameters occupy as stored (int8 weights count 1 byte each). */
  readonly bytes: number;

  /** Class probabilities (length numClasses). */
  predictProba(x: Float32Array, out?: Float32Array): Float32Array;
  /** Penultimate-layer features (length embedDim). */
  embed(x: Float32Array, out?: Float32Array): Float32Array;
  /** Both at once, sharing the forward pass (the edge node's hot path). */
  embedAndPredict(
    x: Float32Array,
    embedOut?: Float32Array,
    probaOut?: Float32Array,
  ): {
    embedding: Float32Array;
    proba: Float32Array;
  };
  /** n x numClasses probabilities for n row-major inputs. */
  predictProbaBatch(x: Float32Array, n: number): Float32Array;
  /** n x embedDim features for n row-major inputs. */
  embedBatch(x: Float32Array, n: number): Float32Array;
}
