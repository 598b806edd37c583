/**
 * Learned state as data: the fields of a stateful object (a policy's records, a calibrator's
 * counts, a rule's weights) captured into a tree of plain values, encoded as JSON without losing
 * a bit, and written back into a freshly constructed object of the same configuration.
 *
 * Capture walks own enumerable fields: numbers, strings, booleans and null are kept; typed arrays
 * are copied; arrays, Maps and Sets are walked; nested objects (plain or class instances) become
 * nested trees; functions are skipped (they are behaviour, not state). Restore writes each field
 * back: typed arrays of the same length are filled in place (so `readonly` buffers another object
 * holds stay shared), Maps and Sets are refilled in place, nested objects are restored in place,
 * anything else is assigned.
 *
 * The JSON encoding is exact: finite numbers use JavaScript's round-trip formatting, NaN,
 * infinities and -0 are tagged, typed arrays are base64 of their little-endian bytes.
 */
import { fail } from "./errors.js";

export type StateTypedArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

export type StateValue =
  | number
  | string
  | boolean
  | null
  | StateTypedArray
  | StateValue[]
  | Map<StateKey, StateValue>
  | Set<StateKey>
  | StateTree;

export type StateKey = number | string;

export interface StateTree {
  [field: string]: StateValue;
}

const TYPED = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  i16: Int16Array,
  u16: Uint16Array,
  i8: Int8Array,
  u8: Uint8Array,
} as const;
type TypedTag = keyof typeof TYPED;

function typedTag(a: ArrayBufferView): TypedTag | null {
  for (const [tag, ctor] of Object.entries(TYPED)) if (a instanceof ctor) return tag as TypedTag;
  return null;
}

/**
 * The state of `obj`: its own enumerable fields except functions and the names in `skip`
 * (references to collaborators, configuration), recursively.
 */
export function captureState(obj: object, skip: readonly string[] = [], what = "state"): StateTree {
  return captureObject(obj, new Set(skip), new Set(), what);
}

function captureObject(obj: object, skip: Set<string>, seen: Set<object>, path: string): StateTree {
  if (seen.has(obj)) fail("STATE", `${path}: the object graph has a cycle; expected a tree of state`);
  seen.add(obj);
  const out: StateTree = {};
  for (const [k, v] of Object.entries(obj)) {
    if (skip.has(k) || typeof v === "function" || v === undefined) continue;
    if (k.startsWith("$")) fail("STATE", `${path}.${k}: field names starting with "$" are reserved`);
    out[k] = captureValue(v, seen, `${path}.${k}`);
  }
  seen.delete(obj);
  return out;
}

function captureValue(v: unknown, seen: Set<object>, path: string): StateValue {
  if (v === null || typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  if (ArrayBuffer.isView(v)) {
    const tag = typedTag(v);
    if (!tag) fail("STATE", `${path}: unsupported binary view ${v.constructor.name}`);
    return (v as StateTypedArray).slice();
  }
  if (Array.isArray(v)) return v.map((x, i) => captureValue(x, seen, `${path}[${i}]`));
  if (v instanceof Map) {
    const m = new Map<StateKey, StateValue>();
    for (const [k, x] of v) {
      if (typeof k !== "number" && typeof k !== "string")
        fail("STATE", `${path}: Map keys must be numbers or strings, got ${typeof k}`);
      m.set(k, captureValue(x, seen, `${path}[${String(k)}]`));
    }
    return m;
  }
  if (v instanceof Set) {
    for (const k of v)
      if (typeof k !== "number" && typeof k !== "string")
        fail("STATE", `${path}: Set members must be numbers or strings, got ${typeof k}`);
    return new Set(v as Set<StateKey>);
  }
  if (typeof v === "object") return captureObject(v as object, new Set(), seen, path);
  return fail("STATE", `${path}: cannot capture a value of type ${typeof v}`);
}

/** Writes a captured tree back into `obj` (see the file comment for how each kind is restored). */
export function restoreState(obj: object, tree: StateTree, what = "state"): void {
  const target = obj as Record<string, unknown>;
  for (const [k, v] of Object.entries(tree)) {
    const cur = target[k];
    const path = `${what}.${k}`;
    if (ArrayBuffer.isView(cur) && ArrayBuffer.isView(v)) {
      const a = cur as StateTypedArray;
      const b = v as StateTypedArray;
      if (a.constructor === b.constructor && a.length === b.length) a.set(b);
      else target[k] = b.slice();
    } else if (cur instanceof Map && v instanceof Map) {
      cur.clear();
      for (const [key, x] of v) cur.set(key, cloneValue(x));
    } else if (cur instanceof Set && v instanceof Set) {
      cur.clear();
      for (const key of v) cur.add(key);
    } else if (isTree(cur) && isTree(v)) {
      restoreState(cur, v, path);
    } else {
      target[k] = cloneValue(v);
    }
  }
}

function isTree(v: unknown): v is StateTree {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    !ArrayBuffer.isView(v) &&
    !(v instanceof Map) &&
    !(v instanceof Set)
  );
}

/** A deep copy, so that a restored object never shares mutable parts with the snapshot. */
function cloneValue(v: StateValue): StateValue {
  if (v === null || typeof v !== "object") return v;
  if (ArrayBuffer.isView(v)) return (v as StateTypedArray).slice();
  if (Array.isArray(v)) return v.map(cloneValue);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, cloneValue(x)]));
  if (v instanceof Set) return new Set(v);
  const out: StateTree = {};
  for (const [k, x] of Object.entries(v)) out[k] = cloneValue(x);
  return out;
}

