/**
 * Snapshots of an {@link EdgeNode}: its memory (memory/snapshot.ts), what the local model learned
 * online (the combination rule's weights, the running distance scale), the forward decision's
 * state (calibration counts, upstream error and latency estimates, counters, latency histograms)
 * and the ring of recent requests awaiting feedback. Restoring into a node built with the same
 * model, memory configuration, rule and options gives a node that answers and learns exactly as
 * the original would have.
 *
 * Two granularities: the whole snapshot, and the "learned scalars" (a few kilobytes: counters,
 * calibration, rule weights, the memory's clock and counters, without entries, policy records,
 * histograms or the request ring) that a service can afford to commit with every acknowledged
 * change.
 *
 * EdgeNode keeps these fields private; this codec is the one place that names them, until the
 * node grows snapshot()/restore() methods of its own.
 */
import { fail } from "../core/errors.js";
import { captureState, restoreState, type StateTree } from "../core/state-tree.js";
import {
  captureMemory,
  type MemorySnapshot,
  memoryConfig,
  restoreMemory,
  statefulPolicy,
} from "../memory/snapshot.js";
import type { EdgeNode } from "./edge-node.js";

export const EDGE_SNAPSHOT_FORMAT = "mammals-edge-node/1";

/** Fields that reference collaborators, not learned state. */
const COLLABORATORS = ["local", "upstream", "now", "pred"];
/** The ring of recent requests (kept for feedback by id). */
const RING = ["ring", "recent", "nextSlot"];
const HISTOGRAMS = ["latency", "localCompute"];

export interface EdgeNodeConfig {
  modelSpec: string;
  inputDim: number;
  numClasses: number;
  keyDim: number;
  rule: string;
}

export interface EdgeNodeSnapshot {
  format: typeof EDGE_SNAPSHOT_FORMAT;
  config: EdgeNodeConfig;
  memory: MemorySnapshot;
  /** The local model's online state: the rule's fields and the running distance scale. */
  local: StateTree;
  node: StateTree;
}

export function edgeNodeConfig(node: EdgeNode): EdgeNodeConfig {
  const l = node.local;
  return {
    modelSpec: l.model.spec,
    inputDim: l.model.inputDim,
    numClasses: l.numClasses,
    keyDim: l.keyDim,
    rule: l.rule.spec,
  };
}

/** The local side's learned state: rule weights, distance scale, calibration counts, upstream estimate. */
function captureLocal(node: EdgeNode): StateTree {
  const l = node.local;
  return {
    distanceScale: l.distanceScale,
    rule: captureState(l.rule, [], "rule"),
    calibration: l.calibrator ? captureState(l.calibrator.state, [], "calibration") : null,
    upstream: l.upstreamEstimate ? captureState(l.upstreamEstimate.observed, [], "upstream") : null,
  };
}

function restoreLocal(node: EdgeNode, t: StateTree): void {
  const l = node.local;
  if (
    (t.calibration === null) !== (l.calibrator === null) ||
    (t.upstream === null) !== (l.upstreamEstimate === null)
  )
    fail("STATE", "snapshot: calibration or forward terms differ between the snapshot and this node");
  l.distanceScale = t.distanceScale as number;
  restoreState(l.rule, t.rule as StateTree, "rule");
  if (l.calibrator) restoreState(l.calibrator.state, t.calibration as StateTree, "calibration");
  if (l.upstreamEstimate) restoreState(l.upstreamEstimate.observed, t.upstream as StateTree, "upstream");
}

function checkConfig(node: EdgeNode, config: EdgeNodeConfig, what: string): void {
  const mine = edgeNodeConfig(node);
  for (const k of Object.keys(mine) as (keyof EdgeNodeConfig)[])
    if (mine[k] !== config[k])
      fail("STATE", `${what} was taken of a node with ${k} = ${config[k]}; this node has ${mine[k]}`);
}

/** Everything the node learned; `withIndex: false` leaves the memory's key vectors out. */
export function captureEdgeNode(node: EdgeNode, o: { withIndex?: boolean } = {}): EdgeNodeSnapshot {
  return {
    format: EDGE_SNAPSHOT_FORMAT,
    config: edgeNodeConfig(node),
    memory: captureMemory(node.local.memory, o),
    local: captureLocal(node),
    node: captureState(node, COLLABORATORS, "node"),
  };
}

/** Makes `node` (same model, configuration and options) the node of the snapshot. */
export function restoreEdgeNode(
  node: EdgeNode,
  snap: EdgeNodeSnapshot,
  keyOf?: (id: number) => Float32Array,
): void {
  if (snap.format !== EDGE_SNAPSHOT_FORMAT)
    fail(
      "BAD_FILE",
      `edge node snapshot: expected format ${EDGE_SNAPSHOT_FORMAT}, got ${String(snap.format)}`,
    );
  checkConfig(node, snap.config, "edge node snapshot");
  restoreMemory(node.local.memory, snap.memory, keyOf);
  restoreLocal(node, snap.local);
  restoreState(node, snap.node, "node");
}

/**
 * The small part of the state that changes with every feedback: counters, calibration, the
 * rule's weights, the memory's clock, id counter and counters (not its entries or policy records).
 */
export function captureLearnedScalars(node: EdgeNode): StateTree {
  const memory = node.local.memory;
  return {
    config: { ...edgeNodeConfig(node), policy: memoryConfig(memory).policy },
    local: captureLocal(node),
    node: captureState(node, [...COLLABORATORS, ...RING, ...HISTOGRAMS], "node"),
    memory: { clock: memory.clock, nextId: memory.layout().nextId, stats: { ...memory.stats } },
  };
}

export function restoreLearnedScalars(node: EdgeNode, t: StateTree): void {
  const config = t.config as unknown as EdgeNodeConfig & { policy: string };
  checkConfig(node, config, "learned state");
  const memory = node.local.memory;
  if (statefulPolicy(memory.policy).spec !== config.policy)
    fail(
      "STATE",
      `learned state is of a memory with policy ${config.policy}; this one has ${memory.policy.spec}`,
    );
  restoreLocal(node, t.local as StateTree);
  restoreState(node, t.node as StateTree, "node");
  const ms = t.memory as { clock: number; nextId: number; stats: StateTree };
  memory.clock = ms.clock;
  memory.restoreIdCounter(ms.nextId);
  Object.assign(memory.stats, ms.stats);
}
