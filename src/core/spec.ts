/**
 * Spec strings: the one syntax for naming a configurable component on the command line and in
 * code, e.g. `hnsw:M=16,efSearch=64`, `acai:eta=0.1,rounding=coupled`, `mlp:256,128`.
 * A component declares a {@link ParamSchema}; {@link parseParams} fills defaults, converts types,
 * checks ranges and rejects unknown keys with a message listing the known ones.
 */
import { fail } from "./errors.js";

export interface ParamDef {
  type: "number" | "int" | "string" | "bool" | "enum";
  default: number | string | boolean | undefined;
  description: string;
  min?: number;
  max?: number;
  values?: readonly string[];
}

export type ParamSchema = Record<string, ParamDef>;

export type ParamValues<S extends ParamSchema> = {
  [K in keyof S]: S[K]["type"] extends "number" | "int"
    ? number
    : S[K]["type"] extends "bool"
      ? boolean
      : string;
};

/** Splits `name:rest` into its name (lower-cased) and the parameter text. */
export function splitSpec(spec: string): { name: string; rest: string } {
  const s = spec.trim();
  if (s.length === 0) fail("INVALID_ARGUMENT", "empty spec string; expected NAME or NAME:key=value,...");
  const i = s.indexOf(":");
  return i < 0
    ? { name: s.toLowerCase(), rest: "" }
    : { name: s.slice(0, i).trim().toLowerCase(), rest: s.slice(i + 1) };
}

/**
 * Splits a comma-separated list of specs, "lru,qlru-dc:q=0.05,acai:eta=0.1,rounding=coupled" or
 * "flat,hnsw:M=16,efSearch=64": a token with "=" but no ":" continues the previous spec's
 * parameters. Empty tokens are skipped; the caller decides whether an empty result is an error.
 */
export function splitSpecList(list: string): string[] {
  const specs: string[] = [];
  for (const raw of list.split(",")) {
    const t = raw.trim();
    if (t === "") continue;
    if (t.includes("=") && !t.includes(":") && specs.length > 0) specs[specs.length - 1] += `,${t}`;
    else specs.push(t);
  }
  return specs;
}

/** Parses `key=value,key=value` against a schema. `owner` names the component in messages. */
export function parseParams<S extends ParamSchema>(
  rest: string | Record<string, unknown>,
  schema: S,
  owner: string,
): ParamValues<S> {
  const raw: Record<string, unknown> = {};
  if (typeof rest === "string") {
    for (const part of rest.split(",")) {
      const p = part.trim();
      if (p === "") continue;
      const eq = p.indexOf("=");
      if (eq < 0) fail("INVALID_ARGUMENT", `${owner}: parameter "${p}" has no value; expected key=value`);
      raw[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
    }
  } else {
    Object.assign(raw, rest);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!(key in schema)) {
      const known = Object.keys(schema);
      fail(
        "UNKNOWN_NAME",
        `${owner}: unknown parameter "${key}"; expected one of ${known.length ? known.join(", ") : "(none)"}`,
      );
    }
  }
  for (const [key, def] of Object.entries(schema)) {
    const v = key in raw ? raw[key] : def.default;
    out[key] = v === undefined ? undefined : convert(v, def, `${owner}: parameter ${key}`);
  }
  return out as ParamValues<S>;
}

function convert(v: unknown, def: ParamDef, what: string): number | string | boolean {
  switch (def.type) {
    case "number":
    case "int": {
      const x = typeof v === "number" ? v : Number(String(v));
      if (typeof v === "string" && v.trim() === "")
        fail("INVALID_ARGUMENT", `${what}: expected a number, got ""`);
      if (!Number.isFinite(x))
        fail("INVALID_ARGUMENT", `${what}: expected a finite number, got "${String(v)}"`);
      if (def.type === "int" && !Number.isInteger(x))
        fail("INVALID_ARGUMENT", `${what}: expected an integer, got ${String(v)}`);
      if (def.min !== undefined && x < def.min)
        fail("INVALID_ARGUMENT", `${what}: expected >= ${def.min}, got ${x}`);
      if (def.max !== undefined && x > def.max)
        fail("INVALID_ARGUMENT", `${what}: expected <= ${def.max}, got ${x}`);
      return x;
    }
    case "bool": {
      if (typeof v === "boolean") return v;
      const s = String(v).toLowerCase();
      if (["1", "true", "yes", "on"].includes(s)) return true;
      if (["0", "false", "no", "off"].includes(s)) return false;
      return fail("INVALID_ARGUMENT", `${what}: expected true or false, got "${String(v)}"`);
    }
    case "enum": {
      const s = String(v);
      if (!def.values?.includes(s))
        fail("INVALID_ARGUMENT", `${what}: expected one of ${def.values?.join(", ")}, got "${s}"`);
      return s;
    }
    default:
      return String(v);
  }
}

/** `key=value,...` of the given values, for reports and `--describe`. */
export function formatParams(values: Record<string, unknown>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** One line per parameter: name, type, default, description. */
export function describeSchema(schema: ParamSchema): string[] {
  return Object.entries(schema).map(([k, d]) => {
    const range =
      d.type === "enum"
        ? ` {${d.values?.join("|")}}`
        : d.min !== undefined || d.max !== undefined
          ? ` [${d.min ?? "-inf"}, ${d.max ?? "inf"}]`
          : "";
    return `${k} (${d.type}${range}, default ${d.default === undefined ? "none" : String(d.default)}): ${d.description}`;
  });
}
