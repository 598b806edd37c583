/**
 * Upstreams: where an edge node forwards what it cannot answer well locally (a bigger model in the
 * cloud, or the next tier). The interface is transport-neutral; this file provides the in-process
 * one, which wraps a larger Model and adds a round-trip latency drawn from a seeded distribution:
 *   constant:ms=20 | uniform:min=10,max=30 | lognormal:median=20,sigma=0.5
 * By default the latency is simulated (accounted in the answer, not slept), so a run of thousands
 * of requests takes as long as the models' compute; `realWait` really waits (setTimeout).
 */
import { check, fail } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { parseParams, splitSpec } from "../core/spec.js";
import { checkVector } from "../core/vectors.js";
import type { Model } from "../models/types.js";

export interface UpstreamAnswer {
  proba: Float32Array;
  label: number;
  /** End-to-end latency seen by the edge node (round trip plus upstream compute). */
  latencyMs: number;
}

export interface Upstream {
  readonly numClasses: number;
  readonly inputDim: number;
  /** Mean latency the node should expect (ms), when the upstream knows it. */
  readonly expectedLatencyMs?: number;
  predict(x: Float32Array): Promise<UpstreamAnswer>;
}

export interface LatencyDistribution {
  readonly spec: string;
  readonly mean: number;
  sample(rng: Rng): number;
}

/** Parses "constant:ms=20", "uniform:min=10,max=30" or "lognormal:median=20,sigma=0.5". */
export function parseLatency(spec: string): LatencyDistribution {
  const { name, rest } = splitSpec(spec);
  switch (name) {
    case "constant": {
      const { ms } = parseParams(
        rest,
        { ms: { type: "number", default: 20, min: 0, description: "latency (ms)" } },
        "latency constant",
      );
      return { spec: `constant:ms=${ms}`, mean: ms, sample: () => ms };
    }
    case "uniform": {
      const { min, max } = parseParams(
        rest,
        {
          min: { type: "number", default: 10, min: 0, description: "smallest latency (ms)" },
          max: { type: "number", default: 30, min: 0, description: "largest latency (ms)" },
        },
        "latency uniform",
      );
      check(max >= min, () => `latency uniform: expected max >= min, got min=${min}, max=${max}`);
      return {
        spec: `uniform:min=${min},max=${max}`,
        mean: (min + max) / 2,
        sample: (rng) => rng.uniform(min, max),
      };
    }
    case "lognormal": {
      const { median, sigma } = parseParams(
        rest,
        {
          median: { type: "number", default: 20, min: 0, description: "median latency (ms)" },
          sigma: { type: "number", default: 0.5, min: 0, description: "standard deviation of log latency" },
        },
        "latency lognormal",
      );
      return {
        spec: `lognormal:median=${median},sigma=${sigma}`,
        mean: median * Math.exp((sigma * sigma) / 2),
        sample: (rng) => median * Math.exp(sigma * rng.normal()),
      };
    }
    default:
      return fail(
        "UNKNOWN_NAME",
        `unknown latency distribution "${name}"; expected one of constant, uniform, lognormal`,
      );
  }
}

export interface InProcessUpstreamOptions {
  /** Latency spec (default "constant:ms=20"). */
  latency?: string;
  seed?: number;
  /** Really wait for the drawn latency instead of only accounting for it. Default false. */
  realWait?: boolean;
  /** Add the measured compute time of the big model to the latency. Default false (deterministic). */
  includeCompute?: boolean;
  /** Clock for compute timing (default performance.now). */
  now?: () => number;
}

export class InProcessUpstream implements Upstream {
  readonly model: Model;
  readonly latency: LatencyDistribution;
  readonly numClasses: number;
  readonly inputDim: number;
  private readonly rng: Rng;
  private readonly realWait: boolean;
  private readonly includeCompute: boolean;
  private readonly now: () => number;
  /** Requests answered. */
  calls = 0;

  constructor(model: Model, o: InProcessUpstreamOptions = {}) {
    this.model = model;
    this.latency = parseLatency(o.latency ?? "constant:ms=20");
    this.rng = new Rng(o.seed ?? 1);
    this.realWait = o.realWait ?? false;
    this.includeCompute = o.includeCompute ?? false;
    this.now = o.now ?? (() => performance.now());
    this.numClasses = model.numClasses;
    this.inputDim = model.inputDim;
  }

  get expectedLatencyMs(): number {
    return this.latency.mean;
  }

  async predict(x: Float32Array): Promise<UpstreamAnswer> {
    checkVector(x, this.inputDim, "upstream input");
    const t0 = this.now();
    const proba = this.model.predictProba(x);
    const compute = this.now() - t0;
    let label = 0;
    for (let y = 1; y < proba.length; y++) if (proba[y] > proba[label]) label = y;
    const rtt = this.latency.sample(this.rng);
    this.calls++;
    if (this.realWait && rtt > 0) await new Promise((resolve) => setTimeout(resolve, rtt));
    return { proba, label, latencyMs: rtt + (this.includeCompute ? compute : 0) };
  }
}
