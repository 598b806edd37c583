/** Helpers for tests that check errors (not a test file itself). */
import { expect } from "vitest";
import { isMammalsError } from "../src/core/errors.js";

/** What `f` throws, or undefined when it returns. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** The MammalsError `f` throws; fails the test when it returns or throws anything else. */
export function errorOf(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (e) {
    expect(isMammalsError(e), `expected a MammalsError, got ${String(e)}`).toBe(true);
    return e as { code: string; message: string };
  }
  throw new Error("expected an error, the call succeeded");
}
