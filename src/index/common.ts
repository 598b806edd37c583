/**
 * Pieces every Index implementation shares: argument checks that run before any state changes
 * (so a rejected call changes nothing), and the id <-> slot bookkeeping that makes removal O(1)
 * by moving the last stored row into the freed slot.
 */
import { fail } from "../core/errors.js";
import { checkVector } from "../core/vectors.js";
import type { SearchOptions } from "./types.js";

/** Throws unless `id` is a non-negative safe integer (ids are the caller's row names). */
export function checkId(id: number, owner: string, at?: number): void {
  if (!Number.isSafeInteger(id) || id < 0)
    fail(
      "INVALID_ARGUMENT",
      `${owner}: id${at === undefined ? "" : ` at position ${at}`} must be a non-negative safe integer, got ${id}`,
    );
}

/** Checks a whole add() call: ids well-formed, not stored, not repeated; vectors finite, right shape. */
export function checkAdd(
  ids: ArrayLike<number>,
  vectors: Float32Array,
  dim: number,
  has: (id: number) => boolean,
  owner: string,
): void {
  // add(5, vec) is the natural first guess for one vector: say how to write it instead.
  checkIdList(ids, `${owner}.add`, "add", "vector");
  if (!(vectors instanceof Float32Array))
    fail("INVALID_ARGUMENT", `${owner}.add: vectors must be a Float32Array, got ${describe(vectors)}`);
  if (vectors.length !== ids.length * dim)
    fail(
      "DIMENSION_MISMATCH",
      `${owner}.add: ${ids.length} ids need ${ids.length} x ${dim} = ${ids.length * dim} values, got ${vectors.length}`,
    );
  const seen = new Set<number>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    checkId(id, `${owner}.add`, i);
    if (has(id)) fail("DUPLICATE_ID", `${owner}.add: id ${id} is already stored; remove it first`);
    if (seen.has(id)) fail("DUPLICATE_ID", `${owner}.add: id ${id} appears twice in one call`);
    seen.add(id);
  }
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i]))
      fail(
        "INVALID_ARGUMENT",
        `${owner}.add: vector for id ${ids[Math.floor(i / dim)]} has value ${vectors[i]} at column ${i % dim}; expected finite numbers`,
      );
  }
}

/** Checks a whole remove() call: every id stored, none repeated. */
export function checkRemove(ids: ArrayLike<number>, has: (id: number) => boolean, owner: string): void {
  checkIdList(ids, `${owner}.remove`, "remove", "");
  const seen = new Set<number>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    checkId(id, `${owner}.remove`, i);
    if (!has(id)) fail("UNKNOWN_ID", `${owner}.remove: id ${id} is not stored; nothing was removed`);
    if (seen.has(id)) fail("INVALID_ARGUMENT", `${owner}.remove: id ${id} appears twice in one call`);
    seen.add(id);
  }
}

export function checkK(k: number, owner: string): void {
  if (typeof k !== "number" || !Number.isInteger(k) || k <= 0)
    fail("INVALID_ARGUMENT", `${owner}.search: k must be a positive integer, got ${String(k)}`);
}

export function checkQuery(query: Float32Array, dim: number, owner: string): void {
  if (!(query instanceof Float32Array))
    fail("INVALID_ARGUMENT", `${owner}.search: query must be a Float32Array, got ${describe(query)}`);
  checkVector(query, dim, `${owner}.search: query`);
}

/** Checks a batch of row-major queries; returns how many there are. */
export function checkQueries(queries: Float32Array, dim: number, owner: string): number {
  if (!(queries instanceof Float32Array))
    fail(
      "INVALID_ARGUMENT",
      `${owner}.searchBatch: queries must be a Float32Array, got ${describe(queries)}`,
    );
  if (queries.length % dim !== 0)
    fail(
      "DIMENSION_MISMATCH",
      `${owner}.searchBatch: ${queries.length} values is not a whole number of queries of dimension ${dim}`,
    );
  for (let i = 0; i < queries.length; i++)
    if (!Number.isFinite(queries[i]))
      fail(
        "INVALID_ARGUMENT",
        `${owner}.searchBatch: query ${Math.floor(i / dim)} has value ${queries[i]} at column ${i % dim}; expected finite numbers`,
      );
  return queries.length / dim;
}

