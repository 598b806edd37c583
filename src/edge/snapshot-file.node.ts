/**
 * Node adapter: an EdgeNode's snapshot (edge/snapshot.ts) in a file, written atomically
 * (temporary file, fsync, rename) so that a crash mid-save leaves the previous file intact.
 */
import { existsSync, readFileSync } from "node:fs";
import { fail } from "../core/errors.js";
import { decodeState, encodeState, type StateTree } from "../core/state-tree.js";
import { writeFileAtomic } from "../data/atomic-write.node.js";
import type { EdgeNode } from "./edge-node.js";
import { captureEdgeNode, type EdgeNodeSnapshot, restoreEdgeNode } from "./snapshot.js";

/** Writes everything the node learned (memory, rule, calibration, counters, recent requests); returns its size. */
export function saveEdgeNode(path: string, node: EdgeNode): number {
  const text = encodeState(captureEdgeNode(node) as unknown as StateTree);
  writeFileAtomic(path, text);
  return text.length;
}

/** Restores a file written by {@link saveEdgeNode} into `node` (same model, memory configuration and options). */
export function loadEdgeNode(path: string, node: EdgeNode): void {
  if (!existsSync(path)) fail("BAD_FILE", `${path}: no such edge node snapshot`);
  const snap = decodeState(readFileSync(path, "utf8"), path) as unknown as EdgeNodeSnapshot;
  restoreEdgeNode(node, snap);
}
