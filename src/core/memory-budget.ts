/**
 * The memory budget: the most bytes one file, decompressed stream or model may claim before
 * anything is allocated. A declared size (a header's shape, a model spec) above it is refused with
 * the figure, instead of a RangeError or the process growing until the system kills it. Default
 * 4 GiB, overridden by `MAMMALS_MEMORY_BUDGET` (e.g. "512MB", "16GiB", a number of bytes) or
 * {@link setMemoryBudget}. Browser-safe.
 */
import { fail } from "./errors.js";

export const DEFAULT_MEMORY_BUDGET = 4 * 2 ** 30;

let configured: number | undefined;

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Parses "4GiB", "512 MB", "1e9" into bytes; INVALID_ARGUMENT naming `what` otherwise. */
export function parseByteSize(text: string, what = "size"): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  const bytes = m ? Number(m[1]) * UNITS[(m[2] ?? "").toLowerCase()] : Number.NaN;
  if (!(bytes >= 1) || !Number.isFinite(bytes))
    fail("INVALID_ARGUMENT", `${what}: "${text}" is not a size; expected e.g. 512MB, 4GiB or a byte count`);
  return Math.floor(bytes);
}

/** The current budget in bytes. */
export function memoryBudget(): number {
  if (configured !== undefined) return configured;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    ?.MAMMALS_MEMORY_BUDGET;
  return env ? parseByteSize(env, "MAMMALS_MEMORY_BUDGET") : DEFAULT_MEMORY_BUDGET;
}

/** Sets the budget (bytes); undefined returns to the environment / default. */
export function setMemoryBudget(bytes: number | undefined): void {
  if (bytes !== undefined && !(Number.isFinite(bytes) && bytes >= 1))
    fail("INVALID_ARGUMENT", `setMemoryBudget: expected a positive number of bytes, got ${bytes}`);
  configured = bytes;
}

/** "1.5 GB", "12.0 MB", "900 B": decimal units, as disks and the budget's messages use. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/**
 * Throws CAPACITY when `bytes` exceeds the budget: "`what` needs 17.2 GB, more than the memory
 * budget of 4.3 GB". `what` names the file or spec; `budget` overrides the global one.
 */
export function checkMemoryBudget(bytes: number, what: string, budget = memoryBudget()): void {
  if (!(bytes <= budget))
    fail(
      "CAPACITY",
      `${what} needs ${formatBytes(bytes)}, more than the memory budget of ${formatBytes(budget)} ` +
        "(raise it with MAMMALS_MEMORY_BUDGET=16GB or setMemoryBudget)",
    );
}
