/**
 * The compact binary trace format (byte level, browser-safe; files are in trace-file.node.ts).
 *
 *   "MMTRACE1"              8 bytes magic (unchanged across format versions)
 *   u32 LE                  length L of the JSON header
 *   L bytes                 JSON {version, encoding, dim, count, source, generator?, seed?, noise?,
 *                                 noiseSeed?, catalog?, catalogN?, catalogFingerprint?, checksum}
 *   zero padding            to a multiple of 8 bytes
 *   body                    encoding "f32": count x dim float32 LE (any request vectors);
 *                           encoding "ref": count int32 LE catalog ids; the request is that catalog
 *                           row plus seeded Gaussian noise (noise, noiseSeed), so a generated
 *                           10^6-request trace takes 4 MB instead of dim x 4 MB.
 *
 * Version 2 adds two fields:
 * - `checksum`: "crc32:" + 8 hex digits, the CRC-32 of the whole file read with those 8 digits as
 *   "00000000" (header and body: a flipped id, a flipped noise seed or a cut file is refused);
 * - `catalogFingerprint`: {@link catalogFingerprint} of the catalog a "ref" trace was generated
 *   over. Replaying a ref trace checks it against the catalog given, so another catalog of the
 *   same shape is refused (unless forced), not just one of another shape.
 * Version 1 files (no checksum, no fingerprint) stay readable: the reader warns once per file that
 * they cannot be verified and checks a ref trace's catalog by name-independent shape only, as
 * before. Writers always write version 2.
 */
import { crc32, hex32, matrixFingerprint } from "../core/checksum.js";
import { fail } from "../core/errors.js";
import type { Rng } from "../core/rng.js";

export const TRACE_MAGIC = "MMTRACE1";
export const TRACE_VERSION = 2;
/** Versions this reader understands. */
export const TRACE_VERSIONS = [1, 2] as const;
/** The checksum field of an unsealed file (written before its CRC is known); the CRC is computed with it in place. */
export const UNSEALED_CHECKSUM = "crc32:00000000";
/** Largest request dimension accepted (4 MB a request): a corrupt header cannot claim more. */
export const MAX_TRACE_DIM = 1 << 20;

export type TraceEncoding = "f32" | "ref";

export interface TraceHeader {
  version: number;
  encoding: TraceEncoding;
  dim: number;
  count: number;
  source: string;
  generator?: string;
  seed?: number;
  /** ref: noise standard deviation and the seed of its generator. */
  noise?: number;
  noiseSeed?: number;
  /** ref: the catalog spec and size the ids index. */
  catalog?: string;
  catalogN?: number;
  /** v2: {@link catalogFingerprint} of that catalog (ref traces; f32 traces when known). */
  catalogFingerprint?: string;
  /** v2: "crc32:XXXXXXXX" over the whole file with these digits read as zeros. */
  checksum?: string;
}

const fingerprints = new WeakMap<Float32Array, string>();

/** A 64-bit fingerprint of a catalog's vectors and shape (memoized per vectors array). */
export function catalogFingerprint(catalog: { n: number; dim: number; vectors: Float32Array }): string {
  let f = fingerprints.get(catalog.vectors);
  if (f === undefined) {
    f = matrixFingerprint(catalog.vectors, catalog.n, catalog.dim);
    fingerprints.set(catalog.vectors, f);
  }
  return f;
}

/**
 * Where the 8 hex digits of the checksum sit in the encoded header (byte offset from the start of
 * the file), or -1 when the header has no checksum field.
 */
export function checksumDigitsOffset(headerBytes: Uint8Array): number {
  const key = new TextEncoder().encode('"checksum":"crc32:');
  outer: for (let i = 12; i + key.length + 8 <= headerBytes.length; i++) {
    for (let j = 0; j < key.length; j++) if (headerBytes[i + j] !== key[j]) continue outer;
    return i + key.length;
  }
  return -1;
}

/** Bytes of one request in the body. */
export function recordBytes(h: TraceHeader): number {
  return h.encoding === "f32" ? 4 * h.dim : 4;
}

