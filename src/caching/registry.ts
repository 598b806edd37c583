/**
 * Registers every similarity-caching policy and creates them from spec strings. Importing this
 * module is what makes `createCachePolicy("qlru-dc:q=0.05", ctx)` work; the registry itself is
 * `cachePolicies` (cache-policies.ts).
 */
import "./policies/classic.js";
import "./policies/similarity.js";
import "./policies/duel.js";
import "./policies/oga.js";
import "./policies/acai.js";
import "./policies/ftpl.js";
import "./policies/hedge.js";
import "./policies/greedy.js";
import "./policies/static-opt.js";

import { fail } from "../core/errors.js";
import { splitSpecList } from "../core/spec.js";
import { cachePolicies, requireSetting } from "./cache-policies.js";
import type { CacheContext, CachePolicy } from "./types.js";

export {
  BOTH_SETTINGS,
  type CacheCapability,
  cachePolicies,
  capabilityOf,
  requireSetting,
} from "./cache-policies.js";
export { StoredSet } from "./stored-set.js";
export * from "./types.js";

/**
 * Creates a cache policy from its spec, e.g. "qlru-dc:q=0.05"; a policy not defined in the
 * context's cost setting is refused before it is built.
 */
export function createCachePolicy(spec: string, ctx: CacheContext): CachePolicy {
  requireSetting([spec], ctx.cost);
  const { entry, params, canonical } = cachePolicies.parse(spec);
  const policy = entry.create(params, ctx);
  if (!policy || typeof policy.update !== "function" || !policy.store)
    fail("STATE", `policy ${canonical} did not produce a CachePolicy`);
  return policy;
}

/**
 * Creates one policy per spec, checking every spec's setting and parameters before building any:
 * offline references do their work when built, so a bad spec late in a list must fail first.
 * `context(i)` gives spec i's context (e.g. its own seed).
 */
export function createCachePolicies(
  specs: readonly string[],
  context: (i: number) => CacheContext,
): CachePolicy[] {
  specs.forEach((spec, i) => {
    requireSetting([spec], context(i).cost);
    cachePolicies.parse(spec);
  });
  return specs.map((spec, i) => createCachePolicy(spec, context(i)));
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
