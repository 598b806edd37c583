/**
 * The page's memory as a file (export / import): the labeled examples themselves, as raw 28x28
 * images, not their keys. Keys are the model's embeddings, which change when the model is
 * fine-tuned or replaced; the images stay valid, and the memory is rebuilt from them by replaying
 * each one through the current model (DeviceNode.restore). JSON, one object:
 *   { "format": "mammals-web-memory", "version": 1, "inputDim": 784, "numClasses": 10,
 *     "examples": [ { "label": 3, "source": "feedback", "pixels": "<base64 of 784 bytes>" }, ... ] }
 * Anything else is refused with a message saying what was expected and what arrived.
 */
import { fail } from "../../core/errors.js";
import { bytesFromBase64 } from "../../core/wasm.js";
import type { ExampleSource } from "../../memory/labeled-memory.js";

export const MEMORY_FILE_FORMAT = "mammals-web-memory";
export const MEMORY_FILE_VERSION = 1;

/** One stored example: an image (inputDim bytes, 0..255) and its label. */
export interface StoredExample {
  label: number;
  source: ExampleSource;
  pixels: Uint8Array;
}

export interface MemoryFile {
  inputDim: number;
  numClasses: number;
  examples: StoredExample[];
}

export function encodeMemoryFile(m: MemoryFile): string {
  return JSON.stringify({
    format: MEMORY_FILE_FORMAT,
    version: MEMORY_FILE_VERSION,
    inputDim: m.inputDim,
    numClasses: m.numClasses,
    examples: m.examples.map((e) => ({ label: e.label, source: e.source, pixels: toBase64(e.pixels) })),
  });
}

/** Parses an exported memory; `expect` is the current model's shape, which the file must match. */
export function decodeMemoryFile(
  text: string,
  expect: { inputDim: number; numClasses: number },
  source = "memory file",
): MemoryFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return fail("BAD_FILE", `${source}: not JSON (${(e as Error).message}); expected an exported memory`);
  }
  const o = raw as Record<string, unknown>;
  if (typeof o !== "object" || o === null || o.format !== MEMORY_FILE_FORMAT)
    fail(
      "BAD_FILE",
      `${source}: expected "format": "${MEMORY_FILE_FORMAT}", got ${JSON.stringify(o?.format ?? null)}`,
    );
  if (o.version !== MEMORY_FILE_VERSION)
    fail("BAD_FILE", `${source}: expected version ${MEMORY_FILE_VERSION}, got ${JSON.stringify(o.version)}`);
  if (o.inputDim !== expect.inputDim || o.numClasses !== expect.numClasses)
    fail(
      "BAD_FILE",
      `${source}: examples of ${o.inputDim} values in ${o.numClasses} classes; the current model takes ` +
        `${expect.inputDim} values in ${expect.numClasses} classes`,
    );
  if (!Array.isArray(o.examples)) fail("BAD_FILE", `${source}: expected "examples" to be an array`);
  const examples = o.examples.map((e: unknown, i: number): StoredExample => {
    const x = e as Record<string, unknown>;
    const where = `${source}: example ${i}`;
    if (!(Number.isInteger(x?.label) && (x.label as number) >= 0 && (x.label as number) < expect.numClasses))
      fail(
        "BAD_FILE",
        `${where}: expected a label in [0, ${expect.numClasses}), got ${JSON.stringify(x?.label)}`,
      );
    if (x.source !== "feedback" && x.source !== "upstream")
      fail("BAD_FILE", `${where}: expected source "feedback" or "upstream", got ${JSON.stringify(x.source)}`);
    if (typeof x.pixels !== "string") fail("BAD_FILE", `${where}: expected "pixels" as a base64 string`);
    let pixels: Uint8Array;
    try {
      pixels = fromBase64(x.pixels);
    } catch {
      return fail("BAD_FILE", `${where}: "pixels" is not valid base64`);
    }
    if (pixels.length !== expect.inputDim)
      fail("BAD_FILE", `${where}: expected ${expect.inputDim} pixel bytes, got ${pixels.length}`);
    return { label: x.label as number, source: x.source, pixels };
  });
  return { inputDim: expect.inputDim, numClasses: expect.numClasses, examples };
}

export function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return btoa(s);
}

export const fromBase64: (s: string) => Uint8Array = bytesFromBase64;
