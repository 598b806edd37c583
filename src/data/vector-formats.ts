/**
 * One entry point for every vector file format Mammals reads: the format is chosen from the file
 * name (`.fvecs`, `.ivecs`, `.bvecs`, `.npy`, `.csv`/`.tsv`/`.txt`, IDX `*-ubyte`, each optionally
 * `.gz`), and every format comes back as n x dim float32 rows. Byte-level and browser-safe; the
 * Node adapter that reads and writes files is vectors-file.node.ts.
 */
import { fail } from "../core/errors.js";
import { checkMemoryBudget } from "../core/memory-budget.js";
import { encodeCsv, parseCsv } from "./csv.js";
import { idxDeclaredBytes, parseIdx } from "./idx.js";
import { encodeNpyF32, npyDeclaredBytes, parseNpy } from "./npy.js";
import {
  checkVecsPrefix,
  encodeBvecs,
  encodeFvecs,
  encodeIvecs,
  parseBvecs,
  parseFvecs,
  parseIvecs,
} from "./vecs.js";

export const VECTOR_FORMATS = ["fvecs", "ivecs", "bvecs", "npy", "csv", "idx"] as const;
export type VectorFormat = (typeof VECTOR_FORMATS)[number];

const EXPECTED_NAMES =
  ".fvecs, .ivecs, .bvecs, .npy, .csv, .tsv, .txt or an IDX file (*-ubyte, *.idx), optionally .gz";

export interface Vectors {
  n: number;
  dim: number;
  /** n x dim row-major; integer formats keep their raw values (IDX pixels stay 0..255). */
  data: Float32Array;
  format: VectorFormat;
}

/** The format a file name implies; UNKNOWN_NAME (listing the known ones) for anything else. */
export function vectorFormatOf(name: string): VectorFormat {
  const base = name.toLowerCase().replace(/\.gz$/, "");
  const ext = /\.([a-z0-9]+)$/.exec(base)?.[1];
  switch (ext) {
    case "fvecs":
    case "ivecs":
    case "bvecs":
    case "npy":
    case "csv":
      return ext;
    case "tsv":
    case "txt":
      return "csv";
  }
  if (/-ubyte$|\.idx\d*$/.test(base)) return "idx";
  return fail(
    "UNKNOWN_NAME",
    `${name}: cannot tell the vector format from the name; expected ${EXPECTED_NAMES}`,
  );
}

/**
 * For a reader holding only the first bytes of a file (a decompressed prefix): the total size the
 * format's header declares (IDX, npy), or undefined (vecs, CSV: no declared size); throws BAD_FILE
 * when the prefix is already invalid. Lets the Node reader bound decompression before it starts.
 */
export function declaredSizeOf(
  format: VectorFormat,
  name: string,
): (prefix: Uint8Array) => number | undefined {
  switch (format) {
    case "idx":
      return (p) => idxDeclaredBytes(p, name);
    case "npy":
      return (p) => npyDeclaredBytes(p, name);
    case "fvecs":
    case "ivecs":
    case "bvecs":
      return (p) => checkVecsPrefix(p, format, name);
    default:
      return (p) => {
        const nul = p.indexOf(0);
        if (nul >= 0) fail("BAD_FILE", `${name}: a NUL byte at offset ${nul}; expected text (CSV, TSV)`);
        return undefined;
      };
  }
}

/** Largest magnitude up to which every int32 is exactly a float32. */
const F32_EXACT_INT = 2 ** 24;

function toFloat32(src: Int32Array | Uint8Array, name: string, dim: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v > F32_EXACT_INT || v < -F32_EXACT_INT) {
      const r = Math.floor(i / dim);
      fail(
        "BAD_FILE",
        `${name}: record ${r} (0-based), component ${i - r * dim}: ${v} is not exactly representable ` +
          `as float32; expected integers within +-${F32_EXACT_INT}`,
      );
    }
    out[i] = v;
  }
  return out;
}

/** Decodes the (already gunzipped) bytes of a vector file; `name` picks the format unless given. */
export function decodeVectors(bytes: Uint8Array, name: string, format = vectorFormatOf(name)): Vectors {
  switch (format) {
    case "fvecs":
      return { ...parseFvecs(bytes, name), format };
    case "ivecs": {
      const v = parseIvecs(bytes, name);
      checkMemoryBudget(v.data.length * 4, `${name}: ${v.n} x ${v.dim} float32 rows`);
      return { n: v.n, dim: v.dim, data: toFloat32(v.data, name, v.dim), format };
    }
    case "bvecs": {
      const v = parseBvecs(bytes, name);
      checkMemoryBudget(v.data.length * 4, `${name}: ${v.n} x ${v.dim} float32 rows`);
      return { n: v.n, dim: v.dim, data: toFloat32(v.data, name, v.dim), format };
    }
    case "npy": {
      const a = parseNpy(bytes, name);
      checkMemoryBudget(a.data.length * 4, `${name}: ${a.n} x ${a.dim} float32 rows`);
      const data = a.data instanceof Uint8Array ? Float32Array.from(a.data) : a.data;
      return { n: a.n, dim: a.dim, data, format };
    }
    case "csv": {
      const m = parseCsv(bytes, name);
      return { n: m.n, dim: m.dim, data: m.data, format };
    }
    case "idx": {
      const a = parseIdx(bytes, name);
      checkMemoryBudget(a.data.length * 4, `${name}: [${a.shape.join(", ")}] as float32`);
      // IDX 1-D arrays are per-item values (labels): n rows of one component.
      const n = a.shape[0];
      const dim = a.shape.slice(1).reduce((x, y) => x * y, 1);
      const data = a.data instanceof Uint8Array ? Float32Array.from(a.data) : a.data;
      for (let i = 0; i < data.length; i++)
        if (data[i] - data[i] !== 0) {
          const r = Math.floor(i / dim);
          fail(
            "BAD_FILE",
            `${name}: item ${r} (0-based), component ${i - r * dim}: ${data[i]}; expected finite values`,
          );
        }
      return { n, dim, data, format };
    }
    default:
      return fail(
        "UNKNOWN_NAME",
        `${name}: unknown vector format "${format}"; expected ${VECTOR_FORMATS.join(", ")}`,
      );
  }
}

/** Encodes n x dim rows in a writable format (fvecs, ivecs, bvecs, npy as float32, csv). */
export function encodeVectors(
  values: ArrayLike<number>,
  dim: number,
  name: string,
  format = vectorFormatOf(name),
): Uint8Array {
  if (/\.gz$/i.test(name))
    fail("UNSUPPORTED", `${name}: writing gzip-compressed files is not supported; drop the .gz`);
  switch (format) {
    case "fvecs":
      return encodeFvecs(values, dim);
    case "ivecs":
      return encodeIvecs(values, dim);
    case "bvecs":
      return encodeBvecs(values, dim);
    case "npy":
      if (!Number.isSafeInteger(dim) || dim <= 0)
        fail("INVALID_ARGUMENT", `${name}: dim must be a positive integer, got ${dim}`);
      return encodeNpyF32(values, Math.floor(values.length / dim), dim);
    case "csv":
      return new TextEncoder().encode(encodeCsv(values, dim));
    default:
      return fail(
        "UNSUPPORTED",
        `${name}: writing ${format} is not supported; expected fvecs, ivecs, bvecs, npy or csv`,
      );
  }
}
