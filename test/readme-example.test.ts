/**
 * The README's "Using the library" example must compile and run exactly as written: the test takes
 * the code block from README.md, points its `"mammals"` import at the sources, type-checks it with the
 * project's compiler settings and runs it in a child process.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { readmeExample } from "./readme-code.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describe("README example", () => {
  it("type-checks and runs as written", () => {
    const code = readmeExample(ROOT);
    expect(code).toContain('from "mammals"');
    const dir = join(ROOT, ".cache", `readme-example-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "example.ts");
    try {
      writeFileSync(file, code.replace(/from "mammals"/g, 'from "../../src/node.js"'));

      const parsed = ts.getParsedCommandLineOfConfigFile(
        join(ROOT, "tsconfig.json"),
        {},
        {
          ...ts.sys,
          onUnRecoverableConfigFileDiagnostic: (d) => {
            throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
          },
        },
      );
      if (!parsed) throw new Error("tsconfig.json could not be read");
      const program = ts.createProgram([file], { ...parsed.options, noEmit: true });
      const errors = ts
        .getPreEmitDiagnostics(program)
        .filter((d) => d.category === ts.DiagnosticCategory.Error)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(errors).toEqual([]);

      const run = spawnSync(process.execPath, ["--import", "tsx", file], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^200 requests, \d+(\.\d)?% served locally, \d+ examples in memory\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
