/**
 * Flag value parsers shared by every command: a bad value is a MammalsError (exit code 2) whose
 * message names the flag, what it expects and what arrived.
 */
import { fail } from "../core/errors.js";

/** An integer >= min (and <= max when given). */
export function parseInteger(
  s: string,
  flag: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = Number(s);
  if (s.trim() === "" || !Number.isSafeInteger(n) || n < min || n > max)
    fail("INVALID_ARGUMENT", `${flag}: expected an integer in [${min}, ${max}], got "${s}"`);
  return n;
}

/** A finite number in [min, max]. */
export function parseNumber(s: string, flag: string, min = -Infinity, max = Infinity): number {
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || n < min || n > max)
    fail("INVALID_ARGUMENT", `${flag}: expected a number in [${min}, ${max}], got "${s}"`);
  return n;
}

/** Comma-separated finite numbers in [min, max]; at least one. */
export function parseNumberList(s: string, flag: string, min = -Infinity, max = Infinity): number[] {
  const parts = s.split(",").map((t) => t.trim());
  const out = parts.map(Number);
  if (parts.some((p) => p === "") || out.some((x) => !Number.isFinite(x) || x < min || x > max))
    fail("INVALID_ARGUMENT", `${flag}: expected comma-separated numbers in [${min}, ${max}], got "${s}"`);
  return out;
}

/** Comma-separated integers >= min; at least one. */
export function parseIntegerList(s: string, flag: string, min = 1): number[] {
  const out = parseNumberList(s, flag);
  if (out.some((x) => !Number.isSafeInteger(x) || x < min))
    fail("INVALID_ARGUMENT", `${flag}: expected comma-separated integers >= ${min}, got "${s}"`);
  return out;
}
