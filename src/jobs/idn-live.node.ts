/**
 * The live IDN use cases (Node): `idn up` starts one `mammals serve --idn-node` process per
 * topology node on 127.0.0.1 and stops them all; `idn load` drives a trace against a running
 * network over HTTP (src/idn/live/driver.ts) and runs the simulator on the same trace, topology,
 * catalog, alpha, policy and seed (read from the network's own /idn/status) for the comparison.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fail, MammalsError } from "../core/errors.js";
import type { Catalog } from "../idn/catalog.js";
import { createCatalog } from "../idn/catalogs.js";
import { readCatalogFile, readTopologyFile, readTraceFile } from "../idn/files.node.js";
import { IdnInstance } from "../idn/instance.js";
import {
  compareLive,
  driveTrace,
  type LiveClient,
  type LiveComparison,
  type LiveSlotRecord,
} from "../idn/live/driver.js";
import { LIVE_POLICY_DEFAULT, type LiveNodeRoute, liveInfidaOptions } from "../idn/live/node.js";
import { type LiveNetworkConfig, liveNodeUrls } from "../idn/live/urls.js";
import { simulateIdn } from "../idn/simulator.js";
import { createTopology } from "../idn/topologies.js";
import type { Topology } from "../idn/topology.js";
import { generateTrace, type IdnTrace, truncateTrace } from "../idn/traces.js";
import { IdnModelStore } from "./idn-models.node.js";
import { IDN_DEFAULTS, isFileSpec } from "./idn-simulate.js";

export interface LiveNetworkSpec {
  topology: string;
  catalog: string;
  alpha: number;
  basePort?: number;
}

export interface OpenedNetwork {
  topology: Topology;
  catalog: Catalog;
  instance: IdnInstance;
  urls: string[];
}

export function openLiveNetwork(o: LiveNetworkSpec): OpenedNetwork {
  const topology = isFileSpec(o.topology) ? readTopologyFile(o.topology) : createTopology(o.topology);
  const catalog = isFileSpec(o.catalog) ? readCatalogFile(o.catalog) : createCatalog(o.catalog);
  const instance = new IdnInstance(topology, catalog, { alpha: o.alpha });
  return { topology, catalog, instance, urls: liveNodeUrls(topology, o.basePort) };
}

/** Calls nodes over HTTP with a timeout; a non-2xx answer or no answer rejects. */
export function httpLiveClient(urls: string[], timeoutMs = 10_000): LiveClient {
  return {
    async call<T>(node: number, route: LiveNodeRoute, body: unknown): Promise<T> {
      const res = await fetch(`${urls[node]}/idn/${route}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const out = (await res.json()) as T & { message?: string };
      if (!res.ok)
        throw new MammalsError(
          "UPSTREAM_UNAVAILABLE",
          `${urls[node]}/idn/${route}: ${res.status} ${out.message ?? ""}`,
        );
      return out;
    },
  };
}

export interface IdnUpOptions extends LiveNetworkSpec {
  basePort: number;
  policy?: string;
  seed?: number;
  dataDir: string;
  /** Training epochs of the models (default 8, the measured catalog's). */
  epochs?: number;
  /** Seconds per slot when `idn up` clocks the slots itself (0: `idn load` advances them). */
  slotSeconds?: number;
  /** The program to run (`process.execPath` + these args + `serve ...`). */
  entry: string[];
  log?: (line: string) => void;
  /** Extra arguments for every node (e.g. --log-level warn). */
  nodeArgs?: string[];
  timeoutMs?: number;
  /** Receives a function that stops the nodes started so far (a signal during startup). */
  onStarting?: (stopAll: () => Promise<void>) => void;
}

export interface RunningNetwork {
  nodes: Array<{ id: string; tier: string; url: string; pid: number; process: ChildProcess }>;
  /** SIGTERM to every node, then waits for each exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** The arguments of `mammals serve --idn-node` for node `id` of a network. */
export function idnNodeArgs(o: IdnUpOptions, id: string): string[] {
  return [
    "serve",
    "--idn-node",
    id,
    "--topology",
    o.topology,
    "--catalog",
    o.catalog,
    "--alpha",
    String(o.alpha),
    "--base-port",
    String(o.basePort),
    "--policy",
    o.policy ?? LIVE_POLICY_DEFAULT,
    "--seed",
    String(o.seed ?? IDN_DEFAULTS.seed),
    "--data-dir",
    o.dataDir,
    "--epochs",
    String(o.epochs ?? 8),
    "--slot-seconds",
    String(o.slotSeconds ?? 0),
    ...(o.nodeArgs ?? []),
  ];
}

/** Starts one process per node; resolves when every node listens (or stops them all and rejects). */
export async function runIdnUp(o: IdnUpOptions): Promise<RunningNetwork> {
  liveInfidaOptions(o.policy ?? LIVE_POLICY_DEFAULT, 1);
  const net = openLiveNetwork(o);
  if (net.topology.nodes.some((n) => n.url))
    fail(
      "INVALID_ARGUMENT",
      `idn up: topology ${net.topology.name} gives nodes URLs (a network across machines); start each node there with mammals serve --idn-node NAME --topology FILE`,
    );
  // Train what is missing once, before the nodes start (they would otherwise all train at once).
  const store = new IdnModelStore({ dataDir: o.dataDir, epochs: o.epochs, log: o.log });
  o.log?.(`models: ${net.catalog.models.length} in ${o.dataDir}/models (training the missing ones)`);
  store.prepare(net.catalog);
  const nodes: RunningNetwork["nodes"] = [];
  const exits: Promise<void>[] = [];
  const stop = async (graceMs = 10_000) => {
    for (const n of nodes)
      if (n.process.exitCode === null && n.process.signalCode === null) n.process.kill("SIGTERM");
    const timer = setTimeout(() => {
      for (const n of nodes)
        if (n.process.exitCode === null && n.process.signalCode === null) n.process.kill("SIGKILL");
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
  };
  const timeoutMs = o.timeoutMs ?? 120_000;
  const aborted = { value: false };
  o.onStarting?.(() => {
    aborted.value = true;
    return stop(2000);
  });
  try {
    await Promise.all(
      net.topology.nodes.map(
        (node, i) =>
          new Promise<void>((resolve, reject) => {
            // The node exits when this process's end of its stdin closes: even a SIGKILLed launcher
            // leaves no orphan behind.
            const child = spawn(
              process.execPath,
              [...o.entry, ...idnNodeArgs(o, node.id), "--exit-with-stdin"],
              {
                stdio: ["pipe", "pipe", "pipe"],
              },
            );
            const entry = {
              id: node.id,
              tier: node.tier,
              url: net.urls[i],
              pid: child.pid ?? -1,
              process: child,
            };
            nodes.push(entry);
            exits.push(new Promise<void>((r) => child.once("exit", () => r())));
            let stderr = "";
            let exited = false;
            child.stderr?.on("data", (d) => {
              stderr += String(d);
            });
            child.stdout?.resume();
            const deadline = Date.now() + timeoutMs;
            child.once("exit", (code, signal) => {
              exited = true;
              reject(fail_(`node ${node.id} exited (${code ?? signal}) before answering. ${stderr.trim()}`));
            });
            // Ready when /healthz answers (whatever the node's log level).
            const poll = async () => {
              while (!exited && !aborted.value) {
                try {
                  const res = await fetch(`${net.urls[i]}/healthz`, { signal: AbortSignal.timeout(1000) });
                  const body = (await res.json()) as { node?: string };
                  if (res.ok && body.node === node.id) return resolve();
                } catch {
                  // not listening yet
                }
                if (Date.now() > deadline)
                  return reject(
                    fail_(
                      `node ${node.id}: not answering at ${net.urls[i]} after ${timeoutMs} ms. ${stderr.trim()}`,
                    ),
                  );
                await new Promise((r) => setTimeout(r, 200));
              }
            };
            void poll();
          }),
      ),
    );
  } catch (e) {
    aborted.value = true;
    await stop(2000);
    throw e;
  }
  return { nodes, stop };
}

function fail_(message: string): Error {
  return new MammalsError("STATE", message);
}

export interface IdnLoadOptions {
  topology: string;
  basePort?: number;
  trace: string;
  slots: number;
  rate?: number;
  seed?: number;
  concurrency?: number;
  timeoutMs?: number;
  /** Reset every node to its fresh state first (default true: the simulator starts fresh too). */
  reset?: boolean;
  onSlot?: (record: LiveSlotRecord, done: number, total: number) => void;
  /** Fault injection in tests and benchmarks. */
  onSlotStart?: (slot: number) => Promise<void> | void;
}

export interface IdnLoadResult extends LiveComparison {
  network: {
    topology: string;
    catalog: string;
    alpha: number;
    policy: string;
    seed: number;
    nodes: number;
    /** Whether the nodes were reset to their fresh state first, and how many did not answer. */
    reset: boolean;
    resetFailures: number;
  };
  trace: string;
  slots: number;
  seed: number;
}

interface StatusWithConfig {
  config: Omit<LiveNetworkConfig, "urls">;
}

/** Drives the trace against the running network and runs the simulator on the same inputs. */
export async function runIdnLoad(o: IdnLoadOptions): Promise<IdnLoadResult> {
  const topology = isFileSpec(o.topology) ? readTopologyFile(o.topology) : createTopology(o.topology);
  const urls = liveNodeUrls(topology, o.basePort);
  const client = httpLiveClient(urls, o.timeoutMs);
  let config: StatusWithConfig["config"] | undefined;
  for (let v = 0; v < urls.length && !config; v++)
    try {
      config = (await client.call<StatusWithConfig>(v, "status", {})).config;
    } catch {
      // try the next node
    }
  if (!config)
    fail(
      "UPSTREAM_UNAVAILABLE",
      `idn load: no node of ${topology.name} answered at ${urls.join(", ")}; is the network up (mammals idn up)?`,
    );
  if (config.slotSeconds > 0)
    fail(
      "STATE",
      `idn load: the network ends a slot every ${config.slotSeconds} s on its own (idn up --slot ${config.slotSeconds}); ` +
        "expected a network started with --slot 0, whose slots this driver advances (the comparison with the simulator needs it)",
    );
  const { slotSeconds: _clock, ...shared } = config;
  const net = openLiveNetwork({
    topology: config.topology,
    catalog: config.catalog,
    alpha: config.alpha,
    basePort: o.basePort,
  });
  if (net.topology.nodes.length !== topology.nodes.length)
    fail(
      "INVALID_ARGUMENT",
      `idn load: --topology ${o.topology} has ${topology.nodes.length} nodes, the network ${net.topology.nodes.length}`,
    );
  const seed = o.seed ?? IDN_DEFAULTS.seed;
  let trace: IdnTrace;
  if (isFileSpec(o.trace)) {
    trace = readTraceFile(o.trace, net.instance);
    if (o.slots > trace.slots)
      fail("INVALID_ARGUMENT", `--slots ${o.slots}: the trace file ${o.trace} has only ${trace.slots} slots`);
    trace = truncateTrace(trace, o.slots);
  } else trace = generateTrace(o.trace, { instance: net.instance, slots: o.slots, seed });
  let resetFailures = 0;
  if (o.reset ?? true) {
    const out = await Promise.allSettled(urls.map((_, v) => client.call(v, "reset", {})));
    resetFailures = out.filter((r) => r.status === "rejected").length;
  }
  const run = await driveTrace({
    instance: net.instance,
    trace,
    client,
    seed,
    concurrency: o.concurrency,
    rate: o.rate,
    onSlot: o.onSlot,
    onSlotStart: o.onSlotStart,
  });
  const sim = simulateIdn({ instance: net.instance, trace, policies: [config.policy], seed: config.seed });
  return {
    ...compareLive(run, sim),
    network: { ...shared, nodes: urls.length, reset: o.reset ?? true, resetFailures },
    trace: trace.name,
    slots: trace.slots,
    seed,
  };
}
