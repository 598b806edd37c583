/**
 * The binary snapshot format shared by every index kind, so `deserializeIndex` can restore any of
 * them from the bytes alone:
 *
 *   "MAMMIDX1" (8 bytes) | header length (u32 LE) | header JSON (UTF-8) | padding to 8 |
 *   section 0 | padding to 8 | section 1 | ...
 *
 * The header names the kind, its spec, dim, metric and size, plus kind-specific fields, and lists
 * the sections (name, element type, element count). Typed-array sections are little-endian,
 * which is the byte order of every platform JavaScript runs on today.
 */
import { fail } from "../core/errors.js";
import type { Metric } from "../core/vectors.js";

const MAGIC = "MAMMIDX1";

type SectionType = "f32" | "f64" | "i8" | "i32" | "u8";
export type SectionArray = Float32Array | Float64Array | Int8Array | Int32Array | Uint8Array;

const CTORS = {
  f32: Float32Array,
  f64: Float64Array,
  i8: Int8Array,
  i32: Int32Array,
  u8: Uint8Array,
} as const;

export interface IndexHeader {
  kind: string;
  spec: string;
  dim: number;
  metric: Metric;
  size: number;
  [extra: string]: unknown;
}

interface SectionInfo {
  name: string;
  type: SectionType;
  length: number;
}

function typeOf(a: SectionArray): SectionType {
  if (a instanceof Float32Array) return "f32";
  if (a instanceof Float64Array) return "f64";
  if (a instanceof Int8Array) return "i8";
  if (a instanceof Int32Array) return "i32";
  return "u8";
}

const pad8 = (n: number) => (n + 7) & ~7;

export function encodeIndex(header: IndexHeader, sections: Record<string, SectionArray>): Uint8Array {
  const infos: SectionInfo[] = Object.entries(sections).map(([name, a]) => ({
    name,
    type: typeOf(a),
    length: a.length,
  }));
  const json = new TextEncoder().encode(JSON.stringify({ ...header, sections: infos }));
  let total = pad8(12 + json.length);
  for (const a of Object.values(sections)) total += pad8(a.byteLength);
  const out = new Uint8Array(total);
  for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  let at = pad8(12 + json.length);
  for (const a of Object.values(sections)) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += pad8(a.byteLength);
  }
  return out;
}

/** Parses a snapshot; sections are fresh copies (safe to keep and mutate). */
export function decodeIndex(bytes: Uint8Array): {
  header: IndexHeader;
  sections: Record<string, SectionArray>;
} {
  if (!(bytes instanceof Uint8Array))
    fail("INVALID_ARGUMENT", `deserializeIndex: expected a Uint8Array, got ${typeof bytes}`);
  let magic = "";
  for (let i = 0; i < Math.min(8, bytes.length); i++) magic += String.fromCharCode(bytes[i]);
  if (bytes.length < 12 || magic !== MAGIC)
    fail("BAD_FILE", `index snapshot: expected magic "${MAGIC}", got ${JSON.stringify(magic)}`);
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + jsonLength > bytes.length)
    fail(
      "BAD_FILE",
      `index snapshot: header of ${jsonLength} bytes runs past the end (${bytes.length} bytes)`,
    );
  let parsed: IndexHeader & { sections: SectionInfo[] };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength)));
  } catch (e) {
    return fail("BAD_FILE", `index snapshot: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed?.kind !== "string" || !Array.isArray(parsed.sections))
    fail("BAD_FILE", "index snapshot: header lacks kind or sections");
  const sections: Record<string, SectionArray> = {};
  let at = pad8(12 + jsonLength);
  for (const s of parsed.sections) {
    const Ctor = CTORS[s.type];
    if (!Ctor) fail("BAD_FILE", `index snapshot: section ${s.name} has unknown type ${s.type}`);
    const byteLength = s.length * Ctor.BYTES_PER_ELEMENT;
    if (at + byteLength > bytes.length)
      fail(
        "BAD_FILE",
        `index snapshot: truncated; section ${s.name} needs ${byteLength} bytes at offset ${at}, file has ${bytes.length}`,
      );
    // Uint8Array's own slice: on a Node Buffer (readFileSync) `slice` is a view into the shared
    // pool, so `copy.buffer` at offset 0 would be other bytes.
    const copy = Uint8Array.prototype.slice.call(bytes, at, at + byteLength);
    sections[s.name] = new Ctor(copy.buffer, 0, s.length);
    at += pad8(byteLength);
  }
  const { sections: _infos, ...header } = parsed;
  return { header, sections };
}

/** Fetches a section, failing with a clear message when it is missing or has the wrong length. */
export function section<T extends SectionArray>(
  sections: Record<string, SectionArray>,
  name: string,
  ctor: new (n: number) => T,
  length: number,
): T {
  const s = sections[name];
  if (!s || !(s instanceof ctor) || s.length !== length)
    fail(
      "BAD_FILE",
      `index snapshot: section ${name} should hold ${length} values, got ${s ? s.length : "none"}`,
    );
  return s as T;
}
