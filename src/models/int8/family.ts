/**
 * int8 post-training quantization of any float model of the dense families, and the `int8`
 * model family: `int8:mlp:256,128`, `int8:logreg`, `int8:projection:T=60,d=10,fc=128`.
 * Training an `int8:SPEC` model trains SPEC in float, then quantizes it with activation scales
 * calibrated on a seeded sample of the training rows; files of quantized models carry
 * family "int8" and load back as int8 models.
 */
import { check, fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import type { LabeledSplit } from "../../data/types.js";
import { Sequential } from "../engine/network.js";
import { runTraining } from "../engine/trainer.js";
import { formatProjectionParams, projectionParamsOfFile } from "../families/projection.js";
import { LshProjection, ProjectionNet } from "../families/projection-net.js";
import {
  isTrainingTask,
  type ModelFamily,
  type ParsedModelSpec,
  parseModelSpec,
} from "../family-registry.js";
import type { ModelFile, StorableModel } from "../io/format.js";
import type { Model } from "../types.js";
import { QuantizedNetwork } from "./network.js";
import { QuantizedProjectionNet } from "./projection-net.js";
import type { CalibrationOptions } from "./quantize.js";
import { stackFromFile } from "./stack.js";

/** Calibration rows drawn from the training split by default. */
export const DEFAULT_CALIBRATION_ROWS = 2000;

export interface QuantizeOptions extends CalibrationOptions {
  /** Rows of the calibration split used (a seeded sample when fewer than it has). */
  rows?: number;
  seed?: number;
}

/** The rows used for calibration: all of `data` or a seeded sample of `rows` of them. */
export function calibrationRows(
  data: LabeledSplit,
  rows = DEFAULT_CALIBRATION_ROWS,
  seed = 1,
): { x: Float32Array; n: number } {
  check(
    Number.isInteger(rows) && rows > 0,
    () => `int8: calibration rows must be a positive integer, got ${rows}`,
  );
  if (data.n === 0) fail("INVALID_ARGUMENT", "int8: the calibration split is empty");
  if (rows >= data.n) return { x: data.x, n: data.n };
  const pick = new Rng(seed).sample(data.n, rows);
  const x = new Float32Array(rows * data.dim);
  pick.forEach((r, i) => x.set(data.x.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim));
  return { x, n: rows };
}

/** Quantizes a float logreg / MLP / ProjectionNet, calibrating on rows of `calib`. */
export function quantizeModel(
  model: Model,
  calib: LabeledSplit,
  options: QuantizeOptions = {},
): Model & StorableModel {
  if (calib.dim !== model.inputDim)
    fail(
      "DIMENSION_MISMATCH",
      `int8: calibration data has ${calib.dim} features, model ${model.spec} expects ${model.inputDim}`,
    );
  const { x, n } = calibrationRows(calib, options.rows, options.seed);
  if (model instanceof ProjectionNet)
    return QuantizedProjectionNet.fromFloat(
      model,
      x,
      n,
      options.method === "percentile" ? (options.percentile ?? 99.99) : undefined,
    );
  if (model instanceof Sequential)
    return QuantizedNetwork.fromFloat(
      model.denseLayers("int8"),
      x,
      n,
      { kind: model.kind, spec: model.spec },
      options,
    );
  if (model.kind === "int8") return fail("INVALID_ARGUMENT", `int8: ${model.spec} is already quantized`);
  return fail(
    "UNSUPPORTED",
    `int8: cannot quantize a "${model.kind}" model; expected logreg, mlp or projection`,
  );
}

/**
 * What `create("int8:SPEC")` returns: the float SPEC model until training ends, the int8 model
 * after. Every Model call goes to the current one.
 */
export class Int8TrainedModel implements Model, StorableModel {
  readonly kind = "int8";
  readonly spec: string;
  private current: Model;
  private quantized: (Model & StorableModel) | null = null;

  constructor(
    readonly inner: ParsedModelSpec,
    readonly float: Model,
  ) {
    this.spec = `int8:${inner.spec}`;
    this.current = float;
  }

  setQuantized(q: Model & StorableModel): void {
    this.quantized = q;
    this.current = q;
  }
  get isQuantized(): boolean {
    return this.quantized !== null;
  }
  get inputDim(): number {
    return this.current.inputDim;
  }
  get embedDim(): number {
    return this.current.embedDim;
  }
  get numClasses(): number {
    return this.current.numClasses;
  }
  get bytes(): number {
    return this.current.bytes;
  }
  predictProba(x: Float32Array, out?: Float32Array): Float32Array {
    return this.current.predictProba(x, out);
  }
  embed(x: Float32Array, out?: Float32Array): Float32Array {
    return this.current.embed(x, out);
  }
  embedAndPredict(x: Float32Array, embedOut?: Float32Array, probaOut?: Float32Array) {
    return this.current.embedAndPredict(x, embedOut, probaOut);
  }
  predictProbaBatch(x: Float32Array, n: number): Float32Array {
    return this.current.predictProbaBatch(x, n);
  }
  embedBatch(x: Float32Array, n: number): Float32Array {
    return this.current.embedBatch(x, n);
  }
  toModelFile(): ModelFile {
    if (!this.quantized)
      return fail("STATE", `${this.spec}: train the model before saving it (it is quantized after training)`);
    return this.quantized.toModelFile();
  }
}

export const int8Family: ModelFamily<ParsedModelSpec> = {
  name: "int8",
  summary:
    "int8 post-training quantization of another spec (per-channel weights, calibrated int8 activations)",
  examples: ["int8:mlp:256,128", "int8:projection:T=60,d=10,fc=128"],
  parse(rest) {
    if (rest === "") fail("INVALID_ARGUMENT", 'int8: expected the spec of a float model, e.g. "int8:mlp:32"');
    const inner = parseModelSpec(rest);
    if (inner.family.name === "int8") fail("INVALID_ARGUMENT", `int8: "${rest}" is already an int8 spec`);
    return inner;
  },
  format: (p) => `int8:${p.spec}`,
  create: (p, shape, seed) => new Int8TrainedModel(p, p.family.create(p.params, shape, seed)),
  train(model, data, options) {
    if (!(model instanceof Int8TrainedModel))
      return fail("INVALID_ARGUMENT", "int8: train expects a model made by this family");
    const { family } = model.inner;
    let report: ReturnType<typeof runTraining>;
    if (family.train) report = family.train(model.float, data, options);
    else if (isTrainingTask(model.float)) report = runTraining(model.float, data, options);
    else return fail("UNSUPPORTED", `int8: model family "${family.name}" has no training procedure`);
    model.setQuantized(quantizeModel(model.float, data, { seed: options.seed ?? 1 }));
    return report;
  },
  load(file) {
    const rest = file.spec.startsWith("int8:")
      ? file.spec.slice(5)
      : fail("BAD_FILE", `int8 model file: spec "${file.spec}" does not start with "int8:"`);
    let inner = int8Family.parse(rest);
    const shape = { inputDim: file.inputDim, numClasses: file.numClasses };
    if (inner.family.name === "projection") {
      // Read the spec as the file's projection format meant it (old files: Gaussian by default).
      const params = projectionParamsOfFile(rest.slice("projection:".length), file.meta, "int8 model file");
      inner = { ...inner, params, spec: formatProjectionParams(params) };
      const seed = file.meta.seed;
      if (typeof seed !== "number" || !Number.isFinite(seed))
        fail("BAD_FILE", `int8 model file: meta.seed must be a number, got ${JSON.stringify(seed)}`);
      const template = inner.family.create(inner.params, shape, seed) as ProjectionNet;
      const dims = [template.head[0].inDim, ...template.head.map((l) => l.outDim)];
      let projection = template.projection;
      const center = file.tensors.find((t) => t.name === "center");
      if (center) {
        if (!(center.data instanceof Float32Array) || center.data.length !== file.inputDim)
          fail("BAD_FILE", `int8 model file: tensor "center" must be f32 [${file.inputDim}]`);
        projection = new LshProjection(projection.config, center.data);
      }
      return new QuantizedProjectionNet(inner.spec, projection, stackFromFile(file, dims));
    }
    const template = inner.family.create(inner.params, shape, 0);
    if (!(template instanceof Sequential))
      return fail("BAD_FILE", `int8 model file: cannot load quantized "${inner.spec}"`);
    const dense = template.denseLayers("int8");
    const dims = [dense[0].inDim, ...dense.map((l) => l.outDim)];
    return new QuantizedNetwork(stackFromFile(file, dims), { kind: template.kind, spec: template.spec });
  },
};
