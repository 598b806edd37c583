/**
 * The registry of admission policies (which labeled examples an edge node's memory keeps). Each
 * policy module registers itself here when imported; admission/index.ts imports every built-in
 * one. This module imports no policy, so policy modules can import it without a cycle.
 */
import { Registry } from "../../core/registry.js";
import type { AdmissionContext, AdmissionPolicy } from "./types.js";

export const admissionPolicies = new Registry<AdmissionContext, AdmissionPolicy>("admission policy");
