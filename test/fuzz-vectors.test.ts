/**
 * Fuzzing the vector file readers (IDX, .fvecs/.ivecs/.bvecs, .npy, CSV, and gzip around them):
 * MAMMALS_FUZZ_RUNS mutated files each (default 10,000, seeded; see fuzz-harness.ts), every one a
 * clean parse or a MammalsError. Byte-level formats are decoded in memory (decodeVectors, what
 * readVectorFile calls after reading); the gzip target goes through the Node reader's bounded
 * decompression with a small memory budget.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setMemoryBudget } from "../src/core/memory-budget.js";
import { encodeCsv } from "../src/data/csv.js";
import { encodeIdxU8 } from "../src/data/idx.js";
import { encodeNpyF32 } from "../src/data/npy.js";
import { encodeBvecs, encodeFvecs, encodeIvecs } from "../src/data/vecs.js";
import { decodeVectors, type VectorFormat } from "../src/data/vector-formats.js";
import { readVectorFile } from "../src/data/vectors-file.node.js";
import { FUZZ_RUNS, fuzz, scratchDir } from "./fuzz-harness.js";

// Anything a mutated header makes a parser allocate must stay far below this.
beforeAll(() => setMemoryBudget(64 << 20));
afterAll(() => setMemoryBudget(undefined));

const rows = (n: number, dim: number, scale = 1) =>
  Float32Array.from({ length: n * dim }, (_, i) => ((i * 7919) % 251) * scale - 100);

/** An IDX file of any element type, big-endian as the format says. */
function idx(
  type: number,
  bytes: number,
  shape: number[],
  set: (v: DataView, at: number, i: number) => void,
) {
  const count = shape.reduce((a, b) => a * b, 1);
  const head = 4 + 4 * shape.length;
  const out = new Uint8Array(head + count * bytes);
  const v = new DataView(out.buffer);
  out[2] = type;
  out[3] = shape.length;
  shape.forEach((s, i) => v.setUint32(4 + 4 * i, s));
  for (let i = 0; i < count; i++) set(v, head + i * bytes, i);
  return out;
}

/** A .npy v1 file with another dtype than the float32 encoder writes (u1, <f8). */
function npy(
  descr: string,
  n: number,
  dim: number,
  itemBytes: number,
  set: (v: DataView, at: number, i: number) => void,
) {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${n}, ${dim}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = `${dict.padEnd(total - 11)}\n`;
  const out = new Uint8Array(total + n * dim * itemBytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const v = new DataView(out.buffer);
  v.setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  for (let i = 0; i < n * dim; i++) set(v, total + i * itemBytes, i);
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);

const TARGETS: { format: VectorFormat; header: number; seeds: Uint8Array[] }[] = [
  {
    format: "idx",
    header: 20,
    seeds: [
      encodeIdxU8(
        Uint8Array.from({ length: 48 }, (_, i) => i * 5),
        [3, 4, 4],
      ),
      encodeIdxU8(Uint8Array.from([1, 2, 3, 4, 5]), [5]),
      idx(0x0d, 4, [4, 3], (v, at, i) => v.setFloat32(at, i / 3)),
      idx(0x0e, 8, [2, 5], (v, at, i) => v.setFloat64(at, -i * 1.5)),
      idx(0x0b, 2, [3, 2], (v, at, i) => v.setInt16(at, i * 1000 - 3000)),
      idx(0x0c, 4, [2, 2, 2], (v, at, i) => v.setInt32(at, i * 100_000)),
      idx(0x09, 1, [6, 2], (v, at, i) => v.setInt8(at, i - 6)),
    ],
  },
  { format: "fvecs", header: 16, seeds: [encodeFvecs(rows(5, 3), 3), encodeFvecs(rows(2, 16, 0.01), 16)] },
  {
    format: "ivecs",
    header: 16,
    seeds: [encodeIvecs(rows(6, 2).map(Math.round), 2), encodeIvecs([-1, 0, 2 ** 24], 3)],
  },
  {
    format: "bvecs",
    header: 8,
    seeds: [
      encodeBvecs(
        Uint8Array.from({ length: 24 }, (_, i) => i * 10),
        4,
      ),
    ],
  },
  {
    format: "npy",
    header: 128,
    seeds: [
      encodeNpyF32(rows(4, 3), 4, 3),
      npy("|u1", 3, 4, 1, (v, at, i) => v.setUint8(at, i * 20)),
      npy("<f8", 2, 3, 8, (v, at, i) => v.setFloat64(at, i * 0.25, true)),
      npy(">f4", 3, 2, 4, (v, at, i) => v.setFloat32(at, -i, false)),
    ],
  },
  {
    format: "csv",
    header: 48,
    seeds: [
      text(encodeCsv(rows(4, 3, 0.125), 3, ["a", "b", "c"])),
      text("# comment\n1 2 3\n4.5 -6e2 .5\n\n7 8 9\n"),
      text('"x";"y"\r\n1;2\r\n3;4\r\n'),
      text("\uFEFF0.1\t0.2\n0.3\t0.4\n"),
    ],
  },
];

describe(`fuzzing vector readers (${FUZZ_RUNS} mutated files per format)`, () => {
  for (const t of TARGETS)
    it(`${t.format}: every mutated file parses cleanly or fails with a MammalsError`, () => {
      for (const s of t.seeds) expect(decodeVectors(s, `seed.${t.format}`, t.format).n).toBeGreaterThan(0);
      const stats = fuzz({
        seeds: t.seeds,
        header: t.header,
        parse: (bytes) => decodeVectors(bytes, `fuzz.${t.format}`, t.format).data.byteLength,
        // CSV text like "1\n" (2 bytes) is a 4-byte float; IDX int8 / npy u1 widen 1 -> 4 bytes.
        expansion: t.format === "csv" ? 2 : 4,
      });
      // Mutations both keep and break files: the fuzzing reaches past the first check.
      expect(stats.parsed).toBeGreaterThan(0);
      expect([...stats.rejected.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    });

  it("gzip-wrapped IDX and fvecs through the file reader (bounded decompression)", () => {
    const dir = scratchDir("mammals-fuzz-gz-");
    const seeds = [
      gzipSync(
        encodeIdxU8(
          Uint8Array.from({ length: 64 }, (_, i) => i),
          [4, 4, 4],
        ),
      ),
      gzipSync(encodeFvecs(rows(8, 4), 4)),
    ];
    const names = ["f-idx3-ubyte.gz", "f.fvecs.gz"];
    // A twentieth of the runs: each writes and reads a file.
    const stats = fuzz(
      {
        seeds,
        header: 24,
        parse: (bytes, run) => {
          const p = join(dir, names[run % 2]);
          writeFileSync(p, bytes);
          return readVectorFile(p).data.byteLength;
        },
        // Decompression is bounded by the declared size or the 64 MB budget, not the input.
        expansion: Number.POSITIVE_INFINITY,
      },
      Math.max(100, Math.floor(FUZZ_RUNS / 20)),
    );
    expect(stats.parsed + [...stats.rejected.values()].reduce((a, b) => a + b, 0)).toBe(stats.runs);
  });
});
