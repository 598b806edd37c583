/**
 * Node adapter: reads and writes vector files by path. Format choice and parsing are in the
 * browser-safe vector-formats.ts; gunzip and "no such file" errors come from files.ts.
 */

import { fail } from "../core/errors.js";
import { type AtomicWriteOptions, writeFileAtomic } from "./atomic-write.node.js";
import { readBytes, writeStdout } from "./files.node.js";
import {
  declaredSizeOf,
  decodeVectors,
  encodeVectors,
  type VectorFormat,
  type Vectors,
  vectorFormatOf,
} from "./vector-formats.js";

export interface VectorFile extends Vectors {
  path: string;
}

/**
 * Reads n x dim float32 rows from `.fvecs`, `.ivecs`, `.bvecs`, `.npy`, `.csv`/`.tsv`/`.txt` or an
 * IDX file (each optionally gzipped, recognised by content), chosen by the name unless `format` is
 * given. "-" reads standard input, which needs `format`. Only regular files are read; sizes the
 * file declares are checked against its size and the memory budget before allocating, and
 * decompression stops at the declared size. Integer data keeps its raw values as floats (IDX
 * pixels stay 0..255). `label` (e.g. "--base") prefixes messages.
 */
export function readVectorFile(
  path: string,
  format?: VectorFormat,
  options: { label?: string } = {},
): VectorFile {
  if (path === "-" && format === undefined)
    fail(
      "INVALID_ARGUMENT",
      `${options.label ? `${options.label} ` : ""}-: standard input has no file name to tell its format; ` +
        "give the format (fvecs, ivecs, bvecs, npy, csv, idx)",
    );
  const fmt = format ?? vectorFormatOf(path);
  const name = options.label ? `${options.label} ${path}` : path;
  const bytes = readBytes(path, {
    stdin: true,
    label: options.label,
    declaredSize: declaredSizeOf(fmt, name),
  });
  return { path, ...decodeVectors(bytes, name, fmt) };
}

/**
 * Writes n x dim rows as `.fvecs`, `.ivecs`, `.bvecs`, `.npy` (float32) or `.csv`, chosen by the
 * name unless `format` is given. The data is encoded (and validated) before the file is touched,
 * and written atomically (atomic-write.node.ts), so bad input or a failed write leaves no partial
 * file and the previous one intact. "-" writes to standard output (then `format` is needed).
 */
export function writeVectorFile(
  path: string,
  values: ArrayLike<number>,
  dim: number,
  format?: VectorFormat,
  options?: AtomicWriteOptions,
): void {
  if (path === "-") {
    // Standard output: no name to tell the format, and nothing to replace atomically.
    if (format === undefined)
      fail("INVALID_ARGUMENT", "-: standard output has no file name to tell its format; give the format");
    writeStdout(encodeVectors(values, dim, `${format} on standard output`, format));
    return;
  }
  writeFileAtomic(path, encodeVectors(values, dim, path, format), options);
}
