/**
 * Reading request bodies safely (web-standard APIs only): a size limit enforced while the body
 * streams in (a client announcing or sending more gets 413 before the rest is read), the content
 * type checked against what the endpoint accepts (415), and the two encodings of predict inputs:
 * JSON arrays, or raw little-endian float32 with the batch shape in `X-Batch-Shape: n,dim`.
 * Also the API-key check, in constant time.
 */
import { fail } from "../core/errors.js";
import { type FastBodyLimits, fastFeedbackBody, fastPredictInput } from "./fast-body.js";
import { type FeedbackBody, type PredictBody, parseWith, type ServiceSchemas } from "./schemas.js";

export const JSON_TYPE = "application/json";
export const BINARY_TYPE = "application/octet-stream";
export const SHAPE_HEADER = "x-batch-shape";

/** The media type of a request (lower case, parameters dropped), or "" when absent. */
export function mediaType(req: Request): string {
  const ct = req.headers.get("content-type");
  return ct ? ct.split(";")[0].trim().toLowerCase() : "";
}

export function requireMediaType(req: Request, accepted: readonly string[]): string {
  const t = mediaType(req);
  if (!accepted.includes(t))
    fail(
      "UNSUPPORTED_MEDIA_TYPE",
      `Content-Type: expected ${accepted.join(" or ")}, got ${t === "" ? "none" : JSON.stringify(t)}`,
    );
  return t;
}

/** The whole body, refusing more than `limit` bytes whether announced or streamed. */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const announced = req.headers.get("content-length");
  if (announced !== null && Number(announced) > limit)
    fail("TOO_LARGE", `body: expected at most ${limit} bytes, got Content-Length ${announced}`);
  // With a Content-Length the HTTP framing bounds the body: read it in one go (the Node adapter
  // then reads the socket directly instead of building a web stream, several times faster).
  if (announced !== null) return new Uint8Array(await req.arrayBuffer());
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      fail("TOO_LARGE", `body: expected at most ${limit} bytes, got more`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** JSON text of a body; a syntax error says where. */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return fail("MALFORMED_BODY", "body: expected UTF-8 JSON, got bytes that are not UTF-8");
  }
  if (text.trim() === "") fail("MALFORMED_BODY", "body: expected a JSON object, got an empty body");
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail("MALFORMED_BODY", `body: expected JSON, got a syntax error (${(e as Error).message})`);
  }
}

/** Predict inputs as one row-major block. `single`: the answer is one object, not a list. */
export interface PredictInput {
  rows: Float32Array;
  n: number;
  single: boolean;
}

/**
 * Predict inputs from a parsed JSON body: well-formed bodies through the fast path (fast-body.ts),
 * anything else through the endpoint's zod schema, which accepts it or says what is wrong.
 */
export function predictFromJson(
  value: unknown,
  schemas: ServiceSchemas,
  limits: FastBodyLimits,
): PredictInput {
  const fast = fastPredictInput(value, limits);
  if (fast) return fast;
  const dim = limits.inputDim;
  const body: PredictBody = parseWith(schemas.predictBody, value, "body");
  const list = body.inputs ?? [body.input!];
  const rows = new Float32Array(list.length * dim);
  for (let i = 0; i < list.length; i++) rows.set(list[i], i * dim);
  return { rows, n: list.length, single: body.input !== undefined };
}

/** A feedback body from a parsed JSON body (fast path first, like {@link predictFromJson}). */
export function feedbackFromJson(
  value: unknown,
  schemas: ServiceSchemas,
  limits: FastBodyLimits,
): FeedbackBody {
  return fastFeedbackBody(value, limits) ?? parseWith(schemas.feedbackBody, value, "body");
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export function predictFromBinary(
  bytes: Uint8Array,
  shape: string | null,
  dim: number,
  maxBatch: number,
): PredictInput {
  if (shape === null)
    fail(
      "INVALID_ARGUMENT",
      `X-Batch-Shape: expected "n,${dim}" (inputs, values per input) with a binary body, got none`,
    );
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(shape);
  if (!m)
    fail("INVALID_ARGUMENT", `X-Batch-Shape: expected "n,${dim}", got ${JSON.stringify(shape.slice(0, 40))}`);
  const n = Number(m[1]);
  const d = Number(m[2]);
  if (d !== dim) fail("DIMENSION_MISMATCH", `X-Batch-Shape: expected ${dim} values per input, got ${d}`);
  if (n < 1) fail("INVALID_ARGUMENT", `X-Batch-Shape: expected at least 1 input, got ${n}`);
  if (n > maxBatch) fail("TOO_LARGE", `X-Batch-Shape: expected at most ${maxBatch} inputs, got ${n}`);
  if (bytes.byteLength !== n * d * 4)
    fail(
      "MALFORMED_BODY",
      `body: expected ${n} x ${d} float32 = ${n * d * 4} bytes for X-Batch-Shape ${n},${d}, got ${bytes.byteLength}`,
    );
  // The body's bytes are the rows: viewed in place when aligned (no copy, no number parsing).
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0)
    return { rows: new Float32Array(bytes.buffer, bytes.byteOffset, n * d), n, single: false };
  const rows = new Float32Array(n * d);
  if (LITTLE_ENDIAN) new Uint8Array(rows.buffer).set(bytes);
  else {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < rows.length; i++) rows[i] = v.getFloat32(4 * i, true);
  }
  return { rows, n, single: false };
}

/**
 * Compares the presented key with the configured one in time independent of where they differ
 * and of their lengths: both are hashed (SHA-256) and the digests compared with XOR.
 */
export class ApiKeyCheck {
  private expected: Promise<Uint8Array>;
  constructor(key: string) {
    this.expected = sha256(key);
  }

  /** Throws UNAUTHORIZED unless the request carries the key (Authorization: Bearer, or X-API-Key). */
  async verify(req: Request): Promise<void> {
    const auth = req.headers.get("authorization");
    const presented = auth?.startsWith("Bearer ") ? auth.slice(7) : req.headers.get("x-api-key");
    if (presented === null || presented === undefined)
      fail("UNAUTHORIZED", "expected an API key (Authorization: Bearer <key> or X-API-Key), got none");
    const [a, b] = await Promise.all([this.expected, sha256(presented)]);
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    if (diff !== 0) fail("UNAUTHORIZED", "expected the configured API key, got a different one");
  }
}

async function sha256(s: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
}
