/**
 * Mutation fuzzing of file readers (not a test file itself). A valid file is mutated by a short
 * seeded sequence of edits (bit flips, truncation, insertion, deletion, byte and 32-bit integer
 * overwrites concentrated in the header, digit and token edits in text headers), and the reader
 * must either parse the result cleanly or throw a typed project error (MammalsError): never any
 * other exception, never take longer than a bound, never return more data than the input can
 * hold. Runs per format: MAMMALS_FUZZ_RUNS (default 10,000); seed: MAMMALS_FUZZ_SEED (default
 * fixed), so a failure is reproducible from the printed seed and path.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, expect } from "vitest";
import { isMammalsError } from "../src/core/errors.js";

export const FUZZ_RUNS = Number(process.env.MAMMALS_FUZZ_RUNS ?? 10_000);
export const FUZZ_SEED = Number(process.env.MAMMALS_FUZZ_SEED ?? 20_240_611);
/** Longest a single parse of a small mutated file may take. */
const MAX_PARSE_MS = 1000;

/**
 * A scratch directory for targets that read through files, in memory (/dev/shm) where the system
 * has it: thousands of small writes to a disk-backed /tmp cost milliseconds each.
 */
export function scratchDir(prefix: string): string {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; length: number }
  | { kind: "byte"; at: number; value: number }
  | { kind: "u32"; at: number; value: number; little: boolean }
  | { kind: "text"; at: number; token: string };

/** Values that break size arithmetic: zero, one, sign bits, all ones, just past 2^31 and 2^32. */
const INTERESTING_U32 = [
  0, 1, 2, 3, 4, 7, 8, 255, 256, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
];
/** Replacements for a run of a text header: numbers that overflow, negatives, JSON oddities. */
const TOKENS = [
  "0",
  "-1",
  "1e309",
  "9007199254740993",
  "4294967296",
  "NaN",
  "null",
  "[]",
  "{}",
  '"',
  ",",
  ")",
  "(",
  ":",
  "True",
  "'<f8'",
  "'|u1'",
];

/** Positions biased towards the first `header` bytes, where sizes and types live. */
function position(header: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.nat({ max: Math.max(0, header - 1) }) },
    { weight: 1, arbitrary: fc.nat({ max: 1 << 20 }) },
  );
}

export function mutationArb(header: number): fc.Arbitrary<Mutation> {
  const at = position(header);
  return fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at, bit: fc.nat({ max: 7 }) }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat({ max: 1 << 20 }) }),
    fc.record({
      kind: fc.constant("insert" as const),
      at,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
    }),
    fc.record({ kind: fc.constant("delete" as const), at, length: fc.integer({ min: 1, max: 16 }) }),
    fc.record({
      kind: fc.constant("byte" as const),
      at,
      value: fc.oneof(fc.constantFrom(0, 1, 0x7f, 0x80, 0xff), fc.nat({ max: 255 })),
    }),
    fc.record({
      kind: fc.constant("u32" as const),
      at,
      value: fc.constantFrom(...INTERESTING_U32),
      little: fc.boolean(),
    }),
    fc.record({ kind: fc.constant("text" as const), at, token: fc.constantFrom(...TOKENS) }),
  );
}

/** Applies one mutation; positions wrap around the current length so every edit lands. */
export function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const n = input.length;
  const at = n === 0 ? 0 : m.at % (n + (m.kind === "insert" ? 1 : 0));
  switch (m.kind) {
    case "flip": {
      if (n === 0) return input;
      const out = input.slice();
      out[at] ^= 1 << m.bit;
      return out;
    }
    case "truncate":
      return input.slice(0, n === 0 ? 0 : m.at % n);
    case "insert":
      return concat(input.subarray(0, at), m.bytes, input.subarray(at));
    case "delete":
      return concat(input.subarray(0, at), input.subarray(Math.min(n, at + m.length)));
    case "byte": {
      if (n === 0) return input;
      const out = input.slice();
      out[at] = m.value;
      return out;
    }
    case "u32": {
      if (n < 4) return input;
      const out = input.slice();
      new DataView(out.buffer).setUint32(Math.min(at, n - 4), m.value, m.little);
      return out;
    }
    case "text": {
      // Replace the run of digits / word characters at `at` (or insert there) with the token.
      const isWord = (b: number) =>
        (b >= 0x30 && b <= 0x39) ||
        (b >= 0x41 && b <= 0x5a) ||
        (b >= 0x61 && b <= 0x7a) ||
        b === 0x2e ||
        b === 0x2d;
      let end = at;
      while (end < n && isWord(input[end])) end++;
      return concat(input.subarray(0, at), new TextEncoder().encode(m.token), input.subarray(end));
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export interface FuzzTarget {
  /** Valid files to start from (each run picks one). */
  seeds: Uint8Array[];
  /** Bytes at the start of the seeds that hold their header (mutations favour them). */
  header: number;
  /**
   * Parses the bytes; returns the number of bytes of data the parse produced (for the bound
   * check), or throws. `run` is the run's index (for unique file names).
   */
  parse(bytes: Uint8Array, run: number): number;
  /** Output bytes allowed per input byte (default 4: uint8 formats widen to float32). */
  expansion?: number;
}

export interface FuzzStats {
  runs: number;
  parsed: number;
  rejected: Map<string, number>;
}

/**
 * Runs `runs` mutated inputs through `target.parse`; fails the test on any non-Mammals exception,
 * a parse slower than MAX_PARSE_MS, or a parse that returns more data than the input can hold.
 */
export function fuzz(target: FuzzTarget, runs = FUZZ_RUNS, seed = FUZZ_SEED): FuzzStats {
  const stats: FuzzStats = { runs: 0, parsed: 0, rejected: new Map() };
  const expansion = target.expansion ?? 4;
  fc.assert(
    fc.property(
      fc.nat({ max: target.seeds.length - 1 }),
      fc.array(mutationArb(target.header), { minLength: 1, maxLength: 3 }),
      (which, mutations) => {
        let bytes = target.seeds[which];
        for (const m of mutations) bytes = mutate(bytes, m);
        const t0 = performance.now();
        let produced = 0;
        try {
          produced = target.parse(bytes, stats.runs);
          stats.parsed++;
        } catch (e) {
          if (!isMammalsError(e)) throw e;
          stats.rejected.set(e.code, (stats.rejected.get(e.code) ?? 0) + 1);
        } finally {
          stats.runs++;
        }
        const ms = performance.now() - t0;
        if (ms > MAX_PARSE_MS) throw new Error(`parse took ${ms.toFixed(0)} ms on ${bytes.length} bytes`);
        if (produced > expansion * bytes.length + 4096)
          throw new Error(`parse produced ${produced} bytes of data from ${bytes.length} bytes of input`);
      },
    ),
    { numRuns: runs, seed, endOnFailure: false },
  );
  expect(stats.runs).toBeGreaterThanOrEqual(runs);
  return stats;
}
