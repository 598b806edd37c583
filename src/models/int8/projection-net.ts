/**
 * ProjectionNet with int8 layers above the bits. The bits are already exact int8 inputs (0 or 1
 * at scale 1), so the first layer's int32 accumulator is the sum of the int8 weight rows of the
 * set bits plus the int32 bias; later layers are the usual int8 stack with calibrated scales.
 * The random projection is unchanged (regenerated from the seed, computed in float).
 */
import { fail } from "../../core/errors.js";
import { PROJECTION_FORMAT } from "../families/projection.js";
import { type LshProjection, type ProjectionNet, unpackBits } from "../families/projection-net.js";
import type { ModelFile, StorableModel, Tensor } from "../io/format.js";
import { modelKernelPath } from "../wasm/kernels.js";
import { QuantizedStackModel } from "./network.js";
import { calibrateInputScales, quantizeStack } from "./quantize.js";
import { type QuantizedStack, stackTensors } from "./stack.js";

export class QuantizedProjectionNet extends QuantizedStackModel implements StorableModel {
  readonly spec: string;
  readonly sourceSpec: string;
  readonly projection: LshProjection;
  private readonly words: Uint32Array;
  private readonly bitsQ: Int8Array;
  private readonly bitsF: Float32Array;

  constructor(sourceSpec: string, projection: LshProjection, stack: QuantizedStack) {
    super(stack);
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
    this.words = new Uint32Array(projection.words);
    this.bitsQ = new Int8Array(projection.bits);
    this.bitsF = new Float32Array(projection.bits);
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
  get bytes(): number {
    return this.stack.bytes + 4 + (this.projection.center ? 4 * this.projection.inputDim : 0);
  }

  /** The 0/1 bits of x as int8 (gemvInt8 skips zeros, so it adds exactly the set bits' rows). */
  protected stackInput(x: Float32Array): Int8Array {
    this.checkRow(x);
    if (modelKernelPath() === "typescript")
      return unpackBits(this.projection.project(x, this.words), this.projection.bits, this.bitsQ);
    const f = this.projection.features(x, this.bitsF, this.words);
    const q = this.bitsQ;
    for (let k = 0; k < q.length; k++) q[k] = f[k];
    return q;
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
      meta: { source: "projection", seed: this.projection.config.seed, projectionFormat: PROJECTION_FORMAT },
      tensors,
    };
  }

  protected stackInputBatch(x: Float32Array, n: number): Int8Array {
    const p = this.projection;
    const words = p.projectBatch(x, n);
    const q = new Int8Array(n * p.bits);
    for (let i = 0; i < n; i++) unpackBits(words, p.bits, q, i * p.words, i * p.bits);
    return q;
  }
}
