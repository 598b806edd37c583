/**
 * Values that arrive as text (command-line flags today, the HTTP service's parameters next) turned
 * into numbers and lists in one place, so every entry point accepts the same syntax and answers bad
 * input the same way: a MammalsError (INVALID_ARGUMENT) whose message names the field, what it
 * expects and what arrived. Lists are comma-separated everywhere; spec lists go through
 * core/spec.ts `splitSpecList`, so "acai:eta=0.1,rounding=coupled,lru" is two specs.
 */
import { fail } from "../core/errors.js";
import { splitSpecList } from "../core/spec.js";

export interface NumberRange {
  min?: number;
  max?: number;
  /** Accept only (safe) integers. */
  integer?: boolean;
}

/** Seeds: any 32-bit integer, signed or unsigned (core/rng.ts folds either into its state). */
export const SEED_RANGE: NumberRange = { min: -(2 ** 31), max: 2 ** 32 - 1, integer: true };

/** The number in `s` when it is one and lies in `range`, else undefined. */
function inRange(s: string, range: NumberRange): number | undefined {
  const { min = -Infinity, max = Infinity, integer = false } = range;
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || n < min || n > max) return undefined;
  if (integer && !Number.isSafeInteger(n)) return undefined;
  return n;
}

function bounds(range: NumberRange): string {
  return `[${range.min ?? -Infinity}, ${range.max ?? Infinity}]`;
}

/** The one number parser: a finite number in [min, max] (an integer when `range.integer`). */
export function parseNumber(s: string, field: string, range: NumberRange = {}): number {
  const n = inRange(s, range);
  if (n === undefined)
    fail(
      "INVALID_ARGUMENT",
      `${field}: expected ${range.integer ? "an integer" : "a number"} in ${bounds(range)}, got "${s}"`,
    );
  return n;
}

/** An integer in [min, max]: {@link parseNumber} with `integer` set. */
export function parseInteger(
  s: string,
  field: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  return parseNumber(s, field, { min, max, integer: true });
}

/** A seed: an integer in {@link SEED_RANGE}. */
export function parseSeed(s: string, field = "--seed"): number {
  return parseNumber(s, field, SEED_RANGE);
}

/** Comma-separated numbers, each as {@link parseNumber} takes them; at least one. */
export function parseNumberList(s: string, field: string, range: NumberRange = {}): number[] {
  const out = s.split(",").map((t) => inRange(t.trim(), range));
  if (out.some((x) => x === undefined))
    fail(
      "INVALID_ARGUMENT",
      `${field}: expected comma-separated ${range.integer ? "integers" : "numbers"} in ${bounds(range)}, got "${s}"`,
    );
  return out as number[];
}

/** A comma-separated list of spec strings (core/spec.ts `splitSpecList`); at least one. */
export function parseSpecList(s: string, field: string): string[] {
  const specs = splitSpecList(s);
  if (specs.length === 0)
    fail("INVALID_ARGUMENT", `${field}: expected a comma-separated list of specs, got "${s}"`);
  return specs;
}

function alternatives(choices: readonly string[]): string {
  return choices.length < 2 ? choices.join("") : `${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`;
}

/** One of `choices`, exactly as spelled there. */
export function parseChoice<C extends string>(s: string, field: string, choices: readonly C[]): C {
  if (!(choices as readonly string[]).includes(s))
    fail("INVALID_ARGUMENT", `${field}: expected ${alternatives(choices)}, got "${s}"`);
  return s as C;
}

/** Comma-separated values among `choices` (spaces around commas ignored); at least one. */
export function parseChoiceList<C extends string>(s: string, field: string, choices: readonly C[]): C[] {
  const parts = s.split(",").map((t) => t.trim());
  for (const p of parts)
    if (!(choices as readonly string[]).includes(p))
      fail(
        "INVALID_ARGUMENT",
        `${field}: expected comma-separated values among ${choices.join(", ")}, got "${p}" in "${s}"`,
      );
  return parts as C[];
}
