/**
 * Drives a request trace against a live IDN (browser-safe; `mammals idn load` runs it over HTTP,
 * the tests in process) and sets what it measured next to the simulator's prediction.
 *
 * Slot clocking ([D]): the driver advances slots explicitly. In slot t it sends exactly the trace's
 * requests of slot t (each to its source node, in a seeded random order, `concurrency` at a time,
 * paced at `rate` requests/s when given), waits for every answer, then runs the control phases
 * (close, exchange, advance on every node, advertise from the repository down). The live nodes
 * therefore see the same per-slot requests as the simulator, whatever the machine's speed, and a
 * fault-free run makes the same decisions; wall-clock slots (`mammals idn up --slot S`) would split
 * the trace where the clock ticks instead.
 *
 * A request whose entry node does not answer is sent to the next node of its path (and so on up
 * to the repository); it fails only when none answers. Measured gain: for every answered request,
 * the repository's cost of its type minus the cost of the node and model that answered (the
 * instance's gamma: round-trip network latency + inference latency + alpha (1 - accuracy)), summed
 * per slot and averaged over slots; a failed request gains nothing. Latency percentiles are the
 * wall-clock times the driver waited (emulated links, HTTP and inference included); accuracy is the
 * share of answers whose predicted class is the example's label.
 */
import { Rng } from "../../core/rng.js";
import type { IdnInstance } from "../instance.js";
import type { SimulationResult } from "../simulator.js";
import type { IdnTrace } from "../traces.js";
import type { AdvanceReply, InferResponse, LiveNodeRoute } from "./node.js";

export interface LiveClient {
  /** Calls a route of node `node`; rejects when it does not answer. */
  call<T>(node: number, route: LiveNodeRoute, body: unknown): Promise<T>;
}

export interface DriveOptions {
  instance: IdnInstance;
  trace: IdnTrace;
  client: LiveClient;
  /** Seed of the request order and of the test examples. */
  seed: number;
  /** Requests in flight at once (default 32). */
  concurrency?: number;
  /** Requests per second (default: as fast as the network answers). */
  rate?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called when slot t starts sending (fault injection in tests). */
  onSlotStart?: (slot: number) => Promise<void> | void;
  onSlot?: (record: LiveSlotRecord, done: number, total: number) => void;
}

export interface LiveSlotRecord {
  slot: number;
  requests: number;
  failed: number;
  /** Answers given by a node with no upstream left (not the network's choice). */
  degraded: number;
  gain: number;
  /** Model loads that took effect in this slot (decided at the end of the previous one). */
  loads: number;
  correct: number;
  /** Sum of the catalog accuracy of the answering models. */
  modelAccuracySum: number;
  latencies: number[];
  /** Control calls from the driver that got no answer. */
  controlFailures: number;
  seconds: number;
}

