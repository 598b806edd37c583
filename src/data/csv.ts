/**
 * Text tables of numbers (CSV, TSV, `np.savetxt` output): one vector per line, fields separated by
 * commas, semicolons or whitespace (chosen from the first data line), an optional header row
 * (detected only when EVERY field of the first line is not a number: a first line that mixes
 * numbers and text, such as `1,2,x`, is a bad data row, reported with its line and column, never
 * silently dropped as a header), blank lines and `#` comments
 * skipped. Every line must have the same number of fields, and every field must be a finite number;
 * errors give `name:line:column`. Pure text code: runs in browsers.
 */
import { fail } from "../core/errors.js";

export interface CsvMatrix {
  n: number;
  dim: number;
  /** n x dim row-major. */
  data: Float32Array;
  /** Column names when the file has a header row. */
  header?: string[];
}

type Separator = "," | ";" | "whitespace";

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

function separatorOf(line: string): Separator {
  if (line.includes(",")) return ",";
  if (line.includes(";")) return ";";
  return "whitespace";
}

function splitFields(line: string, sep: Separator): string[] {
  const t = line.trim();
  const parts = sep === "whitespace" ? t.split(/\s+/) : t.split(sep);
  return parts.map(unquote);
}

function unquote(field: string): string {
  const f = field.trim();
  return f.length >= 2 && f[0] === '"' && f[f.length - 1] === '"' ? f.slice(1, -1).trim() : f;
}

function isNumberLike(field: string): boolean {
  return NUMBER.test(field) || NON_FINITE.test(field);
}

/** Parses a text table of numbers; `name` (usually the path) prefixes every error message. */
export function parseCsv(input: string | Uint8Array, name = "CSV data"): CsvMatrix {
  const text = typeof input === "string" ? input : new TextDecoder("utf-8").decode(input);
  const lines = text.split(/\r?\n/);
  let sep: Separator | undefined;
  let header: string[] | undefined;
  let dim = 0;
  let dimLine = 0;
  let values = new Float32Array(1024);
  let used = 0;
  let n = 0;
  for (let li = 0; li < lines.length; li++) {
    const line = li === 0 ? lines[0].replace(/^\uFEFF/, "") : lines[li];
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const lineNo = li + 1;
    if (sep === undefined) {
      sep = separatorOf(trimmed);
      const fields = splitFields(trimmed, sep);
      if (!fields.some(isNumberLike)) {
        header = fields;
        dim = fields.length;
        dimLine = lineNo;
        continue;
      }
    }
    const fields = splitFields(trimmed, sep);
    if (dim === 0) {
      dim = fields.length;
      dimLine = lineNo;
    } else if (fields.length !== dim) {
      fail(
        "BAD_FILE",
        `${name}:${lineNo}: ${fields.length} fields; expected ${dim} (as on line ${dimLine}${header ? ", the header" : ""})`,
      );
    }
    if (used + dim > values.length) {
      const grown = new Float32Array(Math.max(values.length * 2, used + dim));
      grown.set(values.subarray(0, used));
      values = grown;
    }
    for (let j = 0; j < dim; j++) {
      const f = fields[j];
      const where = `${name}:${lineNo}:${j + 1}`;
      if (f === "") fail("BAD_FILE", `${where}: empty field; expected a number`);
      if (!NUMBER.test(f)) {
        if (NON_FINITE.test(f)) fail("BAD_FILE", `${where}: ${f} value; expected finite numbers`);
        const firstRow = n === 0 && header === undefined;
        fail(
          "BAD_FILE",
          `${where}: "${f}" is not a number` +
            (firstRow ? " (a header row is recognised only when none of its fields is a number)" : ""),
        );
      }
      const v = Math.fround(Number(f));
      if (!Number.isFinite(v)) fail("BAD_FILE", `${where}: ${f} overflows float32; expected finite numbers`);
      values[used++] = v;
    }
    n++;
  }
  return { n, dim, data: values.slice(0, used), ...(header ? { header } : {}) };
}

/** Formats an n x dim row-major matrix as CSV (comma separated, shortest round-trip float text). */
export function encodeCsv(values: ArrayLike<number>, dim: number, header?: string[]): string {
  if (!Number.isSafeInteger(dim) || dim <= 0)
    fail("INVALID_ARGUMENT", `encodeCsv: dim must be a positive integer, got ${dim}`);
  if (values.length % dim !== 0)
    fail("DIMENSION_MISMATCH", `encodeCsv: ${values.length} values is not a multiple of dim ${dim}`);
  if (header && header.length !== dim)
    fail("DIMENSION_MISMATCH", `encodeCsv: ${header.length} header names; expected ${dim}`);
  const lines: string[] = header ? [header.join(",")] : [];
  const row: string[] = new Array(dim);
  for (let off = 0; off < values.length; off += dim) {
    for (let j = 0; j < dim; j++) {
      const v = values[off + j];
      if (!Number.isFinite(v))
        fail("INVALID_ARGUMENT", `encodeCsv: value ${v} at index ${off + j} is not finite`);
      row[j] = String(v);
    }
    lines.push(row.join(","));
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}
