/**
 * Node adapter: a LabeledMemory's snapshot (memory/snapshot.ts) in a file, written atomically
 * (temporary file, fsync, rename) so that a crash mid-save leaves the previous file intact.
 */
import { existsSync, readFileSync } from "node:fs";
import { fail } from "../core/errors.js";
import { decodeState, encodeState, type StateTree } from "../core/state-tree.js";
import { writeFileAtomic } from "../data/atomic-write.node.js";
import type { LabeledMemory } from "./labeled-memory.js";
import { captureMemory, type MemorySnapshot, restoreMemory } from "./snapshot.js";

/** Writes everything the memory learned (entries, keys, policy records) to `path`; returns its size. */
export function saveMemory(path: string, memory: LabeledMemory): number {
  const text = encodeState(captureMemory(memory) as unknown as StateTree);
  writeFileAtomic(path, text);
  return text.length;
}

/** Restores a file written by {@link saveMemory} into `memory` (constructed with the same configuration). */
export function loadMemory(path: string, memory: LabeledMemory): void {
  if (!existsSync(path)) fail("BAD_FILE", `${path}: no such memory snapshot`);
  const snap = decodeState(readFileSync(path, "utf8"), path) as unknown as MemorySnapshot;
  restoreMemory(memory, snap);
}
