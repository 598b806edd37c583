/**
 * `mammals knn`, run in-process through main(): the written .ivecs must equal a brute-force
 * reference (ties broken by the smaller row, as the Index contract promises), the --json line must
 * have the documented shape, and bad input must fail with exit code 2, a message naming the files,
 * and no output file.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { Rng } from "../src/core/rng.js";
import { encodeFvecs, parseIvecs } from "../src/data/vecs.js";
import { captureOutput, tempDir } from "./cli-harness.js";

const dir = tempDir("mammals-knn-");
const io = captureOutput();

function rows(n: number, dim: number, seed: number, levels = 0): Float32Array {
  const rng = new Rng(seed);
  // levels > 0: small integers, so many distances tie exactly and tie-breaking is exercised.
  return Float32Array.from({ length: n * dim }, () => (levels > 0 ? rng.int(levels) : rng.normal()));
}

function file(name: string, data: Float32Array, dim: number): string {
  const path = join(dir, name);
  writeFileSync(path, encodeFvecs(data, dim));
  return path;
}

type Metric = "l2" | "ip" | "cos";

/** Brute force in doubles: distance per the metric, ties by the smaller row. */
function reference(
  base: Float32Array,
  queries: Float32Array,
  dim: number,
  k: number,
  metric: Metric,
): number[] {
  const nb = base.length / dim;
  const out: number[] = [];
  for (let q = 0; q < queries.length / dim; q++) {
    const d: Array<[number, number]> = [];
    for (let b = 0; b < nb; b++) {
      let l2 = 0;
      let ip = 0;
      let nq = 0;
      let nbb = 0;
      for (let j = 0; j < dim; j++) {
        const x = queries[q * dim + j];
        const y = base[b * dim + j];
        l2 += (x - y) ** 2;
        ip += x * y;
        nq += x * x;
        nbb += y * y;
      }
      const dist = metric === "l2" ? l2 : metric === "ip" ? -ip : 1 - ip / Math.sqrt(nq * nbb);
      d.push([dist, b]);
    }
    d.sort((a, c) => a[0] - c[0] || a[1] - c[1]);
    out.push(...d.slice(0, k).map((p) => p[1]));
  }
  return out;
}

async function knn(...args: string[]): Promise<number> {
  return main(["knn", ...args]);
}

describe("mammals knn", () => {
  it("writes exactly the brute-force neighbours for flat, with ties, and prints a --json last line", async () => {
    const dim = 5;
    const base = rows(300, dim, 1, 3);
    const queries = rows(40, dim, 2, 3);
    const out = join(dir, "nn.ivecs");
    const code = await knn(
      "--base",
      file("base.fvecs", base, dim),
      "--queries",
      file("q.fvecs", queries, dim),
      "--k",
      "7",
      "--index",
      "flat",
      "--out",
      out,
      "--json",
    );
    expect(io.stderr).toBe("");
    expect(code).toBe(0);
    const ivecs = parseIvecs(readFileSync(out), out);
    expect([ivecs.n, ivecs.dim]).toEqual([40, 7]);
    expect(Array.from(ivecs.data)).toEqual(reference(base, queries, dim, 7, "l2"));

    const last = io.stdout.trimEnd().split("\n").at(-1) ?? "";
    const summary = JSON.parse(last);
    expect(Object.keys(summary).sort()).toEqual(["buildS", "index", "k", "p50Ms", "p99Ms", "qps", "queries"]);
    expect(summary).toMatchObject({ index: "flat", k: 7, queries: 40 });
    for (const key of ["buildS", "qps", "p50Ms", "p99Ms"]) {
      expect(typeof summary[key]).toBe("number");
      expect(summary[key]).toBeGreaterThanOrEqual(0);
    }
    expect(summary.p99Ms).toBeGreaterThanOrEqual(summary.p50Ms);
  });

  it.each(["ip", "cos"] as const)("agrees with brute force under --metric %s", async (metric) => {
    const dim = 8;
    const base = rows(200, dim, 3);
    const queries = rows(25, dim, 4);
    const out = join(dir, `nn-${metric}.ivecs`);
    const args = [
      "--base",
      file(`b-${metric}.fvecs`, base, dim),
      "--queries",
      file(`q-${metric}.fvecs`, queries, dim),
    ];
    expect(await knn(...args, "--k", "4", "--metric", metric, "--out", out)).toBe(0);
    expect(Array.from(parseIvecs(readFileSync(out)).data)).toEqual(reference(base, queries, dim, 4, metric));
    // The human form: a table and a line saying what was written.
    expect(io.stdout).toMatch(/index\s+k\s+queries/);
    expect(io.stdout).toContain(`wrote ${out}: 25 x 4`);
  });

  it("runs hnsw and flat-i8 specs (approximate, so scored by recall)", async () => {
    const dim = 16;
    const base = rows(500, dim, 5);
    const queries = rows(30, dim, 6);
    const truth = reference(base, queries, dim, 10, "l2");
    const args = ["--base", file("b-a.fvecs", base, dim), "--queries", file("q-a.fvecs", queries, dim)];
    for (const spec of ["hnsw:M=16,efSearch=100", "flat-i8:rerank=50"]) {
      const out = join(dir, "nn-approx.ivecs");
      expect(await knn(...args, "--index", spec, "--out", out, "--json")).toBe(0);
      expect(JSON.parse(io.stdout.trimEnd().split("\n").at(-1) ?? "").index).toContain(spec.split(":")[0]);
      const found = parseIvecs(readFileSync(out)).data;
      let hits = 0;
      for (let q = 0; q < 30; q++) {
        const want = new Set(truth.slice(q * 10, q * 10 + 10));
        for (let j = 0; j < 10; j++) if (want.has(found[q * 10 + j])) hits++;
      }
      expect(hits / 300, spec).toBeGreaterThanOrEqual(0.9);
      io.stdout = "";
    }
  });

  it("fails with exit code 2, naming both files and dimensions, and writes nothing", async () => {
    const b = file("b4.fvecs", rows(10, 4, 7), 4);
    const q = file("q3.fvecs", rows(2, 3, 8), 3);
    const out = join(dir, "never.ivecs");
    expect(await knn("--base", b, "--queries", q, "--out", out)).toBe(2);
    expect(io.stderr).toContain("DIMENSION_MISMATCH");
    expect(io.stderr).toContain(`--queries ${q} have dimension 3, --base ${b} has dimension 4`);
    expect(existsSync(out)).toBe(false);

    io.stderr = "";
    const q4 = file("q4.fvecs", rows(2, 4, 9), 4);
    expect(await knn("--base", b, "--queries", q4, "--k", "11", "--out", out)).toBe(2);
    expect(io.stderr).toContain(`--k 11 exceeds the 10 vectors in --base ${b}`);

    io.stderr = "";
    const missing = join(dir, "missing.fvecs");
    expect(await knn("--base", missing, "--queries", q4, "--out", out)).toBe(2);
    expect(io.stderr).toContain(`${missing}: no such file`);

    io.stderr = "";
    expect(await knn("--base", b, "--queries", q4, "--out", join(dir, "nn.txt"))).toBe(2);
    expect(io.stderr).toContain("expected a path ending in .ivecs");

    io.stderr = "";
    expect(await knn("--base", b, "--queries", q4, "--k", "0", "--out", out)).toBe(2);
    expect(io.stderr).toContain("--k");
    expect(existsSync(out)).toBe(false);
  });
});
