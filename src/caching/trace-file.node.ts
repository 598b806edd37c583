/**
 * Trace files (Node): write a trace in the compact binary format (trace-format.ts) or as .fvecs,
 * and open either lazily. Readers stream the body in chunks of whole records, so a trace larger
 * than memory runs; `requests()` is the sync fast path (readSync), the async iterator reads with
 * promises. An .fvecs trace is served in row order; its chunks are parsed by data/vecs.ts.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { crc32Update, hex32 } from "../core/checksum.js";
import { fail } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { warnOnce } from "../core/warnings.js";
import { type AtomicFile, type AtomicWriteOptions, openAtomic } from "../data/atomic-write.node.js";
import { encodeFvecs, parseFvecs } from "../data/vecs.js";
import {
  catalogFingerprint,
  checksumDigitsOffset,
  decodeTraceHeader,
  encodeTraceHeader,
  headerLength,
  noiseSeedOf,
  noisyRow,
  recordBytes,
  TRACE_VERSION,
  type TraceEncoding,
  type TraceHeader,
  UNSEALED_CHECKSUM,
} from "./trace-format.js";
import type { Trace, TraceInfo, TraceRequest } from "./traces.js";
import type { Catalog } from "./types.js";

const CHUNK_BYTES = 1 << 22;

export function isFvecsPath(path: string): boolean {
  return /\.fvecs$/i.test(path);
}

export interface WriteTraceOptions extends AtomicWriteOptions {
  /**
   * The catalog the trace was generated over: its fingerprint goes into the header, so replaying
   * the file over another catalog (even one of the same shape) is refused. Needed for a checked
   * "ref" trace; without it the file records the catalog by name and shape only.
   */
  catalog?: Catalog;
}

/**
 * Writes `trace` to `path`: `.fvecs` by name, otherwise the binary format (version 2, with its
 * checksum), "ref" encoding when the trace was generated over a catalog (4 bytes a request), else
 * "f32". Written atomically (data/atomic-write.node.ts): a failure leaves no partial file and the
 * previous one intact.
 */
export function writeTraceFile(
  path: string,
  trace: Trace,
  encoding?: TraceEncoding,
  options: WriteTraceOptions = {},
): TraceHeader | undefined {
  const info = trace.info;
  const enc: TraceEncoding = encoding ?? (info.generator && info.catalogN ? "ref" : "f32");
  const { catalog, ...writeOptions } = options;
  if (!isFvecsPath(path) && enc === "ref" && !(info.catalog && info.catalogN && info.noise !== undefined))
    fail(
      "INVALID_ARGUMENT",
      `trace ${info.source}: ref encoding needs a generated trace (catalog and noise known)`,
    );
  if (catalog && info.catalogN !== undefined && (catalog.n !== info.catalogN || catalog.dim !== info.dim))
    fail(
      "DIMENSION_MISMATCH",
      `writeTraceFile ${path}: the trace was generated over ${info.catalogN} x ${info.dim} objects, ` +
        `the catalog given (${catalog.name}) is ${catalog.n} x ${catalog.dim}`,
    );
  const file = openAtomic(path, writeOptions);
  try {
    let header: TraceHeader | undefined;
    if (isFvecsPath(path)) {
      writeChunks(file, trace, info.dim, (rows, n) => encodeFvecs(rows.subarray(0, n * info.dim), info.dim));
    } else {
      header = {
        version: TRACE_VERSION,
        encoding: enc,
        dim: info.dim,
        count: info.count,
        source: info.source,
        generator: info.generator,
        seed: info.seed,
        ...(enc === "ref"
          ? {
              catalog: info.catalog,
              catalogN: info.catalogN,
              noise: info.noise,
              noiseSeed: noiseSeedOf(info.seed ?? 1),
            }
          : {}),
        ...(catalog ? { catalogFingerprint: catalogFingerprint(catalog) } : {}),
        checksum: UNSEALED_CHECKSUM,
      };
      // The CRC covers the header (with zero digits) and the body; the digits are patched in last.
      const head = encodeTraceHeader(header);
      let crc = 0;
      const write = (bytes: Uint8Array) => {
        crc = crc32Update(crc, bytes);
        file.write(bytes);
      };
      write(head);
      let written = 0;
      if (enc === "f32")
        written = writeChunks(
          write,
          trace,
          info.dim,
          (rows, n) => new Uint8Array(rows.buffer, 0, n * info.dim * 4),
        );
      else {
        const ids = new Int32Array(CHUNK_BYTES / 4);
        let n = 0;
        for (const r of trace.requests()) {
          if (r.origin < 0) fail("INVALID_ARGUMENT", "ref encoding: a request has no catalog origin");
          if (catalog && r.origin >= catalog.n)
            fail(
              "INVALID_ARGUMENT",
              `ref encoding: request ${written} names object ${r.origin} outside the catalog`,
            );
          ids[n++] = r.origin;
          written++;
          if (n === ids.length) {
            write(new Uint8Array(ids.buffer, 0, n * 4));
            n = 0;
          }
        }
        write(new Uint8Array(ids.buffer, 0, n * 4));
      }
      if (written !== info.count)
        fail(
          "INVALID_ARGUMENT",
          `trace ${info.source}: produced ${written} requests, its info says ${info.count}`,
        );
      header.checksum = `crc32:${hex32(crc)}`;
      file.writeAt(checksumDigitsOffset(head), new TextEncoder().encode(hex32(crc)));
    }
    file.commit();
    return header;
  } catch (e) {
    file.abort();
    throw e;
  }
}

