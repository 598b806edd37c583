/**
 * Trace files (Node): write a trace in the compact binary format (trace-format.ts) or as .fvecs,
 * and open either lazily. Readers stream the body in chunks of whole records, so a trace larger
 * than memory runs; `requests()` is the sync fast path (readSync), the async iterator reads with
 * promises. An .fvecs trace is served in row order; its chunks are parsed by data/vecs.ts.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { fail } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { encodeFvecs, parseFvecs } from "../data/vecs.js";
import {
  decodeTraceHeader,
  encodeTraceHeader,
  headerLength,
  noiseSeedOf,
  noisyRow,
  recordBytes,
  TRACE_VERSION,
  type TraceEncoding,
  type TraceHeader,
} from "./trace-format.js";
import type { Trace, TraceInfo, TraceRequest } from "./traces.js";
import type { Catalog } from "./types.js";

const CHUNK_BYTES = 1 << 22;

export function isFvecsPath(path: string): boolean {
  return /\.fvecs$/i.test(path);
}

/**
 * Writes `trace` to `path`: `.fvecs` by name, otherwise the binary format, "ref" encoding when the
 * trace was generated over a catalog (4 bytes a request), else "f32". Written to a temporary name
 * first, so a failure leaves no partial file.
 */
export function writeTraceFile(
  path: string,
  trace: Trace,
  encoding?: TraceEncoding,
): TraceHeader | undefined {
  const info = trace.info;
  const enc: TraceEncoding = encoding ?? (info.generator && info.catalogN ? "ref" : "f32");
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    let header: TraceHeader | undefined;
    if (isFvecsPath(path)) {
      writeChunks(fd, trace, info.dim, (rows, n) => encodeFvecs(rows.subarray(0, n * info.dim), info.dim));
    } else {
      if (enc === "ref" && !(info.catalog && info.catalogN && info.noise !== undefined))
        fail(
          "INVALID_ARGUMENT",
          `trace ${info.source}: ref encoding needs a generated trace (catalog and noise known)`,
        );
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
      };
      writeSync(fd, encodeTraceHeader(header));
      if (enc === "f32")
        writeChunks(fd, trace, info.dim, (rows, n) => new Uint8Array(rows.buffer, 0, n * info.dim * 4));
      else {
        const ids = new Int32Array(CHUNK_BYTES / 4);
        let n = 0;
        for (const r of trace.requests()) {
          if (r.origin < 0) fail("INVALID_ARGUMENT", "ref encoding: a request has no catalog origin");
          ids[n++] = r.origin;
          if (n === ids.length) {
            writeSync(fd, new Uint8Array(ids.buffer, 0, n * 4));
            n = 0;
          }
        }
        writeSync(fd, new Uint8Array(ids.buffer, 0, n * 4));
      }
    }
    closeSync(fd);
    renameSync(tmp, path);
    return header;
  } catch (e) {
    try {
      closeSync(fd);
    } catch {}
    rmSync(tmp, { force: true });
    throw e;
  }
}

function writeChunks(
  fd: number,
  trace: Trace,
  dim: number,
  encode: (rows: Float32Array, n: number) => Uint8Array,
): void {
  const per = Math.max(1, Math.floor(CHUNK_BYTES / (4 * dim)));
  const rows = new Float32Array(per * dim);
  let n = 0;
  for (const r of trace.requests()) {
    rows.set(r.x, n * dim);
    if (++n === per) {
      writeSync(fd, encode(rows, n));
      n = 0;
    }
  }
  if (n > 0) writeSync(fd, encode(rows, n));
}

interface Layout {
  info: TraceInfo;
  header?: TraceHeader;
  bodyOffset: number;
  record: number;
}

/** The header of a trace file (binary or .fvecs) without opening its body or needing its catalog. */
export function peekTraceFile(path: string): { info: TraceInfo; encoding: TraceEncoding | "fvecs" } {
  const l = readLayout(path, undefined, true);
  return { info: l.info, encoding: l.header ? l.header.encoding : "fvecs" };
}

function readLayout(path: string, catalog?: Catalog, peek = false): Layout {
  if (!existsSync(path) || !statSync(path).isFile())
    fail(
      "BAD_FILE",
      `trace "${path}": no such file; expected a trace file (.trace, .fvecs) or a generator spec (irm:..., shift:..., adversarial:...)`,
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
      return { info: { dim, count: size / record, source: path }, bodyOffset: 0, record };
    }
    const first = new Uint8Array(Math.min(12, size));
    readSync(fd, first, 0, first.length, 0);
    const need = first.length < 12 ? first.length : headerLength(first);
    const prefix = new Uint8Array(Math.min(need, size));
    readSync(fd, prefix, 0, prefix.length, 0);
    const { header, bodyOffset } = decodeTraceHeader(prefix, path, size);
    if (header.encoding === "ref" && !peek) {
      if (!catalog) fail("INVALID_ARGUMENT", `${path}: a ref trace needs its catalog (${header.catalog})`);
      if (catalog.n !== header.catalogN || catalog.dim !== header.dim)
        fail(
          "DIMENSION_MISMATCH",
          `${path}: made over catalog ${header.catalog} (${header.catalogN} x ${header.dim}), given ${catalog.name} (${catalog.n} x ${catalog.dim})`,
        );
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

/** Opens a trace file (binary trace or .fvecs) lazily. A ref trace needs its catalog. */
export function openTraceFile(path: string, catalog?: Catalog): Trace {
  const l = readLayout(path, catalog);
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / l.record));
  const total = l.info.count;
  return {
    info: l.info,
    *requests() {
      const fd = openSync(path, "r");
      try {
        const buf = new Uint8Array(perChunk * l.record);
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