/**
 * Validates search options: the filter must be a function, numeric knobs non-negative integers,
 * and an option this index does not understand is an error (never silently ignored).
 */
export function checkOptions(options: SearchOptions | undefined, understood: string[], owner: string): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null)
    fail("INVALID_ARGUMENT", `${owner}.search: options must be an object, got ${String(options)}`);
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === "filter") {
      if (typeof value !== "function")
        fail(
          "INVALID_ARGUMENT",
          `${owner}.search: filter must be a function (id) => boolean, got ${typeof value}`,
        );
      continue;
    }
    if (!understood.includes(key))
      fail(
        "UNSUPPORTED",
        `${owner}.search: option "${key}" does not apply to this index; it understands ${["filter", ...understood].join(", ")}`,
      );
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
      fail(
        "INVALID_ARGUMENT",
        `${owner}.search: option ${key} must be a non-negative integer, got ${String(value)}`,
      );
  }
}

/** `ids` must be array-like: add(5, vec) is the natural first guess for one vector, so say how to write it. */
function checkIdList(ids: unknown, what: string, method: string, rest: string): void {
  const list = ids as { length?: unknown } | null;
  if (typeof list === "object" && list !== null && typeof list.length === "number") return;
  const got = typeof ids === "number" ? `the number ${ids}` : describe(ids);
  const one = typeof ids === "number" && Number.isFinite(ids) ? String(ids) : "id";
  fail(
    "INVALID_ARGUMENT",
    `${what}: ids must be an array of ids (number[], Int32Array...), got ${got}; ` +
      `for one id write ${method}([${one}]${rest ? `, ${rest}` : ""})`,
  );
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}

/**
 * Maps caller ids to dense slots 0..size-1. Removing swaps the last slot into the hole, so the
 * stored rows stay contiguous and every operation is O(1); the caller moves its row data.
 */
export class SlotMap {
  private readonly slotOf = new Map<number, number>();
  /** slot -> id. */
  ids: Float64Array;
  size = 0;

  constructor(capacity = 16) {
    this.ids = new Float64Array(Math.max(1, capacity));
  }

  has(id: number): boolean {
    return this.slotOf.has(id);
  }

  slot(id: number): number | undefined {
    return this.slotOf.get(id);
  }

  /** Capacity needed for `extra` more rows; returns the new capacity when a grow is due, else 0. */
  growTo(extra: number): number {
    const need = this.size + extra;
    if (need <= this.ids.length) return 0;
    let cap = this.ids.length;
    while (cap < need) cap *= 2;
    const ids = new Float64Array(cap);
    ids.set(this.ids.subarray(0, this.size));
    this.ids = ids;
    return cap;
  }

  /** Appends an id (capacity must have been ensured); returns its slot. */
  push(id: number): number {
    const s = this.size++;
    this.ids[s] = id;
    this.slotOf.set(id, s);
    return s;
  }

  /**
   * Removes an id; returns [freed slot, last slot]. If they differ, the caller must copy row
   * `last` into row `freed`.
   */
  swapRemove(id: number): [number, number] {
    const s = this.slotOf.get(id);
    if (s === undefined) return fail("UNKNOWN_ID", `id ${id} is not stored`);
    const last = --this.size;
    this.slotOf.delete(id);
    if (s !== last) {
      const moved = this.ids[last];
      this.ids[s] = moved;
      this.slotOf.set(moved, s);
    }
    return [s, last];
  }

  /** Bytes of the id bookkeeping (the slot array plus an estimate of the hash map's entries). */
  bytes(): number {
    return this.size * (8 + 24);
  }
}
