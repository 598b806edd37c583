/**
 * Node adapter for reading input files: whole-file reads with bounded, transparent gunzip, and
 * errors that name the file. Everything format-specific lives in the browser-safe parsers.
 *
 * What is refused, before anything large is allocated:
 * - anything that is not a regular file (a directory, a device such as a link to /dev/zero, a
 *   FIFO), except "-" for standard input where the caller allows it;
 * - a file, or a stdin stream, larger than the memory budget (core/memory-budget.ts);
 * - a name ending in ".gz" whose content is not gzip (gzip is recognised by its magic bytes
 *   1f 8b, never by the name, so a compressed file under any name is read too);
 * - gzip content that decompresses beyond what the inner header declares (the `declaredSize` of
 *   the format, read from a decompressed prefix), or beyond the budget when the format declares
 *   no size: a gzip bomb stops at that bound with a clear message, not at the system's limit.
 */
import { readFileSync, readSync, type Stats, statSync, writeSync } from "node:fs";
import { gunzipSync, constants as zlibConstants } from "node:zlib";
import { fail } from "../core/errors.js";
import { checkMemoryBudget, formatBytes, memoryBudget } from "../core/memory-budget.js";

export interface ReadOptions {
  /** Most bytes the (decompressed) content may have; default the memory budget. */
  maxBytes?: number;
  /**
   * Given the first decompressed bytes, the total size the content's own header declares (IDX
   * shape, npy shape), undefined when it declares none; may throw BAD_FILE when the prefix is
   * already invalid, so a corrupt or hostile stream stops before it is decompressed.
   */
  declaredSize?: (prefix: Uint8Array) => number | undefined;
  /** Accept "-" as standard input (default false: "-" is then a file name like any other). */
  stdin?: boolean;
  /** How the input is named in messages, e.g. "--base"; the path follows it. */
  label?: string;
}

/** Compressed bytes decoded up front to read the inner header (at most ~8 MB of output). */
const PREFIX_COMPRESSED = 8192;
const PREFIX_MAX_OUTPUT = 1 << 24;

const KIND_OF = (st: Stats): string =>
  st.isDirectory()
    ? "a directory"
    : st.isCharacterDevice()
      ? "a character device"
      : st.isBlockDevice()
        ? "a block device"
        : st.isFIFO()
          ? "a named pipe (FIFO)"
          : st.isSocket()
            ? "a socket"
            : "not a regular file";

/** Reads a file (or "-" for stdin), gunzipping it when it starts with the gzip magic bytes. */
export function readBytes(path: string, options: ReadOptions = {}): Uint8Array {
  const name = options.label ? `${options.label} ${path}` : path;
  const budget = options.maxBytes ?? memoryBudget();
  let raw: Uint8Array;
  if (path === "-" && options.stdin) raw = readStdin(name, budget);
  else {
    let st: Stats;
    try {
      st = statSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return fail(
        "BAD_FILE",
        code === "ENOENT" || code === "ENOTDIR"
          ? `${name}: no such file`
          : `${name}: cannot read (${code ?? (e as Error).message})`,
      );
    }
    if (!st.isFile())
      fail(
        "BAD_FILE",
        `${name}: is ${KIND_OF(st)}; expected a regular file${options.stdin ? " (or - for standard input)" : ""}`,
      );
    checkMemoryBudget(st.size, `${name}: reading this ${formatBytes(st.size)} file`, budget);
    try {
      const buf = readFileSync(path);
      raw = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      return fail("IO", `${name}: cannot read (${(e as Error).message})`, { cause: e });
    }
  }
  const gzip = raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b;
  if (!gzip) {
    if (/\.gz$/i.test(path)) {
      const head = Array.from(raw.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
      fail(
        "BAD_FILE",
        `${name}: named .gz but not gzip data: starts with [${head}], expected the gzip magic bytes 1f 8b ` +
          "(compress it, or drop .gz from the name)",
      );
    }
    return raw;
  }
  return gunzipBounded(raw, name, budget, options.declaredSize);
}

function gunzipBounded(
  gz: Uint8Array,
  name: string,
  budget: number,
  declaredSize: ReadOptions["declaredSize"],
): Uint8Array {
  const corrupt = (e: unknown): never =>
    fail("BAD_FILE", `${name}: corrupt or truncated gzip data (${(e as Error).message})`);
  // The trailer's ISIZE is the size mod 2^32 of the last member: a cheap early refusal when it
  // already exceeds a budget under 4 GiB; the real bound is maxOutputLength below.
  if (gz.length >= 18) {
    const isize = new DataView(gz.buffer, gz.byteOffset + gz.length - 4, 4).getUint32(0, true);
    checkMemoryBudget(isize, `${name}: decompressing (the gzip trailer says ${formatBytes(isize)})`, budget);
  }
  let limit = budget;
  let declared: number | undefined;
  if (declaredSize) {
    let prefix: Uint8Array | undefined;
    try {
      prefix = gunzipSync(gz.subarray(0, PREFIX_COMPRESSED), {
        finishFlush: zlibConstants.Z_SYNC_FLUSH,
        maxOutputLength: PREFIX_MAX_OUTPUT,
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ERR_BUFFER_TOO_LARGE") corrupt(e);
    }
    if (prefix) declared = declaredSize(new Uint8Array(prefix.buffer, prefix.byteOffset, prefix.byteLength));
    if (declared !== undefined) {
      checkMemoryBudget(declared, `${name}: the content its header declares`, budget);
      limit = declared;
    }
  }
  try {
    const out = gunzipSync(gz, { maxOutputLength: Math.max(1, limit) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE")
      fail(
        declared !== undefined ? "BAD_FILE" : "CAPACITY",
        declared !== undefined
          ? `${name}: decompresses to more than the ${declared} bytes its header declares (corrupt, or a gzip bomb)`
          : `${name}: decompresses to more than the memory budget of ${formatBytes(budget)} ` +
              "(a gzip bomb, or raise MAMMALS_MEMORY_BUDGET)",
      );
    return corrupt(e);
  }
}

/** All of standard input, refusing more than `budget` bytes. */
function readStdin(name: string, budget: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(1 << 20);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A non-blocking stdin (some terminals, some spawners) has no data yet: wait and retry.
      if (code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (code === "EOF") break;
      return fail("IO", `${name}: cannot read standard input (${(e as Error).message})`, { cause: e });
    }
    if (n === 0) break;
    total += n;
    checkMemoryBudget(total, `${name}: standard input (more than ${formatBytes(total - n)} so far)`, budget);
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Writes `bytes` to standard output synchronously (for outputs named "-"). A closed reader
 * (`mammals knn ... --out - | head`) is an IO error whose message says EPIPE, which a command can
 * turn into a quiet exit; a non-blocking pipe that is full is waited on, not dropped.
 */
export function writeStdout(bytes: Uint8Array, label = "-"): void {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(1, bytes, off, bytes.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      fail(
        "IO",
        code === "EPIPE"
          ? `${label}: standard output was closed by its reader (EPIPE) after ${off} of ${bytes.length} bytes`
          : `${label}: cannot write to standard output (${(e as Error).message})`,
        { cause: e },
      );
    }
  }
}
