/**
 * Running `mammals` commands in-process in tests (not a test file itself): a temporary directory
 * removed after the file's tests, and stdout/stderr captured per test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, vi } from "vitest";

/** A fresh temporary directory, removed after the calling file's tests. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What the commands of the current test wrote; reset before every test. */
export interface CapturedOutput {
  stdout: string;
  stderr: string;
}

/** Captures process.stdout/stderr writes for every test of the calling file. */
export function captureOutput(): CapturedOutput {
  const out: CapturedOutput = { stdout: "", stderr: "" };
  beforeEach(() => {
    out.stdout = "";
    out.stderr = "";
    vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      out.stdout += String(s);
      return true;
    });
    vi.spyOn(process.stderr, "write").mockImplementation((s) => {
      out.stderr += String(s);
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());
  return out;
}
