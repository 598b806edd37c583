/**
 * `ib2` (Aha et al. 1991; the online form of Hart's condensed nearest neighbour): store an example
 * only when the node's current memory-augmented prediction for it is wrong, so the memory keeps the
 * exceptions the small model and the stored examples do not already cover. An upstream answer is a
 * label of lower trust: stored with weight `upstreamTrust` (0 = never stored). When full, the least
 * recently used entry (last use as a neighbour, or admission) is evicted.
 */
import { admissionPolicies } from "./admission-policies.js";
import {
  type AdmissionContext,
  type AdmissionPolicy,
  leastRecentlyUsed,
  TRUST_PARAMS,
  trustOf,
} from "./types.js";

const params = { ...TRUST_PARAMS } as const;

export function createIb2Policy(p: { upstreamTrust: number }): AdmissionPolicy {
  return {
    name: "ib2",
    spec: `ib2:upstreamTrust=${p.upstreamTrust}`,
    trust: (source) => trustOf(source, p.upstreamTrust),
    observe() {},
    admit: (o) => trustOf(o.source, p.upstreamTrust) > 0 && o.predictedLabel !== o.label,
    victim: (_o, memory) => leastRecentlyUsed(memory),
    onInsert() {},
    onRemove() {},
    checkInvariants() {},
  };
}

admissionPolicies.register({
  name: "ib2",
  summary:
    "store an example only when the current memory-augmented prediction gets it wrong (IB2, Aha et al. 1991); evict LRU",
  params,
  create: (values, _ctx: AdmissionContext) => createIb2Policy(values),
});
