/**
 * Plays one stream of edge requests through one system and measures what a user of the system
 * would see: accuracy against the true labels, the fraction answered locally, end-to-end latency
 * (local compute measured, the upstream's round trip as the upstream reports it), memory bytes,
 * and time series for plots. The demo compares systems on the same stream; experiments and tests
 * use the same runner, so every figure is produced by one piece of code.
 *
 * Feedback: a request whose `feedbackDelay` is d gets its true label back through
 * `node.feedback(id, label)` just before request id + d is served (or at the end of the stream).
 */
import { check } from "../core/errors.js";
import type { EdgeNode } from "../edge/edge-node.js";
import type { Upstream } from "../edge/upstream.js";
import type { Model } from "../models/types.js";
import type { EdgeRequest } from "./workloads.js";

/** What a system is: the small model alone, the upstream always, an edge node, or a remote one. */
export type StreamSystem =
  | { kind: "model"; model: Model }
  | { kind: "upstream"; upstream: Upstream }
  | { kind: "edge"; node: EdgeNode }
  | { kind: "remote"; node: RemoteNode };

/**
 * An edge node (or any server) behind some transport, e.g. `mammals serve` over HTTP: the same
 * stream is played through it, and latency is what the caller measures.
 */
export interface RemoteNode {
  /** Answers stream request `id`; latencyMs as seen by the caller. */
  request(x: Float32Array, id: number): Promise<{ label: number; servedLocally: boolean; latencyMs: number }>;
  /** The true label of stream request `id` (resolves once the node acknowledged it). */
  feedback(id: number, label: number): Promise<void>;
  /** The node's memory once the stream is over. */
  memory(): Promise<{ bytes: number; items: number }>;
}

export interface StreamOptions {
  /** Number of windows of the time series (accuracy and local fraction over time). Default 40. */
  windows?: number;
  /** A class to follow separately (the class the small model never saw). */
  watchClass?: number;
  /** Clock in ms (default performance.now). */
  now?: () => number;
  /** Called after every request (progress bars). */
  onRequest?: (done: number) => void;
}

export interface StreamResult {
  requests: number;
  accuracy: number;
  localFraction: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  memoryBytes: number;
  memoryItems: number;
  /** End-to-end latency of every request, in stream order (for CDFs). */
  latencies: Float64Array;
  /** Per window: [start request, accuracy, local fraction]. */
  series: { start: number; accuracy: number; localFraction: number }[];
  /** When `watchClass` is set: accuracy on it, and when the node learned it (see {@link recognition}). */
  watch?: WatchResult;
}

export interface WatchResult {
  cls: number;
  requests: number;
  accuracy: number;
  /** Accuracy on the class over the requests answered locally. */
  localAccuracy: number;
  localFraction: number;
  /**
   * Feedback labels of the class the node had received when it began answering the class right
   * locally: the first watched request from which at least 80% of the next 10 watched requests are
   * answered locally and correctly. null if that never happens.
   */
  recognizedAfterFeedback: number | null;
}

