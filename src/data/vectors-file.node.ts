/**
 * Node adapter: reads and writes vector files by path. Format choice and parsing are in the
 * browser-safe vector-formats.ts; gunzip and "no such file" errors come from files.ts.
 */
import { type AtomicWriteOptions, writeFileAtomic } from "./atomic-write.node.js";
import { readBytes } from "./files.node.js";
import { decodeVectors, encodeVectors, type VectorFormat, type Vectors } from "./vector-formats.js";

export interface VectorFile extends Vectors {
  path: string;
}

/**
 * Reads n x dim float32 rows from `.fvecs`, `.ivecs`, `.bvecs`, `.npy`, `.csv`/`.tsv`/`.txt` or an
 * IDX file (each optionally gzipped), chosen by the name unless `format` is given. Integer data
 * keeps its raw values as floats (IDX pixels stay 0..255).
 */
export function readVectorFile(path: string, format?: VectorFormat): VectorFile {
  const bytes = readBytes(path);
  return { path, ...decodeVectors(bytes, path, format) };
}

/**
 * Writes n x dim rows as `.fvecs`, `.ivecs`, `.bvecs`, `.npy` (float32) or `.csv`, chosen by the
 * name unless `format` is given. The data is encoded (and validated) before the file is touched,
 * and written atomically (atomic-write.node.ts), so bad input or a failed write leaves no partial
 * file and the previous one intact.
 */
export function writeVectorFile(
  path: string,
  values: ArrayLike<number>,
  dim: number,
  format?: VectorFormat,
  options?: AtomicWriteOptions,
): void {
  writeFileAtomic(path, encodeVectors(values, dim, path, format), options);
}
