/**
 * Every misuse of the Index contract throws a MammalsError with the right code and a message
 * saying what was expected and what arrived, and leaves the index exactly as it was.
 */
import { describe, expect, it } from "vitest";
import { type ErrorCode, MammalsError } from "../src/core/errors.js";
import { createIndex, deserializeIndex } from "../src/index/factory.node.js";
import type { Index, SearchOptions } from "../src/index/types.js";

const DIM = 4;
const SPECS = ["flat", "flat-i8", "flat-i8:rerank=5", "hnsw:M=8,efSearch=32", "hnsw-ts:M=8,efSearch=32"];

function seeded(spec: string): Index {
  const index = createIndex(spec, DIM);
  const data = new Float32Array(6 * DIM).map((_, i) => Math.sin(i + 1));
  index.add([10, 11, 12, 13, 14, 15], data);
  return index;
}

function expectError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MammalsError);
  expect((caught as MammalsError).code).toBe(code);
  expect((caught as MammalsError).message).toMatch(message);
}

const Q = new Float32Array([0.1, 0.2, 0.3, 0.4]);

function snapshot(index: Index) {
  return {
    size: index.size,
    bytes: index.bytes,
    result: index.search(Q, 6),
    has: [10, 11, 12, 13, 14, 15, 99].map((id) => index.has(id)),
  };
}

type Case = [string, (ix: Index) => unknown, ErrorCode, RegExp];

const CASES: Case[] = [
  [
    "add: wrong dimension",
    (ix) => ix.add([1], new Float32Array(3)),
    "DIMENSION_MISMATCH",
    /need 1 x 4 = 4 values, got 3/,
  ],
  [
    "add: NaN value",
    (ix) => ix.add([1, 2], new Float32Array([0, 0, 0, 0, 0, Number.NaN, 0, 0])),
    "INVALID_ARGUMENT",
    /id 2 has value NaN at column 1; expected finite/,
  ],
  [
    "add: Infinity",
    (ix) => ix.add([1], new Float32Array([0, Number.POSITIVE_INFINITY, 0, 0])),
    "INVALID_ARGUMENT",
    /Infinity at column 1/,
  ],
  ["add: stored id", (ix) => ix.add([1, 12], new Float32Array(8)), "DUPLICATE_ID", /id 12 is already stored/],
  [
    "add: id twice in one call",
    (ix) => ix.add([1, 1], new Float32Array(8)),
    "DUPLICATE_ID",
    /id 1 appears twice/,
  ],
  [
    "add: negative id",
    (ix) => ix.add([-1], new Float32Array(4)),
    "INVALID_ARGUMENT",
    /non-negative safe integer, got -1/,
  ],
  [
    "add: fractional id",
    (ix) => ix.add([1.5], new Float32Array(4)),
    "INVALID_ARGUMENT",
    /non-negative safe integer, got 1.5/,
  ],
  [
    "add: not a Float32Array",
    (ix) => ix.add([1], [0, 0, 0, 0] as unknown as Float32Array),
    "INVALID_ARGUMENT",
    /must be a Float32Array, got Array/,
  ],
  [
    "remove: unknown id (after a known one)",
    (ix) => ix.remove([10, 99]),
    "UNKNOWN_ID",
    /id 99 is not stored; nothing was removed/,
  ],
  ["remove: id twice", (ix) => ix.remove([10, 10]), "INVALID_ARGUMENT", /id 10 appears twice/],
  ["search: k = 0", (ix) => ix.search(Q, 0), "INVALID_ARGUMENT", /k must be a positive integer, got 0/],
  ["search: k < 0", (ix) => ix.search(Q, -3), "INVALID_ARGUMENT", /got -3/],
  ["search: fractional k", (ix) => ix.search(Q, 2.5), "INVALID_ARGUMENT", /got 2.5/],
  ["search: NaN k", (ix) => ix.search(Q, Number.NaN), "INVALID_ARGUMENT", /got NaN/],
  [
    "search: wrong dimension",
    (ix) => ix.search(new Float32Array(5), 1),
    "DIMENSION_MISMATCH",
    /expected 4 values, got 5/,
  ],
  [
    "search: NaN in query",
    (ix) => ix.search(new Float32Array([0, Number.NaN, 0, 0]), 1),
    "INVALID_ARGUMENT",
    /value 1 is NaN; expected a finite number/,
  ],
  [
    "search: filter not a function",
    (ix) => ix.search(Q, 1, { filter: 3 } as unknown as SearchOptions),
    "INVALID_ARGUMENT",
    /filter must be a function/,
  ],
  [
    "searchBatch: ragged",
    (ix) => ix.searchBatch(new Float32Array(6), 1),
    "DIMENSION_MISMATCH",
    /6 values is not a whole number of queries of dimension 4/,
  ],
  [
    "searchBatch: NaN",
    (ix) => ix.searchBatch(new Float32Array([0, 0, 0, 0, 0, 0, Number.NaN, 0]), 1),
    "INVALID_ARGUMENT",
    /query 1 has value NaN at column 2/,
  ],
  ["searchBatch: k = 0", (ix) => ix.searchBatch(Q, 0), "INVALID_ARGUMENT", /k must be a positive integer/],
];