/** Exact order statistic: the smallest value with at least fraction q of the sample at or below it. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1];
}

export async function runStream(
  system: StreamSystem,
  requests: readonly EdgeRequest[],
  o: StreamOptions = {},
): Promise<StreamResult> {
  const n = requests.length;
  check(n > 0, "runStream: expected at least one request");
  const now = o.now ?? (() => performance.now());
  const windows = Math.max(1, Math.min(o.windows ?? 40, n));
  const latencies = new Float64Array(n);
  const correct = new Uint8Array(n);
  const local = new Uint8Array(n);
  // Feedback due before request t is served: due[t] lists request ids.
  const due = new Map<number, number[]>();
  const watchTrace: { correctLocal: boolean; feedbackSoFar: number }[] = [];
  let watchFeedback = 0;
  let proba: Float32Array | undefined;
  const deliver = async (id: number) => {
    if (system.kind !== "edge" && system.kind !== "remote") return;
    const r = requests[id];
    if (system.kind === "edge") system.node.feedback(r.id, r.label);
    else await system.node.feedback(r.id, r.label);
    if (r.label === o.watchClass) watchFeedback++;
  };
  for (let t = 0; t < n; t++) {
    const r = requests[t];
    for (const id of due.get(t) ?? []) await deliver(id);
    due.delete(t);
    let label: number;
    if (system.kind === "model") {
      proba ??= new Float32Array(system.model.numClasses);
      const t0 = now();
      system.model.predictProba(r.x, proba);
      let best = 0;
      for (let y = 1; y < proba.length; y++) if (proba[y] > proba[best]) best = y;
      latencies[t] = now() - t0;
      label = best;
      local[t] = 1;
    } else if (system.kind === "upstream") {
      const a = await system.upstream.predict(r.x);
      latencies[t] = a.latencyMs;
      label = a.label;
    } else {
      // An edge node in process, or a remote one.
      const a = await system.node.request(r.x, r.id);
      latencies[t] = a.latencyMs;
      label = a.label;
      local[t] = a.servedLocally ? 1 : 0;
    }
    correct[t] = label === r.label ? 1 : 0;
    if (o.watchClass !== undefined && r.label === o.watchClass)
      watchTrace.push({ correctLocal: correct[t] === 1 && local[t] === 1, feedbackSoFar: watchFeedback });
    if (r.feedbackDelay !== null) {
      const at = t + Math.max(1, r.feedbackDelay);
      if (at < n) {
        const list = due.get(at);
        if (list) list.push(t);
        else due.set(at, [t]);
      }
    }
    o.onRequest?.(t + 1);
  }
  // Late feedback still reaches the node (it changes the memory reported below, not the answers).
  for (const [, ids] of [...due].sort((a, b) => a[0] - b[0])) for (const id of ids) await deliver(id);

  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const v of latencies) sum += v;
  const series: StreamResult["series"] = [];
  for (let w = 0; w < windows; w++) {
    const a = Math.floor((w * n) / windows);
    const b = Math.floor(((w + 1) * n) / windows);
    let c = 0;
    let l = 0;
    for (let t = a; t < b; t++) {
      c += correct[t];
      l += local[t];
    }
    series.push({ start: a, accuracy: c / (b - a), localFraction: l / (b - a) });
  }
  const total = (arr: Uint8Array) => arr.reduce((s, v) => s + v, 0);
  const memory =
    system.kind === "edge"
      ? { bytes: system.node.local.memory.bytes, items: system.node.local.memory.size }
      : system.kind === "remote"
        ? await system.node.memory()
        : { bytes: 0, items: 0 };
  const result: StreamResult = {
    requests: n,
    accuracy: total(correct) / n,
    localFraction: total(local) / n,
    meanMs: sum / n,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    memoryBytes: memory.bytes,
    memoryItems: memory.items,
    latencies,
    series,
  };
  if (o.watchClass !== undefined)
    result.watch = watchResult(o.watchClass, requests, correct, local, watchTrace);
  return result;
}

function watchResult(
  cls: number,
  requests: readonly EdgeRequest[],
  correct: Uint8Array,
  local: Uint8Array,
  trace: { correctLocal: boolean; feedbackSoFar: number }[],
): WatchResult {
  let m = 0;
  let c = 0;
  let l = 0;
  let lc = 0;
  for (let t = 0; t < requests.length; t++) {
    if (requests[t].label !== cls) continue;
    m++;
    c += correct[t];
    l += local[t];
    lc += correct[t] & local[t];
  }
  return {
    cls,
    requests: m,
    accuracy: m ? c / m : Number.NaN,
    localAccuracy: l ? lc / l : Number.NaN,
    localFraction: m ? l / m : Number.NaN,
    recognizedAfterFeedback: recognition(trace),
  };
}

/** First watched request from which >= 8 of the next 10 are answered locally and correctly. */
export function recognition(
  trace: readonly { correctLocal: boolean; feedbackSoFar: number }[],
): number | null {
  const W = 10;
  for (let i = 0; i + W <= trace.length; i++) {
    let ok = 0;
    for (let j = i; j < i + W; j++) if (trace[j].correctLocal) ok++;
    if (ok >= 8) return trace[i].feedbackSoFar;
  }
  return null;
}