/** Writes every request in chunks of whole rows; returns how many requests were written. */
function writeChunks(
  out: AtomicFile | ((bytes: Uint8Array) => void),
  trace: Trace,
  dim: number,
  encode: (rows: Float32Array, n: number) => Uint8Array,
): number {
  const write = typeof out === "function" ? out : (b: Uint8Array) => out.write(b);
  const per = Math.max(1, Math.floor(CHUNK_BYTES / (4 * dim)));
  const rows = new Float32Array(per * dim);
  let n = 0;
  let total = 0;
  for (const r of trace.requests()) {
    rows.set(r.x, n * dim);
    total++;
    if (++n === per) {
      write(encode(rows, n));
      n = 0;
    }
  }
  if (n > 0) write(encode(rows, n));
  return total;
}

interface Layout {
  info: TraceInfo;
  header?: TraceHeader;
  bodyOffset: number;
  record: number;
}

export interface OpenTraceOptions {
  /**
   * Replay a "ref" trace over a catalog whose fingerprint differs from the one it was generated
   * over (same shape, different vectors): the ids then name other objects. Off by default.
   */
  force?: boolean;
}

/** The header of a trace file (binary or .fvecs) without opening its body or needing its catalog. */
export function peekTraceFile(path: string): { info: TraceInfo; encoding: TraceEncoding | "fvecs" } {
  const l = readLayout(path, undefined, true);
  return { info: l.info, encoding: l.header ? l.header.encoding : "fvecs" };
}

