/**
 * IDN request traces: per time slot, how many requests of each type (source node, task) arrive.
 * Generators are registered by spec (`stationary:requests=1000000,alpha=0.8`, `sliding`,
 * `adversarial`); the CSV trace file format is in trace-format.ts. A trace is materialised once
 * (compressed by slot: one entry per (slot, type) with a count) and fed to every policy.
 *
 * - stationary: each request picks its task and its source independently, each Zipf(alpha) over a
 *   seeded random ranking ("Zipf over tasks and sources").
 * - sliding: the same, but both rankings rotate over time, so every type's popularity drifts along
 *   the Zipf curve; `drift` full rotations over the trace.
 * - adversarial: types are split at random into `groups` groups; all requests of slot t go to group
 *   floor(t / period) mod groups, uniformly inside it. Any policy that follows the last slot (greedy
 *   re-solving, LRU) always prepares for the wrong group, while the best static allocation hedges.
 */
import { fail } from "../core/errors.js";
import { Registry } from "../core/registry.js";
import { Rng } from "../core/rng.js";
import type { IdnInstance } from "./instance.js";

export interface IdnTrace {
  /** Canonical spec or file name. */
  name: string;
  slots: number;
  /** Entries of slot t: slotStart[t] .. slotStart[t+1]-1. */
  slotStart: Int32Array;
  types: Int32Array;
  counts: Float64Array;
  total: number;
}

export interface TraceContext {
  instance: IdnInstance;
  slots: number;
  seed: number;
}

export const traceRegistry = new Registry<TraceContext, IdnTrace>(
  "IDN trace",
  () => "; or a CSV trace file with the header slot,source,task,count (see docs/idn.md)",
);

/** Builds a trace from a per-slot stream of (type, count) additions. */
export class TraceBuilder {
  private readonly slotStart: number[] = [0];
  private readonly types: number[] = [];
  private readonly counts: number[] = [];
  private readonly pending: Float64Array;
  private readonly touched: number[] = [];
  private total = 0;

  constructor(readonly typeCount: number) {
    this.pending = new Float64Array(typeCount);
  }

  add(type: number, count: number): void {
    if (this.pending[type] === 0) this.touched.push(type);
    this.pending[type] += count;
  }

  /** Closes the current slot (entries sorted by type). */
  endSlot(): void {
    this.touched.sort((a, b) => a - b);
    for (const t of this.touched) {
      if (this.pending[t] > 0) {
        this.types.push(t);
        this.counts.push(this.pending[t]);
        this.total += this.pending[t];
      }
      this.pending[t] = 0;
    }
    this.touched.length = 0;
    this.slotStart.push(this.types.length);
  }

  build(name: string): IdnTrace {
    return {
      name,
      slots: this.slotStart.length - 1,
      slotStart: Int32Array.from(this.slotStart),
      types: Int32Array.from(this.types),
      counts: Float64Array.from(this.counts),
      total: this.total,
    };
  }
}

/** Cumulative Zipf(alpha) weights over ranks 1..n, for inverse-CDF sampling. */
function zipfCdf(n: number, alpha: number): Float64Array {
  const cdf = new Float64Array(n);
  let s = 0;
  for (let k = 0; k < n; k++) cdf[k] = s += (k + 1) ** -alpha;
  for (let k = 0; k < n; k++) cdf[k] /= s;
  return cdf;
}

