/**
 * Node adapter for reading dataset files: whole-file reads with transparent gunzip, and errors
 * that name the file. Everything format-specific lives in the browser-safe parsers.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { fail } from "../core/errors.js";

/** Reads a file, gunzipping it when it starts with the gzip magic bytes. */
export function readBytes(path: string): Uint8Array {
  if (!existsSync(path)) fail("BAD_FILE", `${path}: no such file`);
  if (statSync(path).isDirectory()) fail("BAD_FILE", `${path}: is a directory; expected a file`);
  const buf = readFileSync(path);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      const out = gunzipSync(buf);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (e) {
      fail("BAD_FILE", `${path}: corrupt or truncated gzip data (${(e as Error).message})`);
    }
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
