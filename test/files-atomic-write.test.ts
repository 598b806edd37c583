/**
 * Atomic, durable outputs (src/data/atomic-write.node.ts) and the library writers that use it:
 * a failed write (an injected ENOSPC, a real EFBIG under `ulimit -f`) leaves the previous file
 * intact and no temporary file; SIGKILL at random points of a large write leaves the old or the
 * new file, never a mix; stale temporary files of killed runs are removed at the next write;
 * output paths are validated before work starts.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gaussVectors, makeCatalog } from "../src/caching/catalog.js";
import { openTraceFile, writeTraceFile } from "../src/caching/trace-file.node.js";
import { generateTrace } from "../src/caching/traces.js";
import { isMammalsError } from "../src/core/errors.js";
import { Rng } from "../src/core/rng.js";
import {
  checkOutputDir,
  checkOutputPath,
  cleanStaleTempFiles,
  TEMP_MARK,
  type WriteIo,
  writeFileAtomic,
} from "../src/data/atomic-write.node.js";
import { encodeIvecs } from "../src/data/vecs.js";
import { readVectorFile, writeVectorFile } from "../src/data/vectors-file.node.js";
import { readModelFile, writeModelFile } from "../src/models/io/files.node.js";
import { createModel, saveModel } from "../src/models/registry.js";
import "../src/models/all.js";
import { tempDir } from "./cli-harness.js";
import { versionChunks } from "./fixtures/atomic-write-child.js";

const dir = tempDir("mammals-atomic-");
const CHILD = join(import.meta.dirname, "fixtures", "atomic-write-child.ts");

function expectCode(f: () => unknown, code: string, ...parts: (string | RegExp)[]): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(isMammalsError(err), `expected a MammalsError, got ${String(err)}`).toBe(true);
  const e = err as { code: string; message: string };
  expect(e.code).toBe(code);
  for (const p of parts) expect(e.message).toMatch(p);
}

const temps = (d: string) => readdirSync(d).filter((f) => f.includes(TEMP_MARK) || /\.tmp-\d+$/.test(f));

/** System calls whose writeSync fails with ENOSPC once `limit` bytes went out, like a full disk. */
function fullDiskAfter(limit: number): Partial<WriteIo> {
  let written = 0;
  return {
    writeSync(fd, bytes, offset, length, position) {
      if (written + length > limit) {
        const e = new Error("ENOSPC: no space left on device, write") as NodeJS.ErrnoException;
        e.code = "ENOSPC";
        throw e;
      }
      written += length;
      return writeSync(fd, bytes, offset, length, position ?? null);
    },
  };
}

