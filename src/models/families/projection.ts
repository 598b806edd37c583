/**
 * The `projection` model family: `projection:T=60,d=10[,fc=128][,trainer=256-128]...`.
 *
 * Training is joint (Ravi 2017, section 3.2): a larger trainer MLP on the raw input and the
 * projection net on the bits learn from the same minibatches with
 *   L = lambda1 * CE(trainer, labels) + lambda2 * CE(projection, trainer's soft outputs)
 *     + lambda3 * CE(projection, labels).
 * The trainer's soft outputs are used as constant targets (no gradient flows from the
 * distillation term into the trainer), as in ordinary distillation. Only the projection net is
 * kept. The bits of every training row are computed once before the first epoch: the projection
 * is fixed, and recomputing T*d dot products per row per epoch would dominate the training time.
 * To reach them from the shared training loop (runTraining hands a task copied minibatch rows), each row
 * carries its index as one extra column.
 */
import { fail } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { formatParams, type ParamSchema, parseParams } from "../../core/spec.js";
import type { LabeledSplit } from "../../data/types.js";
import {
  type DenseLayer,
  denseLayer,
  inputMajorWeights,
  setInputMajorWeights,
} from "../engine/dense-layer.js";
import { Dense, type Layer, type Param, ReLU } from "../engine/layers.js";
import { argmax, Sequential } from "../engine/network.js";
import { softCrossEntropy, softmaxCrossEntropy, softmaxRows } from "../engine/softmax.js";
import { runTraining, type TrainingTask } from "../engine/trainer.js";
import type { ModelFamily, ModelShape } from "../family-registry.js";
import { type ModelFile, tensorOf } from "../io/format.js";
import { markWeightsChanged } from "../wasm/kernels.js";
import { buildMlp } from "./mlp.js";
import {
  HYPERPLANE_KINDS,
  type HyperplaneKind,
  LshProjection,
  ProjectionNet,
  unpackBits,
} from "./projection-net.js";

export const PROJECTION_SCHEMA = {
  T: { type: "int", default: 60, min: 1, max: 1024, description: "number of projection functions" },
  d: { type: "int", default: 10, min: 1, max: 64, description: "sign bits per projection function" },
  fc: {
    type: "int",
    default: 0,
    min: 0,
    max: 65536,
    description: "width of the dense ReLU layer over the bits (0 = none)",
  },
  trainer: {
    type: "string",
    default: "256-128",
    description: "hidden widths of the trainer MLP, dash-separated",
  },
  lambda1: { type: "number", default: 1, min: 0, description: "weight of CE(trainer, labels)" },
  lambda2: {
    type: "number",
    default: 0.1,
    min: 0,
    description: "weight of CE(projection, trainer soft outputs)",
  },
  lambda3: { type: "number", default: 1, min: 0, description: "weight of CE(projection, labels)" },
  planes: {
    type: "enum",
    default: "very-sparse",
    values: HYPERPLANE_KINDS,
    description:
      "random hyperplanes: very-sparse +-1 (about sqrt(inputDim) inputs each, the fast default), sparse +-1 (density 1/3), or gaussian (dense; the default of files before projectionFormat 2)",
  },
  center: {
    type: "bool",
    default: false,
    description: "subtract the training mean before projecting (stored, 4 bytes per input)",
  },
} satisfies ParamSchema;

/**
 * Version of the projection in model files. 1 (files without `meta.projectionFormat`): a spec
 * without `planes` meant Gaussian hyperplanes. 2: the default became very sparse ±1 hyperplanes,
 * and files say so. Old files load as what they were: their spec gains `planes=gaussian`.
 */
export const PROJECTION_FORMAT = 2;

/**
 * The projection parameters of a model file's spec (after "projection:"), read as the file's
 * projection format meant them (see {@link PROJECTION_FORMAT}).
 */
export function projectionParamsOfFile(
  rest: string,
  meta: Record<string, unknown>,
  what: string,
): ProjectionParams {
  const version = meta.projectionFormat ?? 1;
  if (version !== 1 && version !== PROJECTION_FORMAT)
    fail(
      "BAD_FILE",
      `${what}: projectionFormat ${JSON.stringify(version)} is not one this version reads (1 or ${PROJECTION_FORMAT}); was the file written by a newer mammals?`,
    );
  const params = parseProjectionParams(rest);
  if (version === 1 && !/(^|,)\s*planes\s*=/.test(rest)) params.planes = "gaussian";
  return params;
}

export interface ProjectionParams {
  T: number;
  d: number;
  fc: number;
  trainer: number[];
  lambda1: number;
  lambda2: number;
  lambda3: number;
  planes: HyperplaneKind;
  center: boolean;
}