function readLayout(path: string, catalog?: Catalog, peek = false, options: OpenTraceOptions = {}): Layout {
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch {}
  if (!st)
    fail(
      "BAD_FILE",
      `trace "${path}": no such file; expected a trace file (.trace, .fvecs) or a generator spec (irm:..., shift:..., adversarial:...)`,
    );
  if (!st.isFile())
    fail(
      "BAD_FILE",
      `trace "${path}": ${st.isDirectory() ? "is a directory" : "is not a regular file"}; expected a trace file`,
    );
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    if (isFvecsPath(path)) {
      if (size < 4) fail("BAD_FILE", `${path}: ${size} bytes is too short for an .fvecs trace`);
      const b = new Uint8Array(4);
      readSync(fd, b, 0, 4, 0);
      const dim = new DataView(b.buffer).getInt32(0, true);
      if (dim < 1 || dim > 1 << 20) fail("BAD_FILE", `${path}: first record's dimension is ${dim}`);
      const record = 4 + 4 * dim;
      if (size % record !== 0)
        fail("BAD_FILE", `${path}: ${size} bytes is not a whole number of ${dim}-dimensional .fvecs records`);
      if (catalog && !peek) checkTraceDim(path, dim, catalog);
      return { info: { dim, count: size / record, source: path }, bodyOffset: 0, record };
    }
    const first = new Uint8Array(Math.min(12, size));
    readSync(fd, first, 0, first.length, 0);
    const need = first.length < 12 ? first.length : headerLength(first);
    const prefix = new Uint8Array(Math.min(need, size));
    readSync(fd, prefix, 0, prefix.length, 0);
    const { header, bodyOffset } = decodeTraceHeader(prefix, path, size);
    if (!peek) {
      if (header.version >= 2) verifyChecksum(fd, size, prefix, header, path);
      else
        warnOnce(
          "MAMMALS_TRACE_UNVERIFIED",
          `${path}: trace format version 1 has no checksum or catalog fingerprint, so its records cannot be ` +
            "verified; regenerate it (mammals trace gen) to get both",
          `v1:${path}`,
        );
    }
    if (catalog && !peek && header.encoding === "f32") checkTraceDim(path, header.dim, catalog);
    if (header.encoding === "ref" && !peek) {
      if (!catalog) fail("INVALID_ARGUMENT", `${path}: a ref trace needs its catalog (${header.catalog})`);
      if (catalog.n !== header.catalogN || catalog.dim !== header.dim)
        fail(
          "DIMENSION_MISMATCH",
          `${path}: made over catalog ${header.catalog} (${header.catalogN} x ${header.dim}), given ${catalog.name} (${catalog.n} x ${catalog.dim})`,
        );
      checkCatalogFingerprint(header, catalog, path, options);
    }
    const info: TraceInfo = {
      dim: header.dim,
      count: header.count,
      source: path,
      generator: header.generator,
      seed: header.seed,
      catalog: header.catalog,
      catalogN: header.catalogN,
      noise: header.noise,
    };
    return { info, header, bodyOffset, record: recordBytes(header) };
  } finally {
    closeSync(fd);
  }
}

/** A trace replayed over a catalog must have the catalog's dimension (named here, not in a search). */
function checkTraceDim(path: string, dim: number, catalog: Catalog): void {
  if (dim !== catalog.dim)
    fail(
      "DIMENSION_MISMATCH",
      `${path}: requests have dimension ${dim}, but the catalog ${catalog.name} has dimension ${catalog.dim}`,
    );
}

/** Reads the whole file once and compares its CRC-32 with the header's (digits read as zeros). */
function verifyChecksum(
  fd: number,
  size: number,
  prefix: Uint8Array,
  header: TraceHeader,
  path: string,
): void {
  const digits = checksumDigitsOffset(prefix);
  if (digits < 0) fail("BAD_FILE", `${path}: header has no "checksum" field`);
  const head = prefix.slice();
  head.fill(0x30, digits, digits + 8);
  let crc = crc32Update(0, head);
  const buf = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(1, size - head.length)));
  for (let at = head.length; at < size; ) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
    if (got <= 0) fail("BAD_FILE", `${path}: truncated while reading byte ${at} of ${size}`);
    crc = crc32Update(crc, buf, 0, got);
    at += got;
  }
  const found = `crc32:${hex32(crc)}`;
  if (found !== header.checksum)
    fail(
      "BAD_FILE",
      `${path}: corrupt: the file's checksum is ${found}, its header records ${header.checksum} ` +
        "(a changed byte in the header or the requests); regenerate the trace",
    );
}

function checkCatalogFingerprint(
  header: TraceHeader,
  catalog: Catalog,
  path: string,
  o: OpenTraceOptions,
): void {
  if (header.catalogFingerprint === undefined) {
    if (header.version < 2) return; // already warned: version 1 has neither checksum nor fingerprint
    warnOnce(
      "MAMMALS_TRACE_UNVERIFIED",
      `${path}: the trace records no catalog fingerprint, so only the catalog's shape ` +
        `(${catalog.n} x ${catalog.dim}) can be checked; regenerate it with its catalog to check more`,
      `fp:${path}`,
    );
    return;
  }
  const given = catalogFingerprint(catalog);
  if (given === header.catalogFingerprint || o.force) return;
  fail(
    "INVALID_ARGUMENT",
    `${path}: generated over catalog ${header.catalog} (fingerprint ${header.catalogFingerprint}); the catalog ` +
      `given, ${catalog.name}, has the same shape (${catalog.n} x ${catalog.dim}) but other vectors ` +
      `(fingerprint ${given}), so the trace's ids would name other objects; pass the catalog it was ` +
      "generated over, or force the replay",
  );
}

