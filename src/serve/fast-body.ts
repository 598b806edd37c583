/**
 * Fast acceptance of well-formed request bodies, next to the zod schemas (schemas.ts) that remain
 * the one definition of what is valid and the source of /openapi.json.
 *
 * A predict body is 784 (or more) numbers; zod checks each through its generic machinery, which
 * costs a noticeable part of a sub-millisecond request. The functions here recognise the common,
 * valid shapes by hand and convert them straight into what the service takes. They never reject
 * anything: whatever they do not accept (null) goes through the zod schema, which accepts it or
 * produces the error with its code and message. So a verdict can only differ from the schema's if
 * these accept a value the schema rejects, or convert it differently; test/serve-fast-body.test.ts
 * holds them to the schema on generated values, valid and broken.
 *
 * What is accepted here (the schemas' rules, for plain JSON objects only):
 *   predict  {input: v} or {inputs: [v, ...]} with 1 to maxBatch vectors,
 *   feedback {id, label} or {input: v, label},
 * where a vector v is an array of exactly `inputDim` finite numbers, `label` an integer in
 * [0, numClasses) and `id` a non-negative safe integer; no other fields.
 */
import type { FeedbackBody } from "./schemas.js";

export interface FastBodyLimits {
  inputDim: number;
  numClasses: number;
  maxBatch: number;
}

/** Predict inputs as one row-major block (request-input.ts PredictInput). */
export interface FastPredictInput {
  rows: Float32Array;
  n: number;
  single: boolean;
}

/** A plain object as JSON.parse makes them (prototype Object.prototype or null). */
function plainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Whether `v` is an array of exactly `dim` finite numbers. */
function isVector(v: unknown, dim: number): v is number[] {
  if (!Array.isArray(v) || v.length !== dim) return false;
  for (let i = 0; i < dim; i++) {
    const x = v[i];
    if (typeof x !== "number" || !Number.isFinite(x)) return false;
  }
  return true;
}

function isLabel(v: unknown, numClasses: number): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v < numClasses;
}

/** The predict body's inputs as float32 rows, or null: let the schema decide. */
export function fastPredictInput(value: unknown, o: FastBodyLimits): FastPredictInput | null {
  if (!plainObject(value)) return null;
  const keys = Object.keys(value);
  if (keys.length !== 1) return null;
  const dim = o.inputDim;
  if (keys[0] === "input") {
    const v = value.input;
    if (!isVector(v, dim)) return null;
    const rows = new Float32Array(dim);
    for (let j = 0; j < dim; j++) rows[j] = v[j];
    return { rows, n: 1, single: true };
  }
  if (keys[0] === "inputs") {
    const list = value.inputs;
    if (!Array.isArray(list) || list.length < 1 || list.length > o.maxBatch) return null;
    for (let i = 0; i < list.length; i++) if (!isVector(list[i], dim)) return null;
    const rows = new Float32Array(list.length * dim);
    for (let i = 0; i < list.length; i++) {
      const v = list[i] as number[];
      const at = i * dim;
      for (let j = 0; j < dim; j++) rows[at + j] = v[j];
    }
    return { rows, n: list.length, single: false };
  }
  return null;
}

/** The feedback body as the schema would return it, or null: let the schema decide. */
export function fastFeedbackBody(value: unknown, o: FastBodyLimits): FeedbackBody | null {
  if (!plainObject(value)) return null;
  const keys = Object.keys(value);
  if (keys.length !== 2 || !Object.hasOwn(value, "label") || !isLabel(value.label, o.numClasses)) return null;
  const label = value.label;
  if (Object.hasOwn(value, "id")) {
    const id = value.id;
    return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? { id, label } : null;
  }
  if (Object.hasOwn(value, "input")) {
    const v = value.input;
    return isVector(v, o.inputDim) ? { input: v, label } : null;
  }
  return null;
}
