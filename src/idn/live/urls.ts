/**
 * Where each node of a live IDN listens: the topology file's `url` of the node, or
 * http://127.0.0.1:(basePort + node index) for nodes without one when a base port is given.
 */
import { fail } from "../../core/errors.js";
import type { Topology } from "../topology.js";

/** What every node of one network shares (the load driver reads it from any node). */
export interface LiveNetworkConfig {
  topology: string;
  catalog: string;
  alpha: number;
  policy: string;
  seed: number;
  /** Seconds per slot when `idn up` clocks the slots (0: `idn load` advances them). */
  slotSeconds: number;
  urls: string[];
}

export function liveNodeUrls(topology: Topology, basePort?: number): string[] {
  if (
    basePort !== undefined &&
    !(Number.isInteger(basePort) && basePort >= 1 && basePort + topology.nodes.length - 1 <= 65535)
  )
    fail(
      "INVALID_ARGUMENT",
      `--base-port: expected an integer port such that base + ${topology.nodes.length - 1} <= 65535, got ${basePort}`,
    );
  return topology.nodes.map((n, i) => {
    if (n.url) return n.url;
    if (basePort === undefined)
      fail(
        "INVALID_ARGUMENT",
        `topology ${topology.name}: node "${n.id}" has no "url"; expected --base-port P (node i listens on 127.0.0.1:P+i) or a url for every node in the topology file`,
      );
    return `http://127.0.0.1:${basePort + i}`;
  });
}

/** Index of node `id` in the topology, or a clear error listing the ids. */
export function liveNodeIndex(topology: Topology, id: string): number {
  const i = topology.nodes.findIndex((n) => n.id === id);
  if (i < 0)
    fail(
      "UNKNOWN_ID",
      `--idn-node ${id}: no such node in topology ${topology.name}; expected one of ${topology.nodes.map((n) => n.id).join(", ")}`,
    );
  return i;
}
