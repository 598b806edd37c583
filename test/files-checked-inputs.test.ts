/**
 * Checked inputs: only regular files (or "-" for stdin), gzip by magic bytes, declared sizes checked
 * against the file and the memory budget before allocating, bounded decompression, model specs
 * over the budget refused with the figure, checksummed traces tied to their catalog, CSV headers
 * only when no field is a number, a missing --data refused; every message names the file.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { loadCatalogVectors } from "../src/caching/catalog.node.js";
import { openTraceFile, writeTraceFile } from "../src/caching/trace-file.node.js";
import { encodeTraceHeader } from "../src/caching/trace-format.js";
import { generateTrace, type Trace } from "../src/caching/traces.js";
import { setMemoryBudget } from "../src/core/memory-budget.js";
import { type MammalsWarning, setWarningHandler } from "../src/core/warnings.js";
import { parseCsv } from "../src/data/csv.js";
import { loadDataset } from "../src/data/datasets.node.js";
import { encodeIdxU8 } from "../src/data/idx.js";
import { encodeNpyF32 } from "../src/data/npy.js";
import { encodeFvecs } from "../src/data/vecs.js";
import { readVectorFile } from "../src/data/vectors-file.node.js";
import { createModel } from "../src/models/registry.js";
import { errorOf } from "./error-fixtures.js";
import "../src/models/all.js";
import { tempDir } from "./cli-harness.js";

const dir = tempDir("mammals-inputs-");
afterEach(() => setMemoryBudget(undefined));

function expectError(f: () => unknown, code: string, ...parts: (string | RegExp)[]): void {
  const e = errorOf(f);
  expect(e.code).toBe(code);
  for (const p of parts) expect(e.message).toMatch(p);
}

/** Gzip members concatenated: `first` then `copies` members of `zeros` zero bytes (a bomb). */
function bomb(first: Uint8Array, zeros: number, copies: number): Uint8Array {
  const z = gzipSync(new Uint8Array(zeros), { level: 9 });
  const parts = [gzipSync(first), ...Array.from({ length: copies }, () => z)];
  return Buffer.concat(parts);
}