/** Decodes whole records of a chunk into requests. */
function* decodeChunk(
  l: Layout,
  bytes: Uint8Array,
  path: string,
  firstRecord: number,
  state: { req: TraceRequest; rng?: Rng },
  catalog?: Catalog,
): Generator<TraceRequest> {
  const { dim } = l.info;
  const n = bytes.length / l.record;
  const req = state.req;
  if (!l.header) {
    const rows = parseFvecs(bytes, `${path} (records from ${firstRecord})`).data;
    for (let i = 0; i < n; i++) {
      req.x = rows.subarray(i * dim, (i + 1) * dim);
      yield req;
    }
    return;
  }
  if (l.header.encoding === "f32") {
    const rows = new Float32Array(bytes.buffer, bytes.byteOffset, n * dim);
    for (let i = 0; i < n; i++) {
      const x = rows.subarray(i * dim, (i + 1) * dim);
      for (let j = 0; j < dim; j++)
        if (!Number.isFinite(x[j]))
          fail("BAD_FILE", `${path}: request ${firstRecord + i}, component ${j} is ${x[j]}`);
      req.x = x;
      yield req;
    }
    return;
  }
  const cat = catalog as Catalog;
  const ids = new Int32Array(bytes.buffer, bytes.byteOffset, n);
  const noise = l.header.noise ?? 0;
  for (let i = 0; i < n; i++) {
    const o = ids[i];
    if (!(o >= 0 && o < cat.n))
      fail(
        "BAD_FILE",
        `${path}: request ${firstRecord + i} names object ${o}, outside the catalog (0..${cat.n - 1})`,
      );
    req.origin = o;
    if (noise === 0) {
      req.x = cat.row(o);
      req.row = o;
    } else noisyRow(cat.vectors, o, dim, noise, state.rng as Rng, req.x);
    yield req;
  }
}

function newState(l: Layout): { req: TraceRequest; rng?: Rng } {
  const h = l.header;
  return {
    req: { x: new Float32Array(l.info.dim), row: -1, origin: -1 },
    rng: h?.noiseSeed !== undefined ? new Rng(h.noiseSeed) : undefined,
  };
}

/**
 * Opens a trace file (binary trace or .fvecs) lazily. A ref trace needs its catalog, which must be
 * the one it was generated over (fingerprint) unless `force`. A version-2 file's checksum is
 * verified here, in one sequential pass, before any request is served.
 */
export function openTraceFile(path: string, catalog?: Catalog, options: OpenTraceOptions = {}): Trace {
  const l = readLayout(path, catalog, false, options);
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / l.record));
  const total = l.info.count;
  return {
    info: l.info,
    *requests() {
      const fd = openSync(path, "r");
      try {
        // Sized to the trace, not the chunk: a 20-request file needs 80 bytes, not 4 MB.
        const buf = new Uint8Array(Math.min(perChunk, total) * l.record);
        const state = newState(l);
        for (let first = 0; first < total; first += perChunk) {
          const n = Math.min(perChunk, total - first);
          const bytes = buf.subarray(0, n * l.record);
          const got = readSync(fd, bytes, 0, bytes.length, l.bodyOffset + first * l.record);
          if (got !== bytes.length) fail("BAD_FILE", `${path}: truncated at request ${first}`);
          yield* decodeChunk(l, bytes, path, first, state, catalog);
        }
      } finally {
        closeSync(fd);
      }
    },
    async *[Symbol.asyncIterator]() {
      const fh = await open(path, "r");
      try {
        const state = newState(l);
        for (let first = 0; first < total; first += perChunk) {
          const n = Math.min(perChunk, total - first);
          const bytes = new Uint8Array(n * l.record);
          const { bytesRead } = await fh.read(bytes, 0, bytes.length, l.bodyOffset + first * l.record);
          if (bytesRead !== bytes.length) fail("BAD_FILE", `${path}: truncated at request ${first}`);
          yield* decodeChunk(l, bytes, path, first, state, catalog);
        }
      } finally {
        await fh.close();
      }
    },
  };
}
