/**
 * The IDN simulator: one pass over the trace's slots; in each slot every policy's allocation is
 * served by the same rule (serving.ts) and the policy is then told the slot's demand. Per policy:
 * time-averaged gain, gain normalised by offline-opt, model loads per slot, mean accuracy and the
 * p50/p99 latency of served requests (weighted by requests, exact over the candidates' latencies),
 * and per-slot series for CSV and plots.
 *
 * Loads: (node, model) pairs hosted in slot t but not in slot t-1, for t >= 1 (the initial
 * deployment is not counted), divided by the number of slots.
 */
import { fail } from "../core/errors.js";
import type { IdnInstance } from "./instance.js";
import { createIdnPolicy, type IdnPolicy, idnPolicyRegistry } from "./policies.js";
import { ServeTally, SlotDemand, serveSlot } from "./serving.js";
import type { IdnTrace } from "./traces.js";

export interface PolicySeries {
  /** Gain per slot. */
  gain: Float64Array;
  /** Mean cost per request in each slot. */
  costPerRequest: Float64Array;
  loads: Float64Array;
  accuracy: Float64Array;
  meanLatencyMs: Float64Array;
}

export interface PolicyResult {
  /** The spec as listed. */
  policy: string;
  /** Canonical spec with every parameter. */
  spec: string;
  avgGain: number;
  /** avgGain / offline-opt's avgGain (null without offline-opt in the run). */
  normalizedGain: number | null;
  loadsPerSlot: number;
  accuracy: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  avgCostPerRequest: number;
  /** Seconds spent creating the policy (hindsight policies solve here) and running it. */
  setupSeconds: number;
  runSeconds: number;
  /** Policy-specific figures (fractional gain, overshoot, exactness, ...). */
  extra: Record<string, number | string | boolean>;
  series: PolicySeries;
  /** The allocation of the last slot (for pictures). */
  finalAllocation: Uint8Array;
}

export interface SimulationResult {
  topology: string;
  catalog: string;
  trace: string;
  alpha: number;
  slots: number;
  requests: number;
  nodes: number;
  models: number;
  requestTypes: number;
  seed: number;
  /** Slots left out of the averages. */
  warmup: number;
  results: PolicyResult[];
  seconds: number;
}

export interface SimulateIdnOptions {
  instance: IdnInstance;
  trace: IdnTrace;
  policies: string[];
  seed: number;
  /** Called after each slot with the number of slots done. */
  onSlot?: (done: number, total: number) => void;
  /**
   * Slots left out of every average (default 0): with W = 1 the first slot, where the online
   * baselines start empty and INFIDA starts from its uniform allocation, counts for no one.
   */
  warmup?: number;
}

/** Weighted quantile over (value, weight) pairs sorted by value. */
function weightedQuantiles(values: Float64Array, weights: Float64Array, qs: number[]): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i)
    .filter((i) => weights[i] > 0)
    .sort((a, b) => values[a] - values[b]);
  let total = 0;
  for (const i of order) total += weights[i];
  return qs.map((q) => {
    if (order.length === 0) return 0;
    let acc = 0;
    for (const i of order) {
      acc += weights[i];
      if (acc >= q * total - 1e-9 * total) return values[i];
    }
    return values[order[order.length - 1]];
  });
}

