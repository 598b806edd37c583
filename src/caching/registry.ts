/**
 * Registers every similarity-caching policy (kind "cache") and creates them from spec strings.
 * Importing this module is what makes `createCachePolicy("qlru-dc:q=0.05", ctx)` work.
 */
import "./policies/classic.js";
import "./policies/similarity.js";
import "./policies/duel.js";
import "./policies/oga.js";
import "./policies/acai.js";
import "./policies/greedy.js";
import "./policies/static-opt.js";

import { fail } from "../core/errors.js";
import { parsePolicySpec } from "../core/policy-registry.js";
import { splitSpecList } from "../core/spec.js";
import type { CacheContext, CachePolicy } from "./types.js";

export { StoredSet } from "./stored-set.js";
export * from "./types.js";

/** Creates a cache policy from its spec, e.g. "qlru-dc:q=0.05". */
export function createCachePolicy(spec: string, ctx: CacheContext): CachePolicy {
  const { info, params, canonical } = parsePolicySpec(spec, "cache");
  const policy = info.create(params as never, ctx) as CachePolicy;
  if (!policy || typeof policy.update !== "function" || !policy.store)
    fail("STATE", `policy ${canonical} did not produce a CachePolicy`);
  return policy;
}

/**
 * Splits "lru,sim-lru,qlru-dc:q=0.05,acai:eta=0.1,rounding=coupled" into policy specs: a token
 * with "=" but no ":" continues the previous spec's parameters.
 */
export function parsePolicyList(list: string): string[] {
  const specs = splitSpecList(list);
  if (specs.length === 0)
    fail("INVALID_ARGUMENT", `--policies: expected a comma-separated list, got "${list}"`);
  return specs;
}