function sampleRank(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Requests of slot t when `requests` are spread evenly over `slots` (the remainder on the first slots). */
function perSlot(requests: number, slots: number, t: number): number {
  return Math.floor(requests / slots) + (t < requests % slots ? 1 : 0);
}

const ZIPF = {
  requests: { type: "int", default: 100_000, min: 1, description: "requests over the whole trace" },
  alpha: { type: "number", default: 0.8, min: 0, description: "Zipf exponent of task and source popularity" },
} as const;

function zipfTrace(
  ctx: TraceContext,
  p: { requests: number; alpha: number },
  drift: number,
  name: string,
): IdnTrace {
  const { instance, slots } = ctx;
  const rng = new Rng(ctx.seed);
  const S = instance.sources.length;
  const N = instance.taskCount;
  const sourceByRank = rng.permutation(S);
  const taskByRank = rng.permutation(N);
  const sourceCdf = zipfCdf(S, p.alpha);
  const taskCdf = zipfCdf(N, p.alpha);
  const b = new TraceBuilder(instance.typeCount);
  for (let t = 0; t < slots; t++) {
    // Rotations of the two rankings at slot t (0 for a stationary trace).
    const sourceShift = Math.floor((drift * S * t) / slots);
    const taskShift = Math.floor((drift * N * t) / slots);
    for (let r = perSlot(p.requests, slots, t); r > 0; r--) {
      const s = sourceByRank[(sampleRank(sourceCdf, rng.next()) + sourceShift) % S];
      const task = taskByRank[(sampleRank(taskCdf, rng.next()) + taskShift) % N];
      b.add(instance.typeOf(s, task), 1);
    }
    b.endSlot();
  }
  return b.build(name);
}

traceRegistry.register({
  name: "stationary",
  summary: "independent requests, task and source each Zipf(alpha) over a seeded ranking",
  params: ZIPF,
  create: (p, ctx) => zipfTrace(ctx, p, 0, "stationary"),
});

traceRegistry.register({
  name: "sliding",
  summary: "Zipf popularity whose task and source rankings rotate: every type's popularity drifts",
  params: {
    ...ZIPF,
    drift: {
      type: "number",
      default: 1,
      min: 0,
      description: "full rotations of the rankings over the trace",
    },
  },
  create: (p, ctx) => zipfTrace(ctx, p, p.drift, "sliding"),
});

traceRegistry.register({
  name: "adversarial",
  summary:
    "request types split into groups; slot t requests only group floor(t/period) mod groups (defeats follow-the-last-slot policies)",
  params: {
    requests: ZIPF.requests,
    groups: { type: "int", default: 2, min: 1, description: "groups of request types taking turns" },
    period: { type: "int", default: 1, min: 1, description: "slots each group lasts" },
  },
  create(p, ctx) {
    const { instance, slots } = ctx;
    if (p.groups > instance.typeCount)
      fail(
        "INVALID_ARGUMENT",
        `IDN trace adversarial: groups=${p.groups} exceeds the ${instance.typeCount} request types`,
      );
    const rng = new Rng(ctx.seed);
    const order = rng.permutation(instance.typeCount);
    const members: number[][] = Array.from({ length: p.groups }, () => []);
    order.forEach((type, i) => members[i % p.groups].push(type));
    const b = new TraceBuilder(instance.typeCount);
    for (let t = 0; t < slots; t++) {
      const group = members[Math.floor(t / p.period) % p.groups];
      for (let r = perSlot(p.requests, slots, t); r > 0; r--) b.add(group[rng.int(group.length)], 1);
      b.endSlot();
    }
    return b.build("adversarial");
  },
});

/** Generates a registered trace; its name becomes the canonical spec. */
export function generateTrace(spec: string, ctx: TraceContext): IdnTrace {
  if (!(Number.isInteger(ctx.slots) && ctx.slots >= 1))
    fail("INVALID_ARGUMENT", `IDN trace: slots must be an integer >= 1, got ${ctx.slots}`);
  const parsed = traceRegistry.parse(spec);
  const trace = parsed.entry.create(parsed.params as never, ctx);
  return { ...trace, name: parsed.canonical };
}

/** The first `slots` slots of a trace. */
export function truncateTrace(trace: IdnTrace, slots: number): IdnTrace {
  if (slots >= trace.slots) return trace;
  const end = trace.slotStart[slots];
  let total = 0;
  for (let i = 0; i < end; i++) total += trace.counts[i];
  return {
    name: `${trace.name} (first ${slots} slots)`,
    slots,
    slotStart: trace.slotStart.slice(0, slots + 1),
    types: trace.types.slice(0, end),
    counts: trace.counts.slice(0, end),
    total,
  };
}
