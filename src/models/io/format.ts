/**
 * The model file format (".mammals" files), one for every model family:
 *
 *   offset 0   magic "MAMMODL1" (8 bytes ASCII)
 *   offset 8   header length H in bytes (u32 little-endian)
 *   offset 12  CRC-32 of everything after the header's padding, i.e. of the tensor area (u32 LE)
 *   offset 16  header: H bytes of UTF-8 JSON (see {@link ModelHeader})
 *   then       zero padding to a multiple of 8
 *   then       each tensor's raw little-endian elements at the absolute byte `offset` its header
 *              entry names (a multiple of 8), zero padding to 8 after each; the file ends at the
 *              padded end of the last tensor.
 *
 * The header JSON is
 *   { "format": "mammals-model", "version": 1, "family": "mlp", "spec": "mlp:256,128",
 *     "inputDim": 784, "numClasses": 10, "embedDim": 128, "meta": { ...family-specific... },
 *     "tensors": [ { "name": "dense0.weight", "dtype": "f32", "shape": [256, 784],
 *                    "offset": 1024, "byteLength": 802816 }, ... ] }
 * `meta` carries whatever a family needs besides tensors: seeds of regenerated random
 * projections, quantization scales, class names, a training summary. dtypes: f32, f64, i8, u8,
 * i16, i32, u32. Decoding checks magic, version, JSON, every tensor's dtype / shape / offset /
 * length against each other and the file size, and the checksum, so a truncated, padded or
 * bit-flipped file is refused with a message naming what is wrong.
 */
import { crc32 } from "../../core/checksum.js";
import { fail } from "../../core/errors.js";

export { crc32 };

export const MODEL_MAGIC = "MAMMODL1";
export const MODEL_FORMAT_VERSION = 1;
const PREAMBLE = 16;

export type DType = "f32" | "f64" | "i8" | "u8" | "i16" | "i32" | "u32";
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Int32Array
  | Uint32Array;

const CTORS = {
  f32: Float32Array,
  f64: Float64Array,
  i8: Int8Array,
  u8: Uint8Array,
  i16: Int16Array,
  i32: Int32Array,
  u32: Uint32Array,
} as const;

export interface Tensor {
  name: string;
  shape: number[];
  data: TensorData;
}

/** Everything a model file holds, independent of the byte layout. */
export interface ModelFile {
  /** Registry name of the family that loads it (see registry.ts), e.g. "mlp", "projection". */
  family: string;
  spec: string;
  inputDim: number;
  numClasses: number;
  embedDim: number;
  meta: Record<string, unknown>;
  tensors: Tensor[];
}

export interface TensorEntry {
  name: string;
  dtype: DType;
  shape: number[];
  offset: number;
  byteLength: number;
}

export interface ModelHeader extends Omit<ModelFile, "tensors"> {
  format: "mammals-model";
  version: number;
  tensors: TensorEntry[];
}

/** A model that can be written to a model file. */
export interface StorableModel {
  toModelFile(): ModelFile;
}

export function dtypeOf(a: TensorData): DType {
  if (a instanceof Float32Array) return "f32";
  if (a instanceof Float64Array) return "f64";
  if (a instanceof Int8Array) return "i8";
  if (a instanceof Uint8Array) return "u8";
  if (a instanceof Int16Array) return "i16";
  if (a instanceof Int32Array) return "i32";
  if (a instanceof Uint32Array) return "u32";
  return fail(
    "INVALID_ARGUMENT",
    "model file: tensor data must be a typed array (f32, f64, i8, u8, i16, i32, u32)",
  );
}

const pad8 = (n: number) => Math.ceil(n / 8) * 8;

export function encodeModelFile(file: ModelFile): Uint8Array {
  const names = new Set<string>();
  for (const t of file.tensors) {
    if (names.has(t.name)) fail("INVALID_ARGUMENT", `model file: duplicate tensor name "${t.name}"`);
    names.add(t.name);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0) || count !== t.data.length)
      fail(
        "INVALID_ARGUMENT",
        `model file: tensor ${t.name} has shape [${t.shape.join(", ")}] but ${t.data.length} elements`,
      );
  }
  // Offsets depend on the header length, which depends on the offsets' digits: iterate to a fixpoint.
  let dataStart = 0;
  let header: ModelHeader;
  let json: Uint8Array;
  for (;;) {
    let at = dataStart;
    const entries = file.tensors.map((t) => {
      const e: TensorEntry = {
        name: t.name,
        dtype: dtypeOf(t.data),
        shape: [...t.shape],
        offset: at,
        byteLength: t.data.byteLength,
      };
      at += pad8(t.data.byteLength);
      return e;
    });
    header = {
      format: "mammals-model",
      version: MODEL_FORMAT_VERSION,
      family: file.family,
      spec: file.spec,
      inputDim: file.inputDim,
      numClasses: file.numClasses,
      embedDim: file.embedDim,
      meta: file.meta,
      tensors: entries,
    };
    json = new TextEncoder().encode(JSON.stringify(header));
    const needed = pad8(PREAMBLE + json.length);
    if (needed === dataStart) break;
    dataStart = needed;
  }
  const last = header.tensors[header.tensors.length - 1];
  const total = last ? last.offset + pad8(last.byteLength) : dataStart;
  const out = new Uint8Array(total);
  for (let i = 0; i < 8; i++) out[i] = MODEL_MAGIC.charCodeAt(i);
  out.set(json, PREAMBLE);
  header.tensors.forEach((e, i) => {
    const d = file.tensors[i].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), e.offset);
  });
  const view = new DataView(out.buffer);
  view.setUint32(8, json.length, true);
  view.setUint32(12, crc32(out, dataStart, total), true);
  return out;
}

