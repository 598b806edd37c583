/**
 * Model specs and the registry of model families.
 *
 * A spec string names a family and its sizes: `logreg`, `mlp:256,128`, `mlp:32`, and whatever
 * other families register themselves (e.g. `projection:T=60,d=10,fc=128`). A family parses its
 * own parameter text, creates an initialised model, optionally trains it its own way (the
 * default is the shared {@link runTraining} loop), and loads its models from a model file. Loading
 * dispatches on the file header's `family` field, so every registered family's files load
 * through {@link loadModel}.
 */
import { fail } from "../core/errors.js";
import { Registry } from "../core/registry.js";
import type { LabeledSplit } from "../data/types.js";
import { runTraining, type TrainingTask, type TrainOptions, type TrainReport } from "./engine/trainer.js";
import { logregFamily, mlpFamily } from "./families/mlp.js";
import { decodeModelFile, encodeModelFile, type ModelFile, type StorableModel } from "./io/format.js";
import type { Model } from "./types.js";

export interface ModelShape {
  inputDim: number;
  numClasses: number;
}

export interface ModelFamily<P = unknown> {
  /** Lower-case name, the part of the spec before ":" and the `family` field of its files. */
  readonly name: string;
  /** One line for `--help`. */
  readonly summary?: string;
  /** Example specs, for `--help`. */
  readonly examples?: readonly string[];
  /** Parses the text after "name:" ("" when there is none); throws a typed error when bad. */
  parse(rest: string): P;
  /** The canonical spec string of these params (e.g. "mlp:256,128"); default: the spec as given, name lower-cased. */
  format?(params: P): string;
  /** A new model with freshly initialised weights; all randomness from `seed`. */
  create(params: P, shape: ModelShape, seed: number): Model;
  /** Trains a model made by `create`. Default: {@link runTraining}, which needs the model to be a TrainingTask. */
  train?(model: Model, data: LabeledSplit, options: Partial<TrainOptions>): TrainReport;
  /** Rebuilds a model from a file whose header names this family. */
  load(file: ModelFile): Model;
}

/** What a family's registry entry gets besides its parsed parameters. */
export interface ModelContext {
  shape: ModelShape;
  seed: number;
}

/** What a model family's registry entry adds: the family itself (training and loading go through it). */
export interface ModelFamilyExtra {
  family: ModelFamily<unknown>;
}

/** The registry of model families; {@link registerModelFamily} adds one. */
export const modelFamilies = new Registry<ModelContext, Model, ModelFamilyExtra>("model family");

/** Adds a family; registering a second family under an existing name is an error. */
export function registerModelFamily<P>(family: ModelFamily<P>): void {
  const name = family.name.toLowerCase();
  modelFamilies.register({
    name,
    summary: family.summary ?? "",
    params: {},
    examples: family.examples,
    // A family parses its own text (widths, nested specs), so there is no key=value schema here.
    parse: (rest) => family.parse(rest.trim()),
    format: (p, rest) => {
      if (!family.format) return rest.trim();
      const spec = family.format(p);
      if (spec === name) return "";
      if (!spec.startsWith(`${name}:`))
        fail("STATE", `model family ${name}: format gave "${spec}"; expected "${name}" or "${name}:..."`);
      return spec.slice(name.length + 1);
    },
    create: (p, { shape, seed }) => family.create(p, shape, seed),
    family: family as ModelFamily<unknown>,
  });
}

export function getModelFamily(name: string): ModelFamily<unknown> {
  return modelFamilies.get(name).family;
}

export interface ParsedModelSpec {
  family: ModelFamily<unknown>;
  params: unknown;
  /** Canonical form. */
  spec: string;
}

export function parseModelSpec(spec: string): ParsedModelSpec {
  if (typeof spec !== "string") fail("INVALID_ARGUMENT", `model spec: expected a string, got ${typeof spec}`);
  const { entry, params, canonical } = modelFamilies.parse(spec);
  return { family: entry.family, params, spec: canonical };
}

export function createModel(spec: string, shape: ModelShape, seed = 1): Model {
  const p = parseModelSpec(spec);
  return p.family.create(p.params, shape, seed);
}

/** Parses, creates and trains a model on `data` (its family's training, or the shared loop). */
export function trainModel(
  spec: string,
  data: LabeledSplit,
  numClasses: number,
  options: Partial<TrainOptions> = {},
): { model: Model; report: TrainReport } {
  const p = parseModelSpec(spec);
  const model = p.family.create(p.params, { inputDim: data.dim, numClasses }, options.seed ?? 1);
  if (p.family.train) return { model, report: p.family.train(model, data, options) };
  if (!isTrainingTask(model))
    fail("UNSUPPORTED", `model family "${p.family.name}" has no training procedure`);
  return { model, report: runTraining(model, data, options) };
}

export function isTrainingTask(m: unknown): m is TrainingTask {
  const t = m as TrainingTask;
  return (
    typeof t?.lossAndGrad === "function" && typeof t.params === "function" && typeof t.evaluate === "function"
  );
}

export function isStorable(m: unknown): m is StorableModel {
  return typeof (m as StorableModel)?.toModelFile === "function";
}

/** Encodes a model in the model file format (see format.ts). */
export function saveModel(model: Model): Uint8Array {
  if (!isStorable(model))
    fail("UNSUPPORTED", `model kind "${model.kind}" cannot be saved in the mammals format`);
  return encodeModelFile(model.toModelFile());
}

/** Decodes a model file and rebuilds the model through its family. */
export function loadModel(bytes: Uint8Array, source = "model file"): Model {
  const file = decodeModelFile(bytes, source);
  if (!modelFamilies.has(file.family))
    fail(
      "BAD_FILE",
      `${source}: model family "${file.family}" is not registered; known: ${modelFamilies.names().join(", ")}`,
    );
  const model = getModelFamily(file.family).load(file);
  if (
    model.inputDim !== file.inputDim ||
    model.numClasses !== file.numClasses ||
    model.embedDim !== file.embedDim
  )
    fail(
      "BAD_FILE",
      `${source}: header says ${file.inputDim} inputs, ${file.embedDim}-d embedding, ${file.numClasses} classes; ` +
        `spec "${file.spec}" builds ${model.inputDim}, ${model.embedDim}, ${model.numClasses}`,
    );
  return model;
}

/** The registry's description of every family (summary and examples), as lines for `--help`. */
export function describeModelFamilies(): string[] {
  return modelFamilies
    .describe()
    .split("\n")
    .filter((line) => line !== "");
}

registerModelFamily(logregFamily);
registerModelFamily(mlpFamily);
