/**
 * The float families built on Sequential: logistic regression (`logreg`, one Dense layer) and
 * multi-layer perceptrons (`mlp:256,128`: Dense+ReLU per hidden width, then a Dense to the
 * classes). Hidden layers get He init; the logit layer gets variance 1/fanIn so the first
 * softmax is not saturated.
 */
import { fail } from "../../core/errors.js";
import { checkMemoryBudget } from "../../core/memory-budget.js";
import { Rng } from "../../core/rng.js";
import { Dense, type Layer, ReLU } from "../engine/layers.js";
import { Sequential } from "../engine/network.js";
import type { ModelFamily, ModelShape } from "../family-registry.js";
import { type ModelFile, tensorOf } from "../io/format.js";
import { markWeightsChanged } from "../wasm/kernels.js";

/** Widest hidden layer accepted (guards against typos such as "mlp:2560000"). */
export const MAX_WIDTH = 65536;

export function buildMlp(
  kind: string,
  spec: string,
  hidden: readonly number[],
  shape: ModelShape,
  seed: number,
): Sequential {
  checkShape(shape);
  // Refuse with the figure before allocating, not with a RangeError (or the OOM killer) half-way.
  const widths = [shape.inputDim, ...hidden, shape.numClasses];
  const params = widths.slice(1).reduce((sum, w, i) => sum + (widths[i] + 1) * w, 0);
  checkMemoryBudget(4 * params, `model ${spec} over ${shape.inputDim} inputs (${params} float32 parameters)`);
  const rng = new Rng(seed);
  const layers: Layer[] = [];
  let width = shape.inputDim;
  hidden.forEach((h, i) => {
    layers.push(new Dense(width, h, `dense${i}`).initHe(rng), new ReLU(h));
    width = h;
  });
  layers.push(new Dense(width, shape.numClasses, `dense${hidden.length}`).initHe(rng, 1));
  return new Sequential(kind, spec, layers);
}

function checkShape(s: ModelShape): void {
  for (const k of ["inputDim", "numClasses"] as const)
    if (!Number.isInteger(s[k]) || s[k] <= 0)
      fail("INVALID_ARGUMENT", `model shape: ${k} must be a positive integer, got ${s[k]}`);
  if (s.numClasses < 2) fail("INVALID_ARGUMENT", `model shape: need at least 2 classes, got ${s.numClasses}`);
}

/** Copies every param of `net` from the file, checking names, dtypes and shapes. */
export function loadParams(net: Sequential, file: ModelFile): Sequential {
  const expected = new Set(net.params().map((p) => p.name));
  for (const t of file.tensors)
    if (!expected.has(t.name))
      fail("BAD_FILE", `${file.family} model file: unexpected tensor "${t.name}" for spec ${file.spec}`);
  for (const p of net.params()) p.value.set(tensorOf<Float32Array>(file, p.name, "f32", p.shape));
  markWeightsChanged(...net.params().map((p) => p.value));
  const { layers: _layers, ...meta } = file.meta;
  net.meta = meta;
  return net;
}

export const logregFamily: ModelFamily<Record<string, never>> = {
  name: "logreg",
  summary: "multinomial logistic regression (one Dense layer + softmax); embed = the input",
  examples: ["logreg"],
  parse(rest) {
    if (rest !== "") fail("INVALID_ARGUMENT", `logreg takes no parameters, got "logreg:${rest}"`);
    return {};
  },
  format: () => "logreg",
  create: (_p, shape, seed) => buildMlp("logreg", "logreg", [], shape, seed),
  load(file) {
    logregFamily.parse(specRest(file.spec, "logreg"));
    return loadParams(buildMlp("logreg", "logreg", [], file, 0), file);
  },
};

export interface MlpParams {
  hidden: number[];
}

function mlpSpec(p: MlpParams): string {
  return `mlp:${p.hidden.join(",")}`;
}

export const mlpFamily: ModelFamily<MlpParams> = {
  name: "mlp",
  summary: "multi-layer perceptron: comma-separated hidden widths, ReLU; embed = last hidden layer",
  examples: ["mlp:256,128", "mlp:32"],
  parse(rest) {
    if (rest === "") fail("INVALID_ARGUMENT", 'mlp: expected hidden widths, e.g. "mlp:256,128" or "mlp:32"');
    const hidden = rest.split(",").map((t) => {
      const s = t.trim();
      const w = Number(s);
      if (s === "" || !Number.isInteger(w) || w < 1 || w > MAX_WIDTH)
        fail(
          "INVALID_ARGUMENT",
          `mlp: hidden width "${s}" is not an integer in [1, ${MAX_WIDTH}] (spec "mlp:${rest}")`,
        );
      return w;
    });
    return { hidden };
  },
  format: mlpSpec,
  create: (p, shape, seed) => buildMlp("mlp", mlpSpec(p), p.hidden, shape, seed),
  load(file) {
    const p = mlpFamily.parse(specRest(file.spec, "mlp"));
    return loadParams(buildMlp("mlp", mlpSpec(p), p.hidden, file, 0), file);
  },
};

function specRest(spec: string, family: string): string {
  const i = spec.indexOf(":");
  const name = (i < 0 ? spec : spec.slice(0, i)).trim().toLowerCase();
  if (name !== family) fail("BAD_FILE", `model file: family "${family}" but spec "${spec}"`);
  return i < 0 ? "" : spec.slice(i + 1).trim();
}
