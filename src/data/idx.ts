/**
 * IDX format (MNIST, Fashion-MNIST): big-endian header `0 0 TYPE NDIMS`, NDIMS uint32 sizes,
 * then the data. Parsing works on bytes, so it runs in browsers too; gunzip and file access are
 * in the Node adapter (files.ts).
 */
import { fail } from "../core/errors.js";

const IDX_TYPES: Record<number, { name: string; bytes: number }> = {
  8: { name: "uint8", bytes: 1 },
  9: { name: "int8", bytes: 1 },
  11: { name: "int16", bytes: 2 },
  12: { name: "int32", bytes: 4 },
  13: { name: "float32", bytes: 4 },
  14: { name: "float64", bytes: 8 },
};

export interface IdxArray {
  type: string;
  shape: number[];
  /** uint8 data is returned as-is; other types are converted to Float32Array. */
  data: Uint8Array | Float32Array;
}

interface IdxLayout {
  t: { name: string; bytes: number };
  shape: number[];
  count: number;
  headerBytes: number;
  /** Header plus data: the whole file's size. */
  expected: number;
}

/** The header of an IDX file, checked; undefined when `bytes` is a prefix too short to hold it. */
function idxLayout(bytes: Uint8Array, file: string, prefix: boolean): IdxLayout | undefined {
  if (bytes.length < 4) {
    if (prefix) return undefined;
    fail("BAD_FILE", `${file}: ${bytes.length} bytes is too short for an IDX header (4+ bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    fail(
      "BAD_FILE",
      `${file}: wrong magic number 0x${view.getUint32(0).toString(16).padStart(8, "0")}; expected 0x0000TTNN (IDX)`,
    );
  const t = IDX_TYPES[bytes[2]];
  if (!t) fail("BAD_FILE", `${file}: unknown IDX element type 0x${bytes[2].toString(16)}`);
  const ndims = bytes[3];
  if (ndims < 1) fail("BAD_FILE", `${file}: IDX header says 0 dimensions`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    if (prefix) return undefined;
    fail("BAD_FILE", `${file}: truncated IDX header (${bytes.length} of ${headerBytes} bytes)`);
  }
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const s = view.getUint32(4 + 4 * i);
    shape.push(s);
    count *= s;
  }
  return { t, shape, count, headerBytes, expected: headerBytes + count * t.bytes };
}

/**
 * The total size an IDX file declares (header + shape x element size) from its first bytes, before
 * the rest is read or decompressed; undefined when the prefix is too short. Throws on a bad header.
 */
export function idxDeclaredBytes(prefix: Uint8Array, file = "IDX data"): number | undefined {
  return idxLayout(prefix, file, true)?.expected;
}

export function parseIdx(bytes: Uint8Array, file = "IDX data"): IdxArray {
  const { t, shape, count, headerBytes, expected } = idxLayout(bytes, file, false) as IdxLayout;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < expected)
    fail(
      "BAD_FILE",
      `${file}: truncated: header shape [${shape.join(", ")}] needs ${expected} bytes, file has ${bytes.length}`,
    );
  if (bytes.length > expected)
    fail(
      "BAD_FILE",
      `${file}: ${bytes.length - expected} bytes after the data: header shape [${shape.join(", ")}] ` +
        `declares ${expected} bytes, file has ${bytes.length}`,
    );
  if (t.name === "uint8") return { type: t.name, shape, data: bytes.slice(headerBytes, expected) };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const o = headerBytes + i * t.bytes;
    switch (t.name) {
      case "int8":
        out[i] = view.getInt8(o);
        break;
      case "int16":
        out[i] = view.getInt16(o);
        break;
      case "int32":
        out[i] = view.getInt32(o);
        break;
      case "float32":
        out[i] = view.getFloat32(o);
        break;
      default:
        out[i] = view.getFloat64(o);
    }
  }
  return { type: t.name, shape, data: out };
}

/** Encodes a uint8 array as IDX (used by tests and by tools that export datasets). */
export function encodeIdxU8(data: Uint8Array, shape: number[]): Uint8Array {
  const header = 4 + 4 * shape.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  for (let i = 0; i < shape.length; i++) view.setUint32(4 + 4 * i, shape[i]);
  out.set(data, header);
  return out;
}
