/**
 * Node adapter: model files on disk. The format itself (format.ts) and the family dispatch
 * (registry.ts) are browser-safe; only the reading and writing of files lives here.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { fail } from "../../core/errors.js";
import { loadModel, saveModel } from "../registry.js";
import type { Model } from "../types.js";

/** Writes `model` to `path`; returns the file size in bytes. */
export function writeModelFile(path: string, model: Model): number {
  const bytes = saveModel(model);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    fail("BAD_FILE", `${path}: cannot write the model file (${(e as Error).message})`);
  }
  return bytes.length;
}

/** Reads and loads a model file written by {@link writeModelFile} (any registered family). */
export function readModelFile(path: string): Model {
  if (!existsSync(path)) fail("BAD_FILE", `${path}: no such model file`);
  if (statSync(path).isDirectory()) fail("BAD_FILE", `${path}: is a directory; expected a model file`);
  const buf = readFileSync(path);
  return loadModel(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}