export interface LiveRun {
  slots: LiveSlotRecord[];
  seconds: number;
  /** Answers per node id. */
  servedBy: Record<string, number>;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Cost (gamma) of serving a request of type t with model m at node v on its path. */
export function servingCost(inst: IdnInstance, t: number, v: number, m: number): number {
  const dist = inst.routing.distanceMs;
  const s = inst.typeSourceNode(t);
  const model = inst.catalog.models[m];
  return (
    2 * (dist[s] - dist[v]) +
    (model.latencyMs[inst.topology.nodes[v].tier] + inst.alpha * (1 - model.accuracy))
  );
}

/** Nodes grouped by hops to their repository, repositories first (the order of `advertise`). */
export function advertiseLevels(inst: IdnInstance): number[][] {
  const levels: number[][] = [];
  for (let v = 0; v < inst.nodeCount; v++) {
    let h = 0;
    for (let u = v; inst.routing.next[u] >= 0; u = inst.routing.next[u]) h++;
    levels[h] ??= [];
    levels[h].push(v);
  }
  return levels.filter((l) => l !== undefined);
}

/**
 * Ends slot `slot` on every node: close, exchange and advance on all nodes (each phase finishes
 * before the next starts), then advertise level by level from the repositories down. Returns the
 * loads the nodes made and the calls that got no answer.
 */
export async function runControlPhases(
  client: LiveClient,
  inst: IdnInstance,
  slot: number,
  levels: number[][] = advertiseLevels(inst),
): Promise<{ loads: number; failures: number }> {
  let failures = 0;
  const all = levels.flat();
  const phase = async <T>(nodes: number[], route: LiveNodeRoute, body: unknown): Promise<T[]> => {
    const out = await Promise.allSettled(nodes.map((v) => client.call<T>(v, route, body)));
    const ok: T[] = [];
    for (const r of out) {
      if (r.status === "fulfilled") ok.push(r.value);
      else failures++;
    }
    return ok;
  };
  await phase(all, "close", { slot });
  await phase(all, "exchange", { slot });
  const advanced = await phase<AdvanceReply>(all, "advance", { slot });
  for (const level of levels) await phase(level, "advertise", {});
  return { loads: advanced.reduce((s, a) => s + a.loads, 0), failures };
}

export async function driveTrace(o: DriveOptions): Promise<LiveRun> {
  const inst = o.instance;
  const now = o.now ?? (() => performance.now());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const concurrency = o.concurrency ?? 32;
  const rng = new Rng(o.seed);
  const started = now();
  const slots: LiveSlotRecord[] = [];
  const servedBy: Record<string, number> = {};
  const levels = advertiseLevels(inst);
  // Before the first slot every node learns what is hosted above it (the serving rule's first slot).
  for (const level of levels) await Promise.allSettled(level.map((v) => o.client.call(v, "advertise", {})));
  let pendingLoads = 0;
  for (let t = 0; t < o.trace.slots; t++) {
    const t0 = now();
    const rec: LiveSlotRecord = {
      slot: t,
      requests: 0,
      failed: 0,
      degraded: 0,
      gain: 0,
      loads: pendingLoads,
      correct: 0,
      modelAccuracySum: 0,
      latencies: [],
      controlFailures: 0,
      seconds: 0,
    };
    const work: Array<{ type: number; example: number }> = [];
    for (let k = o.trace.slotStart[t]; k < o.trace.slotStart[t + 1]; k++) {
      const n = Math.round(o.trace.counts[k]);
      for (let i = 0; i < n; i++) work.push({ type: o.trace.types[k], example: rng.int(1 << 30) });
    }
    for (let i = work.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [work[i], work[j]] = [work[j], work[i]];
    }
    rec.requests = work.length;
    await o.onSlotStart?.(t);
    let next = 0;
    const sendOne = async (w: { type: number; example: number }) => {
      const path = inst.pathNodes.subarray(inst.pathStart[w.type], inst.pathStart[w.type + 1]);
      const sent = now();
      for (const v of path) {
        try {
          const r = await o.client.call<InferResponse>(v, "infer", {
            type: w.type,
            slot: t,
            example: w.example,
            entry: true,
          });
          rec.latencies.push(now() - sent);
          rec.gain += inst.repositoryCost[w.type] - servingCost(inst, w.type, r.nodeIndex, r.modelIndex);
          if (r.predicted === r.label) rec.correct++;
          rec.modelAccuracySum += inst.modelAccuracy[r.modelIndex];
          if (r.degraded) rec.degraded++;
          servedBy[r.node] = (servedBy[r.node] ?? 0) + 1;
          return;
        } catch {
          // The entry node did not answer: enter one node further up.
        }
      }
      rec.failed++;
    };
    const worker = async () => {
      while (next < work.length) {
        const i = next++;
        if (o.rate) {
          const due = t0 + (1000 * i) / o.rate;
          const wait = due - now();
          if (wait > 0) await sleep(wait);
        }
        await sendOne(work[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
    const control = await runControlPhases(o.client, inst, t, levels);
    rec.controlFailures = control.failures;
    pendingLoads = control.loads;
    rec.seconds = (now() - t0) / 1000;
    slots.push(rec);
    o.onSlot?.(rec, t + 1, o.trace.slots);
  }
  return { slots, seconds: (now() - started) / 1000, servedBy };
}

export interface LiveSummary {
  avgGain: number;
  loadsPerSlot: number;
  /** Share of answers whose class was right (measured on real test examples). */
  accuracy: number;
  /** Mean catalog accuracy of the answering models (what the simulator's accuracy means). */
  modelAccuracy: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  failed: number;
  degraded: number;
  controlFailures: number;
  requestsPerSecond: number;
  seconds: number;
}

export function summarizeLiveRun(run: LiveRun): LiveSummary {
  const T = run.slots.length;
  const lat = run.slots.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const sum = (f: (s: LiveSlotRecord) => number) => run.slots.reduce((a, s) => a + f(s), 0);
  const answered = lat.length;
  const sendSeconds = sum((s) => s.seconds);
  return {
    avgGain: T ? sum((s) => s.gain) / T : 0,
    loadsPerSlot: T ? sum((s) => s.loads) / T : 0,
    accuracy: answered ? sum((s) => s.correct) / answered : 0,
    modelAccuracy: answered ? sum((s) => s.modelAccuracySum) / answered : 0,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    requests: sum((s) => s.requests),
    failed: sum((s) => s.failed),
    degraded: sum((s) => s.degraded),
    controlFailures: sum((s) => s.controlFailures),
    requestsPerSecond: sendSeconds > 0 ? answered / sendSeconds : 0,
    seconds: run.seconds,
  };
}

export interface LiveComparison {
  measured: LiveSummary;
  simulated: {
    policy: string;
    avgGain: number;
    loadsPerSlot: number;
    accuracy: number;
    p50Ms: number;
    p99Ms: number;
  };
  /** measured.avgGain / simulated.avgGain (1 when both are 0). */
  gainRatio: number;
  /** Answers per node id. */
  servedBy: Record<string, number>;
  perSlot: Array<{
    slot: number;
    requests: number;
    failed: number;
    gain: number;
    simGain: number;
    loads: number;
    simLoads: number;
    p99Ms: number;
    accuracy: number;
  }>;
}

/** The measured run next to the simulator's result for the same trace and seed (policy 0). */
export function compareLive(run: LiveRun, sim: SimulationResult): LiveComparison {
  const m = summarizeLiveRun(run);
  const r = sim.results[0];
  const ratio = r.avgGain !== 0 ? m.avgGain / r.avgGain : m.avgGain === 0 ? 1 : Number.POSITIVE_INFINITY;
  return {
    measured: m,
    simulated: {
      policy: r.spec,
      avgGain: r.avgGain,
      loadsPerSlot: r.loadsPerSlot,
      accuracy: r.accuracy,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
    },
    gainRatio: ratio,
    servedBy: run.servedBy,
    perSlot: run.slots.map((s) => {
      const lat = s.latencies.slice().sort((a, b) => a - b);
      return {
        slot: s.slot,
        requests: s.requests,
        failed: s.failed,
        gain: s.gain,
        simGain: r.series.gain[s.slot],
        loads: s.loads,
        simLoads: r.series.loads[s.slot],
        p99Ms: quantile(lat, 0.99),
        accuracy: lat.length ? s.correct / lat.length : 0,
      };
    }),
  };
}