describe.each(SPECS)("misuse of %s", (spec) => {
  it.each(CASES)("%s", (_name, act, code, message) => {
    const index = seeded(spec);
    const before = snapshot(index);
    expectError(() => act(index), code, message);
    expect(snapshot(index)).toEqual(before);
  });

  it("rejects search options it does not understand", () => {
    const index = seeded(spec);
    const foreign: SearchOptions = spec.startsWith("hnsw") ? { rerank: 3 } : { efSearch: 10 };
    expectError(() => index.search(Q, 1, foreign), "UNSUPPORTED", /does not apply to this index/);
    expectError(
      () => index.search(Q, 1, { [spec.startsWith("hnsw") ? "efSearch" : "rerank"]: -1 } as SearchOptions),
      spec === "flat" ? "UNSUPPORTED" : "INVALID_ARGUMENT",
      spec === "flat" ? /does not apply/ : /non-negative integer, got -1/,
    );
  });
});

describe("factory misuse", () => {
  it("rejects unknown kinds, unknown and bad parameters, bad dim and metric", () => {
    expectError(
      () => createIndex("ivf", 4),
      "UNKNOWN_NAME",
      /unknown index kind "ivf"; expected one of flat, flat-i8, hnsw/,
    );
    expectError(
      () => createIndex("flat-i8:rerun=4", 4),
      "UNKNOWN_NAME",
      /unknown parameter "rerun"; expected one of rerank, lo, hi/,
    );
    expectError(() => createIndex("flat-i8:rerank=-1", 4), "INVALID_ARGUMENT", /expected >= 0, got -1/);
    expectError(() => createIndex("flat-i8:lo=1,hi=0", 4), "INVALID_ARGUMENT", /lo < hi, got lo=1 hi=0/);
    expectError(() => createIndex("hnsw:M=1", 4), "INVALID_ARGUMENT", /M: expected >= 2, got 1/);
    expectError(() => createIndex("flat", 0), "INVALID_ARGUMENT", /dim must be a positive integer, got 0/);
    expectError(
      () => createIndex("flat", 4, "manhattan" as never),
      "UNKNOWN_NAME",
      /unknown metric "manhattan"/,
    );
  });

  it("flat-i8 without f32 copies refuses a re-ranking request", () => {
    const index = seeded("flat-i8");
    expectError(() => index.search(Q, 1, { rerank: 4 }), "UNSUPPORTED", /built with rerank=0/);
  });

  it("deserializeIndex rejects bytes that are not a snapshot, and truncated snapshots", () => {
    expectError(() => deserializeIndex(new Uint8Array([1, 2, 3])), "BAD_FILE", /expected magic "MAMMIDX1"/);
    for (const spec of SPECS) {
      const bytes = seeded(spec).serialize();
      expectError(() => deserializeIndex(bytes.subarray(0, bytes.length - 24)), "BAD_FILE", /truncated/);
    }
  });
});
