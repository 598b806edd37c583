/**
 * `all` (IB1 in Aha et al. 1991): store every labeled example offered; when full, evict the least
 * recently used entry (last use as a neighbour, or admission) or the oldest one (`evict=fifo`).
 * Feedback and upstream examples are both stored; they differ only in vote weight (`upstreamTrust`).
 */
import { admissionPolicies } from "./admission-policies.js";
import {
  type AdmissionContext,
  type AdmissionPolicy,
  leastRecentlyUsed,
  oldest,
  TRUST_PARAMS,
  trustOf,
} from "./types.js";

const params = {
  ...TRUST_PARAMS,
  evict: {
    type: "enum",
    default: "lru",
    values: ["lru", "fifo"],
    description: "which entry leaves when full: least recently used as a neighbour, or oldest",
  },
} as const;

export function createAllPolicy(p: { upstreamTrust: number; evict: string }): AdmissionPolicy {
  return {
    name: "all",
    spec: `all:upstreamTrust=${p.upstreamTrust},evict=${p.evict}`,
    trust: (source) => trustOf(source, p.upstreamTrust),
    observe() {},
    admit: (o) => trustOf(o.source, p.upstreamTrust) > 0,
    victim: (_o, memory) => (p.evict === "fifo" ? oldest(memory) : leastRecentlyUsed(memory)),
    onInsert() {},
    onRemove() {},
    checkInvariants() {},
  };
}

admissionPolicies.register({
  name: "all",
  summary: "store every labeled example (IB1); evict the least recently used (or oldest) when full",
  params,
  create: (values, _ctx: AdmissionContext) => createAllPolicy(values),
});