/** Exact JSON text of a state value (tags: $n special number, $a typed array, $m Map, $s Set). */
export function encodeState(v: StateValue): string {
  return JSON.stringify(toJson(v));
}

export function decodeState(text: string, what = "state"): StateValue {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail("BAD_FILE", `${what}: expected JSON state, got a parse error (${(e as Error).message})`);
  }
  return fromJson(json, what);
}

function toJson(v: StateValue): unknown {
  if (typeof v === "number") {
    if (Number.isNaN(v)) return { $n: "NaN" };
    if (v === Number.POSITIVE_INFINITY) return { $n: "Infinity" };
    if (v === Number.NEGATIVE_INFINITY) return { $n: "-Infinity" };
    if (Object.is(v, -0)) return { $n: "-0" };
    return v;
  }
  if (v === null || typeof v !== "object") return v;
  if (ArrayBuffer.isView(v)) {
    const a = v as StateTypedArray;
    return { $a: typedTag(a), b: bytesToBase64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)) };
  }
  if (Array.isArray(v)) return v.map(toJson);
  if (v instanceof Map) return { $m: [...v].map(([k, x]) => [toJson(k), toJson(x)]) };
  if (v instanceof Set) return { $s: [...v].map(toJson) };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = toJson(x);
  return out;
}

function fromJson(j: unknown, path: string): StateValue {
  if (j === null || typeof j === "number" || typeof j === "string" || typeof j === "boolean") return j;
  if (Array.isArray(j)) return j.map((x, i) => fromJson(x, `${path}[${i}]`));
  if (typeof j !== "object") return fail("BAD_FILE", `${path}: unexpected ${typeof j} in state`);
  const o = j as Record<string, unknown>;
  if ("$n" in o) {
    const special: Record<string, number> = {
      NaN: Number.NaN,
      Infinity: Number.POSITIVE_INFINITY,
      "-Infinity": Number.NEGATIVE_INFINITY,
      "-0": -0,
    };
    const n = special[String(o.$n)];
    if (n === undefined) fail("BAD_FILE", `${path}: unknown special number ${String(o.$n)}`);
    return n;
  }
  if ("$a" in o) {
    const ctor = TYPED[o.$a as TypedTag];
    if (!ctor || typeof o.b !== "string") return fail("BAD_FILE", `${path}: bad typed array ${String(o.$a)}`);
    const bytes = base64ToBytes(o.b, path);
    if (bytes.byteLength % ctor.BYTES_PER_ELEMENT !== 0)
      fail("BAD_FILE", `${path}: ${bytes.byteLength} bytes is not a whole number of ${o.$a} values`);
    return new ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / ctor.BYTES_PER_ELEMENT);
  }
  if ("$m" in o) {
    if (!Array.isArray(o.$m)) return fail("BAD_FILE", `${path}: bad Map`);
    return new Map(
      o.$m.map((e: unknown, i: number) => {
        if (!Array.isArray(e) || e.length !== 2) fail("BAD_FILE", `${path}: bad Map entry ${i}`);
        return [fromJson(e[0], path) as StateKey, fromJson(e[1], `${path}[${String(e[0])}]`)];
      }),
    );
  }
  if ("$s" in o) {
    if (!Array.isArray(o.$s)) return fail("BAD_FILE", `${path}: bad Set`);
    return new Set(o.$s.map((x: unknown) => fromJson(x, path) as StateKey));
  }
  const out: StateTree = {};
  for (const [k, x] of Object.entries(o)) out[k] = fromJson(x, `${path}.${k}`);
  return out;
}

// Base64 by table: btoa/atob over a binary string cost about 100 ms per 2 MB snapshot, which a
// service pays on its event loop at every checkpoint; this costs a few.
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_CODES = new Uint8Array(64).map((_, i) => B64.charCodeAt(i));
const B64_VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUES[B64.charCodeAt(i)] = i;
const ascii = new TextDecoder("latin1");

function bytesToBase64(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[o++] = B64_CODES[v >> 18];
    out[o++] = B64_CODES[(v >> 12) & 63];
    out[o++] = B64_CODES[(v >> 6) & 63];
    out[o++] = B64_CODES[v & 63];
  }
  if (i < n) {
    const v = (bytes[i] << 16) | (i + 1 < n ? bytes[i + 1] << 8 : 0);
    out[o++] = B64_CODES[v >> 18];
    out[o++] = B64_CODES[(v >> 12) & 63];
    out[o++] = i + 1 < n ? B64_CODES[(v >> 6) & 63] : 61;
    out[o++] = 61; // "="
  }
  return ascii.decode(out);
}

function base64ToBytes(b64: string, path: string): Uint8Array<ArrayBuffer> {
  const len = b64.length;
  if (len % 4 !== 0) fail("BAD_FILE", `${path}: expected base64 bytes, got ${len} characters`);
  const pad = len === 0 ? 0 : b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  // A fresh, 8-byte aligned buffer so any typed array can view it.
  const out = new Uint8Array(new ArrayBuffer((len / 4) * 3 - pad));
  let o = 0;
  for (let i = 0; i < len; i += 4) {
    const a = B64_VALUES[b64.charCodeAt(i) & 127];
    const b = B64_VALUES[b64.charCodeAt(i + 1) & 127];
    const c = b64[i + 2] === "=" ? 0 : B64_VALUES[b64.charCodeAt(i + 2) & 127];
    const d = b64[i + 3] === "=" ? 0 : B64_VALUES[b64.charCodeAt(i + 3) & 127];
    if ((a | b | c | d) < 0 || b64.charCodeAt(i) > 127) fail("BAD_FILE", `${path}: expected base64 bytes`);
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    if (o < out.length) out[o++] = v >> 16;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}
