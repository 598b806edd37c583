/**
 * Vector file formats: hand-made byte fixtures decoded to known values, numpy's own bytes as a
 * golden for the .npy writer, property round trips (writers -> readers), and one test per kind of
 * bad input checking that the error names the file and says what was expected.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { isMammalsError } from "../src/core/errors.js";
import { encodeCsv, parseCsv } from "../src/data/csv.js";
import { encodeIdxU8 } from "../src/data/idx.js";
import { encodeNpyF32, parseNpy } from "../src/data/npy.js";
import {
  encodeBvecs,
  encodeFvecs,
  encodeIvecs,
  parseBvecs,
  parseFvecs,
  parseIvecs,
} from "../src/data/vecs.js";
import { vectorFormatOf } from "../src/data/vector-formats.js";
import { readVectorFile, writeVectorFile } from "../src/data/vectors-file.node.js";

/** Little-endian bytes of int32 / float32 / float64 values, for hand-made fixtures. */
function le(kind: "i4" | "f4" | "f8" | "u1", ...values: number[]): number[] {
  const size = kind === "f8" ? 8 : kind === "u1" ? 1 : 4;
  const view = new DataView(new ArrayBuffer(values.length * size));
  values.forEach((v, i) => {
    if (kind === "i4") view.setInt32(i * 4, v, true);
    else if (kind === "f4") view.setFloat32(i * 4, v, true);
    else if (kind === "f8") view.setFloat64(i * 8, v, true);
    else view.setUint8(i, v);
  });
  return Array.from(new Uint8Array(view.buffer));
}

const bytes = (...parts: number[][]) => Uint8Array.from(parts.flat());

/** Asserts `fn` throws a MammalsError with `code` whose message contains every fragment. */
function expectError(fn: () => unknown, code: string, ...fragments: string[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected an error").toBeDefined();
  expect(isMammalsError(caught), String(caught)).toBe(true);
  const e = caught as Error & { code: string };
  expect(e.code).toBe(code);
  for (const f of fragments) expect(e.message).toContain(f);
}

const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16));

