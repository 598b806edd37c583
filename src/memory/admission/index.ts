/** Registers every admission policy and creates them from spec strings such as "ib3:upstreamTrust=0.5". */
import "./all.js";
import "./ib2.js";
import "./ib3.js";
import "./utility.js";

import { admissionPolicies } from "./admission-policies.js";
import type { AdmissionContext, AdmissionPolicy } from "./types.js";

export { admissionPolicies } from "./admission-policies.js";

/** Creates an admission policy from its spec, e.g. "ib3:zAccept=0.9". */
export function createAdmissionPolicy(spec: string, ctx: AdmissionContext): AdmissionPolicy {
  return admissionPolicies.create(spec, ctx);
}
