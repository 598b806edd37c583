/**
 * The `.fvecs` / `.ivecs` / `.bvecs` exchange format of the SIFT/GIST corpora and ann-benchmarks:
 * a sequence of records, each a little-endian int32 dimension followed by that many float32,
 * int32 or uint8 components. Every record repeats its dimension, so a reader must check that they
 * all agree. Pure byte-level code: runs in browsers; file access is in vectors-file.node.ts.
 */
import { fail } from "../core/errors.js";

export interface VecsArray<T extends Float32Array | Int32Array | Uint8Array> {
  /** Number of records (rows). */
  n: number;
  /** Components per record; 0 only for an empty file. */
  dim: number;
  /** n x dim row-major. */
  data: T;
}

/** True on every platform JS engines ship on today; the DataView fallback keeps big-endian correct. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Kind = "fvecs" | "ivecs" | "bvecs";
const COMPONENT_BYTES: Record<Kind, number> = { fvecs: 4, ivecs: 4, bvecs: 1 };

/** Parses `.fvecs` (float32 components). NaN and +-Inf are rejected with their record and column. */
export function parseFvecs(bytes: Uint8Array, name = "fvecs data"): VecsArray<Float32Array> {
  const out = parseRecords(bytes, name, "fvecs", (n, dim) => new Float32Array(n * dim));
  const { data, dim } = out;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // v - v is 0 for every finite float and NaN for NaN and +-Inf: one cheap test per value.
    if (v - v !== 0) {
      const r = Math.floor(i / dim);
      fail(
        "BAD_FILE",
        `${name}: record ${r} (0-based), component ${i - r * dim}: ${v}; expected finite float32 values`,
      );
    }
  }
  return out;
}

/** Parses `.ivecs` (int32 components), e.g. ground-truth neighbour ids. */
export function parseIvecs(bytes: Uint8Array, name = "ivecs data"): VecsArray<Int32Array> {
  return parseRecords(bytes, name, "ivecs", (n, dim) => new Int32Array(n * dim));
}

/** Parses `.bvecs` (uint8 components), e.g. SIFT1B. */
export function parseBvecs(bytes: Uint8Array, name = "bvecs data"): VecsArray<Uint8Array> {
  return parseRecords(bytes, name, "bvecs", (n, dim) => new Uint8Array(n * dim));
}

