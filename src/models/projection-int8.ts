/**
 * ProjectionNet with int8 layers above the bits. The bits are already exact int8 inputs (0 or 1
 * at scale 1), so the first layer's int32 accumulator is the sum of the int8 weight rows of the
 * set bits plus the int32 bias; later layers are the usual int8 stack with calibrated scales.
 * The random projection is unchanged (regenerated from the seed, computed in float).
 */
import { fail } from "../core/errors.js";
import type { ModelFile, StorableModel, Tensor } from "./format.js";
import {
  calibrateInputScales,
  outBuffer,
  type QuantizedStack,
  quantizeStack,
  softmaxInPlace,
  stackTensors,
} from "./int8.js";
import { type LshProjection, type ProjectionNet, unpackBits } from "./projection.js";
import type { Model } from "./types.js";

export class QuantizedProjectionNet implements Model, StorableModel {
  readonly kind = "int8";
  readonly spec: string;
  readonly sourceSpec: string;
  readonly projection: LshProjection;
  readonly stack: QuantizedStack;
  private readonly words: Uint32Array;
  private readonly bitsQ: Int8Array;
  private readonly scratchLogits: Float32Array;

  constructor(sourceSpec: string, projection: LshProjection, stack: QuantizedStack) {
    if (stack.inputDim !== projection.bits)
      fail(
        "DIMENSION_MISMATCH",
        `projection-int8: first layer expects ${stack.inputDim} inputs, projection has ${projection.bits} bits`,
      );
    if (stack.inputScale !== 1)
      fail("INVALID_ARGUMENT", `projection-int8: bit inputs need input scale 1, got ${stack.inputScale}`);
    this.sourceSpec = sourceSpec;
    this.spec = `int8:${sourceSpec}`;
    this.projection = projection;
    this.stack = stack;
    this.words = new Uint32Array(projection.words);
    this.bitsQ = new Int8Array(projection.bits);
    this.scratchLogits = new Float32Array(stack.outputDim);
  }

  /**
   * Quantizes a float ProjectionNet; hidden-layer activation scales are calibrated on the bit
   * features of n rows of `calib` (raw inputs).
   */
  static fromFloat(
    net: ProjectionNet,
    calib: Float32Array,
    n: number,
    percentile?: number,
  ): QuantizedProjectionNet {
    const proj = net.projection;
    const feats = new Float32Array(n * proj.bits);
    const words = proj.projectBatch(calib.subarray(0, n * proj.inputDim), n);
    for (let i = 0; i < n; i++) unpackBits(words, proj.bits, feats, i * proj.words, i * proj.bits);
    const scales = calibrateInputScales(
      net.head,
      feats,
      n,
      percentile === undefined ? {} : { method: "percentile", percentile },
    );
    scales[0] = 1;
    return new QuantizedProjectionNet(net.spec, proj, quantizeStack(net.head, scales));
  }

  get inputDim(): number {
    return this.projection.inputDim;
  }
  get numClasses(): number {
    return this.stack.outputDim;
  }
  get embedDim(): number {
    return this.stack.embedDim;
  }
  get bytes(): number {
    return this.stack.bytes + 4 + (this.projection.center ? 4 * this.projection.inputDim : 0);
  }

  predictProba(x: Float32Array, out?: Float32Array): Float32Array {
    const proba = outBuffer(out, this.numClasses, `${this.spec} predictProba`);
    this.stack.forward(this.bits(x), proba);
    return softmaxInPlace(proba);
  }

  embed(x: Float32Array, out?: Float32Array): Float32Array {
    return this.embedAndPredict(x, out, this.scratchLogits).embedding;
  }

  embedAndPredict(
    x: Float32Array,
    embedOut?: Float32Array,
    probaOut?: Float32Array,
  ): { embedding: Float32Array; proba: Float32Array } {
    const embedding = outBuffer(embedOut, this.embedDim, `${this.spec} embedOut`);
    const proba = outBuffer(probaOut, this.numClasses, `${this.spec} probaOut`);
    this.stack.forward(this.bits(x), proba, embedding);
    return { embedding, proba: softmaxInPlace(proba) };
  }

  /** The 0/1 bits of x as int8 (gemvInt8 skips zeros, so it adds exactly the set bits' rows). */
  private bits(x: Float32Array): Int8Array {
    if (x.length !== this.inputDim)
      fail(
        "DIMENSION_MISMATCH",
        `${this.spec}: expected an input of ${this.inputDim} values, got ${x.length}`,
      );
    return unpackBits(this.projection.project(x, this.words), this.projection.bits, this.bitsQ);
  }

  predictProbaBatch(x: Float32Array, n: number): Float32Array {
    const k = this.numClasses;
    const out = new Float32Array(n * k);
    this.stack.forwardBatch(this.bitBatch(x, n), n, out);
    for (let i = 0; i < n; i++) softmaxInPlace(out, k, i * k);
    return out;
  }

  embedBatch(x: Float32Array, n: number): Float32Array {
    const emb = new Float32Array(n * this.embedDim);
    this.stack.forwardBatch(this.bitBatch(x, n), n, new Float32Array(n * this.numClasses), emb);
    return emb;
  }

  toModelFile(): ModelFile {
    const tensors: Tensor[] = stackTensors(this.stack);
    if (this.projection.center)
      tensors.push({ name: "center", shape: [this.inputDim], data: this.projection.center });
    return {
      family: "int8",
      spec: this.spec,
      inputDim: this.inputDim,
      numClasses: this.numClasses,
      embedDim: this.embedDim,
      meta: { source: "projection", seed: this.projection.config.seed },
      tensors,
    };
  }

  private bitBatch(x: Float32Array, n: number): Int8Array {
    const p = this.projection;
    const words = p.projectBatch(x, n);
    const q = new Int8Array(n * p.bits);
    for (let i = 0; i < n; i++) unpackBits(words, p.bits, q, i * p.words, i * p.bits);
    return q;
  }
}