describe("only regular files are read", () => {
  it("a symbolic link to /dev/zero given as --base fails at once, naming the flag and the path", () => {
    const link = join(dir, "zero.fvecs");
    symlinkSync("/dev/zero", link);
    const t0 = performance.now();
    expectError(
      () => readVectorFile(link, undefined, { label: "--base" }),
      "BAD_FILE",
      "--base",
      link,
      "character device",
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("a directory and a FIFO are refused; a missing file says so", () => {
    expectError(() => readVectorFile(dir), "UNKNOWN_NAME", dir);
    const d = join(dir, "d.fvecs");
    mkdirSync(d);
    expectError(() => readVectorFile(d), "BAD_FILE", d, "a directory");
    const fifo = join(dir, "pipe.fvecs");
    execFileSync("mkfifo", [fifo]);
    expectError(() => readVectorFile(fifo), "BAD_FILE", fifo, "named pipe");
    expectError(
      () => readVectorFile(join(dir, "missing.fvecs")),
      "BAD_FILE",
      "missing.fvecs",
      "no such file",
    );
  });

  it('"-" reads standard input when the format is given', () => {
    const path = join(import.meta.dirname, "..", "src", "data", "vectors-file.node.ts");
    const script = `import { readVectorFile } from ${JSON.stringify(path)};
      const v = readVectorFile("-", "fvecs"); console.log(JSON.stringify([v.n, v.dim, Array.from(v.data)]));`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      input: encodeFvecs([1, 2, 3, 4], 2),
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual([2, 2, [1, 2, 3, 4]]);
    expectError(() => readVectorFile("-"), "INVALID_ARGUMENT", "standard input", "format");
  });
});

describe("gzip: by magic bytes, decompression bounded", () => {
  it("a .gz name over plain data is refused as not gzip (not read as a 6.6 GB record)", () => {
    const p = join(dir, "text.fvecs.gz");
    writeFileSync(p, "1.0,2.0,3.0\n4.0,5.0,6.0\n");
    expectError(() => readVectorFile(p), "BAD_FILE", p, "not gzip", "1f 8b");
    const q = join(dir, "compressed-without-suffix.fvecs");
    writeFileSync(q, gzipSync(encodeFvecs([1, 2], 2)));
    expect(readVectorFile(q).data).toEqual(Float32Array.from([1, 2]));
  });

  it("an IDX gzip bomb (header declares 7.8 kB, content is 1 GB) stops at the declared size, fast", () => {
    const p = join(dir, "bomb-idx3-ubyte.gz");
    writeFileSync(p, bomb(encodeIdxU8(new Uint8Array(10 * 784), [10, 28, 28]), 16 << 20, 64));
    const t0 = performance.now();
    expectError(() => readVectorFile(p), "BAD_FILE", p, "more than the 7856 bytes its header declares");
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  it("a header declaring more than the budget is refused before decompressing", () => {
    const idx = encodeIdxU8(new Uint8Array(16), [2, 8]);
    new DataView(idx.buffer).setUint32(4, 0x7fffffff);
    const p = join(dir, "huge-idx3-ubyte.gz");
    writeFileSync(p, gzipSync(idx));
    expectError(() => readVectorFile(p), "CAPACITY", p, "header declares needs 17.2 GB", "memory budget");
    const npy = encodeNpyF32(new Float32Array(4), 2, 2);
    const text = new TextDecoder("latin1").decode(npy).replace("(2, 2), ", "(99999999, 99), ");
    const q = join(dir, "huge.npy.gz");
    writeFileSync(q, gzipSync(Buffer.from(text, "latin1")));
    expectError(() => readVectorFile(q), "CAPACITY", q, "header declares needs 39.6 GB");
  });

  it("zeros under an .fvecs name stop at the first record; valid records stop at the budget", () => {
    const p = join(dir, "zeros.fvecs.gz");
    writeFileSync(p, bomb(new Uint8Array(8), 16 << 20, 64));
    const t0 = performance.now();
    expectError(() => readVectorFile(p), "BAD_FILE", p, "record 0", "dimension 0");
    expect(performance.now() - t0).toBeLessThan(2000);
    const records = encodeFvecs(new Float32Array(1 << 20), 1); // 8 MB of dim-1 records
    const q = join(dir, "many.fvecs.gz");
    writeFileSync(q, Buffer.concat(Array.from({ length: 8 }, () => gzipSync(records))));
    setMemoryBudget(32 << 20);
    expectError(() => readVectorFile(q), "CAPACITY", q, "more than the memory budget of 33.6 MB");
  });

  it("a plain file over the budget is refused from its size, before reading", () => {
    const p = join(dir, "big.fvecs");
    writeFileSync(p, encodeFvecs(new Float32Array(4096), 4));
    setMemoryBudget(1000);
    expectError(() => readVectorFile(p), "CAPACITY", p, "20.5 kB", "memory budget of 1.0 kB");
  });
});

describe("declared sizes against the file", () => {
  it("IDX and npy trailing bytes are errors naming the file, not silently ignored", () => {
    const p = join(dir, "trail-idx1-ubyte");
    writeFileSync(p, Buffer.concat([encodeIdxU8(Uint8Array.from([1, 2, 3]), [3]), Buffer.from([9, 9])]));
    expectError(() => readVectorFile(p), "BAD_FILE", p, "2 bytes after the data");
    const q = join(dir, "trail.npy");
    writeFileSync(q, Buffer.concat([encodeNpyF32([1, 2], 1, 2), Buffer.from([0, 0, 0, 0])]));
    expectError(() => readVectorFile(q), "BAD_FILE", q, "4 bytes after the data");
  });

  it("a model spec whose parameters exceed the budget is refused with the figure", () => {
    expectError(
      () => createModel("mlp:65536,65536", { inputDim: 784, numClasses: 10 }),
      "CAPACITY",
      "mlp:65536,65536",
      "needs 17.4 GB",
    );
  });
});

describe("traces: checksum and catalog fingerprint", () => {
  const g = gaussVectors("n=300,dim=4,seed=3");
  const catalog = makeCatalog(g.canonical, g.vectors, g.dim, "flat");
  const count = (t: Trace) => {
    let n = 0;
    for (const _ of t.requests()) n++;
    return n;
  };

  it("a flipped byte in the ids (or the header) is refused before any request is served", () => {
    const p = join(dir, "flip.trace");
    writeTraceFile(p, generateTrace("irm:count=2000,seed=4", catalog), "ref", { catalog });
    expect(count(openTraceFile(p, catalog))).toBe(2000);
    const bytes = readFileSync(p);
    const flipped = Buffer.from(bytes);
    flipped[bytes.length - 40] ^= 0x01; // an id 0..299 stays in range: only the checksum sees it
    writeFileSync(p, flipped);
    expectError(() => openTraceFile(p, catalog), "BAD_FILE", p, "checksum");
    const seed = Buffer.from(bytes);
    const at = seed.indexOf('"noiseSeed":') + 13;
    seed[at] = seed[at] === 0x31 ? 0x32 : 0x31;
    writeFileSync(p, seed);
    expectError(() => openTraceFile(p, catalog), "BAD_FILE", p, "checksum");
  });

  it("another catalog of the same shape is refused unless forced", () => {
    const p = join(dir, "fp.trace");
    writeTraceFile(p, generateTrace("irm:count=100,seed=4", catalog), "ref", { catalog });
    const h = gaussVectors("n=300,dim=4,seed=99");
    const other = makeCatalog(h.canonical, h.vectors, h.dim, "flat");
    expectError(() => openTraceFile(p, other), "INVALID_ARGUMENT", p, "same shape", "fingerprint", "force");
    expect(count(openTraceFile(p, other, { force: true }))).toBe(100);
  });

  it("a version-1 file (no checksum, no fingerprint) is still read, with one warning", () => {
    const header = encodeTraceHeader({
      version: 1,
      encoding: "ref",
      dim: 4,
      count: 2,
      source: "old",
      catalog: catalog.name,
      catalogN: 300,
      noise: 0,
    });
    const p = join(dir, "v1.trace");
    writeFileSync(p, Buffer.concat([header, Buffer.from(Int32Array.from([1, 2]).buffer)]));
    const seen: MammalsWarning[] = [];
    const previous = setWarningHandler((w) => seen.push(w));
    try {
      expect(count(openTraceFile(p, catalog))).toBe(2);
      expect(count(openTraceFile(p, catalog))).toBe(2);
    } finally {
      setWarningHandler(previous);
    }
    expect(seen.length).toBe(1);
    expect(seen[0].message).toContain(p);
    expect(seen[0].message).toMatch(/version 1.*cannot be verified/);
  });

  it("trace stats over a catalog of the wrong dimension names the trace file", () => {
    const p = join(dir, "dim8.fvecs");
    writeFileSync(p, encodeFvecs(new Float32Array(16), 8));
    expectError(() => openTraceFile(p, catalog), "DIMENSION_MISMATCH", p, "dimension 8", "dimension 4");
  });
});

describe("text, directories and catalogs", () => {
  it("CSV: a first row mixing numbers and text is an error at its line and column, not a header", () => {
    expectError(() => parseCsv("1,2,x\n3,4,5\n", "m.csv"), "BAD_FILE", "m.csv:1:3", '"x" is not a number');
    expect(parseCsv("a,b,c\n3,4,5\n", "h.csv")).toMatchObject({ n: 1, dim: 3, header: ["a", "b", "c"] });
  });

  it("--data naming a missing directory is an error, not a silent fallback", () => {
    const missing = join(dir, "no-such-data");
    expectError(
      () => loadDataset("fashion-mnist", { dataDir: missing }),
      "BAD_FILE",
      "--data",
      missing,
      "no such directory",
    );
    expectError(() => loadDataset("mnist", { dataDir: missing }), "BAD_FILE", missing);
  });

  it("a catalog named like a vector file that does not exist says the file is missing", () => {
    expectError(
      () => loadCatalogVectors(join(dir, "missing.fvecs")),
      "BAD_FILE",
      "missing.fvecs",
      "no such file",
    );
  });
});
