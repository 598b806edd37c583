/**
 * One schema per endpoint: the same zod objects validate every request (through the app's
 * validator middleware) and generate /openapi.json, so the documentation cannot drift from what
 * is enforced. Shapes depend on the served model (input length, number of classes) and on the
 * limits, so they are built per service by {@link serviceSchemas}.
 *
 * Validation failures become MammalsErrors whose message names the field, what was expected and
 * what arrived; the code is DIMENSION_MISMATCH for a vector of the wrong length, TOO_LARGE for a
 * batch over the count limit, INVALID_ARGUMENT otherwise.
 */
import { z } from "zod";
import { type ErrorCode, fail } from "../core/errors.js";

export interface SchemaLimits {
  inputDim: number;
  numClasses: number;
  /** Inputs in one predict request. */
  maxBatch: number;
}

export function serviceSchemas(o: SchemaLimits) {
  const vector = z
    .array(z.number())
    .length(o.inputDim)
    .meta({ description: `one input: ${o.inputDim} finite numbers (an image flattened row by row)` });
  const label = z
    .int()
    .min(0)
    .max(o.numClasses - 1)
    .meta({ description: `a class in [0, ${o.numClasses})` });

  const predictBody = z
    .strictObject({
      input: vector.optional(),
      inputs: z
        .array(vector)
        .min(1)
        .max(o.maxBatch)
        .optional()
        .meta({ description: `a batch of 1 to ${o.maxBatch} inputs` }),
    })
    .refine((v) => (v.input === undefined) !== (v.inputs === undefined), {
      message: "expected exactly one of `input` (one vector) or `inputs` (a batch)",
    })
    .meta({ id: "PredictRequest", description: "one input or a batch, as JSON arrays" });

  const predictQuery = z
    .strictObject({
      probabilities: z
        .enum(["true", "false", "1", "0"])
        .optional()
        .meta({ description: "include the class probabilities in the answer" }),
    })
    .meta({ id: "PredictQuery" });

  const feedbackBody = z
    .strictObject({
      id: z
        .int()
        .min(0)
        .optional()
        .meta({ description: "the `id` of an earlier prediction (recent ones are kept for feedback)" }),
      input: vector.optional(),
      label,
    })
    .refine((v) => (v.id === undefined) !== (v.input === undefined), {
      message: "expected exactly one of `id` (an earlier prediction) or `input` (a new labeled example)",
    })
    .meta({
      id: "FeedbackRequest",
      description: "the true label of an earlier prediction, or of a new input",
    });

  const upstreamStatus = z
    .strictObject({
      status: z.enum(["ok", "error", "circuit-open"]),
      error: z.string().optional(),
    })
    .meta({ id: "UpstreamStatus" });

  const prediction = z
    .strictObject({
      id: z.int().meta({ description: "quote it in POST /v1/feedback" }),
      label: z.int(),
      confidence: z.number(),
      servedBy: z.enum(["local", "upstream", "model"]).meta({
        description:
          "local: the edge node's own answer; upstream: forwarded; model: a plain model server (no memory)",
      }),
      upstream: upstreamStatus.optional().meta({
        description: "present when the node tried its upstream; status other than ok = answered locally",
      }),
      latencyMs: z.number().meta({ description: "time spent on this input inside the service" }),
      probabilities: z.array(z.number()).optional(),
    })
    .meta({ id: "Prediction" });

  const predictResponse = z.union([prediction, z.strictObject({ predictions: z.array(prediction) })]).meta({
    id: "PredictResponse",
    description: "one prediction for `input`, a list for `inputs` or a binary body",
  });

  const feedbackResponse = z
    .strictObject({
      correct: z
        .boolean()
        .nullable()
        .meta({ description: "whether the earlier answer was right (null for a new input)" }),
      admitted: z.boolean().meta({ description: "whether the example entered the memory" }),
      feedbackCount: z.int(),
    })
    .meta({ id: "FeedbackResponse" });

  const memoryInfo = z
    .strictObject({
      size: z.int(),
      capacity: z.number(),
      bytes: z.int().meta({ description: "index and entry metadata bytes" }),
      index: z.string(),
      admission: z.string(),
      feedbackCount: z.int().meta({ description: "acknowledged feedback records in the durable store" }),
      digest: z
        .string()
        .meta({ description: "SHA-256 of the stored entries (ids, labels, sources, weights, keys)" }),
    })
    .meta({ id: "MemoryInfo" });

  const errorBody = z
    .strictObject({ code: z.string(), message: z.string() })
    .meta({ id: "Error", description: "what was expected and what arrived" });

  return {
    predictBody,
    predictQuery,
    feedbackBody,
    prediction,
    predictResponse,
    feedbackResponse,
    memoryInfo,
    errorBody,
  };
}

