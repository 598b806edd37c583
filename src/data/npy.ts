/**
 * NumPy `.npy` files (format versions 1, 2 and 3): the magic `\x93NUMPY`, a version, a header
 * length (uint16 for v1, uint32 for v2/v3), a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (n, d), }`, then the raw C-order data.
 * Reads float32, float64 (converted to float32) and uint8 arrays; writes float32 matrices.
 * Pure byte-level code: runs in browsers.
 */
import { fail } from "../core/errors.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const SUPPORTED = "<f4, <f8, |u1 (and their big-endian forms >f4, >f8)";

export interface NpyArray {
  /** The dtype as written in the header, e.g. "<f4". */
  descr: string;
  shape: number[];
  /** Rows: shape[0] (1 for a 1-D array, which holds one vector). */
  n: number;
  /** Components per row: the product of the remaining axes (shape[0] for a 1-D array). */
  dim: number;
  /** uint8 arrays stay Uint8Array; float arrays are Float32Array. */
  data: Float32Array | Uint8Array;
}

interface NpyLayout {
  descr: string;
  shape: number[];
  n: number;
  dim: number;
  count: number;
  kind: { type: "f4" | "f8" | "u1"; bytes: number; little: boolean };
  dataStart: number;
}

/** The preamble and header of a `.npy` file, checked; undefined when a prefix is too short. */
function npyLayout(bytes: Uint8Array, name: string, prefix: boolean): NpyLayout | undefined {
  if (prefix && bytes.length < 6) return undefined;
  if (MAGIC.some((b, i) => bytes[i] !== b)) {
    const head = Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, "0")).join(" ");
    fail("BAD_FILE", `${name}: wrong magic bytes [${head}]; expected 93 4e 55 4d 50 59 ("\\x93NUMPY")`);
  }
  if (bytes.length < 10) {
    if (prefix) return undefined;
    fail("BAD_FILE", `${name}: ${bytes.length} bytes is too short for a .npy preamble (10+ bytes)`);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) {
      if (prefix) return undefined;
      fail("BAD_FILE", `${name}: truncated .npy v${major} preamble (${bytes.length} bytes)`);
    }
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    return fail("BAD_FILE", `${name}: .npy format version ${major}.${bytes[7]}; expected 1.x, 2.x or 3.x`);
  }
  const dataStart = start + headerLen;
  if (bytes.length < dataStart) {
    if (prefix) return undefined;
    fail("BAD_FILE", `${name}: truncated header: needs ${dataStart} bytes, file has ${bytes.length}`);
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, dataStart));
  const { descr, fortran, shape } = parseHeader(header, name);
  if (fortran)
    fail("BAD_FILE", `${name}: fortran_order is True; expected C order (save with np.ascontiguousarray)`);
  const kind = dtypeOf(descr, name);
  if (shape.length === 0)
    return fail("BAD_FILE", `${name}: shape () is a scalar; expected a 1-D vector or a 2-D matrix`);
  const n = shape.length === 1 ? 1 : shape[0];
  const dim = shape.length === 1 ? shape[0] : shape.slice(1).reduce((a, b) => a * b, 1);
  return { descr, shape, n, dim, count: n * dim, kind, dataStart };
}

/**
 * The total size a `.npy` file declares (header + shape x dtype size) from its first bytes, before
 * the rest is read or decompressed; undefined when the prefix is too short. Throws on a bad header.
 */
export function npyDeclaredBytes(prefix: Uint8Array, name = "npy data"): number | undefined {
  const l = npyLayout(prefix, name, true);
  return l && l.dataStart + l.count * l.kind.bytes;
}

