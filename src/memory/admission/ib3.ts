/**
 * `ib3` (Aha, Kibler & Albert 1991): IB2's admission rule plus a classification record per stored
 * example. Each labeled example that arrives updates the records of the stored neighbours at least
 * as close as its nearest *acceptable* neighbour (all retrieved neighbours when none is acceptable):
 * a hit when the entry's label equals the example's. With Wilson confidence intervals on the
 * entry's accuracy and on its class's observed frequency:
 *   acceptable  when  accuracyLow(zAccept) > frequencyHigh(zAccept)        (z = 0.9 in the paper)
 *   dropped     when  accuracyHigh(zDrop)  < frequencyLow(zDrop)           (z = 0.7)
 * Only acceptable entries vote with their full trust; entries still on probation vote with
 * `trust * pendingWeight`. Records and class frequencies count an example by its trust, so an
 * upstream answer moves a record less than a true label. When full, the entry with the lowest
 * accuracy lower bound (zAccept) is evicted, least recently used first among equals.
 */
import { fail } from "../../core/errors.js";
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
  zAccept: {
    type: "number",
    default: 0.9,
    min: 0,
    description: "confidence-interval z for accepting an entry",
  },
  zDrop: { type: "number", default: 0.7, min: 0, description: "confidence-interval z for dropping an entry" },
  pendingWeight: {
    type: "number",
    default: 0.5,
    min: 0,
    max: 1,
    description: "vote weight factor of entries not yet acceptable (0 = only acceptable entries vote)",
  },
} as const;

export interface Ib3Params {
  upstreamTrust: number;
  zAccept: number;
  zDrop: number;
  pendingWeight: number;
}

/** Wilson score interval of a proportion p observed over n (possibly fractional) trials. */
export function wilsonInterval(p: number, n: number, z: number): [number, number] {
  if (!(n > 0)) return [0, 1];
  const z2 = z * z;
  const den = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

interface Record_ {
  trials: number;
  hits: number;
  acceptable: boolean;
}

export class Ib3Policy implements AdmissionPolicy {
  readonly name = "ib3";
  readonly spec: string;
  private readonly records = new Map<number, Record_>();
  private readonly classCounts: Float64Array;
  private processed = 0;

  constructor(
    private readonly p: Ib3Params,
    numClasses: number,
  ) {
    this.spec = `ib3:upstreamTrust=${p.upstreamTrust},zAccept=${p.zAccept},zDrop=${p.zDrop},pendingWeight=${p.pendingWeight}`;
    this.classCounts = new Float64Array(numClasses);
  }

  trust(source: AdmissionOffer["source"]): number {
    return trustOf(source, this.p.upstreamTrust);
  }

  /** The classification record of a stored entry (for tests and reports). */
  record(id: number): { trials: number; hits: number; acceptable: boolean } | undefined {
    const r = this.records.get(id);
    return r && { ...r };
  }

  observe(o: AdmissionOffer, memory: LabeledMemory): void {
    const t = this.trust(o.source);
    if (t <= 0) return;
    this.classCounts[o.label] += t;
    this.processed += t;
    const nb = o.neighbours;
    // Records are updated up to the nearest acceptable neighbour's distance (all when none is acceptable).
    let radius = Number.POSITIVE_INFINITY;
    for (let i = 0; i < nb.count; i++) {
      if (this.records.get(nb.ids[i])?.acceptable) {
        radius = nb.distances[i];
        break;
      }
    }
    for (let i = 0; i < nb.count && nb.distances[i] <= radius; i++) {
      const id = nb.ids[i];
      const r = this.records.get(id);
      if (!r || !memory.has(id)) continue;
      r.trials += t;
      if (nb.labels[i] === o.label) r.hits += t;
      this.judge(id, r, nb.labels[i], memory);
    }
  }

  admit(o: AdmissionOffer): boolean {
    return this.trust(o.source) > 0 && o.predictedLabel !== o.label;
  }

  victim(_o: AdmissionOffer, memory: LabeledMemory): number {
    let best = -1;
    let bestLow = Number.POSITIVE_INFINITY;
    let bestUsed = Number.POSITIVE_INFINITY;
    const { slotIds, lastUsedAt } = memory.slots;
    for (let s = 0; s < memory.highWater; s++) {
      const id = slotIds[s];
      if (id < 0) continue;
      const r = this.records.get(id)!;
      const low = wilsonInterval(r.trials > 0 ? r.hits / r.trials : 0, r.trials, this.p.zAccept)[0];
      if (low < bestLow || (low === bestLow && lastUsedAt[s] < bestUsed)) {
        best = id;
        bestLow = low;
        bestUsed = lastUsedAt[s];
      }
    }
    return best;
  }

  onInsert(id: number, o: AdmissionOffer, memory: LabeledMemory): void {
    this.records.set(id, { trials: 0, hits: 0, acceptable: false });
    memory.setWeight(id, this.trust(o.source) * this.p.pendingWeight);
  }

  onRemove(id: number): void {
    this.records.delete(id);
  }

  checkInvariants(memory: LabeledMemory): void {
    if (this.records.size !== memory.size)
      fail("STATE", `ib3: ${this.records.size} classification records for ${memory.size} entries`);
    for (const id of this.records.keys())
      if (!memory.has(id)) fail("STATE", `ib3: record for absent entry ${id}`);
  }

  private judge(id: number, r: Record_, label: number, memory: LabeledMemory): void {
    const acc = r.hits / r.trials;
    const freq = this.processed > 0 ? this.classCounts[label] / this.processed : 0;
    const [, accHighDrop] = wilsonInterval(acc, r.trials, this.p.zDrop);
    const [freqLowDrop] = wilsonInterval(freq, this.processed, this.p.zDrop);
    if (accHighDrop < freqLowDrop) {
      memory.drop(id);
      return;
    }
    const [accLow] = wilsonInterval(acc, r.trials, this.p.zAccept);
    const [, freqHigh] = wilsonInterval(freq, this.processed, this.p.zAccept);
    r.acceptable = accLow > freqHigh;
    const base = this.trust(memory.source(id));
    memory.setWeight(id, r.acceptable ? base : base * this.p.pendingWeight);
  }
}

admissionPolicies.register({
  name: "ib3",
  summary:
    "IB2 plus per-entry classification records: accept / drop by confidence intervals (IB3, Aha et al. 1991); evict the weakest record",
  params,
  create: (values, ctx: AdmissionContext) => new Ib3Policy(values, ctx.numClasses),
});