function parseRecords<T extends Float32Array | Int32Array | Uint8Array>(
  bytes: Uint8Array,
  name: string,
  kind: Kind,
  alloc: (n: number, dim: number) => T,
): VecsArray<T> {
  const len = bytes.byteLength;
  if (len === 0) return { n: 0, dim: 0, data: alloc(0, 0) };
  const eb = COMPONENT_BYTES[kind];
  // Typed views need 4-byte alignment of the whole buffer; records keep it (4 + 4*dim bytes).
  if (eb === 4 && bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
  const view = new DataView(bytes.buffer, bytes.byteOffset, len);
  if (len < 4)
    fail("BAD_FILE", `${name}: ${len} bytes is too short for a ${kind} record (4-byte dimension first)`);
  const dim = view.getInt32(0, true);
  if (dim <= 0)
    fail("BAD_FILE", `${name}: record 0 (0-based) has dimension ${dim}; expected a positive dimension`);
  const recordBytes = 4 + dim * eb;
  if (recordBytes > len)
    fail(
      "BAD_FILE",
      `${name}: record 0 (0-based) declares dimension ${dim}: expected ${recordBytes} bytes for one record ` +
        `(4 + ${dim} x ${eb}), but the whole file has ${len} (truncated, or not a ${kind} file)`,
    );
  const n = Math.floor(len / recordBytes);
  const expectedRecords = len % recordBytes === 0 ? n : n + 1;
  const data = alloc(n, dim);
  let off = 0;
  for (let r = 0; r < expectedRecords; r++, off += recordBytes) {
    if (off + 4 > len)
      fail(
        "BAD_FILE",
        `${name}: record ${r} (0-based) truncated: ${len - off} bytes left, expected a 4-byte dimension ${dim}`,
      );
    const d = view.getInt32(off, true);
    if (d !== dim)
      fail(
        "BAD_FILE",
        `${name}: record ${r} (0-based) at byte ${off} has dimension ${d}; expected ${dim} (the dimension of record 0)`,
      );
    if (off + recordBytes > len)
      fail(
        "BAD_FILE",
        `${name}: record ${r} (0-based) truncated: ${len - off} bytes left, expected ${recordBytes} ` +
          `(4 + ${dim} x ${eb}); file size ${len} is not a multiple of ${recordBytes}`,
      );
    copyComponents(bytes, view, off + 4, data, r * dim, dim, kind);
  }
  return { n, dim, data };
}

/**
 * Checks the first records of a `.fvecs` / `.ivecs` / `.bvecs` stream from a prefix of it (e.g. the
 * first decompressed bytes of a .gz), so a corrupt or hostile stream stops before the rest is
 * decompressed: record 0's dimension must be positive and every whole record in the prefix must
 * repeat it. These formats declare no record count, so there is no total size to return.
 */
export function checkVecsPrefix(prefix: Uint8Array, kind: Kind, name = `${kind} data`): undefined {
  if (prefix.length < 4) return undefined;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const dim = view.getInt32(0, true);
  if (dim <= 0)
    fail("BAD_FILE", `${name}: record 0 (0-based) has dimension ${dim}; expected a positive dimension`);
  const recordBytes = 4 + dim * COMPONENT_BYTES[kind];
  for (let off = recordBytes, r = 1; off + 4 <= prefix.length; off += recordBytes, r++) {
    const d = view.getInt32(off, true);
    if (d !== dim)
      fail(
        "BAD_FILE",
        `${name}: record ${r} (0-based) at byte ${off} has dimension ${d}; expected ${dim} (the dimension of record 0)`,
      );
  }
  return undefined;
}

function copyComponents(
  bytes: Uint8Array,
  view: DataView,
  from: number,
  out: Float32Array | Int32Array | Uint8Array,
  at: number,
  dim: number,
  kind: Kind,
): void {
  if (kind === "bvecs") {
    out.set(bytes.subarray(from, from + dim), at);
  } else if (LITTLE_ENDIAN) {
    const src =
      kind === "fvecs"
        ? new Float32Array(bytes.buffer, bytes.byteOffset + from, dim)
        : new Int32Array(bytes.buffer, bytes.byteOffset + from, dim);
    out.set(src, at);
  } else if (kind === "fvecs") {
    for (let j = 0; j < dim; j++) out[at + j] = view.getFloat32(from + 4 * j, true);
  } else {
    for (let j = 0; j < dim; j++) out[at + j] = view.getInt32(from + 4 * j, true);
  }
}

function checkShape(length: number, dim: number, what: string): number {
  if (!Number.isSafeInteger(dim) || dim <= 0)
    fail("INVALID_ARGUMENT", `${what}: dim must be a positive integer, got ${dim}`);
  if (length % dim !== 0)
    fail("DIMENSION_MISMATCH", `${what}: ${length} values is not a multiple of dim ${dim}`);
  return length / dim;
}

function encodeRecords(
  values: ArrayLike<number>,
  dim: number,
  kind: Kind,
  valid: (v: number) => boolean,
  expected: string,
): Uint8Array {
  const what = `encode${kind[0].toUpperCase()}${kind.slice(1)}`;
  const n = checkShape(values.length, dim, what);
  // Validate everything before encoding anything: bad input fails without partial output.
  for (let i = 0; i < values.length; i++)
    if (!valid(values[i])) {
      const r = Math.floor(i / dim);
      fail(
        "INVALID_ARGUMENT",
        `${what}: row ${r}, component ${i - r * dim} is ${values[i]}; expected ${expected}`,
      );
    }
  const eb = COMPONENT_BYTES[kind];
  const recordBytes = 4 + dim * eb;
  const out = new Uint8Array(n * recordBytes);
  const view = new DataView(out.buffer);
  if (eb === 4 && LITTLE_ENDIAN) {
    // Typed-array stores are ~10x faster than DataView calls on 10^7+ values.
    const words = kind === "fvecs" ? new Float32Array(out.buffer) : new Int32Array(out.buffer);
    for (let r = 0; r < n; r++) {
      const w = r * (dim + 1);
      view.setInt32(4 * w, dim, true);
      for (let j = 0; j < dim; j++) words[w + 1 + j] = values[r * dim + j];
    }
    return out;
  }
  for (let r = 0; r < n; r++) {
    const off = r * recordBytes;
    view.setInt32(off, dim, true);
    for (let j = 0; j < dim; j++) {
      const v = values[r * dim + j];
      if (kind === "fvecs") view.setFloat32(off + 4 + 4 * j, v, true);
      else if (kind === "ivecs") view.setInt32(off + 4 + 4 * j, v, true);
      else view.setUint8(off + 4 + j, v);
    }
  }
  return out;
}

/** Encodes n x dim row-major floats as `.fvecs`. Rejects NaN/Inf, so what is written reads back. */
export function encodeFvecs(values: ArrayLike<number>, dim: number): Uint8Array {
  return encodeRecords(values, dim, "fvecs", (v) => Number.isFinite(Math.fround(v)), "a finite float32");
}

/** Encodes n x dim row-major int32 values (e.g. neighbour ids, -1 for none) as `.ivecs`. */
export function encodeIvecs(values: ArrayLike<number>, dim: number): Uint8Array {
  return encodeRecords(
    values,
    dim,
    "ivecs",
    (v) => Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff,
    "an int32",
  );
}

/** Encodes n x dim row-major values in 0..255 as `.bvecs`. */
export function encodeBvecs(values: ArrayLike<number>, dim: number): Uint8Array {
  return encodeRecords(
    values,
    dim,
    "bvecs",
    (v) => Number.isInteger(v) && v >= 0 && v <= 255,
    "an integer in 0..255",
  );
}