/** A dead PID: a child that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "0"]);
  expect(r.status).toBe(0);
  return r.pid as number;
}

describe("writeFileAtomic", () => {
  it("writes, replaces, keeps the mode of the file it replaces, and leaves no temporary file", () => {
    const p = join(dir, "plain.bin");
    writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    for (const mode of [0o640, 0o666]) {
      chmodSync(p, mode);
      expect(writeFileAtomic(p, "hello")).toBe(5);
      expect(readFileSync(p, "utf8")).toBe("hello");
      expect(statSync(p).mode & 0o777).toBe(mode);
    }
    expect(temps(dir)).toEqual([]);
  });

  it("a producer that throws half-way leaves the previous file and no temporary file", () => {
    const p = join(dir, "producer.bin");
    writeFileAtomic(p, "old");
    function* chunks() {
      yield new Uint8Array(1000);
      throw new Error("producer failed");
    }
    expect(() => writeFileAtomic(p, chunks())).toThrow("producer failed");
    expect(readFileSync(p, "utf8")).toBe("old");
    expect(temps(dir)).toEqual([]);
  });

  it("overwrite: false refuses an existing file, also one that appears during the write", () => {
    const p = join(dir, "no-clobber.bin");
    writeFileAtomic(p, "first", { overwrite: false });
    expectCode(
      () => writeFileAtomic(p, "second", { overwrite: false, label: "--out" }),
      "INVALID_ARGUMENT",
      "--out",
      p,
      "already exists",
    );
    const q = join(dir, "race.bin");
    function* racing() {
      yield new Uint8Array(10);
      writeFileSync(q, "someone else");
    }
    expectCode(
      () => writeFileAtomic(q, racing(), { overwrite: false }),
      "INVALID_ARGUMENT",
      "already exists",
    );
    expect(readFileSync(q, "utf8")).toBe("someone else");
    expect(temps(dir)).toEqual([]);
  });
});

describe("a full disk while writing a model", () => {
  const model = createModel("mlp:32", { inputDim: 784, numClasses: 10 }, 1);
  const bigger = createModel("mlp:256,128", { inputDim: 784, numClasses: 10 }, 2);

  it("injected ENOSPC: the previous model file stays intact and loadable, no temporary file, a typed IO error", () => {
    const sub = join(dir, "enospc");
    mkdirSync(sub);
    const p = join(sub, "model.mammals");
    writeModelFile(p, model);
    const before = readFileSync(p);
    expectCode(
      () => writeModelFile(p, bigger, { io: fullDiskAfter(100_000) }),
      "IO",
      p,
      "ENOSPC",
      "previous file",
    );
    expect(readFileSync(p).equals(before)).toBe(true);
    expect(readModelFile(p).spec).toBe("mlp:32");
    expect(temps(sub)).toEqual([]);
  });

  it("injected ENOSPC while writing vectors and a trace: previous files intact, no temporary file", () => {
    const sub = join(dir, "enospc-2");
    mkdirSync(sub);
    const v = join(sub, "base.fvecs");
    writeVectorFile(v, [1, 2, 3, 4], 2);
    expectCode(
      () => writeVectorFile(v, new Float32Array(100_000), 4, undefined, { io: fullDiskAfter(1000) }),
      "IO",
      v,
    );
    expect(readVectorFile(v).data).toEqual(Float32Array.from([1, 2, 3, 4]));
    const g = gaussVectors("n=50,dim=3,seed=1");
    const catalog = makeCatalog(g.canonical, g.vectors, g.dim, "flat");
    const t = join(sub, "t.trace");
    writeTraceFile(t, generateTrace("irm:count=10,seed=1", catalog), undefined, { catalog });
    const before = readFileSync(t);
    expectCode(
      () =>
        writeTraceFile(t, generateTrace("irm:count=100000,seed=2", catalog), "f32", {
          catalog,
          io: fullDiskAfter(50_000),
        }),
      "IO",
      t,
    );
    expect(readFileSync(t).equals(before)).toBe(true);
    expect(openTraceFile(t, catalog).info.count).toBe(10);
    expect(temps(sub)).toEqual([]);
  });

  it("a real EFBIG (child under `ulimit -f`) half-way through a model leaves the previous model intact", () => {
    const sub = join(dir, "efbig");
    mkdirSync(sub);
    const p = join(sub, "model.mammals");
    writeFileSync(p, saveModel(model));
    const before = readFileSync(p);
    // mlp:64 over 784 inputs is ~200 kB; the child may write at most 64 kB per file.
    const out = execFileSync(
      "bash",
      ["-c", `ulimit -f 64 && exec "${process.execPath}" --import tsx "${CHILD}" model "${p}"`],
      { env: { ...process.env, MAMMALS_ATOMIC_CHILD: "1" }, encoding: "utf8" },
    );
    const result = JSON.parse(out.trim().split("\n").pop() as string);
    expect(readFileSync(p).equals(before), "the previous model was replaced by a partial one").toBe(true);
    expect(temps(sub)).toEqual([]);
    expect(result.error?.code).toBe("IO");
    expect(result.error?.message).toContain(p);
    expect(result.error?.message).toMatch(/EFBIG/);
  });
});

describe("SIGKILL at random points of a large write", () => {
  const SIZE = 8 << 20;
  const KILLS = 4;

  /** The version number of a complete file, or throws if the bytes are not exactly one version. */
  function versionOf(p: string): number {
    const b = readFileSync(p);
    const v = b.readUInt32LE(0);
    expect(b.length).toBe(SIZE);
    const want = Buffer.concat([...versionChunks(v, SIZE)]);
    expect(b.equals(want), `${p} is not exactly version ${v}`).toBe(true);
    return v;
  }

  /** Starts a child writing versions of `p` forever; resolves once it is writing. */
  async function writer(p: string) {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, "loop", p, String(SIZE)], {
      env: { ...process.env, MAMMALS_ATOMIC_CHILD: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    return child;
  }

  it(`leaves the old or the new file in each of ${KILLS} seeded kills, and the next write removes the stale temporary`, async () => {
    const rng = new Rng(20240611);
    // One target per kill, the writers in parallel (a node + tsx start-up costs about a second).
    const targets = Array.from({ length: KILLS }, (_, k) => {
      const sub = join(dir, `kill-${k}`);
      mkdirSync(sub);
      const p = join(sub, "big.bin");
      writeFileAtomic(p, versionChunks(0, SIZE), { durable: false });
      return { sub, p, delay: rng.int(500) };
    });
    const children = await Promise.all(targets.map((t) => writer(t.p)));
    await Promise.all(
      targets.map(async (t, k) => {
        await new Promise((r) => setTimeout(r, t.delay));
        const exited = new Promise((r) => children[k].once("exit", r));
        children[k].kill("SIGKILL");
        await exited;
      }),
    );
    let killedMidWrite = 0;
    for (const [k, t] of targets.entries()) {
      versionOf(t.p);
      if (temps(t.sub).length > 0) killedMidWrite++;
      // The next start cleans what the killed run left: a write of the same target.
      writeFileAtomic(t.p, versionChunks(1000 + k, SIZE), { durable: false });
      expect(temps(t.sub)).toEqual([]);
      expect(versionOf(t.p)).toBe(1000 + k);
    }
    // Some kills landed inside a write (a temporary was left), not only between writes.
    expect(killedMidWrite).toBeGreaterThan(0);
  }, 60_000);
});

