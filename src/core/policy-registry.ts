/**
 * One registry for every memory policy, keyed by name: the similarity-caching policies the
 * simulator compares ("cache" kind) and the admission rules of an edge node's labeled memory
 * ("admission" kind). A policy is created from a spec string such as "acai:eta=0.1,rounding=coupled";
 * it parses its own parameters against its schema, so unknown keys are rejected in one place and
 * `mammals policies --describe` can list every policy with its parameters and defaults.
 */
import { fail } from "./errors.js";
import {
  describeSchema,
  formatParams,
  type ParamSchema,
  type ParamValues,
  parseParams,
  splitSpec,
} from "./spec.js";

export type PolicyKind = "cache" | "admission";

export interface PolicyInfo<S extends ParamSchema = ParamSchema, Ctx = unknown, P = unknown> {
  name: string;
  kind: PolicyKind;
  /** One line: what the policy does and where it comes from. */
  summary: string;
  params: S;
  create(params: ParamValues<S>, context: Ctx): P;
}

const registry = new Map<string, PolicyInfo>();

export function registerPolicy<S extends ParamSchema, Ctx, P>(info: PolicyInfo<S, Ctx, P>): void {
  const name = info.name.toLowerCase();
  if (registry.has(name)) fail("DUPLICATE_ID", `policy "${name}" is registered twice`);
  registry.set(name, info as unknown as PolicyInfo);
}

export function listPolicies(kind?: PolicyKind): PolicyInfo[] {
  return [...registry.values()].filter((p) => kind === undefined || p.kind === kind);
}

export function getPolicyInfo(name: string, kind?: PolicyKind): PolicyInfo {
  const info = registry.get(name.toLowerCase());
  if (!info || (kind && info.kind !== kind)) {
    const known = listPolicies(kind).map((p) => p.name);
    return fail(
      "UNKNOWN_NAME",
      `unknown ${kind ?? ""} policy "${name}"; expected one of ${known.join(", ")}`.replace("  ", " "),
    );
  }
  return info;
}

export interface ParsedPolicySpec {
  info: PolicyInfo;
  params: Record<string, unknown>;
  /** Canonical spec with every parameter spelled out, for reports. */
  canonical: string;
}

export function parsePolicySpec(spec: string, kind?: PolicyKind): ParsedPolicySpec {
  const { name, rest } = splitSpec(spec);
  const info = getPolicyInfo(name, kind);
  const params = parseParams(rest, info.params, `policy ${info.name}`) as Record<string, unknown>;
  const p = formatParams(params);
  return { info, params, canonical: p ? `${info.name}:${p}` : info.name };
}

/** Creates a policy from its spec string; `context` carries what the kind needs (capacity, catalog, rng...). */
export function createPolicy<P>(spec: string, context: unknown, kind?: PolicyKind): P {
  const { info, params } = parsePolicySpec(spec, kind);
  return info.create(params as never, context) as P;
}

/** Human-readable description of every registered policy (for `mammals policies --describe`). */
export function describePolicies(kind?: PolicyKind): string {
  return listPolicies(kind)
    .map((p) => {
      const lines = describeSchema(p.params);
      return [
        `${p.name} [${p.kind}]: ${p.summary}`,
        ...(lines.length ? lines.map((l) => `    ${l}`) : ["    (no parameters)"]),
      ].join("\n");
    })
    .join("\n\n");
}