export function simulateIdn(o: SimulateIdnOptions): SimulationResult {
  const started = performance.now();
  const { instance: inst, trace } = o;
  if (o.policies.length === 0) fail("INVALID_ARGUMENT", "IDN simulation: expected at least one policy");
  const T = trace.slots;
  const W = o.warmup ?? 0;
  if (!(Number.isInteger(W) && W >= 0 && W < T))
    fail(
      "INVALID_ARGUMENT",
      `IDN simulation: warmup must be an integer in [0, ${T - 1}] (the trace has ${T} slots), got ${W}`,
    );
  const counted = T - W;
  const policies: IdnPolicy[] = [];
  const setup: number[] = [];
  const needsReach: boolean[] = [];
  o.policies.forEach((spec, i) => {
    const t0 = performance.now();
    policies.push(createIdnPolicy(spec, { instance: inst, trace, seed: o.seed + 7919 * i }));
    setup.push((performance.now() - t0) / 1000);
    needsReach.push((idnPolicyRegistry.parse(spec).entry.capabilities ?? []).includes("reach"));
  });
  const tallies = policies.map(() => new ServeTally(inst));
  // Warm-up slots are served into their own tallies: they feed the time series, not the averages.
  const warmTallies = W > 0 ? policies.map(() => new ServeTally(inst)) : tallies;
  const series: PolicySeries[] = policies.map(() => ({
    gain: new Float64Array(T),
    costPerRequest: new Float64Array(T),
    loads: new Float64Array(T),
    accuracy: new Float64Array(T),
    meanLatencyMs: new Float64Array(T),
  }));
  const previous = policies.map(() => new Uint8Array(inst.pairCount));
  const loads = new Float64Array(policies.length);
  const runSeconds = new Float64Array(policies.length);
  const reach = new Float64Array(inst.nodeCount * inst.taskCount);
  const demand = new SlotDemand(inst);
  for (let t = 0; t < T; t++) {
    demand.load(trace, t);
    policies.forEach((policy, k) => {
      const t0 = performance.now();
      const x = policy.allocation();
      if (x.length !== inst.pairCount)
        fail(
          "STATE",
          `policy ${o.policies[k]} returned an allocation of ${x.length} entries; expected ${inst.pairCount}`,
        );
      const prev = previous[k];
      let loaded = 0;
      if (t > 0) for (let p = 0; p < x.length; p++) if (x[p] && !prev[p]) loaded++;
      prev.set(x);
      if (t >= W) loads[k] += loaded;
      const tally = t >= W ? tallies[k] : warmTallies[k];
      const before = {
        cost: tally.cost,
        requests: tally.requests,
        acc: tally.accuracySum,
        lat: tally.latencySum,
      };
      if (needsReach[k]) reach.fill(0);
      const gain = serveSlot(demand, x, tally, needsReach[k] ? reach : undefined);
      const s = series[k];
      const n = tally.requests - before.requests;
      s.gain[t] = gain;
      s.loads[t] = loaded;
      s.costPerRequest[t] = n > 0 ? (tally.cost - before.cost) / n : 0;
      s.accuracy[t] = n > 0 ? (tally.accuracySum - before.acc) / n : 0;
      s.meanLatencyMs[t] = n > 0 ? (tally.latencySum - before.lat) / n : 0;
      policy.observe(demand, needsReach[k] ? reach : undefined);
      runSeconds[k] += (performance.now() - t0) / 1000;
    });
    o.onSlot?.(t + 1, T);
  }
  const reference = o.policies.findIndex((s) => idnPolicyRegistry.parse(s).entry.name === "offline-opt");
  const latencies = Float64Array.from([...inst.candLatency, ...inst.repositoryLatency]);
  const results = policies.map((policy, k): PolicyResult => {
    const tally = tallies[k];
    const weights = Float64Array.from([...tally.candServed, ...tally.repoServed]);
    const [p50, p99] = weightedQuantiles(latencies, weights, [0.5, 0.99]);
    const avgGain = tally.gain / counted;
    const refGain = reference >= 0 ? tallies[reference].gain / counted : Number.NaN;
    return {
      policy: o.policies[k],
      spec: idnPolicyRegistry.parse(o.policies[k]).canonical,
      avgGain,
      normalizedGain: reference >= 0 ? (refGain > 0 ? avgGain / refGain : avgGain === 0 ? 1 : 0) : null,
      loadsPerSlot: loads[k] / counted,
      accuracy: tally.requests > 0 ? tally.accuracySum / tally.requests : 0,
      p50Ms: p50,
      p99Ms: p99,
      meanMs: tally.requests > 0 ? tally.latencySum / tally.requests : 0,
      avgCostPerRequest: tally.requests > 0 ? tally.cost / tally.requests : 0,
      setupSeconds: setup[k],
      runSeconds: runSeconds[k],
      extra: policy.stats?.() ?? {},
      series: series[k],
      finalAllocation: Uint8Array.from(policy.allocation()),
    };
  });
  return {
    topology: inst.topology.name,
    catalog: inst.catalog.name,
    trace: trace.name,
    alpha: inst.alpha,
    slots: T,
    requests: trace.total,
    nodes: inst.nodeCount,
    models: inst.modelCount,
    requestTypes: inst.typeCount,
    seed: o.seed,
    warmup: W,
    results,
    seconds: (performance.now() - started) / 1000,
  };
}
