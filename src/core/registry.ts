/**
 * One registry shape for every configurable component named by a spec string: index kinds, model
 * families, cache policies, admission policies, combination rules, trace generators, approximation
 * costs, and later IDN topologies, catalogs and allocation policies.
 *
 * A registry is a table keyed by lower-case name (as Caffeine's simulator and libCacheSim key their
 * policies). Each entry declares its parameter schema, a one-line summary and the capabilities it
 * supports; the registry parses a spec against the schema (unknown keys and bad values are refused
 * in one place), gives the canonical spec with every parameter spelled out, generates the
 * `--describe` text, and checks a required capability before anything runs.
 *
 * Registration is explicit: a module registers its entries when imported, and each layer has one
 * module that imports all of its built-in entries (e.g. caching/registry.ts). The registry object
 * itself lives in a module that imports no entry, so that entry modules can import it without a
 * cycle.
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

/**
 * @typeParam S the parameter schema of `key=value` parameter text.
 * @typeParam P the parsed parameters; `ParamValues<S>` unless the entry parses its own text.
 */
export interface RegistryEntry<S extends ParamSchema, Ctx, T, P = ParamValues<S>> {
  /** Lower-case name, `[a-z][a-z0-9_-]*`. */
  name: string;
  /** One line: what it is and where it comes from. */
  summary: string;
  /** Parameter schema for `key=value` parameter text (`{}` when the entry parses its own). */
  params: S;
  /** What the entry supports, e.g. `["single-answer", "knn"]` for a cache policy. */
  capabilities?: readonly string[];
  /** Example specs, listed by `describe()` (most useful where `parse` takes positional text). */
  examples?: readonly string[];
  /**
   * Parameter text that is not `key=value,...` (e.g. the widths of `mlp:256,128`): parses it into
   * values. When absent the text is parsed against `params`.
   */
  parse?: (rest: string, owner: string) => P;
  /**
   * Canonical parameter text (after "name:") for parsed values; `rest` is the text as given.
   * Defaults to `key=value,...` of the values.
   */
  format?: (values: P, rest: string) => string;
  create(params: P, context: Ctx): T;
}

/**
 * An entry once registered, with its schema and parameter type erased so that entries of one
 * registry can be listed together; `Extra` carries what a registry's entries add (e.g. an index
 * kind's `deserialize`).
 */
export type AnyEntry<Ctx, T, Extra extends object = object> = RegistryEntry<
  ParamSchema,
  Ctx,
  T,
  // biome-ignore lint/suspicious/noExplicitAny: a registry holds entries of every parameter type.
  any
> &
  Extra;

export interface ParsedSpec<Ctx, T, Extra extends object = object> {
  entry: AnyEntry<Ctx, T, Extra>;
  params: Record<string, unknown>;
  /** The spec with every parameter spelled out (defaults included), for reports and file headers. */
  canonical: string;
}

const NAME = /^[a-z][a-z0-9_-]*$/;

export class Registry<Ctx, T, Extra extends object = object> {
  private readonly entries = new Map<string, AnyEntry<Ctx, T, Extra>>();

  /**
   * @param kind what the entries are, in messages ("cache policy", "index kind").
   * @param hint extra text for an unknown name (e.g. where a Node-only kind is registered).
   */
  constructor(
    readonly kind: string,
    private readonly hint?: (name: string) => string,
  ) {}

  /** Adds an entry; a second entry under a taken name is refused (names are how specs find them). */
  register<S extends ParamSchema, P = ParamValues<S>>(entry: RegistryEntry<S, Ctx, T, P> & Extra): void {
    const name = entry.name.toLowerCase();
    if (!NAME.test(name))
      fail("INVALID_ARGUMENT", `${this.kind}: bad name "${entry.name}"; expected [a-z][a-z0-9_-]*`);
    if (this.entries.has(name))
      fail("INVALID_ARGUMENT", `${this.kind} "${name}" is already registered; expected a new name`);
    this.entries.set(name, { ...entry, name } as unknown as AnyEntry<Ctx, T, Extra>);
  }

  has(name: string): boolean {
    return this.entries.has(name.toLowerCase());
  }

  /** Names in registration order. */
  names(capability?: string): string[] {
    return this.list(capability).map((e) => e.name);
  }

  /** Entries in registration order, only those declaring `capability` when given. */
  list(capability?: string): AnyEntry<Ctx, T, Extra>[] {
    return [...this.entries.values()].filter(
      (e) => capability === undefined || (e.capabilities ?? []).includes(capability),
    );
  }

  get(name: string): AnyEntry<Ctx, T, Extra> {
    const entry = this.entries.get(name.toLowerCase());
    if (entry) return entry;
    const extra = this.hint?.(name.toLowerCase()) ?? "";
    return fail(
      "UNKNOWN_NAME",
      `unknown ${this.kind} "${name}"; expected one of ${this.names().join(", ")}${extra}`,
    );
  }

  /** Parses `name[:params]` against the named entry's schema. */
  parse(spec: string): ParsedSpec<Ctx, T, Extra> {
    const { name, rest } = splitSpec(spec);
    const entry = this.get(name);
    const owner = `${this.kind} ${entry.name}`;
    const params = (
      entry.parse ? entry.parse(rest, owner) : parseParams(rest, entry.params, owner)
    ) as Record<string, unknown>;
    const text = entry.format ? entry.format(params, rest) : formatParams(params);
    return { entry, params, canonical: text ? `${entry.name}:${text}` : entry.name };
  }

  /** Creates the component a spec names. */
  create(spec: string, context: Ctx): T {
    const { entry, params } = this.parse(spec);
    return entry.create(params, context);
  }

  /** Whether the entry a spec names declares `capability` (unknown names are refused). */
  supports(spec: string, capability: string): boolean {
    return (this.get(splitSpec(spec).name).capabilities ?? []).includes(capability);
  }

  /**
   * Refuses, before any work, a spec whose entry does not declare `capability`. Only the name is
   * looked at: the capability is the entry's, whatever its parameters.
   * @param why what needs the capability, e.g. "the simulation uses the k-NN setting (--k 3)".
   */
  requireCapability(spec: string, capability: string, why: string): void {
    const entry = this.get(splitSpec(spec).name);
    const caps = entry.capabilities ?? [];
    if (!caps.includes(capability)) {
      const able = this.names(capability);
      fail(
        "UNSUPPORTED",
        `${this.kind} ${entry.name} does not support ${capability} (${why}); ` +
          `it supports ${caps.length ? caps.join(", ") : "nothing declared"}; ` +
          `${capability} is supported by ${able.length ? able.join(", ") : `no registered ${this.kind}`}`,
      );
    }
  }

  /** The `--describe` text: one block per entry with its capabilities, parameters and examples. */
  describe(capability?: string): string {
    return this.list(capability)
      .map((e) => {
        const caps = e.capabilities?.length ? ` [${e.capabilities.join(", ")}]` : "";
        const lines = describeSchema(e.params);
        if (e.examples?.length) lines.push(`e.g. ${e.examples.join(", ")}`);
        return [
          `${e.name}${caps}: ${e.summary}`,
          ...(lines.length ? lines.map((l) => `    ${l}`) : ["    (no parameters)"]),
        ].join("\n");
      })
      .join("\n\n");
  }
}