describe("fvecs / ivecs / bvecs", () => {
  it("decodes hand-made records", () => {
    const f = parseFvecs(bytes(le("i4", 2), le("f4", 1, -2.5), le("i4", 2), le("f4", 0.5, 3)), "a.fvecs");
    expect(f).toEqual({ n: 2, dim: 2, data: Float32Array.from([1, -2.5, 0.5, 3]) });
    // 1.0f is 00 00 80 3f: check the byte order itself, not just the writer/reader pair.
    expect(Array.from(encodeFvecs([1], 1))).toEqual([1, 0, 0, 0, 0, 0, 0x80, 0x3f]);
    const i = parseIvecs(bytes(le("i4", 3, -1, 7, 2147483647)), "gt.ivecs");
    expect(i).toEqual({ n: 1, dim: 3, data: Int32Array.from([-1, 7, 2147483647]) });
    const b = parseBvecs(bytes(le("i4", 3), [0, 128, 255], le("i4", 3), [1, 2, 3]), "s.bvecs");
    expect(b).toEqual({ n: 2, dim: 3, data: Uint8Array.from([0, 128, 255, 1, 2, 3]) });
    expect(parseFvecs(new Uint8Array(0), "empty.fvecs")).toEqual({ n: 0, dim: 0, data: new Float32Array(0) });
  });

  it("reads records from a buffer that is not 4-byte aligned", () => {
    const raw = encodeFvecs([1, 2, 3, 4, 5, 6], 3);
    const shifted = new Uint8Array(raw.length + 1).subarray(1);
    shifted.set(raw);
    expect(Array.from(parseFvecs(shifted, "odd.fvecs").data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("round-trips what the writers wrote (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (dim, n, seed) => {
          const floats = new Float32Array(n * dim);
          const ints = new Int32Array(n * dim);
          const u8 = new Uint8Array(n * dim);
          let s = seed;
          for (let j = 0; j < n * dim; j++) {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0;
            floats[j] = (s / 2 ** 32 - 0.5) * 10 ** ((s % 13) - 6);
            ints[j] = s | 0;
            u8[j] = s & 255;
          }
          const f = parseFvecs(encodeFvecs(floats, dim), "p.fvecs");
          const i = parseIvecs(encodeIvecs(ints, dim), "p.ivecs");
          const b = parseBvecs(encodeBvecs(u8, dim), "p.bvecs");
          for (const r of [f, i, b]) expect([r.n, r.dim]).toEqual(n === 0 ? [0, 0] : [n, dim]);
          expect(f.data).toEqual(floats);
          expect(i.data).toEqual(ints);
          expect(b.data).toEqual(u8);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("rejects a record whose dimension differs from record 0", () => {
    const data = bytes(
      le("i4", 2),
      le("f4", 1, 2),
      le("i4", 2),
      le("f4", 3, 4),
      le("i4", 3),
      le("f4", 5, 6, 7),
    );
    expectError(
      () => parseFvecs(data, "mixed.fvecs"),
      "BAD_FILE",
      "mixed.fvecs",
      "record 2",
      "dimension 3",
      "expected 2",
    );
    const ints = bytes(le("i4", 1, 5), le("i4", 2, 6, 7));
    expectError(
      () => parseIvecs(ints, "mixed.ivecs"),
      "BAD_FILE",
      "mixed.ivecs",
      "record 1",
      "dimension 2",
      "expected 1",
    );
  });

  it("rejects truncated records, naming the record and the expected size", () => {
    const full = encodeFvecs([1, 2, 3, 4, 5, 6], 3);
    expectError(
      () => parseFvecs(full.subarray(0, full.length - 2), "cut.fvecs"),
      "BAD_FILE",
      "cut.fvecs",
      "record 1",
      "truncated",
      "expected 16",
    );
    expectError(
      () => parseFvecs(full.subarray(0, 18), "cut2.fvecs"),
      "BAD_FILE",
      "record 1",
      "truncated",
      "4-byte dimension",
    );
    expectError(
      () => parseBvecs(encodeBvecs([1, 2, 3, 4], 4).subarray(0, 7), "cut.bvecs"),
      "BAD_FILE",
      "cut.bvecs",
      "record 0",
      "expected 8",
    );
    expectError(
      () => parseIvecs(Uint8Array.from([1, 0]), "tiny.ivecs"),
      "BAD_FILE",
      "tiny.ivecs",
      "too short",
    );
  });

  it("rejects zero and negative dimensions", () => {
    expectError(
      () => parseFvecs(bytes(le("i4", 0)), "zero.fvecs"),
      "BAD_FILE",
      "zero.fvecs",
      "dimension 0",
      "positive",
    );
    expectError(
      () => parseIvecs(bytes(le("i4", -3, 1, 2, 3)), "neg.ivecs"),
      "BAD_FILE",
      "neg.ivecs",
      "dimension -3",
      "positive",
    );
  });

  it("rejects NaN and infinite components, naming record and component", () => {
    const nan = bytes(le("i4", 2), le("f4", 1, 2), le("i4", 2), le("f4", Number.NaN, 0));
    expectError(
      () => parseFvecs(nan, "nan.fvecs"),
      "BAD_FILE",
      "nan.fvecs",
      "record 1",
      "component 0",
      "NaN",
      "finite",
    );
    const inf = bytes(le("i4", 3), le("f4", 0, 1, Number.NEGATIVE_INFINITY));
    expectError(
      () => parseFvecs(inf, "inf.fvecs"),
      "BAD_FILE",
      "inf.fvecs",
      "record 0",
      "component 2",
      "-Infinity",
    );
  });

  it("writers reject values the format cannot hold", () => {
    expectError(
      () => encodeFvecs([1, Number.NaN], 2),
      "INVALID_ARGUMENT",
      "row 0, component 1",
      "NaN",
      "finite float32",
    );
    expectError(() => encodeFvecs([1e39], 1), "INVALID_ARGUMENT", "1e+39");
    expectError(() => encodeFvecs([1, 2, 3], 2), "DIMENSION_MISMATCH", "3 values", "dim 2");
    expectError(() => encodeIvecs([1.5], 1), "INVALID_ARGUMENT", "1.5", "int32");
    expectError(() => encodeIvecs([2 ** 31], 1), "INVALID_ARGUMENT", "int32");
    expectError(() => encodeBvecs([256], 1), "INVALID_ARGUMENT", "0..255");
    expectError(() => encodeIvecs([1], 0), "INVALID_ARGUMENT", "positive");
  });
});

/** A .npy file with the given header dict, format version and data bytes. */
function npy(dict: string, data: number[], major = 1): Uint8Array {
  const header = Array.from(new TextEncoder().encode(`${dict}\n`));
  const len = major === 1 ? [header.length & 255, header.length >> 8] : le("i4", header.length);
  return bytes([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0], len, header, data);
}

describe(".npy", () => {
  // Regenerate: /usr/bin/python3 -c "import numpy as np, io; b = io.BytesIO();
  //   np.save(b, np.array([[1, 2], [3, 4.5]], dtype='<f4')); print(b.getvalue().hex())"
  const NUMPY_F4_2X2 =
    "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2032292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000803f000000400000404000009040";
  // Same for np.arange(3, dtype='|u1').
  const NUMPY_U1_3 =
    "934e554d5059010076007b276465736372273a20277c7531272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000102";

  it("reads numpy's own files and writes the same bytes numpy does", () => {
    const a = parseNpy(hex(NUMPY_F4_2X2), "a.npy");
    expect(a).toMatchObject({ descr: "<f4", shape: [2, 2], n: 2, dim: 2 });
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4.5]);
    expect(Buffer.from(encodeNpyF32([1, 2, 3, 4.5], 2, 2)).toString("hex")).toBe(NUMPY_F4_2X2);
    // A 1-D array is one vector.
    const u = parseNpy(hex(NUMPY_U1_3), "u.npy");
    expect(u).toMatchObject({ descr: "|u1", shape: [3], n: 1, dim: 3 });
    expect(u.data).toEqual(Uint8Array.from([0, 1, 2]));
  });

  it("reads v2 and v3 headers, float64 (as float32), big-endian and >2-D shapes", () => {
    const f8 = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", le("f8", 0.25, -8), 2);
    expect(parseNpy(f8, "v2.npy")).toMatchObject({ n: 1, dim: 2, data: Float32Array.from([0.25, -8]) });
    const be = npy(
      "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
      [0x3f, 0x80, 0, 0, 0x40, 0, 0, 0],
      3,
    );
    expect(Array.from(parseNpy(be, "be.npy").data)).toEqual([1, 2]);
    const img = npy(
      "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }",
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    expect(parseNpy(img, "img.npy")).toMatchObject({ n: 2, dim: 4 });
  });

  it("round-trips what the writer wrote (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { maxLength: 60 }),
        (dim, raw) => {
          const n = Math.floor(raw.length / dim);
          const values = Float32Array.from(raw.slice(0, n * dim));
          const back = parseNpy(encodeNpyF32(values, n, dim), "p.npy");
          expect([back.n, back.dim, back.shape]).toEqual([n, dim, [n, dim]]);
          expect(back.data).toEqual(values);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("rejects bad input with messages naming the file and the expectation", () => {
    expectError(
      () => parseNpy(encodeFvecs([1], 1), "x.npy"),
      "BAD_FILE",
      "x.npy",
      "wrong magic",
      "93 4e 55 4d 50 59",
    );
    const i8 = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", le("i4", 1, 0));
    expectError(() => parseNpy(i8, "i8.npy"), "BAD_FILE", "i8.npy", "unsupported dtype '<i8'", "<f4");
    const fortran = npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", le("f4", 1));
    expectError(() => parseNpy(fortran, "f.npy"), "BAD_FILE", "f.npy", "fortran_order", "C order");
    const short = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", le("f4", 1, 2, 3, 4, 5));
    expectError(
      () => parseNpy(short, "short.npy"),
      "BAD_FILE",
      "short.npy",
      "truncated data",
      "needs 24 bytes",
      "has 20",
    );
    const golden = hex(NUMPY_F4_2X2);
    expectError(() => parseNpy(golden.subarray(0, 60), "hdr.npy"), "BAD_FILE", "hdr.npy", "truncated header");
    const v9 = golden.slice();
    v9[6] = 9;
    expectError(() => parseNpy(v9, "v9.npy"), "BAD_FILE", "v9.npy", "version 9");
    const nan = npy(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
      le("f4", 1, 2, 3, Number.NaN),
    );
    expectError(() => parseNpy(nan, "nan.npy"), "BAD_FILE", "nan.npy", "row 1", "column 1", "NaN");
    const big = npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", le("f8", 1e300));
    expectError(() => parseNpy(big, "big.npy"), "BAD_FILE", "big.npy", "overflows float32");
    expectError(
      () => parseNpy(npy("{'descr': '<f4'}", []), "bad.npy"),
      "BAD_FILE",
      "bad.npy",
      "unreadable .npy header",
    );
    const scalar = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", le("f4", 1));
    expectError(() => parseNpy(scalar, "s.npy"), "BAD_FILE", "s.npy", "scalar");
  });
});

describe("CSV", () => {
  it("detects headers and separators, skips blanks and comments", () => {
    const comma = parseCsv('# exported\n"x","y","z"\r\n1, 2.5 ,-3e2\r\n\r\n4,5,6\r\n', "a.csv");
    expect(comma).toEqual({
      n: 2,
      dim: 3,
      data: Float32Array.from([1, 2.5, -300, 4, 5, 6]),
      header: ["x", "y", "z"],
    });
    expect(parseCsv("1;2\n3;4\n", "s.csv")).toEqual({ n: 2, dim: 2, data: Float32Array.from([1, 2, 3, 4]) });
    expect(parseCsv("  1\t2   3\n.5 6 +7\n", "w.txt").data).toEqual(Float32Array.from([1, 2, 3, 0.5, 6, 7]));
    expect(parseCsv("", "e.csv")).toEqual({ n: 0, dim: 0, data: new Float32Array(0) });
  });

  it("round-trips what the writer wrote (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 40 }),
        (dim, raw) => {
          const n = Math.floor(raw.length / dim);
          const values = Float32Array.from(raw.slice(0, n * dim));
          const back = parseCsv(encodeCsv(values, dim), "p.csv");
          expect([back.n, back.dim]).toEqual(n === 0 ? [0, 0] : [n, dim]);
          // -0 prints as "0"; compare with == semantics for zeros.
          expect(Array.from(back.data, (v) => v + 0)).toEqual(Array.from(values, (v) => v + 0));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("rejects ragged rows and bad values with file:line:column", () => {
    expectError(
      () => parseCsv("a,b,c\n1,2,3\n\n4,5\n", "r.csv"),
      "BAD_FILE",
      "r.csv:4",
      "2 fields",
      "expected 3",
      "line 1, the header",
    );
    expectError(() => parseCsv("1,2\n3,NaN\n", "n.csv"), "BAD_FILE", "n.csv:2:2", "NaN", "finite");
    expectError(() => parseCsv("1 -inf\n", "i.txt"), "BAD_FILE", "i.txt:1:2", "-inf", "finite");
    expectError(() => parseCsv("1,2\n3,\n", "e.csv"), "BAD_FILE", "e.csv:2:2", "empty field");
    expectError(() => parseCsv("1,2\nx,4\n", "x.csv"), "BAD_FILE", "x.csv:2:1", '"x" is not a number');
    expectError(() => parseCsv("1e39,1\n", "o.csv"), "BAD_FILE", "o.csv:1:1", "overflows float32");
  });
});

describe("vector files by path", () => {
  const dir = mkdtempSync(join(tmpdir(), "mammals-formats-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const values = Float32Array.from([0, 1, 2, 255, 7, 8]);

  it("chooses the format from the name", () => {
    const cases: Record<string, string> = {
      "a.fvecs": "fvecs",
      "B.IVECS.gz": "ivecs",
      "c.bvecs": "bvecs",
      "d.npy": "npy",
      "e.tsv": "csv",
      "train-images-idx3-ubyte.gz": "idx",
      "t10k-labels.idx1-ubyte": "idx",
    };
    for (const [name, format] of Object.entries(cases)) expect(vectorFormatOf(name)).toBe(format);
    expectError(() => vectorFormatOf("data.parquet"), "UNKNOWN_NAME", "data.parquet", ".fvecs");
  });

  it("writes and reads back every writable format, and reads gzip and IDX", () => {
    for (const ext of ["fvecs", "ivecs", "bvecs", "npy", "csv"]) {
      const path = join(dir, `v.${ext}`);
      writeVectorFile(path, values, 3);
      const back = readVectorFile(path);
      expect([back.n, back.dim, back.format, back.path]).toEqual([2, 3, ext, path]);
      expect(back.data).toEqual(values);
    }
    const gz = join(dir, "g.fvecs.gz");
    writeFileSync(gz, gzipSync(encodeFvecs(values, 2)));
    expect(readVectorFile(gz)).toMatchObject({ n: 3, dim: 2, data: values });
    // IDX images keep their raw 0..255 values (no scaling), flattened per item.
    const idx = join(dir, "train-images-idx3-ubyte.gz");
    writeFileSync(idx, gzipSync(encodeIdxU8(Uint8Array.from(values), [2, 1, 3])));
    expect(readVectorFile(idx)).toMatchObject({ n: 2, dim: 3, data: values, format: "idx" });
  });

  it("names the path of a missing file, and refuses what it cannot write without touching disk", () => {
    const missing = join(dir, "nope.fvecs");
    expectError(() => readVectorFile(missing), "BAD_FILE", missing, "no such file");
    expectError(
      () => writeVectorFile(join(dir, "w.fvecs.gz"), values, 3),
      "UNSUPPORTED",
      "w.fvecs.gz",
      "gzip",
    );
    expectError(() => writeVectorFile(join(dir, "w-ubyte"), values, 3), "UNSUPPORTED", "w-ubyte");
    const bad = join(dir, "bad.fvecs");
    expectError(() => writeVectorFile(bad, [1, Number.NaN], 2), "INVALID_ARGUMENT", "NaN");
    expect(existsSync(bad)).toBe(false);
    expectError(
      () => writeVectorFile(join(dir, "no-dir", "x.fvecs"), values, 3),
      "INVALID_ARGUMENT",
      "no-dir",
      "does not exist",
    );
  });

  it("rejects ivecs values that float32 cannot hold exactly, naming the record", () => {
    const path = join(dir, "big.ivecs");
    writeFileSync(path, encodeIvecs([1, 2, 3, 2 ** 24 + 1], 2));
    expectError(() => readVectorFile(path), "BAD_FILE", path, "record 1", "component 1", "16777217");
  });
});
