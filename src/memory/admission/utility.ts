/**
 * `utility`: store what most reduces the expected loss on recent requests (a marginal-utility
 * admission rule in the spirit of similarity caching). The policy keeps a window of recent *costly*
 * requests (forwarded upstream, or mispredicted as revealed by their label) together with their
 * nearest stored distance at the time. A candidate's score is
 *     score = trust(source) * #{ recent costly requests r : dist(candidate, r) < nearestDist(r) }
 * i.e. how many of them it would have become the nearest neighbour of (its own request included).
 * A stored entry's utility starts at its score and then earns +trust of each labeled example it
 * retrieves with the right label and -trust with a wrong one, decayed by `decay` per offer.
 * Admission: score >= minScore; when full, the lowest-utility entry is evicted only if its utility
 * is below the candidate's score (otherwise the candidate is turned away).
 */
import { fail } from "../../core/errors.js";
import { cosineDistance, dot, l2sq, type Metric, norm } from "../../core/vectors.js";
import type { LabeledMemory } from "../labeled-memory.js";
import { admissionPolicies } from "./admission-policies.js";
import {
  type AdmissionContext,
  type AdmissionOffer,
  type AdmissionPolicy,
  TRUST_PARAMS,
  trustOf,
} from "./types.js";

const params = {
  ...TRUST_PARAMS,
  window: { type: "int", default: 256, min: 1, description: "recent costly requests remembered for scoring" },
  decay: {
    type: "number",
    default: 0.999,
    min: 0.5,
    max: 1,
    description: "per-offer decay factor of stored entries' utility",
  },
  minScore: {
    type: "number",
    default: 0.5,
    min: 0,
    description: "smallest score admitted while there is room",
  },
} as const;

export interface UtilityParams {
  upstreamTrust: number;
  window: number;
  decay: number;
  minScore: number;
}

/** Renormalise the inflated utilities before the growth factor overflows. */
const MAX_GROWTH = 1e100;

export class UtilityPolicy implements AdmissionPolicy {
  readonly name = "utility";
  readonly spec: string;
  /** Utilities are stored inflated by `growth` (= decay^-t) so that decaying all of them is O(1). */
  private readonly utility = new Map<number, number>();
  private growth = 1;
  private keys: Float32Array | null = null;
  private readonly radius: Float64Array;
  private readonly keyNorms: Float64Array;
  private filled = 0;
  private next = 0;
  private lastScore = 0;

  constructor(private readonly p: UtilityParams) {
    this.spec = `utility:upstreamTrust=${p.upstreamTrust},window=${p.window},decay=${p.decay},minScore=${p.minScore}`;
    this.radius = new Float64Array(p.window);
    this.keyNorms = new Float64Array(p.window);
  }

  trust(source: AdmissionOffer["source"]): number {
    return trustOf(source, this.p.upstreamTrust);
  }

  /** Current (decayed) utility of a stored entry. */
  utilityOf(id: number): number | undefined {
    const u = this.utility.get(id);
    return u === undefined ? undefined : u / this.growth;
  }

  /** Score of the last offer observed (for tests and reports). */
  get lastOfferScore(): number {
    return this.lastScore;
  }

  observe(o: AdmissionOffer, memory: LabeledMemory): void {
    this.growth /= this.p.decay;
    if (this.growth > MAX_GROWTH) {
      for (const [id, u] of this.utility) this.utility.set(id, u / this.growth);
      this.growth = 1;
    }
    const t = this.trust(o.source);
    const nb = o.neighbours;
    for (let i = 0; i < nb.count; i++) {
      const u = this.utility.get(nb.ids[i]);
      if (u === undefined) continue;
      this.utility.set(nb.ids[i], u + (nb.labels[i] === o.label ? t : -t) * this.growth);
    }
    if (o.forwarded || o.predictedLabel !== o.label) this.remember(o, memory.index.metric);
    this.lastScore = t * this.covered(o.key, memory.index.metric);
  }

  admit(o: AdmissionOffer): boolean {
    return this.trust(o.source) > 0 && this.lastScore >= this.p.minScore;
  }

  victim(_o: AdmissionOffer, memory: LabeledMemory): number {
    let best = -1;
    let bestU = Number.POSITIVE_INFINITY;
    const { slotIds, lastUsedAt } = memory.slots;
    let bestUsed = Number.POSITIVE_INFINITY;
    for (let s = 0; s < memory.highWater; s++) {
      const id = slotIds[s];
      if (id < 0) continue;
      const u = this.utility.get(id)!;
      if (u < bestU || (u === bestU && lastUsedAt[s] < bestUsed)) {
        best = id;
        bestU = u;
        bestUsed = lastUsedAt[s];
      }
    }
    return best >= 0 && bestU / this.growth < this.lastScore ? best : -1;
  }

  onInsert(id: number): void {
    this.utility.set(id, this.lastScore * this.growth);
  }

  onRemove(id: number): void {
    this.utility.delete(id);
  }

  checkInvariants(memory: LabeledMemory): void {
    if (this.utility.size !== memory.size)
      fail("STATE", `utility: ${this.utility.size} utilities for ${memory.size} entries`);
    for (const id of this.utility.keys())
      if (!memory.has(id)) fail("STATE", `utility: value for absent entry ${id}`);
  }

  private remember(o: AdmissionOffer, metric: Metric): void {
    const dim = o.key.length;
    if (this.keys === null) this.keys = new Float32Array(this.p.window * dim);
    const at = this.next;
    this.keys.set(o.key, at * dim);
    this.radius[at] = o.neighbours.count > 0 ? o.neighbours.distances[0] : Number.POSITIVE_INFINITY;
    if (metric === "cos") this.keyNorms[at] = norm(o.key);
    this.next = (at + 1) % this.p.window;
    this.filled = Math.min(this.filled + 1, this.p.window);
  }

  /** How many remembered costly requests `key` would have been the nearest stored neighbour of. */
  private covered(key: Float32Array, metric: Metric): number {
    const keys = this.keys;
    if (keys === null) return 0;
    const dim = key.length;
    const kn = metric === "cos" ? norm(key) : 0;
    let c = 0;
    for (let r = 0; r < this.filled; r++) {
      const d =
        metric === "l2"
          ? l2sq(key, keys, dim, 0, r * dim)
          : metric === "ip"
            ? -dot(key, keys, dim, 0, r * dim)
            : cosineDistance(key, keys, kn, this.keyNorms[r], dim, 0, r * dim);
      if (d < this.radius[r]) c++;
    }
    return c;
  }
}

admissionPolicies.register({
  name: "utility",
  summary:
    "store the examples that would have answered the most recent forwarded or mispredicted requests; evict the lowest utility",
  params,
  create: (values, _ctx: AdmissionContext) => new UtilityPolicy(values),
});