/** Parses a `.npy` file; `name` (usually the path) prefixes every error message. */
export function parseNpy(bytes: Uint8Array, name = "npy data"): NpyArray {
  const { descr, shape, n, dim, count, kind, dataStart } = npyLayout(bytes, name, false) as NpyLayout;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = dataStart + count * kind.bytes;
  if (bytes.length < need)
    fail(
      "BAD_FILE",
      `${name}: truncated data: shape (${shape.join(", ")}) of ${descr} needs ${count * kind.bytes} bytes ` +
        `after the ${dataStart}-byte header, file has ${bytes.length - dataStart}`,
    );
  if (bytes.length > need)
    fail(
      "BAD_FILE",
      `${name}: ${bytes.length - need} bytes after the data: shape (${shape.join(", ")}) of ${descr} ` +
        `declares ${need} bytes in all, file has ${bytes.length}`,
    );
  if (kind.type === "u1") return { descr, shape, n, dim, data: bytes.slice(dataStart, dataStart + count) };
  const data = new Float32Array(count);
  const little = kind.little;
  if (kind.type === "f4")
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + 4 * i, little);
  else for (let i = 0; i < count; i++) data[i] = view.getFloat64(dataStart + 8 * i, little);
  for (let i = 0; i < count; i++) {
    const v = data[i];
    if (v - v !== 0) {
      const r = Math.floor(i / dim);
      const orig = kind.type === "f8" ? view.getFloat64(dataStart + 8 * i, little) : v;
      fail(
        "BAD_FILE",
        `${name}: row ${r} (0-based), column ${i - r * dim}: ${orig}` +
          `${Number.isFinite(orig) ? " overflows float32" : ""}; expected finite values`,
      );
    }
  }
  return { descr, shape, n, dim, data };
}

function parseHeader(header: string, name: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    fail(
      "BAD_FILE",
      `${name}: unreadable .npy header ${JSON.stringify(header.trim().slice(0, 120))}; ` +
        "expected {'descr': ..., 'fortran_order': ..., 'shape': (...)}",
    );
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const v = Number(s.replace(/L$/, ""));
      if (!Number.isSafeInteger(v) || v < 0)
        fail("BAD_FILE", `${name}: shape entry "${s}" is not a non-negative integer`);
      return v;
    });
  return { descr, fortran: fortran === "True", shape };
}

function dtypeOf(descr: string, name: string): { type: "f4" | "f8" | "u1"; bytes: number; little: boolean } {
  const m = /^([<>|=]?)([a-z]\d+)$/.exec(descr);
  const type = m?.[2];
  // "=" means native order; every platform numpy and JS engines share is little-endian.
  const little = m?.[1] !== ">";
  if (type === "f4") return { type, bytes: 4, little };
  if (type === "f8") return { type, bytes: 8, little };
  if (type === "u1") return { type, bytes: 1, little };
  return fail("BAD_FILE", `${name}: unsupported dtype '${descr}'; expected one of ${SUPPORTED}`);
}

/** Encodes an n x dim row-major float32 matrix as a `.npy` v1.0 file (dtype <f4, C order). */
export function encodeNpyF32(values: ArrayLike<number>, n: number, dim: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0 || !Number.isSafeInteger(dim) || dim <= 0)
    fail("INVALID_ARGUMENT", `encodeNpyF32: expected n >= 0 and dim > 0 integers, got n=${n}, dim=${dim}`);
  if (values.length !== n * dim)
    fail("DIMENSION_MISMATCH", `encodeNpyF32: ${values.length} values; expected n x dim = ${n * dim}`);
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${dim}), }`;
  // As numpy does: room for the row count to grow to 21 digits in place (appending writers), then
  // spaces up to a 64-byte boundary so the data is aligned. The output equals np.save's bytes.
  dict += " ".repeat(21 - String(n).length);
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = `${dict.padEnd(total - 10 - 1)}\n`;
  const out = new Uint8Array(total + 4 * n * dim);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(Math.fround(v)))
      fail("INVALID_ARGUMENT", `encodeNpyF32: value ${v} at index ${i} is not a finite float32`);
    view.setFloat32(total + 4 * i, v, true);
  }
  return out;
}