export function parseProjectionParams(rest: string): ProjectionParams {
  const p = parseParams(rest, PROJECTION_SCHEMA, "projection");
  const trainer = p.trainer.split("-").map((t) => {
    const w = Number(t);
    if (t.trim() === "" || !Number.isInteger(w) || w < 1 || w > 65536)
      fail(
        "INVALID_ARGUMENT",
        `projection: trainer widths must be dash-separated integers in [1, 65536], e.g. 256-128; got "${p.trainer}"`,
      );
    return w;
  });
  if (p.lambda1 + p.lambda2 + p.lambda3 === 0)
    fail("INVALID_ARGUMENT", "projection: lambda1, lambda2 and lambda3 are all 0");
  if (p.lambda3 === 0 && p.lambda2 === 0)
    fail(
      "INVALID_ARGUMENT",
      "projection: lambda2 or lambda3 must be > 0, or the projection net never learns",
    );
  return { ...p, planes: p.planes as HyperplaneKind, trainer };
}

export function formatProjectionParams(p: ProjectionParams): string {
  const out: Record<string, unknown> = { T: p.T, d: p.d };
  if (p.fc > 0) out.fc = p.fc;
  const trainer = p.trainer.join("-");
  if (trainer !== PROJECTION_SCHEMA.trainer.default) out.trainer = trainer;
  for (const k of ["lambda1", "lambda2", "lambda3", "planes", "center"] as const)
    if (p[k] !== PROJECTION_SCHEMA[k].default) out[k] = p[k];
  return `projection:${formatParams(out)}`;
}

function emptyHead(p: ProjectionParams, numClasses: number): DenseLayer[] {
  const bits = p.T * p.d;
  const dims = p.fc > 0 ? [bits, p.fc, numClasses] : [bits, numClasses];
  return dims.slice(1).map((outDim, i) => denseLayer(dims[i], outDim, i < dims.length - 2));
}

/**
 * The layers above the bits as a Sequential for training: its Dense layers train the net's own
 * head arrays in place (He init for the fc layer, variance 1/fanIn for the logits).
 */
function headNetwork(head: readonly DenseLayer[], rng: Rng): Sequential {
  const layers: Layer[] = [];
  if (head.length === 2) layers.push(Dense.over(head[0], "fc").initHe(rng), new ReLU(head[0].outDim));
  layers.push(Dense.over(head[head.length - 1], "softmax").initHe(rng, 1));
  return new Sequential("projection-head", "projection-head", layers);
}

/**
 * The joint training task. Rows are `dim + 1` wide: the input, then the row's index into the
 * precomputed packed bits.
 */
export class ProjectionTrainingTask implements TrainingTask {
  private dT = new Float32Array(0);
  private dP = new Float32Array(0);
  private soft = new Float32Array(0);
  private xs = new Float32Array(0);
  private feats = new Float32Array(0);

  constructor(
    readonly trainer: Sequential,
    readonly head: Sequential,
    readonly projection: LshProjection,
    /** Packed bits of every row, `projection.words` per row. */
    readonly bits: Uint32Array,
    readonly lambdas: [number, number, number],
  ) {}

  params(): Param[] {
    return [...this.trainer.params(), ...this.head.params()];
  }

  /** Splits indexed rows into the raw inputs and the 0/1 bit features. */
  private unpack(x: Float32Array, n: number, withRaw: boolean): { raw: Float32Array; feats: Float32Array } {
    const dim = this.projection.inputDim;
    const { bits, words } = this.projection;
    if (this.feats.length < n * bits) this.feats = new Float32Array(n * bits);
    if (withRaw && this.xs.length < n * dim) this.xs = new Float32Array(n * dim);
    for (let r = 0; r < n; r++) {
      const o = r * (dim + 1);
      if (withRaw) this.xs.set(x.subarray(o, o + dim), r * dim);
      unpackBits(this.bits, bits, this.feats, x[o + dim] * words, r * bits);
    }
    return { raw: this.xs.subarray(0, n * dim), feats: this.feats.subarray(0, n * bits) };
  }

