/**
 * Registers every IDN allocation policy (importing this module is what makes
 * `createIdnPolicy("infida:eta=0.5", ctx)` work) and creates them from spec lists.
 */
import "./policies/infida.js";
import "./policies/greedy.js";
import "./policies/caches.js";
import "./policies/offline-opt.js";

import { fail } from "../core/errors.js";
import { splitSpecList } from "../core/spec.js";
import { type IdnPolicy, idnPolicyRegistry, type PolicyContext } from "./policies/types.js";

export * from "./policies/types.js";

export function createIdnPolicy(spec: string, ctx: PolicyContext): IdnPolicy {
  return idnPolicyRegistry.create(spec, ctx);
}

/** "infida:eta=0.5,refresh=4,lru,offline-opt" -> specs (a token with "=" and no ":" continues the previous spec). */
export function parseIdnPolicyList(list: string): string[] {
  const specs = splitSpecList(list);
  if (specs.length === 0)
    fail("INVALID_ARGUMENT", `--policies: expected a comma-separated list of IDN policies, got "${list}"`);
  for (const s of specs) idnPolicyRegistry.parse(s); // unknown names and parameters fail before any work
  return specs;
}
