/**
 * The int8 models: {@link QuantizedStackModel} writes the Model contract once over a
 * {@link QuantizedStack} (int8 input in, float logits out, then the shared softmax), and
 * {@link QuantizedNetwork} is the quantized logreg / MLP over float inputs.
 */
import { fail } from "../../core/errors.js";
import type { DenseLayer } from "../engine/dense-layer.js";
import { checkBatchShape, outBuffer } from "../engine/network.js";
import { softmaxInPlace, softmaxRows } from "../engine/softmax.js";
import type { ModelFile, StorableModel } from "../io/format.js";
import type { Model } from "../types.js";
import { quantizeInput } from "./kernels.js";
import { type CalibrationOptions, calibrateInputScales, quantizeStack } from "./quantize.js";
import { type QuantizedStack, stackTensors } from "./stack.js";

export interface QuantizedNetworkInfo {
  /** Family of the float model it came from ("logreg", "mlp", ...). */
  kind: string;
  /** Spec of the float model it came from. */
  spec: string;
}

/**
 * The Model contract over a {@link QuantizedStack}, written once for every int8 model: a subclass
 * only says how an input (or a batch) becomes the stack's int8 input, validating it on the way.
 * `embed` is the dequantized input of the last layer.
 */
export abstract class QuantizedStackModel implements Model {
  readonly kind = "int8";
  abstract readonly spec: string;
  abstract readonly inputDim: number;
  abstract readonly bytes: number;
  readonly stack: QuantizedStack;
  private readonly scratchLogits: Float32Array;

  constructor(stack: QuantizedStack) {
    this.stack = stack;
    this.scratchLogits = new Float32Array(stack.outputDim);
  }

  /** The stack's int8 input for one row (validated; may reuse an internal buffer). */
  protected abstract stackInput(x: Float32Array): Int8Array;
  /** The stack's int8 inputs for n rows (validated; a new array). */
  protected abstract stackInputBatch(x: Float32Array, n: number): Int8Array;

  get embedDim(): number {
    return this.stack.embedDim;
  }
  get numClasses(): number {
    return this.stack.outputDim;
  }

  predictProba(x: Float32Array, out?: Float32Array): Float32Array {
    const proba = outBuffer(out, this.numClasses, `${this.spec} predictProba`);
    this.stack.forward(this.stackInput(x), proba);
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
    this.stack.forward(this.stackInput(x), proba, embedding);
    return { embedding, proba: softmaxInPlace(proba) };
  }

  predictProbaBatch(x: Float32Array, n: number): Float32Array {
    const k = this.numClasses;
    const out = new Float32Array(n * k);
    this.stack.forwardBatch(this.stackInputBatch(x, n), n, out);
    softmaxRows(out, out, n, k);
    return out;
  }

  embedBatch(x: Float32Array, n: number): Float32Array {
    const emb = new Float32Array(n * this.embedDim);
    this.stack.forwardBatch(this.stackInputBatch(x, n), n, new Float32Array(n * this.numClasses), emb);
    return emb;
  }

  /** Throws unless x has inputDim values. */
  protected checkRow(x: Float32Array): void {
    if (x.length !== this.inputDim)
      fail(
        "DIMENSION_MISMATCH",
        `${this.spec}: expected an input of ${this.inputDim} values, got ${x.length}`,
      );
  }
}

/**
 * An int8 network over float inputs: the input is quantized with the calibrated first-layer scale
 * and every layer runs in int8/int32.
 */
export class QuantizedNetwork extends QuantizedStackModel implements StorableModel {
  readonly spec: string;
  readonly sourceKind: string;
  readonly sourceSpec: string;

  constructor(stack: QuantizedStack, info: QuantizedNetworkInfo) {
    super(stack);
    this.sourceKind = info.kind;
    this.sourceSpec = info.spec;
    this.spec = `int8:${info.spec}`;
  }

  /** Quantizes a float stack, calibrating activation scales on n rows of `calib`. */
  static fromFloat(
    layers: readonly DenseLayer[],
    calib: Float32Array,
    n: number,
    info: QuantizedNetworkInfo,
    options: CalibrationOptions = {},
  ): QuantizedNetwork {
    return new QuantizedNetwork(quantizeStack(layers, calibrateInputScales(layers, calib, n, options)), info);
  }

  get inputDim(): number {
    return this.stack.inputDim;
  }
  get bytes(): number {
    return this.stack.bytes;
  }

  protected stackInput(x: Float32Array): Int8Array {
    this.checkRow(x);
    return this.stack.quantizeInput(x);
  }

  toModelFile(): ModelFile {
    return {
      family: "int8",
      spec: this.spec,
      inputDim: this.inputDim,
      numClasses: this.numClasses,
      embedDim: this.embedDim,
      meta: { source: this.sourceKind, relu: this.stack.layers.map((l) => l.relu) },
      tensors: stackTensors(this.stack),
    };
  }

  protected stackInputBatch(x: Float32Array, n: number): Int8Array {
    checkBatchShape(this.spec, x, n, this.inputDim);
    return quantizeInput(x, this.stack.inputScale, new Int8Array(x.length), x.length);
  }
}