  lossAndGrad(x: Float32Array, y: Uint8Array, n: number): number {
    const [l1, l2, l3] = this.lambdas;
    const k = this.head.numClasses;
    if (this.dT.length < n * k) {
      this.dT = new Float32Array(n * k);
      this.dP = new Float32Array(n * k);
      this.soft = new Float32Array(n * k);
    }
    const dT = this.dT.subarray(0, n * k);
    const dP = this.dP.subarray(0, n * k);
    const soft = this.soft.subarray(0, n * k);
    const { raw, feats } = this.unpack(x, n, l1 > 0 || l2 > 0);
    let loss = 0;
    if (l1 > 0 || l2 > 0) {
      const logitsT = this.trainer.forwardBatch(raw, n);
      softmaxRows(logitsT, soft, n, k);
      const lossT = softmaxCrossEntropy(logitsT, y, n, k, dT, l1);
      loss += l1 * lossT;
      if (l1 > 0) this.trainer.backwardBatch(dT, n);
    }
    const logitsP = this.head.forwardBatch(feats, n);
    dP.fill(0);
    if (l2 > 0) loss += l2 * softCrossEntropy(logitsP, soft, n, k, dP, l2, true);
    if (l3 > 0) loss += l3 * softmaxCrossEntropy(logitsP, y, n, k, dP, l3, true);
    this.head.backwardBatch(dP, n);
    return loss;
  }

  /** Accuracy of the projection net (the one that is kept). */
  evaluate(split: LabeledSplit): number {
    const k = this.head.numClasses;
    let correct = 0;
    for (let r = 0; r < split.n; r += 256) {
      const m = Math.min(256, split.n - r);
      const { feats } = this.unpack(split.x.subarray(r * split.dim, (r + m) * split.dim), m, false);
      const logits = this.head.forwardBatch(feats, m);
      for (let i = 0; i < m; i++) if (argmax(logits, i * k, k) === split.y[r + i]) correct++;
    }
    return split.n === 0 ? 0 : correct / split.n;
  }

  /** Accuracy of the trainer MLP on indexed rows (for reports). */
  trainerAccuracy(split: LabeledSplit): number {
    const k = this.trainer.numClasses;
    let correct = 0;
    for (let r = 0; r < split.n; r += 256) {
      const m = Math.min(256, split.n - r);
      const { raw } = this.unpack(split.x.subarray(r * split.dim, (r + m) * split.dim), m, true);
      const logits = this.trainer.forwardBatch(raw, m);
      for (let i = 0; i < m; i++) if (argmax(logits, i * k, k) === split.y[r + i]) correct++;
    }
    return split.n === 0 ? 0 : correct / split.n;
  }
}

/** A split whose rows carry their index as one extra column (see ProjectionTrainingTask). */
export function withRowIndex(data: LabeledSplit): LabeledSplit {
  // float32 holds every integer up to 2^24 exactly.
  if (data.n > 2 ** 24)
    fail("UNSUPPORTED", `projection: training on ${data.n} rows; at most 2^24 are supported`);
  const dim = data.dim + 1;
  const x = new Float32Array(data.n * dim);
  for (let i = 0; i < data.n; i++) {
    x.set(data.x.subarray(i * data.dim, (i + 1) * data.dim), i * dim);
    x[i * dim + data.dim] = i;
  }
  return { x, y: data.y, n: data.n, dim };
}

/** Per-feature training mean. */
export function featureMean(data: LabeledSplit): Float32Array {
  const m = new Float64Array(data.dim);
  for (let i = 0; i < data.n; i++) for (let j = 0; j < data.dim; j++) m[j] += data.x[i * data.dim + j];
  return Float32Array.from(m, (v) => v / Math.max(1, data.n));
}

/** A ProjectionNet that can be saved, with the trainer's summary once trained. */
export class TrainableProjectionNet extends ProjectionNet {
  readonly params: ProjectionParams;
  readonly seed: number;
  meta: Record<string, unknown> = {};
  /** The trainer MLP of the last training run (not saved; for reports comparing the two). */
  trainer: Sequential | null = null;

  constructor(
    params: ProjectionParams,
    shape: ModelShape,
    seed: number,
    center: Float32Array | null = null,
    head?: DenseLayer[],
  ) {
    const projection = new LshProjection(
      { inputDim: shape.inputDim, T: params.T, d: params.d, seed, planes: params.planes },
      center,
    );
    super(formatProjectionParams(params), projection, head ?? emptyHead(params, shape.numClasses));
    this.params = params;
    this.seed = seed;
  }

  toModelFile(): ModelFile {
    const tensors = this.head.flatMap((l, i) => [
      { name: `layer${i}.weight`, shape: [l.inDim, l.outDim], data: inputMajorWeights(l) },
      { name: `layer${i}.bias`, shape: [l.outDim], data: l.b },
    ]);
    if (this.projection.center)
      tensors.push({ name: "center", shape: [this.inputDim], data: this.projection.center });
    return {
      family: "projection",
      spec: this.spec,
      inputDim: this.inputDim,
      numClasses: this.numClasses,
      embedDim: this.embedDim,
      meta: {
        ...this.meta,
        seed: this.seed,
        weightLayout: "input-major [in, out]",
        projectionFormat: PROJECTION_FORMAT,
      },
      tensors,
    };
  }
}

