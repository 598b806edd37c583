/**
 * The compact binary trace format (byte level, browser-safe; files are in trace-file.node.ts).
 *
 *   "MMTRACE1"              8 bytes magic
 *   u32 LE                  length L of the JSON header
 *   L bytes                 JSON {version, encoding, dim, count, source, generator?, seed?, noise?,
 *                                 noiseSeed?, catalog?, catalogN?}
 *   zero padding            to a multiple of 8 bytes
 *   body                    encoding "f32": count x dim float32 LE (any request vectors);
 *                           encoding "ref": count int32 LE catalog ids; the request is that catalog
 *                           row plus seeded Gaussian noise (noise, noiseSeed), so a generated
 *                           10^6-request trace takes 4 MB instead of dim x 4 MB. Reading a "ref"
 *                           trace needs the catalog it names (checked by name, n and dim).
 */
import { fail } from "../core/errors.js";
import type { Rng } from "../core/rng.js";

export const TRACE_MAGIC = "MMTRACE1";
export const TRACE_VERSION = 1;

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
  return { header: h, bodyOffset };
}

/** Bytes needed to read the header: 12, then the length stored there. */
export function headerLength(first12: Uint8Array): number {
  return 12 + new DataView(first12.buffer, first12.byteOffset, 12).getUint32(8, true);
}

function checkHeader(h: TraceHeader, name: string): void {
  const bad = (what: string) => fail("BAD_FILE", `${name}: header ${what}`);
  if (typeof h !== "object" || h === null) bad("is not an object");
  if (h.version !== TRACE_VERSION) bad(`version ${h.version}; this reader knows ${TRACE_VERSION}`);
  if (h.encoding !== "f32" && h.encoding !== "ref") bad(`encoding "${h.encoding}"; expected f32 or ref`);
  if (!Number.isSafeInteger(h.dim) || h.dim < 1) bad(`dim ${h.dim}; expected a positive integer`);
  if (!Number.isSafeInteger(h.count) || h.count < 0) bad(`count ${h.count}; expected an integer >= 0`);
  if (h.encoding === "ref") {
    if (typeof h.catalog !== "string") bad("of a ref trace has no catalog");
    if (!Number.isSafeInteger(h.catalogN) || (h.catalogN ?? 0) < 1) bad(`catalogN ${h.catalogN}`);
    if (!(typeof h.noise === "number" && h.noise >= 0)) bad(`noise ${h.noise}; expected a number >= 0`);
    if ((h.noise ?? 0) > 0 && !Number.isFinite(h.noiseSeed)) bad("has noise but no noiseSeed");
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
