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
import type { LabeledSplit } from "../data/types.js";
import { runTraining, type TrainOptions, type TrainReport } from "./engine/trainer.js";
import { registerBuiltinModelFamilies } from "./families/all.js";
import {
  registerModelFamily as addModelFamily,
  getModelFamily as getRegisteredFamily,
  isStorable,
  isTrainingTask,
  type ModelFamily,
  type ModelShape,
  modelFamilies,
  type ParsedModelSpec,
  parseModelSpec as parseRegisteredSpec,
} from "./family-registry.js";
import { decodeModelFile, encodeModelFile } from "./io/format.js";
import type { Model } from "./types.js";

export {
  isStorable,
  isTrainingTask,
  type ModelContext,
  type ModelFamily,
  type ModelFamilyExtra,
  type ModelShape,
  modelFamilies,
  type ParsedModelSpec,
} from "./family-registry.js";

/** Adds a family; registering a second family under an existing name (built-ins included) is an error. */
export function registerModelFamily<P>(family: ModelFamily<P>): void {
  registerBuiltinModelFamilies();
  addModelFamily(family);
}

export function getModelFamily(name: string): ModelFamily<unknown> {
  registerBuiltinModelFamilies();
  return getRegisteredFamily(name);
}

export function parseModelSpec(spec: string): ParsedModelSpec {
  registerBuiltinModelFamilies();
  return parseRegisteredSpec(spec);
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

/** Encodes a model in the model file format (see format.ts). */
export function saveModel(model: Model): Uint8Array {
  if (!isStorable(model))
    fail("UNSUPPORTED", `model kind "${model.kind}" cannot be saved in the mammals format`);
  return encodeModelFile(model.toModelFile());
}

/** Decodes a model file and rebuilds the model through its family. */
export function loadModel(bytes: Uint8Array, source = "model file"): Model {
  registerBuiltinModelFamilies();
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
  registerBuiltinModelFamilies();
  return modelFamilies
    .describe()
    .split("\n")
    .filter((line) => line !== "");
}

// Node and a bundle that keeps this module register everything at import; the functions above
// also call it, so a bundler dropping this statement cannot lose a family.
registerBuiltinModelFamilies();