export function encodeTraceHeader(h: TraceHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(h));
  const len = 8 + 4 + json.length;
  const padded = Math.ceil(len / 8) * 8;
  const out = new Uint8Array(padded);
  out.set(new TextEncoder().encode(TRACE_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  return out;
}

/**
 * Parses the header from the first bytes of a file (`prefix` must hold at least the header;
 * 12 bytes tell its length via {@link headerLength}). `name` is used in messages.
 */
export function decodeTraceHeader(
  prefix: Uint8Array,
  name: string,
  fileBytes?: number,
): { header: TraceHeader; bodyOffset: number } {
  if (prefix.length < 12) fail("BAD_FILE", `${name}: ${prefix.length} bytes is too short for a trace header`);
  const magic = new TextDecoder().decode(prefix.subarray(0, 8));
  if (magic !== TRACE_MAGIC)
    fail(
      "BAD_FILE",
      `${name}: not a Mammals trace (magic "${magic.replace(/[^\x20-\x7e]/g, "?")}", expected "${TRACE_MAGIC}")`,
    );
  const len = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint32(8, true);
  if (12 + len > prefix.length)
    fail("BAD_FILE", `${name}: header of ${len} bytes is truncated (${prefix.length - 12} available)`);
  let h: TraceHeader;
  try {
    h = JSON.parse(new TextDecoder().decode(prefix.subarray(12, 12 + len))) as TraceHeader;
  } catch (e) {
    return fail("BAD_FILE", `${name}: header is not valid JSON (${(e as Error).message})`);
  }
  checkHeader(h, name);
  const bodyOffset = Math.ceil((12 + len) / 8) * 8;
  if (fileBytes !== undefined) {
    const want = bodyOffset + h.count * recordBytes(h);
    if (fileBytes !== want)
      fail(
        "BAD_FILE",
        `${name}: ${fileBytes} bytes, but a header of ${h.count} ${h.encoding} requests of dimension ${h.dim} needs ${want}` +
          (fileBytes < want ? " (truncated)" : " (trailing bytes)"),
      );
  }
  if (h.version >= 2 && !(typeof h.checksum === "string" && /^crc32:[0-9a-f]{8}$/.test(h.checksum)))
    fail(
      "BAD_FILE",
      `${name}: header checksum ${JSON.stringify(h.checksum)}; expected "crc32:" and 8 hex digits`,
    );
  return { header: h, bodyOffset };
}

/**
 * Fills in the checksum of a whole trace file held in memory (written with
 * {@link UNSEALED_CHECKSUM}); returns the same bytes. Writers that stream use the same rule.
 */
export function sealTraceChecksum(file: Uint8Array): Uint8Array {
  if (file.length < 12)
    fail("INVALID_ARGUMENT", `sealTraceChecksum: ${file.length} bytes hold no trace header`);
  const at = checksumDigitsOffset(file.subarray(0, headerLength(file)));
  if (at < 0) fail("INVALID_ARGUMENT", "sealTraceChecksum: the header has no checksum field");
  file.fill(0x30, at, at + 8);
  const digits = hex32(crc32(file));
  for (let i = 0; i < 8; i++) file[at + i] = digits.charCodeAt(i);
  return file;
}

/** Bytes needed to read the header: 12, then the length stored there. */
export function headerLength(first12: Uint8Array): number {
  return 12 + new DataView(first12.buffer, first12.byteOffset, 12).getUint32(8, true);
}

function checkHeader(h: TraceHeader, name: string): void {
  const bad = (what: string) => fail("BAD_FILE", `${name}: header ${what}`);
  if (typeof h !== "object" || h === null || Array.isArray(h)) bad("is not an object");
  if (!(TRACE_VERSIONS as readonly unknown[]).includes(h.version))
    bad(`version ${h.version}; this reader knows ${TRACE_VERSIONS.join(" and ")}`);
  if (h.encoding !== "f32" && h.encoding !== "ref") bad(`encoding "${h.encoding}"; expected f32 or ref`);
  if (!Number.isSafeInteger(h.dim) || h.dim < 1 || h.dim > MAX_TRACE_DIM)
    bad(`dim ${h.dim}; expected an integer in 1..${MAX_TRACE_DIM}`);
  if (!Number.isSafeInteger(h.count) || h.count < 0) bad(`count ${h.count}; expected an integer >= 0`);
  if (typeof h.source !== "string") bad(`source ${JSON.stringify(h.source)}; expected a string`);
  for (const k of ["generator", "catalog", "catalogFingerprint"] as const)
    if (h[k] !== undefined && typeof h[k] !== "string")
      bad(`${k} ${JSON.stringify(h[k])}; expected a string`);
  if (h.seed !== undefined && !Number.isFinite(h.seed)) bad(`seed ${h.seed}; expected a number`);
  if (h.encoding === "ref") {
    if (typeof h.catalog !== "string") bad("of a ref trace has no catalog");
    if (!Number.isSafeInteger(h.catalogN) || (h.catalogN ?? 0) < 1) bad(`catalogN ${h.catalogN}`);
    if (!(typeof h.noise === "number" && h.noise >= 0 && Number.isFinite(h.noise)))
      bad(`noise ${h.noise}; expected a finite number >= 0`);
    if ((h.noise ?? 0) > 0 && !Number.isFinite(h.noiseSeed)) bad("has noise but no noiseSeed");
    if (h.noiseSeed !== undefined && !Number.isFinite(h.noiseSeed)) bad(`noiseSeed ${h.noiseSeed}`);
  }
}

/** The seed of the noise stream of a generated trace with seed `seed` (shared by generator and reader). */
export function noiseSeedOf(seed: number): number {
  return (Math.trunc(seed) ^ 0x5bd1e995) >>> 0;
}

/** Writes catalog row `row` plus `noise` * N(0, 1) per coordinate into `out`. */
export function noisyRow(
  vectors: Float32Array,
  row: number,
  dim: number,
  noise: number,
  rng: Rng,
  out: Float32Array,
): Float32Array {
  const base = row * dim;
  for (let j = 0; j < dim; j++) out[j] = vectors[base + j] + noise * rng.normal();
  return out;
}