/** Parses and validates a model file; tensors are fresh copies, safe to keep and mutate. */
export function decodeModelFile(input: Uint8Array, source = "model file"): ModelFile {
  if (!(input instanceof Uint8Array)) fail("INVALID_ARGUMENT", `${source}: expected bytes (Uint8Array)`);
  // A plain Uint8Array view of the same bytes: a Node Buffer's `slice` returns a view into Node's
  // shared pool instead of a copy, so the tensor copies below would read from the wrong offset.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const bad = (msg: string): never => fail("BAD_FILE", `${source}: ${msg}`);
  let magic = "";
  for (let i = 0; i < Math.min(8, bytes.length); i++) magic += String.fromCharCode(bytes[i]);
  if (magic !== MODEL_MAGIC)
    bad(`not a mammals model file: expected magic "${MODEL_MAGIC}", found ${JSON.stringify(magic)}`);
  if (bytes.length < PREAMBLE)
    bad(`truncated: ${bytes.length} bytes, shorter than the ${PREAMBLE}-byte preamble`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(8, true);
  const storedCrc = view.getUint32(12, true);
  if (PREAMBLE + headerLength > bytes.length)
    bad(`truncated: header of ${headerLength} bytes runs past the end of the ${bytes.length}-byte file`);
  let h: ModelHeader;
  try {
    h = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLength)),
    );
  } catch (e) {
    return bad(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (h === null || typeof h !== "object" || h.format !== "mammals-model")
    bad(`header lacks "format": "mammals-model"`);
  if (h.version !== MODEL_FORMAT_VERSION)
    bad(
      `format version ${String(h.version)} is not supported; this build reads version ${MODEL_FORMAT_VERSION}`,
    );
  for (const k of ["family", "spec"] as const)
    if (typeof h[k] !== "string") bad(`header field "${k}" must be a string, got ${JSON.stringify(h[k])}`);
  for (const k of ["inputDim", "numClasses", "embedDim"] as const)
    if (!Number.isInteger(h[k]) || h[k] <= 0)
      bad(`header field "${k}" must be a positive integer, got ${JSON.stringify(h[k])}`);
  if (h.meta === null || typeof h.meta !== "object" || Array.isArray(h.meta))
    bad(`header field "meta" must be an object`);
  if (!Array.isArray(h.tensors)) bad(`header field "tensors" must be an array`);
  let expectedAt = pad8(PREAMBLE + headerLength);
  const dataStart = expectedAt;
  const tensors: Tensor[] = [];
  const names = new Set<string>();
  for (const e of h.tensors) {
    const what = `tensor ${JSON.stringify(e?.name)}`;
    if (typeof e?.name !== "string" || names.has(e.name)) bad(`${what}: missing or duplicate name`);
    names.add(e.name);
    const Ctor = CTORS[e.dtype as DType];
    if (!Ctor || !Object.hasOwn(CTORS, e.dtype))
      bad(
        `${what}: unknown dtype ${JSON.stringify(e.dtype)}; expected one of ${Object.keys(CTORS).join(", ")}`,
      );
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0))
      bad(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(e.shape)}`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (e.byteLength !== count * Ctor.BYTES_PER_ELEMENT)
      bad(
        `${what}: byteLength ${e.byteLength} does not match ${e.dtype} [${e.shape.join(", ")}] (${count * Ctor.BYTES_PER_ELEMENT})`,
      );
    if (e.offset !== expectedAt)
      bad(
        `${what}: offset ${e.offset}, expected ${expectedAt} (tensors are packed in order, 8-byte aligned)`,
      );
    if (e.offset + e.byteLength > bytes.length)
      bad(
        `truncated: ${what} needs bytes ${e.offset}..${e.offset + e.byteLength} but the file has ${bytes.length}`,
      );
    const copy = bytes.slice(e.offset, e.offset + e.byteLength);
    tensors.push({ name: e.name, shape: [...e.shape], data: new Ctor(copy.buffer, 0, count) });
    expectedAt = e.offset + pad8(e.byteLength);
  }
  if (bytes.length < expectedAt) bad(`truncated: expected ${expectedAt} bytes, the file has ${bytes.length}`);
  if (bytes.length > expectedAt)
    bad(
      `inconsistent: ${bytes.length - expectedAt} unexpected bytes after the last tensor (expected ${expectedAt} bytes)`,
    );
  const crc = crc32(bytes, dataStart, expectedAt);
  if (crc !== storedCrc)
    bad(`corrupt: checksum of the tensor data is ${hex(crc)}, the header records ${hex(storedCrc)}`);
  return {
    family: h.family,
    spec: h.spec,
    inputDim: h.inputDim,
    numClasses: h.numClasses,
    embedDim: h.embedDim,
    meta: h.meta,
    tensors,
  };
}

/** The tensor called `name`, checked for dtype and shape; a clear BAD_FILE error otherwise. */
export function tensorOf<T extends TensorData>(
  file: ModelFile,
  name: string,
  dtype: DType,
  shape: readonly number[],
): T {
  const t = file.tensors.find((x) => x.name === name);
  if (!t) return fail("BAD_FILE", `${file.family} model file: tensor "${name}" is missing`);
  const d = dtypeOf(t.data);
  if (d !== dtype || t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
    fail(
      "BAD_FILE",
      `${file.family} model file: tensor "${name}" is ${d} [${t.shape.join(", ")}], expected ${dtype} [${shape.join(", ")}]`,
    );
  return t.data as T;
}

function hex(x: number): string {
  return `0x${x.toString(16).padStart(8, "0")}`;
}