export type ServiceSchemas = ReturnType<typeof serviceSchemas>;
export type PredictBody = z.infer<ServiceSchemas["predictBody"]>;
export type FeedbackBody = z.infer<ServiceSchemas["feedbackBody"]>;
export type PredictionOut = z.infer<ServiceSchemas["prediction"]>;
export type FeedbackOut = z.infer<ServiceSchemas["feedbackResponse"]>;
export type MemoryInfo = z.infer<ServiceSchemas["memoryInfo"]>;

/** Parses `value` with `schema` or throws a MammalsError describing the first problem. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const iss = r.error.issues[0];
  fail(codeOf(iss), describeIssue(iss, value, where));
}

function codeOf(iss: z.core.$ZodIssue): ErrorCode {
  const p = iss.path;
  if ((iss.code === "too_small" || iss.code === "too_big") && iss.origin === "array") {
    if (p.length === 1 && p[0] === "inputs") return iss.code === "too_big" ? "TOO_LARGE" : "INVALID_ARGUMENT";
    if (p[0] === "input" || p[0] === "inputs") return "DIMENSION_MISMATCH";
  }
  return "INVALID_ARGUMENT";
}

function valueAt(v: unknown, path: PropertyKey[]): unknown {
  let x = v;
  for (const k of path)
    x = x !== null && typeof x === "object" ? (x as Record<PropertyKey, unknown>)[k] : undefined;
  return x;
}

function shown(v: unknown): string {
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === null) return "null";
  if (typeof v === "object") return "an object";
  if (typeof v === "string")
    return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function describeIssue(iss: z.core.$ZodIssue, value: unknown, where: string): string {
  const at = where + iss.path.map((k) => (typeof k === "number" ? `[${k}]` : `.${String(k)}`)).join("");
  const got = valueAt(value, iss.path);
  switch (iss.code) {
    case "too_small":
    case "too_big": {
      const small = iss.code === "too_small";
      const bound = String(small ? iss.minimum : iss.maximum);
      const how = iss.exact ? "exactly" : small ? "at least" : "at most";
      if (iss.origin === "array") {
        const n = Array.isArray(got) ? got.length : "?";
        return `${at}: expected ${how} ${bound} ${iss.path.length === 1 && iss.path[0] === "inputs" ? "inputs" : "values"}, got ${n}`;
      }
      return `${at}: expected a number ${small ? ">=" : "<="} ${bound}, got ${shown(got)}`;
    }
    case "invalid_type": {
      const received = (iss as { received?: string }).received;
      return `${at}: expected ${iss.expected === "int" ? "an integer" : iss.expected}, got ${received === "Infinity" ? "a non-finite number" : shown(got)}`;
    }
    case "unrecognized_keys":
      return `${at}: unknown field${iss.keys.length > 1 ? "s" : ""} ${iss.keys.map((k) => `"${k}"`).join(", ")}; see /openapi.json for the accepted ones`;
    case "invalid_value":
      return `${at}: expected one of ${iss.values.map((v) => JSON.stringify(v)).join(", ")}, got ${shown(got)}`;
    default:
      return `${at}: ${iss.message}`;
  }
}
