/**
 * The IDN trace file format: CSV with the header `slot,source,task,count`, one line per
 * (slot, source node, task) with a positive integer count; slots are 0-based and may repeat or
 * come in any order (counts of the same slot and type add up); `#` starts a comment line. The
 * trace has max(slot) + 1 slots. Parsing is browser-safe (text in, trace out); reading the file is
 * trace-file.node.ts.
 */
import { fail } from "../core/errors.js";
import type { IdnInstance } from "./instance.js";
import { type IdnTrace, TraceBuilder } from "./traces.js";

export const TRACE_HEADER = "slot,source,task,count";

export function parseTraceCsv(text: string, instance: IdnInstance, where: string): IdnTrace {
  const nodes = instance.topology.nodes;
  const sourceIndex = new Map<string, number>();
  instance.sources.forEach((v, i) => sourceIndex.set(nodes[v].id, i));
  const nodeIds = new Set(nodes.map((n) => n.id));
  const taskIndex = new Map(instance.catalog.tasks.map((t, i) => [t, i]));
  const rows: Array<{ slot: number; type: number; count: number }> = [];
  let header = false;
  let maxSlot = -1;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const at = `${where}:${i + 1}`;
    if (!header) {
      if (line.replace(/\s/g, "") !== TRACE_HEADER)
        fail("BAD_FILE", `${at}: expected the header "${TRACE_HEADER}", got "${line}"`);
      header = true;
      return;
    }
    const f = line.split(",").map((s) => s.trim());
    if (f.length !== 4)
      fail("BAD_FILE", `${at}: expected 4 fields (${TRACE_HEADER}), got ${f.length}: "${line}"`);
    const slot = Number(f[0]);
    if (!(Number.isInteger(slot) && slot >= 0 && f[0] !== ""))
      fail("BAD_FILE", `${at}: slot: expected an integer >= 0, got "${f[0]}"`);
    const s = sourceIndex.get(f[1]);
    if (s === undefined)
      fail(
        "UNKNOWN_ID",
        nodeIds.has(f[1])
          ? `${at}: source: node "${f[1]}" is not a request source of topology ${instance.topology.name}; expected one of ${[...sourceIndex.keys()].slice(0, 6).join(", ")}${sourceIndex.size > 6 ? ", ..." : ""}`
          : `${at}: source: unknown node "${f[1]}" in topology ${instance.topology.name}; expected one of ${[...sourceIndex.keys()].slice(0, 6).join(", ")}${sourceIndex.size > 6 ? ", ..." : ""}`,
      );
    const task = taskIndex.get(f[2]);
    if (task === undefined)
      fail(
        "UNKNOWN_NAME",
        `${at}: task: unknown task "${f[2]}" in catalog ${instance.catalog.name}; expected one of ${instance.catalog.tasks.join(", ")}`,
      );
    const count = Number(f[3]);
    if (!(Number.isInteger(count) && count > 0 && f[3] !== ""))
      fail("BAD_FILE", `${at}: count: expected an integer > 0, got "${f[3]}"`);
    rows.push({ slot, type: instance.typeOf(s, task), count });
    maxSlot = Math.max(maxSlot, slot);
  });
  if (!header)
    fail("BAD_FILE", `${where}: empty trace; expected the header "${TRACE_HEADER}" and at least one line`);
  if (rows.length === 0) fail("BAD_FILE", `${where}: no requests after the header`);
  rows.sort((a, b) => a.slot - b.slot);
  const b = new TraceBuilder(instance.typeCount);
  let r = 0;
  for (let t = 0; t <= maxSlot; t++) {
    for (; r < rows.length && rows[r].slot === t; r++) b.add(rows[r].type, rows[r].count);
    b.endSlot();
  }
  return b.build(where);
}

/** The trace as CSV text in the format {@link parseTraceCsv} reads. */
export function traceToCsv(trace: IdnTrace, instance: IdnInstance): string {
  const lines = [TRACE_HEADER];
  const nodes = instance.topology.nodes;
  for (let t = 0; t < trace.slots; t++)
    for (let e = trace.slotStart[t]; e < trace.slotStart[t + 1]; e++) {
      const type = trace.types[e];
      lines.push(
        `${t},${nodes[instance.typeSourceNode(type)].id},${instance.catalog.tasks[instance.typeTask(type)]},${trace.counts[e]}`,
      );
    }
  return `${lines.join("\n")}\n`;
}
