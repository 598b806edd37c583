/**
 * The `idn simulate` use case: typed options in, typed result out, no printing. Built-in topologies,
 * catalogs and traces are created from their specs here; specs that name files (ending in .json or
 * .csv, or containing a "/") go through loaders the caller supplies (idn-simulate.node.ts reads
 * files), so this module runs in browsers too.
 */
import { fail } from "../core/errors.js";
import type { Catalog } from "../idn/catalog.js";
import { createCatalog } from "../idn/catalogs.js";
import { IdnInstance } from "../idn/instance.js";
import { parseIdnPolicyList } from "../idn/policies.js";
import { type SimulationResult, simulateIdn } from "../idn/simulator.js";
import { createTopology } from "../idn/topologies.js";
import type { Topology } from "../idn/topology.js";
import { generateTrace, type IdnTrace, truncateTrace } from "../idn/traces.js";

export interface IdnSimulateOptions {
  topology: string;
  catalog: string;
  trace: string;
  /** Policy specs, or one comma-separated list. */
  policies: string[] | string;
  /** ms of cost per unit of inaccuracy (default 100). */
  alpha?: number;
  /** Slots of a generated trace (default 100); a file trace is cut to its first `slots`. */
  slots?: number;
  seed?: number;
  /** Slots left out of the averages (default 0; see simulator.ts). */
  warmup?: number;
  /** Called after every slot (progress bars). */
  onSlot?: (done: number, total: number) => void;
}

export interface IdnLoaders {
  topologyFile?: (path: string) => Topology;
  catalogFile?: (path: string) => Catalog;
  traceFile?: (path: string, instance: IdnInstance) => IdnTrace;
}

export interface IdnSimulation {
  result: SimulationResult;
  instance: IdnInstance;
  trace: IdnTrace;
}

export const IDN_DEFAULTS = { alpha: 100, slots: 100, seed: 1 } as const;

/** True when a spec names a file rather than a registered component. */
export function isFileSpec(spec: string): boolean {
  return /\.(json|csv)$/i.test(spec.trim()) || spec.includes("/");
}

function load<T>(
  kind: string,
  spec: string,
  loader: ((path: string) => T) | undefined,
  create: (spec: string) => T,
): T {
  if (!isFileSpec(spec)) return create(spec);
  if (!loader)
    fail(
      "UNSUPPORTED",
      `${kind} file "${spec}": reading files needs the Node adapter (jobs/idn-simulate.node.ts)`,
    );
  return loader(spec);
}

export function runIdnSimulation(o: IdnSimulateOptions, loaders: IdnLoaders = {}): IdnSimulation {
  const policies = typeof o.policies === "string" ? parseIdnPolicyList(o.policies) : o.policies;
  if (policies.length === 0) fail("INVALID_ARGUMENT", "--policies: expected at least one policy");
  policies.forEach((s) => parseIdnPolicyList(s));
  const alpha = o.alpha ?? IDN_DEFAULTS.alpha;
  const seed = o.seed ?? IDN_DEFAULTS.seed;
  const topology = load("topology", o.topology, loaders.topologyFile, createTopology);
  const catalog = load("catalog", o.catalog, loaders.catalogFile, createCatalog);
  const instance = new IdnInstance(topology, catalog, { alpha });
  let trace: IdnTrace;
  if (isFileSpec(o.trace)) {
    if (!loaders.traceFile)
      fail("UNSUPPORTED", `trace file "${o.trace}": reading files needs the Node adapter`);
    trace = loaders.traceFile(o.trace, instance);
    if (o.slots !== undefined) {
      if (o.slots > trace.slots)
        fail(
          "INVALID_ARGUMENT",
          `--slots ${o.slots}: the trace file ${o.trace} has only ${trace.slots} slots`,
        );
      trace = truncateTrace(trace, o.slots);
    }
  } else trace = generateTrace(o.trace, { instance, slots: o.slots ?? IDN_DEFAULTS.slots, seed });
  const result = simulateIdn({ instance, trace, policies, seed, onSlot: o.onSlot, warmup: o.warmup });
  return { result, instance, trace };
}
