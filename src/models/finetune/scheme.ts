/**
 * Which parameters an on-device fine-tuning run updates. Schemes (spec strings):
 *   full                       every weight and bias
 *   last:K                     weights and biases of the last K layers
 *   bias                       every bias, no weight (TinyTL: needs no stored activations)
 *   sparse:bias=K,channels=R[,weights=W]
 *                              biases of the last K layers, plus in the layers chosen by W the
 *                              fraction R of input channels (weight columns) with the largest L2
 *                              norm, as in Lin et al. 2022 ("magnitude+" selection). W is
 *                              `all` (default), `first` (the layer that sees the raw input, where an
 *                              input shift acts), `last`, or a layer index.
 * A plan is the per-layer answer: update the bias or not, and which weight columns.
 */
import { fail } from "../../core/errors.js";
import { describeSchema, type ParamSchema, parseParams, splitSpec } from "../../core/spec.js";

export type UpdateScheme =
  | { kind: "full" }
  | { kind: "last"; k: number }
  | { kind: "bias" }
  | { kind: "sparse"; bias: number; channels: number; weights: string };

export const SPARSE_SCHEMA = {
  bias: { type: "int", default: 1, min: 0, description: "update the biases of the last K layers" },
  channels: {
    type: "number",
    default: 0.125,
    min: 0,
    max: 1,
    description: "fraction R of input channels (weight columns, largest norm first) updated",
  },
  weights: {
    type: "string",
    default: "all",
    description: "layers whose weight columns are updated: all, first, last, or a layer index",
  },
} satisfies ParamSchema;

const LAST_SCHEMA = {} satisfies ParamSchema;

export const SCHEME_HELP = [
  "full: every weight and bias",
  "last:K: weights and biases of the last K layers",
  "bias: every bias only (TinyTL)",
  "sparse:bias=K,channels=R[,weights=all|first|last|INDEX]:",
  ...describeSchema(SPARSE_SCHEMA).map((l) => `  ${l}`),
];

export function parseUpdateScheme(spec: string): UpdateScheme {
  const { name, rest } = splitSpec(spec);
  switch (name) {
    case "full":
    case "bias":
      if (rest.trim() !== "")
        fail("INVALID_ARGUMENT", `update scheme ${name}: takes no parameters, got "${rest}"`);
      return { kind: name };
    case "last": {
      const k = Number(rest.trim());
      if (rest.includes("=")) parseParams(rest, LAST_SCHEMA, "update scheme last"); // reject key=value
      if (!Number.isInteger(k) || k < 1)
        fail("INVALID_ARGUMENT", `update scheme last:K: expected K an integer >= 1, got "${rest}"`);
      return { kind: "last", k };
    }
    case "sparse": {
      const p = parseParams(rest, SPARSE_SCHEMA, "update scheme sparse");
      return { kind: "sparse", bias: p.bias, channels: p.channels, weights: p.weights };
    }
    default:
      return fail(
        "UNKNOWN_NAME",
        `unknown update scheme "${spec}"; expected full, last:K, bias or sparse:bias=K,channels=R`,
      );
  }
}

export function formatScheme(s: UpdateScheme): string {
  switch (s.kind) {
    case "last":
      return `last:${s.k}`;
    case "sparse":
      return `sparse:bias=${s.bias},channels=${s.channels},weights=${s.weights}`;
    default:
      return s.kind;
  }
}

/** What one layer updates: its bias or not, and the weight columns (input channels) in ascending order. */
export interface LayerPlan {
  bias: boolean;
  /** Updated input channels, ascending; length 0 = weights frozen. */
  columns: Int32Array;
}

/** Layer shapes and weights, enough to plan (W row-major out x in, dequantized if int8). */
export interface PlanLayer {
  inDim: number;
  outDim: number;
  /** Weight of (o, j); lets int8 layers plan on dequantized values without a float copy. */
  weight(o: number, j: number): number;
}

function allColumns(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, j) => j);
}

/** Indices of the `count` columns with the largest L2 norm, ascending (ties: lower index first). */
export function topNormColumns(layer: PlanLayer, count: number): Int32Array {
  const norms = new Float64Array(layer.inDim);
  for (let o = 0; o < layer.outDim; o++)
    for (let j = 0; j < layer.inDim; j++) {
      const w = layer.weight(o, j);
      norms[j] += w * w;
    }
  const order = Array.from({ length: layer.inDim }, (_, j) => j).sort((a, b) => norms[b] - norms[a] || a - b);
  return Int32Array.from(order.slice(0, count)).sort();
}

function weightLayers(sel: string, n: number): Set<number> {
  if (sel === "first") return new Set([0]);
  if (sel === "last") return new Set([n - 1]);
  if (sel === "all") return new Set(Array.from({ length: n }, (_, i) => i));
  const i = Number(sel);
  if (!Number.isInteger(i) || i < 0 || i >= n)
    fail(
      "INVALID_ARGUMENT",
      `update scheme sparse: weights must be first, last, all or a layer index in [0, ${n - 1}], got "${sel}"`,
    );
  return new Set([i]);
}

export function planUpdate(layers: PlanLayer[], scheme: UpdateScheme): LayerPlan[] {
  const n = layers.length;
  const none = new Int32Array(0);
  switch (scheme.kind) {
    case "full":
      return layers.map((l) => ({ bias: true, columns: allColumns(l.inDim) }));
    case "bias":
      return layers.map(() => ({ bias: true, columns: none }));
    case "last": {
      if (scheme.k > n)
        fail("INVALID_ARGUMENT", `update scheme last:${scheme.k}: the model has only ${n} layers`);
      return layers.map((l, i) =>
        i >= n - scheme.k ? { bias: true, columns: allColumns(l.inDim) } : { bias: false, columns: none },
      );
    }
    case "sparse": {
      if (scheme.bias > n)
        fail(
          "INVALID_ARGUMENT",
          `update scheme sparse: bias=${scheme.bias} but the model has only ${n} layers`,
        );
      const chosen = weightLayers(scheme.weights, n);
      return layers.map((l, i) => {
        const count =
          chosen.has(i) && scheme.channels > 0 ? Math.max(1, Math.round(scheme.channels * l.inDim)) : 0;
        return { bias: i >= n - scheme.bias, columns: count > 0 ? topNormColumns(l, count) : none };
      });
    }
  }
}
