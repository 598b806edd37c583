/**
 * Node adapter: model files on disk. The format itself (format.ts) and the family dispatch
 * (registry.ts) are browser-safe; only the reading and writing of files lives here.
 */
import { existsSync, statSync } from "node:fs";
import { fail, isMammalsError, MammalsError } from "../../core/errors.js";
import { type AtomicWriteOptions, writeFileAtomic } from "../../data/atomic-write.node.js";
import { readBytes } from "../../data/files.node.js";
import { loadModel, saveModel } from "../registry.js";
import type { Model } from "../types.js";

/** Writes `model` to `path` atomically (a failed write keeps the previous file); returns its size. */
export function writeModelFile(path: string, model: Model, options?: AtomicWriteOptions): number {
  return writeFileAtomic(path, saveModel(model), options);
}

/** Reads and loads a model file written by {@link writeModelFile} (any registered family). */
export function readModelFile(path: string): Model {
  if (!existsSync(path)) fail("BAD_FILE", `${path}: no such model file`);
  if (statSync(path).isDirectory()) fail("BAD_FILE", `${path}: is a directory; expected a model file`);
  const bytes = readBytes(path);
  try {
    return loadModel(bytes, path);
  } catch (e) {
    // Family loaders speak of "mlp model file" and of spec errors; the user needs to know which
    // file, and that the file is what is wrong (only a memory-budget refusal keeps its code).
    if (isMammalsError(e) && !e.message.startsWith(path))
      throw new MammalsError(e.code === "CAPACITY" ? e.code : "BAD_FILE", `${path}: ${e.message}`, {
        cause: e,
      });
    throw e;
  }
}
