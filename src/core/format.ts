/**
 * Numbers and plain-text tables for people, shared by the CLI, the scripts that write docs/ and the
 * reports jobs build: aligned tables with right-aligned numeric columns, compact numbers, byte sizes.
 */

export type Cell = string | number | boolean | null | undefined;

/** Formats a number with `digits` significant decimals, integers without decimals. */
export function fmt(v: Cell, digits = 4): string {
  if (v === null || v === undefined) return "-";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    if (a >= 1000) return v.toFixed(0);
    if (a >= 100) return v.toFixed(1);
    return v
      .toPrecision(digits)
      .replace(/(\.\d*?)0+$/, "$1")
      .replace(/\.$/, "");
  }
  return String(v);
}

/** A plain-text table with right-aligned numeric columns. */
export function table(headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map((c) => fmt(c)));
  const widths = headers.map((h, j) => Math.max(h.length, ...cells.map((r) => (r[j] ?? "").length)));
  const numeric = headers.map((_, j) => rows.every((r) => typeof r[j] === "number" || r[j] == null));
  const line = (r: string[]) =>
    r
      .map((c, j) => (numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j])))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

export function bytesHuman(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}
