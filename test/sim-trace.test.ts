/**
 * Traces: seeded generators (reproducible, Zipf frequencies, moving popularity), the binary trace
 * format and .fvecs traces round-tripping the generator's requests exactly (sync and async
 * readers), and malformed files rejected with BAD_FILE errors that say what is wrong.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { createCostModel } from "../src/caching/cost.js";
import { createCachePolicy } from "../src/caching/registry.js";
import { simulate } from "../src/caching/simulator.js";
import { openTraceFile, peekTraceFile, writeTraceFile } from "../src/caching/trace-file.node.js";
import {
  encodeTraceHeader,
  sealTraceChecksum,
  TRACE_VERSION,
  UNSEALED_CHECKSUM,
} from "../src/caching/trace-format.js";
import { generateTrace, rankByDistance, type Trace, ZipfSampler } from "../src/caching/traces.js";
import { Rng } from "../src/core/rng.js";
import { encodeFvecs } from "../src/data/vecs.js";

const dir = mkdtempSync(join(tmpdir(), "mammals-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const g = gaussVectors("n=500,dim=5,seed=9");
const catalog = makeCatalog(g.canonical, g.vectors, g.dim, "flat");

function collect(t: Trace): { x: number[][]; rows: number[] } {
  const x: number[][] = [];
  const rows: number[] = [];
  for (const r of t.requests()) {
    x.push(Array.from(r.x));
    rows.push(r.row);
  }
  return { x, rows };
}

async function collectAsync(t: Trace): Promise<number[][]> {
  const x: number[][] = [];
  for await (const r of t) x.push(Array.from(r.x));
  return x;
}

describe("generators", () => {
  it("are reproducible from the seed and differ across seeds", () => {
    for (const gen of [
      "irm:alpha=0.8,count=300",
      "shift:count=300,phases=3,noise=0.2",
      "adversarial:m=7,count=50",
    ]) {
      const a = collect(generateTrace(`${gen},seed=3`, catalog));
      const b = collect(generateTrace(`${gen},seed=3`, catalog));
      const c = collect(generateTrace(`${gen},seed=4`, catalog));
      expect(a).toEqual(b);
      expect(a).not.toEqual(c);
      expect(a.x.length).toBe(gen.includes("count=300") ? 300 : 50);
    }
  });

  it("irm draws ranks with Zipf frequencies (chi-square over the top ranks)", () => {
    const z = new ZipfSampler(100, 0.9);
    const rng = new Rng(5);
    const N = 200_000;
    const counts = new Float64Array(100);
    for (let i = 0; i < N; i++) counts[z.sample(rng)]++;
    let chi = 0;
    for (let r = 0; r < 100; r++) chi += (counts[r] - N * z.p(r)) ** 2 / (N * z.p(r));
    // 99 degrees of freedom: mean 99, sd 14; 160 is > 4 sd.
    expect(chi).toBeLessThan(160);
    expect(z.p(0) / z.p(9)).toBeCloseTo(10 ** 0.9, 9);
  });

  it("noise-free requests are catalog rows (row set), noisy ones are not", () => {
    const clean = collect(generateTrace("irm:count=50,seed=1", catalog));
    clean.rows.forEach((r, i) => {
      expect(r).toBeGreaterThanOrEqual(0);
      expect(clean.x[i]).toEqual(Array.from(catalog.row(r)));
    });
    const noisy = collect(generateTrace("irm:count=50,seed=1,noise=0.5", catalog));
    expect(noisy.rows.every((r) => r === -1)).toBe(true);
  });

  it("shift moves the popular region: each phase's requests sit near that phase's centre", () => {
    const t = generateTrace("shift:alpha=1.2,count=2000,phases=2,seed=8", catalog);
    const origins: number[] = [];
    for (const r of t.requests()) origins.push(r.origin);
    // The most requested object of each half differs, and the halves overlap little in their top 20.
    const top = (a: number[]) => {
      const c = new Map<number, number>();
      for (const o of a) c.set(o, (c.get(o) ?? 0) + 1);
      return [...c.entries()]
        .sort((p, q) => q[1] - p[1])
        .slice(0, 20)
        .map((e) => e[0]);
    };
    const t1 = top(origins.slice(0, 1000));
    const t2 = top(origins.slice(1000));
    expect(t1.filter((o) => t2.includes(o)).length).toBeLessThan(10);
    // a phase's most popular object is near the start of the distance ranking from some centre
    const order = rankByDistance(catalog, t1[0]);
    expect(order[0]).toBe(t1[0]);
  });

  it("rejects unknown generators, unknown keys and impossible cycles", () => {
    expect(() => generateTrace("zipf:alpha=1", catalog)).toThrow(
      /unknown trace generator "zipf"; expected one of irm, shift, adversarial/,
    );
    expect(() => generateTrace("irm:beta=1", catalog)).toThrow(/unknown parameter "beta"/);
    expect(() => generateTrace("adversarial:m=501", catalog)).toThrow(/exceeds the catalog size 500/);
  });
});

describe("trace files", () => {
  const cases = [
    { name: "ref, noise-free", gen: "irm:count=1234,seed=2", file: "a.trace", enc: "ref" as const },
    { name: "ref, noisy", gen: "shift:count=777,seed=2,noise=0.3", file: "b.trace", enc: "ref" as const },
    { name: "f32", gen: "irm:count=500,seed=2,noise=0.1", file: "c.trace", enc: "f32" as const },
    { name: "fvecs", gen: "adversarial:m=9,count=300,seed=2,noise=0.1", file: "d.fvecs", enc: undefined },
  ];
  for (const c of cases)
    it(`round trip: ${c.name}`, async () => {
      const gen = generateTrace(c.gen, catalog);
      const path = join(dir, c.file);
      writeTraceFile(path, gen, c.enc);
      const back = openTraceFile(path, catalog);
      expect(back.info.count).toBe(gen.info.count);
      expect(back.info.dim).toBe(5);
      const want = collect(gen);
      const got = collect(back);
      expect(got.x).toEqual(want.x);
      if (c.enc === "ref") expect(got.rows).toEqual(want.rows);
      expect(await collectAsync(back)).toEqual(want.x);
      expect(peekTraceFile(path).encoding).toBe(c.enc ?? "fvecs");
    });

  it("requests of a file trace that equal catalog rows are recognized: same figures as the generator", () => {
    const gen = generateTrace("irm:alpha=1,count=2000,seed=6", catalog);
    const path = join(dir, "rows.fvecs");
    writeTraceFile(path, gen);
    const cost = createCostModel({ k: 3, cf: 0.5 });
    const run = (t: Trace, matchRows = true) =>
      simulate({
        catalog,
        cost,
        trace: t,
        matchRows,
        policies: [createCachePolicy("sim-lru", { capacity: 20, catalog, cost, seed: 1 })],
      });
    const a = run(gen);
    const b = run(openTraceFile(path, catalog));
    const c = run(openTraceFile(path, catalog), false);
    expect(b.results[0].avgCost).toBe(a.results[0].avgCost);
    expect(c.results[0].avgCost).toBe(a.results[0].avgCost);
    expect(b.memoHits).toBe(a.memoHits);
    expect(c.memoHits).toBe(0);
  });

  it("ref traces are 4 bytes a request", () => {
    const path = join(dir, "size.trace");
    writeTraceFile(path, generateTrace("irm:count=10000", catalog));
    expect(readFileSync(path).length).toBeLessThan(10000 * 4 + 1024);
  });

  const bad = (name: string, bytes: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const header = (h: object) =>
    encodeTraceHeader({
      version: TRACE_VERSION,
      encoding: "f32",
      dim: 2,
      count: 3,
      source: "t",
      checksum: UNSEALED_CHECKSUM,
      ...h,
    } as never);
  const cat = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  const body = (n: number) => new Uint8Array(new Float32Array(n).buffer);

  it.each([
    [
      "bad magic",
      () => bad("m.trace", cat(new TextEncoder().encode("NOTATRACE___"), body(6))),
      /not a Mammals trace/,
    ],
    ["too short", () => bad("s.trace", new Uint8Array(5)), /too short/],
    ["truncated header", () => bad("h.trace", header({}).subarray(0, 20)), /truncated/],
    ["truncated body", () => bad("b.trace", cat(header({}), body(5))), /needs .* \(truncated\)/],
    ["trailing bytes", () => bad("t.trace", cat(header({}), body(7))), /trailing bytes/],
    ["bad version", () => bad("v.trace", cat(header({ version: 99 }), body(6))), /version 99/],
    ["bad encoding", () => bad("e.trace", cat(header({ encoding: "f16" }), body(6))), /encoding "f16"/],
    ["bad dim", () => bad("d.trace", cat(header({ dim: 0 }), body(0))), /dim 0/],
    [
      "fvecs not whole records",
      () => bad("x.fvecs", cat(encodeFvecs([1, 2, 3, 4], 2), new Uint8Array(3))),
      /not a whole number/,
    ],
  ])("rejects %s", (_name, make, msg) => {
    const p = make();
    expect(() => openTraceFile(p, catalog)).toThrow(msg);
  });

  it("rejects a NaN request, a ref id outside the catalog and a catalog mismatch", () => {
    const nan = bad(
      "nan.trace",
      sealTraceChecksum(cat(header({ count: 1 }), new Uint8Array(Float32Array.from([1, Number.NaN]).buffer))),
    );
    expect(() => collect(openTraceFile(nan))).toThrow(/request 0, component 1 is NaN/);
    const refHeader = encodeTraceHeader({
      version: TRACE_VERSION,
      encoding: "ref",
      dim: 5,
      count: 2,
      source: "t",
      catalog: catalog.name,
      catalogN: 500,
      noise: 0,
      checksum: UNSEALED_CHECKSUM,
    });
    const outside = bad(
      "o.trace",
      sealTraceChecksum(cat(refHeader, new Uint8Array(Int32Array.from([3, 500]).buffer))),
    );
    expect(() => collect(openTraceFile(outside, catalog))).toThrow(
      /request 1 names object 500, outside the catalog/,
    );
    const other = makeCatalog("other", new Float32Array(40 * 5), 5);
    expect(() => openTraceFile(outside, other)).toThrow(/made over catalog .* given other/);
    expect(() => openTraceFile(outside)).toThrow(/needs its catalog/);
  });
});