describe("cleanStaleTempFiles", () => {
  it("removes temporaries of dead processes (new and legacy names), keeps live ones and other files", () => {
    const sub = join(dir, "stale");
    mkdirSync(sub);
    const dead = deadPid();
    const names = [
      `a.bin${TEMP_MARK}${dead}-0badf00d`,
      `model.mmdl.tmp-${dead}`,
      `b.bin${TEMP_MARK}${process.pid}-12345678`,
      `c.bin${TEMP_MARK}1-abcdef01`, // PID 1 is alive
      "notes.tmp-x",
      "keep.bin",
    ];
    for (const n of names) writeFileSync(join(sub, n), "x");
    const removed = cleanStaleTempFiles(sub).map((p) => p.slice(sub.length + 1));
    expect(removed.sort()).toEqual([names[0], names[1]].sort());
    expect(readdirSync(sub).sort()).toEqual(names.slice(2).sort());
  });
});

describe("checkOutputPath / checkOutputDir (before long work)", () => {
  it("names the flag and the path for a missing parent, a directory, a device and an existing file", () => {
    expectCode(
      () => checkOutputPath(join(dir, "nope", "x.bin"), { label: "--out" }),
      "INVALID_ARGUMENT",
      "--out",
      "nope",
      "does not exist",
    );
    expectCode(() => checkOutputPath(dir, { label: "--out" }), "INVALID_ARGUMENT", "is a directory");
    expectCode(() => checkOutputPath("/dev/null"), "INVALID_ARGUMENT", "/dev/null", "not a regular file");
    const p = join(dir, "exists.bin");
    writeFileSync(p, "x");
    expectCode(
      () => checkOutputPath(p, { overwrite: false, label: "--out" }),
      "INVALID_ARGUMENT",
      "already exists",
    );
    checkOutputPath(p);
    checkOutputPath(join(dir, "new.bin"), { overwrite: false });
    expectCode(() => checkOutputPath(join(p, "under-a-file.bin")), "INVALID_ARGUMENT", "not a directory");
  });

  it("an output directory may be created (nearest ancestor writable) but a file in the way is refused", () => {
    checkOutputDir(join(dir, "new-out", "deeper"));
    checkOutputDir(dir);
    const f = join(dir, "file-in-the-way");
    writeFileSync(f, "x");
    expectCode(
      () => checkOutputDir(f, { label: "--out" }),
      "INVALID_ARGUMENT",
      "--out",
      f,
      "not a directory",
    );
    expectCode(() => checkOutputDir(join(f, "sub")), "INVALID_ARGUMENT", "not a directory");
    expect(existsSync(join(dir, "new-out"))).toBe(false);
  });
});

describe('"-": standard output', () => {
  const VECTORS = join(import.meta.dirname, "..", "src", "data", "vectors-file.node.ts");
  const child = (body: string) =>
    `import { writeVectorFile } from ${JSON.stringify(VECTORS)};
     try { ${body} } catch (e) { process.stderr.write(JSON.stringify({ code: e.code, message: e.message })); }`;

  it('writeVectorFile("-", ..., format) writes the encoded rows to stdout', () => {
    const out = execFileSync(process.execPath, [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      child(`writeVectorFile("-", [1, 2, 3, 4], 2, "ivecs");`),
    ]);
    expect(new Uint8Array(out)).toEqual(encodeIvecs([1, 2, 3, 4], 2));
  });

  it("a reader that closes the pipe early gives an IO error saying EPIPE (for the CLI to end quietly)", () => {
    const err = join(dir, "epipe.err");
    const script = child(`writeVectorFile("-", new Float32Array(1 << 22), 4, "fvecs");`).replace(/\n/g, " ");
    execFileSync("bash", [
      "-c",
      `"${process.execPath}" --import tsx --input-type=module -e '${script}' 2>"${err}" | head -c 10 >/dev/null`,
    ]);
    const e = JSON.parse(readFileSync(err, "utf8"));
    expect(e.code).toBe("IO");
    expect(e.message).toMatch(/standard output was closed by its reader \(EPIPE\)/);
  });
});
