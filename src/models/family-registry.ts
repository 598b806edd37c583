/**
 * The table of model families itself, apart from the families (registry.ts is the public entry
 * point). Family modules (families/mlp.ts, families/projection.ts, int8/family.ts) import this
 * module, which imports none of them; families/all.ts lists the built-in families and registry.ts
 * registers them before any spec is parsed or file loaded. That order removes the import cycle
 * registry -> family -> registry, and makes every built-in family reachable from `createModel` /
 * `loadModel` without relying on a module's import side effect (which a bundler may drop).
 */
import { fail } from "../core/errors.js";
import { Registry } from "../core/registry.js";
import type { LabeledSplit } from "../data/types.js";
import type { TrainingTask, TrainOptions, TrainReport } from "./engine/trainer.js";
import type { ModelFile, StorableModel } from "./io/format.js";
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

/**
 * Parses a spec against the families registered so far (no built-in registration: registry.ts's
 * `parseModelSpec` does that first). Families that nest a spec (int8:SPEC) use this one.
 */
export function parseModelSpec(spec: string): ParsedModelSpec {
  if (typeof spec !== "string") fail("INVALID_ARGUMENT", `model spec: expected a string, got ${typeof spec}`);
  const { entry, params, canonical } = modelFamilies.parse(spec);
  return { family: entry.family, params, spec: canonical };
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
