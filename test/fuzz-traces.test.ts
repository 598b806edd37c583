/**
 * Fuzzing the trace file reader: MAMMALS_FUZZ_RUNS mutated trace files (default 10,000, seeded;
 * see fuzz-harness.ts): ref traces (noise-free and noisy, with the catalog fingerprint), an f32
 * trace and a version-1 file, each opened over its catalog and read to the end: a clean replay or
 * a MammalsError. Half the runs re-seal the checksum after mutating, so the edits get past it to
 * the header and body checks behind it; .fvecs traces get a run of their own.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { openTraceFile, writeTraceFile } from "../src/caching/trace-file.node.js";
import { encodeTraceHeader, sealTraceChecksum } from "../src/caching/trace-format.js";
import { generateTrace } from "../src/caching/traces.js";
import { setMemoryBudget } from "../src/core/memory-budget.js";
import { setWarningHandler } from "../src/core/warnings.js";
import { FUZZ_RUNS, fuzz, scratchDir } from "./fuzz-harness.js";

const dir = scratchDir("mammals-fuzz-trace-");
const g = gaussVectors("n=40,dim=3,seed=5");
const catalog = makeCatalog(g.canonical, g.vectors, g.dim, "flat");

beforeAll(() => {
  setMemoryBudget(64 << 20);
  setWarningHandler(() => {}); // version-1 files warn; thousands of them here
});
afterAll(() => {
  setMemoryBudget(undefined);
  setWarningHandler(undefined);
});

function traceBytes(name: string, spec: string, enc: "ref" | "f32" | undefined): Uint8Array {
  const p = join(dir, name);
  writeTraceFile(p, generateTrace(spec, catalog), enc, { catalog });
  return new Uint8Array(readFileSync(p));
}

/** Reads every request; returns the bytes of request data served. */
function replay(path: string): number {
  const t = openTraceFile(path, catalog);
  let served = 0;
  for (const r of t.requests()) served += r.x.byteLength;
  // One request vector is reused, so what a reader holds is one vector, whatever the count.
  return Math.min(served, 4 * t.info.dim);
}

describe(`fuzzing trace files (${FUZZ_RUNS} mutated files)`, () => {
  it("every mutated binary trace replays cleanly or fails with a MammalsError", () => {
    const v1 = new Uint8Array(
      Buffer.concat([
        encodeTraceHeader({
          version: 1,
          encoding: "ref",
          dim: 3,
          count: 4,
          source: "v1",
          catalog: catalog.name,
          catalogN: 40,
          noise: 0,
        }),
        Buffer.from(Int32Array.from([0, 5, 39, 7]).buffer),
      ]),
    );
    const seeds = [
      traceBytes("a.trace", "irm:count=20,seed=1", "ref"),
      traceBytes("b.trace", "shift:count=16,seed=2,noise=0.2", "ref"),
      traceBytes("c.trace", "irm:count=8,seed=3,noise=0.1", "f32"),
      v1,
    ];
    const p = join(dir, "fuzz.trace");
    const stats = fuzz({
      seeds,
      header: 300,
      parse: (bytes, run) => {
        if (run % 2 === 1)
          try {
            bytes = sealTraceChecksum(bytes.slice());
          } catch {
            // No checksum field left to seal: read as mutated.
          }
        writeFileSync(p, bytes);
        return replay(p);
      },
    });
    expect(stats.parsed).toBeGreaterThan(0);
    expect(stats.rejected.get("BAD_FILE") ?? 0).toBeGreaterThan(0);
  });

  it("every mutated .fvecs trace replays cleanly or fails with a MammalsError", () => {
    const seed = traceBytes("d.fvecs", "irm:count=12,seed=4,noise=0.1", undefined);
    const p = join(dir, "fuzz.fvecs");
    const stats = fuzz(
      {
        seeds: [seed],
        header: 32,
        parse: (bytes) => {
          writeFileSync(p, bytes);
          return replay(p);
        },
      },
      Math.max(100, Math.floor(FUZZ_RUNS / 5)),
    );
    expect(stats.parsed).toBeGreaterThan(0);
  });
});
