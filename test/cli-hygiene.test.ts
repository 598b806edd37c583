/**
 * Issue 10, the CLI side: `--version`; a reader closing the pipe (`| head -1`) ends quietly; with
 * `--json` every failure is `{"error":{code,message}}` on the last line of stdout; `-` for standard
 * input and output in `knn`; output paths checked before the long work (simulate, demo, train,
 * trace gen) and every output written atomically (the demo's model cache on a full disk keeps the
 * previous model and leaves no temporary file); library warnings reach stderr.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { MammalsError } from "../src/core/errors.js";
import { Rng } from "../src/core/rng.js";
import { warnOnce } from "../src/core/warnings.js";
import { TEMP_MARK, type WriteIo } from "../src/data/atomic-write.node.js";
import type { Dataset } from "../src/data/types.js";
import { encodeFvecs, parseIvecs } from "../src/data/vecs.js";
import { runDemoJob } from "../src/jobs/demo.node.js";
import { obtainModel } from "../src/jobs/model-cache.node.js";
import { captureOutput, tempDir } from "./cli-harness.js";

const dir = tempDir("mammals-cli-hygiene-");
const io = captureOutput();
const lastLine = () => io.stdout.trim().split("\n").at(-1) as string;
const MAIN = join(import.meta.dirname, "..", "src", "cli", "main.ts");
const FIXTURES = join(import.meta.dirname, "fixtures", "models");
const temps = (d: string) => readdirSync(d).filter((f) => f.includes(TEMP_MARK) || /\.tmp-\d+$/.test(f));

/** Runs the CLI from source in a child process (for stdin, pipes and process-level behaviour). */
function runChild(args: string[], input?: Uint8Array) {
  const script = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(${JSON.stringify(args)});`;
  return spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    input,
    cwd: join(import.meta.dirname, ".."), // where tsx resolves
  });
}

function fvecsFile(name: string, n: number, dim: number, seed: number): string {
  const rng = new Rng(seed);
  const path = join(dir, name);
  writeFileSync(
    path,
    encodeFvecs(
      Float32Array.from({ length: n * dim }, () => rng.normal()),
      dim,
    ),
  );
  return path;
}

describe("process hygiene", () => {
  it("--version prints the package version", async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8"));
    expect(await main(["--version"])).toBe(0);
    expect(io.stdout.trim()).toBe(pkg.version);
  });

  it("a reader closing the pipe ends quietly with exit 0 (knn --help | head -1)", () => {
    const script = `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(["knn", "--help"]);`;
    const r = spawnSync(
      "bash",
      [
        "-c",
        // PIPESTATUS[0]: the exit code of mammals itself, not of head.
        `"${process.execPath}" --import tsx --input-type=module -e '${script}' | head -c 1 >/dev/null; echo "status=\${PIPESTATUS[0]}"`,
      ],
      { cwd: join(import.meta.dirname, ".."), encoding: "utf8" },
    );
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.stdout.trim()).toBe("status=0");
  });

  it("library warnings go to stderr in the CLI's words, never to stdout", async () => {
    await main(["--version"]); // installs the CLI's handlers
    io.stdout = "";
    warnOnce("MAMMALS_TEST_WARNING", "a test warning from the CLI hygiene suite");
    expect(io.stderr).toContain(
      "mammals: warning (MAMMALS_TEST_WARNING): a test warning from the CLI hygiene suite",
    );
    expect(io.stdout).toBe("");
  });
});

describe("--json failures", () => {
  it("a typed error is the last line of stdout with its code, and the exit code is non-zero", async () => {
    const q = fvecsFile("q.fvecs", 3, 4, 1);
    const code = await main([
      "knn",
      "--base",
      join(dir, "missing.fvecs"),
      "--queries",
      q,
      "--out",
      join(dir, "o.ivecs"),
      "--json",
    ]);
    expect(code).not.toBe(0);
    const e = JSON.parse(lastLine());
    expect(e.error.code).toBe("BAD_FILE");
    expect(e.error.message).toContain("missing.fvecs");
  });

  it("a usage error (unknown flag) is a JSON error line too", async () => {
    expect(
      await main([
        "knn",
        "--base",
        "a.fvecs",
        "--queries",
        "b.fvecs",
        "--out",
        "c.ivecs",
        "--bogus",
        "--json",
      ]),
    ).toBe(2);
    const e = JSON.parse(lastLine());
    expect(e.error.code).toBe("INVALID_ARGUMENT");
    expect(e.error.message).toContain("--bogus");
  });

  it("without --json, stdout stays empty on failure", async () => {
    expect(
      await main(["knn", "--base", "nope.fvecs", "--queries", "nope.fvecs", "--out", join(dir, "x.ivecs")]),
    ).toBe(2);
    expect(io.stdout).toBe("");
    expect(io.stderr).toContain("nope.fvecs");
  });
});

describe("knn: - for standard input and output", () => {
  it("--queries - --format fvecs reads stdin, --out - writes the .ivecs to stdout", () => {
    const base = fvecsFile("b.fvecs", 50, 4, 2);
    const queries = encodeFvecs(
      Float32Array.from({ length: 12 }, (_, i) => i / 3),
      4,
    );
    const r = runChild(
      ["knn", "--base", base, "--queries", "-", "--format", "fvecs", "--k", "3", "--out", "-"],
      queries,
    );
    expect(r.stderr.toString()).not.toMatch(/error/);
    expect(r.status).toBe(0);
    const ids = parseIvecs(new Uint8Array(r.stdout));
    expect(ids.dim).toBe(3);
    expect(ids.data.length).toBe(9);
  });

  it("--queries - without --format is refused naming the flag", async () => {
    const base = fvecsFile("b2.fvecs", 5, 4, 3);
    expect(await main(["knn", "--base", base, "--queries", "-", "--out", join(dir, "n.ivecs")])).toBe(2);
    expect(io.stderr).toMatch(/--queries -.*--format/);
  });
});

describe("outputs checked before the work", () => {
  it("simulate --out naming an existing file fails at once, not with EEXIST after the run", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "keep me");
    const code = await main([
      "simulate",
      "--catalog",
      "gauss:n=200,dim=3",
      "--trace",
      "irm:count=2000",
      "--policies",
      "lru",
      "--capacity",
      "10",
      "--out",
      file,
    ]);
    expect(code).toBe(2);
    expect(io.stderr).toMatch(/--out .*a-file.*not a directory/);
    expect(io.stderr).not.toMatch(/EEXIST/);
    expect(io.stdout).toBe(""); // no simulation ran
    expect(readFileSync(file, "utf8")).toBe("keep me");
  });

  it("demo --out / --cache naming a file fail before the dataset is loaded", async () => {
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "x");
    const base = {
      dataset: "no-such-dataset-so-loading-would-fail-differently",
      seed: 1,
      small: "logreg",
      cloud: "logreg",
    };
    for (const o of [
      { outDir: file, cacheDir: join(dir, "cache") },
      { outDir: join(dir, "out"), cacheDir: file },
    ]) {
      const err = await runDemoJob({ ...base, ...o } as never).catch((e) => e);
      expect(err).toBeInstanceOf(MammalsError);
      expect(err.code).toBe("INVALID_ARGUMENT");
      expect(err.message).toMatch(o.outDir === file ? /--out/ : /--cache/);
    }
  });

  it("train --out in a missing directory fails before training", async () => {
    expect(await main(["train", "--model", "logreg", "--out", join(dir, "no", "such", "m.mammals")])).toBe(2);
    expect(io.stderr).toMatch(/--out .*does not exist/);
  });

  it("export-onnx of a projection model says what ONNX export supports", async () => {
    const code = await main([
      "export-onnx",
      "--in",
      join(FIXTURES, "projection-fc.mammals"),
      "--out",
      join(dir, "p.onnx"),
    ]);
    expect(code).toBe(2);
    expect(io.stderr).toMatch(/ONNX export supports logreg \/ MLP/);
    expect(io.stderr).not.toMatch(/fine-tuning/);
  });
});

describe("the demo's model cache on a full disk", () => {
  function tinyDataset(): Dataset {
    const rng = new Rng(5);
    const split = (n: number) => ({
      x: Float32Array.from({ length: n * 4 }, () => rng.normal()),
      y: Uint8Array.from({ length: n }, (_, i) => i % 3),
      n,
      dim: 4,
    });
    return { name: "tiny", train: split(60), test: split(30), numClasses: 3, source: "test", rawScale: 1 };
  }

  function fullDisk(): Partial<WriteIo> {
    return {
      writeSync() {
        const e = new Error("ENOSPC: no space left on device, write") as NodeJS.ErrnoException;
        e.code = "ENOSPC";
        throw e;
      },
    };
  }

  it("keeps the previous cached model, leaves no temporary file, and fails with a typed IO error", async () => {
    const cacheDir = join(dir, "model-cache");
    const o = { spec: "logreg", dataset: tinyDataset(), excludeClasses: [], seed: 1, cacheDir };
    const first = await obtainModel(o);
    const before = readFileSync(first.path);
    const err = await obtainModel({ ...o, retrain: true, io: fullDisk() }).catch((e) => e);
    expect(err).toBeInstanceOf(MammalsError);
    expect(err.code).toBe("IO");
    expect(err.message).toMatch(/ENOSPC/);
    expect(readFileSync(first.path).equals(before)).toBe(true);
    expect(temps(cacheDir)).toEqual([]);
  });
});

describe("traces remember their catalog", () => {
  it("trace gen records the catalog's fingerprint; simulate and trace stats refuse another catalog unless --force", async () => {
    const trace = join(dir, "g.trace");
    expect(
      await main([
        "trace",
        "gen",
        "--catalog",
        "gauss:n=300,dim=3,seed=1",
        "--gen",
        "irm:count=500",
        "--out",
        trace,
      ]),
    ).toBe(0);
    const other = "gauss:n=300,dim=3,seed=2"; // same shape, other vectors
    const sim = [
      "simulate",
      "--catalog",
      other,
      "--trace",
      trace,
      "--policies",
      "lru",
      "--capacity",
      "10",
      "--json",
    ];
    expect(await main(sim)).toBe(2);
    expect(JSON.parse(lastLine()).error.message).toMatch(/fingerprint/);
    io.stdout = "";
    expect(await main([...sim, "--force"])).toBe(0);
    expect(JSON.parse(lastLine()).error).toBeUndefined();
    io.stdout = "";
    expect(await main(["trace", "stats", trace, "--catalog", other, "--sample", "10", "--json"])).toBe(2);
    expect(
      await main(["trace", "stats", trace, "--catalog", other, "--sample", "10", "--force", "--json"]),
    ).toBe(0);
  });

  it("trace gen checks --out before generating", async () => {
    expect(
      await main(["trace", "gen", "--catalog", "gauss:n=300,dim=3", "--gen", "irm:count=500", "--out", dir]),
    ).toBe(2);
    expect(io.stderr).toMatch(/--out .*is a directory/);
  });
});