export function loadProjectionNet(file: ModelFile): TrainableProjectionNet {
  const rest = file.spec.startsWith("projection:")
    ? file.spec.slice("projection:".length)
    : fail("BAD_FILE", `projection model file: spec "${file.spec}" does not start with "projection:"`);
  const params = projectionParamsOfFile(rest, file.meta, "projection model file");
  const seed = file.meta.seed;
  if (typeof seed !== "number" || !Number.isFinite(seed))
    fail("BAD_FILE", `projection model file: meta.seed must be a number, got ${JSON.stringify(seed)}`);
  const shape = { inputDim: file.inputDim, numClasses: file.numClasses };
  const head = emptyHead(params, file.numClasses);
  const expected = new Set(head.flatMap((_, i) => [`layer${i}.weight`, `layer${i}.bias`]));
  if (params.center) expected.add("center");
  for (const t of file.tensors)
    if (!expected.has(t.name))
      fail("BAD_FILE", `projection model file: unexpected tensor "${t.name}" for ${file.spec}`);
  head.forEach((l, i) => {
    setInputMajorWeights(l, tensorOf<Float32Array>(file, `layer${i}.weight`, "f32", [l.inDim, l.outDim]));
    l.b.set(tensorOf<Float32Array>(file, `layer${i}.bias`, "f32", [l.outDim]));
    markWeightsChanged(l.b);
  });
  const center = params.center ? tensorOf<Float32Array>(file, "center", "f32", [file.inputDim]) : null;
  const net = new TrainableProjectionNet(params, shape, seed, center, head);
  const { seed: _s, weightLayout: _w, projectionFormat: _f, ...meta } = file.meta;
  net.meta = meta;
  return net;
}

export const projectionFamily: ModelFamily<ProjectionParams> = {
  name: "projection",
  summary:
    "ProjectionNet: T*d random-hyperplane sign bits (seeded, not stored) -> [fc ReLU] -> softmax, trained jointly with a trainer MLP; keys T, d, fc (0 = none), trainer (dash-separated widths, default 256-128), lambda1/2/3 (1, 0.1, 1), planes (very-sparse: about sqrt(inputDim) inputs per +-1 hyperplane, the default; sparse: density 1/3; gaussian: dense, the default of older files), center (subtract the training mean)",
  examples: ["projection:T=60,d=10", "projection:T=60,d=10,fc=128,center=true,lambda2=1"],
  parse: parseProjectionParams,
  format: formatProjectionParams,
  create: (p, shape, seed) => new TrainableProjectionNet(p, shape, seed),
  train(model, data, options) {
    if (!(model instanceof TrainableProjectionNet))
      return fail("INVALID_ARGUMENT", "projection: train expects a model made by this family");
    if (data.dim !== model.inputDim)
      fail(
        "DIMENSION_MISMATCH",
        `projection: data has ${data.dim} features, model expects ${model.inputDim}`,
      );
    const p = model.params;
    const seed = options.seed ?? 1;
    if (p.center) {
      // The mean is only known now: rebuild the projection with it (same seed, same hyperplanes).
      const { T, d, planes } = p;
      model.projection = new LshProjection(
        { inputDim: data.dim, T, d, seed: model.seed, planes },
        featureMean(data),
      );
    }
    const rng = new Rng(seed ^ 0x5bd1e995);
    const trainer = buildMlp(
      "mlp",
      `mlp:${p.trainer.join(",")}`,
      p.trainer,
      { inputDim: data.dim, numClasses: model.numClasses },
      rng.nextU32(),
    );
    const head = headNetwork(model.head, rng);
    const bits = model.projection.projectBatch(data.x, data.n);
    const task = new ProjectionTrainingTask(trainer, head, model.projection, bits, [
      p.lambda1,
      p.lambda2,
      p.lambda3,
    ]);
    const indexed = withRowIndex(data);
    const report = runTraining(task, indexed, options);
    model.trainer = trainer;
    model.meta = {
      trainer: trainer.spec,
      trainerBytes: trainer.bytes,
      trainerTrainAccuracy: task.trainerAccuracy(indexed),
      projectionTrainAccuracy: task.evaluate(indexed),
      bestEpoch: report.bestEpoch,
    };
    return report;
  },
  load: loadProjectionNet,
};
