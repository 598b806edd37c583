/**
 * The hand-written body checks (src/serve/fast-body.ts) against the zod schemas they shortcut:
 * on generated bodies, valid and broken in every way the generators know, the fast path may only
 * accept what the schema accepts, converted to the same values, and the request functions
 * (fast path, then schema) must give exactly the reference's answer or error (code and message),
 * the reference being the schema alone.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MammalsError } from "../src/core/errors.js";
import { fastFeedbackBody, fastPredictInput } from "../src/serve/fast-body.js";
import { feedbackFromJson, predictFromJson } from "../src/serve/request-input.js";
import { parseWith, serviceSchemas } from "../src/serve/schemas.js";

const LIMITS = { inputDim: 5, numClasses: 4, maxBatch: 3 };
const schemas = serviceSchemas(LIMITS);

/** Numbers as they arrive in JSON and as they should not: non-finite, huge, negative zero. */
const anyNumber = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 6 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      1e39,
      2 ** 53,
      2 ** 53 + 2,
      -(2 ** 53),
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      0.5,
    ),
  },
);
const notNumber = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.string({ maxLength: 3 }),
  fc.boolean(),
  fc.constant({}),
  fc.constant([]),
);
const element = fc.oneof({ weight: 30, arbitrary: anyNumber }, { weight: 1, arbitrary: notNumber });
/** Mostly vectors of the right length, some too short or long, some with holes or odd elements. */
const vector = fc.oneof(
  { weight: 6, arbitrary: fc.array(element, { minLength: 5, maxLength: 5 }) },
  { weight: 1, arbitrary: fc.array(element, { minLength: 0, maxLength: 7 }) },
  { weight: 1, arbitrary: notNumber },
  { weight: 1, arbitrary: fc.constant(Array(5)) },
);
const extraField = fc.constantFrom("foo", "inputs", "input", "id", "label", "__proto__", "weight");
/** An object with some of the given fields, sometimes an extra one, sometimes not an object at all. */
function bodyOf(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const record = fc.record(fields, { requiredKeys: [] });
  return fc.oneof(
    { weight: 10, arbitrary: record },
    {
      weight: 2,
      arbitrary: fc
        .tuple(record, extraField, element)
        .map(([r, k, v]) => JSON.parse(JSON.stringify({ ...r, [k]: v }))),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(record, element).map(([r, v]) => Object.assign(Object.create(r), { v })),
    },
    { weight: 1, arbitrary: fc.oneof(notNumber, fc.array(vector, { maxLength: 2 })) },
  );
}
const goodVector = fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 5, maxLength: 5 });
const predictBody = fc.oneof(
  bodyOf({ input: vector, inputs: fc.oneof(fc.array(vector, { maxLength: 5 }), element) }),
  fc.oneof(
    goodVector.map((input) => ({ input })),
    fc.array(goodVector, { minLength: 1, maxLength: 3 }).map((inputs) => ({ inputs })),
  ),
);
const feedbackBody = fc.oneof(
  bodyOf({
    id: fc.oneof(anyNumber, notNumber),
    input: vector,
    label: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: -1, max: 4 }) },
      { weight: 2, arbitrary: element },
    ),
  }),
  fc.oneof(
    fc.record({ id: fc.nat(), label: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ label: fc.integer({ min: 0, max: 3 }), input: goodVector }),
  ),
);

/** What the reference (the schema alone, as before the fast path) answers: a value or an error. */
function outcome<T>(f: () => T): { ok: T } | { code: string; message: string } {
  try {
    return { ok: f() };
  } catch (e) {
    if (!(e instanceof MammalsError)) throw e;
    return { code: e.code, message: e.message };
  }
}

function referencePredict(value: unknown) {
  const body = parseWith(schemas.predictBody, value, "body");
  const list = body.inputs ?? [body.input!];
  const rows = new Float32Array(list.length * LIMITS.inputDim);
  for (let i = 0; i < list.length; i++) rows.set(list[i], i * LIMITS.inputDim);
  return { rows, n: list.length, single: body.input !== undefined };
}

const RUNS = 3000;

describe("fast body checks agree with the zod schemas", () => {
  it("predict: accepts only what the schema accepts, with the same float32 rows", () => {
    let accepted = 0;
    let rejectedBySchema = 0;
    fc.assert(
      fc.property(predictBody, (value) => {
        const ref = schemas.predictBody.safeParse(value);
        if (!ref.success) rejectedBySchema++;
        const fast = fastPredictInput(value, LIMITS);
        if (fast !== null) {
          accepted++;
          expect(ref.success).toBe(true);
          expect(fast).toEqual(referencePredict(value));
        }
        expect(outcome(() => predictFromJson(value, schemas, LIMITS))).toEqual(
          outcome(() => referencePredict(value)),
        );
      }),
      { numRuns: RUNS, seed: 11 },
    );
    // The generators reach both sides (otherwise this test could not fail).
    expect(accepted).toBeGreaterThan(RUNS / 10);
    expect(rejectedBySchema).toBeGreaterThan(RUNS / 10);
  });

  it("feedback: accepts only what the schema accepts, with the same body", () => {
    let accepted = 0;
    let rejectedBySchema = 0;
    fc.assert(
      fc.property(feedbackBody, (value) => {
        const ref = schemas.feedbackBody.safeParse(value);
        if (!ref.success) rejectedBySchema++;
        const fast = fastFeedbackBody(value, LIMITS);
        if (fast !== null) {
          accepted++;
          expect(ref.success).toBe(true);
          expect(fast).toEqual(ref.data);
        }
        expect(outcome(() => feedbackFromJson(value, schemas, LIMITS))).toEqual(
          outcome(() => parseWith(schemas.feedbackBody, value, "body")),
        );
      }),
      { numRuns: RUNS, seed: 12 },
    );
    expect(accepted).toBeGreaterThan(RUNS / 10);
    expect(rejectedBySchema).toBeGreaterThan(RUNS / 10);
  });

  it("accepts the plain valid bodies and leaves the edge cases to the schema", () => {
    const v = [0, 0.5, -1, 2, 3];
    expect(fastPredictInput({ input: v }, LIMITS)).toEqual({
      rows: Float32Array.from(v),
      n: 1,
      single: true,
    });
    expect(fastPredictInput({ inputs: [v, v] }, LIMITS)?.n).toBe(2);
    expect(fastFeedbackBody({ label: 3, id: 7 }, LIMITS)).toEqual({ id: 7, label: 3 });
    expect(fastFeedbackBody({ input: v, label: 0 }, LIMITS)).toEqual({ input: v, label: 0 });
    for (const bad of [
      { input: [...v, 1] },
      { input: [Number.POSITIVE_INFINITY, 0, 0, 0, 0] },
      { inputs: [] },
      { inputs: [v, v, v, v] },
      { input: v, foo: 1 },
      Object.create({ input: v }),
    ])
      expect(fastPredictInput(bad, LIMITS)).toBeNull();
    for (const bad of [
      { id: 1, label: 4 },
      { id: -1, label: 0 },
      { id: 2 ** 53, label: 0 },
      { id: 1, label: 1.5 },
    ])
      expect(fastFeedbackBody(bad, LIMITS)).toBeNull();
  });
});
