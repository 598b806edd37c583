/**
 * One registry shape for every configurable component named by a spec string: index kinds, model
 * families, cache policies, admission policies, combination rules, trace generators, approximation
 * costs, and later IDN topologies, catalogs and allocation policies.
 *
 * A registry is a frozen-once-registered table keyed by lower-case name (as Caffeine's simulator and
 * libCacheSim key their policies). Each entry declares its parameter schema, a one-line summary and
 * the capabilities it supports; the registry parses a spec against the schema (unknown keys and bad
 * values are refused in one place), gives the canonical spec with every parameter spelled out,
 * generates the `--describe` text, and checks a required capability before anything runs.
 *
 * Registration is explicit: a module registers its entries when imported, and each layer has one
 * module that imports all of its built-in entries (e.g. caching/registry.ts).
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

export interface RegistryEntry<S extends ParamSchema, Ctx, T> {
  /** Lower-case name, `[a-z][a-z0-9_-]*`. */
  name: string;
  /** One line: what it is and where it comes from. */
  summary: string;
  /** Parameter schema for `key=value` parameter text. */
  params: S;
  /** What the entry supports, e.g. `["single-answer", "knn"]` for a cache policy. */
  capabilities?: readonly string[];
  /**
   * Parameter text that is not `key=value,...` (e.g. the widths of `mlp:256,128`): parses it into
   * values. When absent the text is parsed against `params`.
   */
  parse?: (rest: string, owner: string) => ParamValues<S>;
  /** Canonical parameter text for parsed values; defaults to `key=value,...`. */
  format?: (values: ParamValues<S>) => string;
  create(params: ParamValues<S>, context: Ctx): T;
}

/** An entry once registered, with its schema erased so that entries of one registry can be listed together. */
export type AnyEntry<Ctx, T> = RegistryEntry<ParamSchema, Ctx, T>;

export interface ParsedSpec<Ctx, T> {
  entry: AnyEntry<Ctx, T>;
  params: Record<string, unknown>;
  /** The spec with every parameter spelled out (defaults included), for reports and file headers. */
  canonical: string;
}

const NAME = /^[a-z][a-z0-9_-]*$/;

export class Registry<Ctx, T> {
  private readonly entries = new Map<string, AnyEntry<Ctx, T>>();

  /**
   * @param kind what the entries are, in messages ("cache policy", "index kind").
   * @param hint extra text for an unknown name (e.g. where a Node-only kind is registered).
   */
  constructor(
    readonly kind: string,
    private readonly hint?: (name: string) => string,
  ) {}

  register<S extends ParamSchema>(entry: RegistryEntry<S, Ctx, T>): void {
    const name = entry.name.toLowerCase();
    if (!NAME.test(name))
      fail("INVALID_ARGUMENT", `${this.kind}: bad name "${entry.name}"; expected [a-z][a-z0-9_-]*`);
    if (this.entries.has(name)) fail("DUPLICATE_ID", `${this.kind} "${name}" is registered twice`);
    this.entries.set(name, { ...entry, name } as unknown as AnyEntry<Ctx, T>);
  }

  has(name: string): boolean {
    return this.entries.has(name.toLowerCase());
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  list(capability?: string): AnyEntry<Ctx, T>[] {
    return [...this.entries.values()].filter(
      (e) => capability === undefined || (e.capabilities ?? []).includes(capability),
    );
  }

  get(name: string): AnyEntry<Ctx, T> {
    const entry = this.entries.get(name.toLowerCase());
    if (entry) return entry;
    const extra = this.hint?.(name.toLowerCase()) ?? "";
    return fail(
      "UNKNOWN_NAME",
      `unknown ${this.kind} "${name}"; expected one of ${this.names().join(", ")}${extra}`,
    );
  }

  /** Parses `name[:params]` against the named entry's schema. */
  parse(spec: string): ParsedSpec<Ctx, T> {
    const { name, rest } = splitSpec(spec);
    const entry = this.get(name);
    const owner = `${this.kind} ${entry.name}`;
    const params = (
      entry.parse ? entry.parse(rest, owner) : parseParams(rest, entry.params, owner)
    ) as Record<string, unknown>;
    const text = entry.format ? entry.format(params as never) : formatParams(params);
    return { entry, params, canonical: text ? `${entry.name}:${text}` : entry.name };
  }

  /** Creates the component a spec names. */
  create(spec: string, context: Ctx): T {
    const { entry, params } = this.parse(spec);
    return entry.create(params as never, context);
  }

  /** Refuses, before any work, a spec whose entry does not declare `capability`. */
  requireCapability(spec: string, capability: string, why: string): void {
    const entry = this.parse(spec).entry;
    const caps = entry.capabilities ?? [];
    if (!caps.includes(capability))
      fail(
        "UNSUPPORTED",
        `${this.kind} ${entry.name} does not support ${capability} (${why}); it supports ${caps.length ? caps.join(", ") : "nothing declared"}; ` +
          `${this.kind}s that do: ${this.list(capability)
            .map((e) => e.name)
            .join(", ")}`,
      );
  }

  /** The `--describe` text: one block per entry with its capabilities and parameters. */
  describe(): string {
    return this.list()
      .map((e) => {
        const caps = e.capabilities?.length ? ` [${e.capabilities.join(", ")}]` : "";
        const lines = describeSchema(e.params);
        return [
          `${e.name}${caps}: ${e.summary}`,
          ...(lines.length ? lines.map((l) => `    ${l}`) : ["    (no parameters)"]),
        ].join("\n");
      })
      .join("\n\n");
  }
}
