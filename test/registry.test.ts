/**
 * The spec registry (src/core/registry.ts) on a small registry of its own with exact expected
 * messages, then the seven registries built on it: every entry round-trips its canonical spec,
 * appears in `describe()` with its parameters, and declares only capabilities something checks.
 */
import { describe, expect, it } from "vitest";
import { combinationRules } from "../src/augment/combine.js";
import { approximationCosts } from "../src/caching/cost.js";
import { cachePolicies } from "../src/caching/registry.js";
import { traceGenerators } from "../src/caching/traces.js";
import { fail, isMammalsError } from "../src/core/errors.js";
import { type AnyEntry, Registry } from "../src/core/registry.js";
import { Rng } from "../src/core/rng.js";
import { describeSchema } from "../src/core/spec.js";
import { indexKinds } from "../src/index/factory.node.js";
import { admissionPolicies } from "../src/memory/admission/index.js";
import "../src/models/all.js";
import { modelFamilies } from "../src/models/registry.js";
import { bruteForce, randomRows, rowsOf, type Store } from "./index-reference.js";

/** The error `f` throws, checked to be a MammalsError with `code`. */
function errorOf(f: () => unknown, code: string): Error {
  try {
    f();
  } catch (e) {
    expect(isMammalsError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    return e as Error;
  }
  throw new Error("expected a throw");
}

interface Shape {
  kind: string;
  size: number;
}

/** A registry of toy shapes: a key=value entry, an entry without parameters, a positional one. */
function shapes(): Registry<{ scale: number }, Shape> {
  const r = new Registry<{ scale: number }, Shape>("shape", (name) =>
    name === "hexagon" ? " (hexagon needs the geometry plug-in)" : "",
  );
  r.register({
    name: "square",
    summary: "a square of side `side`",
    params: {
      side: { type: "int", default: 2, min: 1, max: 100, description: "side length" },
      filled: { type: "bool", default: false, description: "whether it is filled" },
      colour: { type: "enum", default: "red", values: ["red", "blue"], description: "colour" },
    },
    capabilities: ["area", "perimeter"],
    create: (p, ctx) => ({
      kind: `square-${p.colour}${p.filled ? "-filled" : ""}`,
      size: p.side * ctx.scale,
    }),
  });
  r.register({
    name: "dot",
    summary: "a single point",
    params: {},
    create: () => ({ kind: "dot", size: 0 }),
  });
  r.register({
    name: "Polyline",
    summary: "points joined in order, given as positional lengths",
    params: {},
    capabilities: ["perimeter"],
    examples: ["polyline:1,2,3"],
    parse: (rest, owner) => {
      const lengths = rest.split(",").map(Number);
      if (rest === "" || lengths.some((x) => !(x > 0)))
        fail("INVALID_ARGUMENT", `${owner}: expected positive lengths, got "${rest}"`);
      return { lengths };
    },
    format: (p) => p.lengths.join(","),
    create: (p, ctx) => ({ kind: "polyline", size: p.lengths.reduce((a, b) => a + b, 0) * ctx.scale }),
  });
  return r;
}

describe("Registry", () => {
  const r = shapes();

  it("lists names in registration order, lower-cased, and filters by capability", () => {
    expect(r.names()).toEqual(["square", "dot", "polyline"]);
    expect(r.names("perimeter")).toEqual(["square", "polyline"]);
    expect(r.names("area")).toEqual(["square"]);
    expect(r.list("volume")).toEqual([]);
    expect(r.has("SQUARE")).toBe(true);
    expect(r.has("circle")).toBe(false);
  });

  it("refuses an unknown name, listing the known ones (and the registry's hint)", () => {
    expect(errorOf(() => r.parse("circle:r=1"), "UNKNOWN_NAME").message).toBe(
      'unknown shape "circle"; expected one of square, dot, polyline',
    );
    expect(errorOf(() => r.create("hexagon", { scale: 1 }), "UNKNOWN_NAME").message).toBe(
      'unknown shape "hexagon"; expected one of square, dot, polyline (hexagon needs the geometry plug-in)',
    );
    expect(errorOf(() => r.parse("  "), "INVALID_ARGUMENT").message).toMatch(/empty spec string/);
  });

  it("refuses an unknown key, listing the known ones", () => {
    expect(errorOf(() => r.parse("square:sides=4"), "UNKNOWN_NAME").message).toBe(
      'shape square: unknown parameter "sides"; expected one of side, filled, colour',
    );
    expect(errorOf(() => r.parse("dot:x=1"), "UNKNOWN_NAME").message).toBe(
      'shape dot: unknown parameter "x"; expected one of (none)',
    );
  });

  it("refuses bad values, saying what was expected and what arrived", () => {
    const cases: [string, string][] = [
      ["square:side=0", "shape square: parameter side: expected >= 1, got 0"],
      ["square:side=101", "shape square: parameter side: expected <= 100, got 101"],
      ["square:side=2.5", "shape square: parameter side: expected an integer, got 2.5"],
      ["square:side=abc", 'shape square: parameter side: expected a finite number, got "abc"'],
      ["square:filled=maybe", 'shape square: parameter filled: expected true or false, got "maybe"'],
      ["square:colour=green", 'shape square: parameter colour: expected one of red, blue, got "green"'],
      ["square:side", 'shape square: parameter "side" has no value; expected key=value'],
    ];
    for (const [spec, message] of cases)
      expect(errorOf(() => r.parse(spec), "INVALID_ARGUMENT").message, spec).toBe(message);
  });

  it("gives the canonical spec with every default spelled out, stable under re-parsing", () => {
    expect(r.parse("square").canonical).toBe("square:side=2,filled=false,colour=red");
    expect(r.parse(" Square : colour=blue , side=7 ").canonical).toBe(
      "square:side=7,filled=false,colour=blue",
    );
    expect(r.parse("dot").canonical).toBe("dot");
    expect(r.parse("polyline:1,2.5").canonical).toBe("polyline:1,2.5");
    for (const spec of ["square:filled=yes", "dot", "polyline:3"]) {
      const { canonical } = r.parse(spec);
      expect(r.parse(canonical).canonical).toBe(canonical);
    }
    expect(r.parse("square:side=3").params).toEqual({ side: 3, filled: false, colour: "red" });
  });

  it("creates from a spec with the caller's context, through a custom parser where given", () => {
    expect(r.create("square:side=3,filled=1", { scale: 2 })).toEqual({ kind: "square-red-filled", size: 6 });
    expect(r.create("polyline:1,2,3", { scale: 10 })).toEqual({ kind: "polyline", size: 60 });
    expect(r.get("POLYLINE").name).toBe("polyline");
    expect(errorOf(() => r.create("polyline:1,-2", { scale: 1 }), "INVALID_ARGUMENT").message).toBe(
      'shape polyline: expected positive lengths, got "1,-2"',
    );
  });

  it("refuses a duplicate name and a malformed name", () => {
    const entry = { name: "dot", summary: "again", params: {}, create: () => ({ kind: "dot", size: 1 }) };
    expect(errorOf(() => r.register(entry), "INVALID_ARGUMENT").message).toBe(
      'shape "dot" is already registered; expected a new name',
    );
    expect(errorOf(() => r.register({ ...entry, name: "DOT" }), "INVALID_ARGUMENT").message).toMatch(
      /already registered/,
    );
    expect(errorOf(() => r.register({ ...entry, name: "2d" }), "INVALID_ARGUMENT").message).toBe(
      'shape: bad name "2d"; expected [a-z][a-z0-9_-]*',
    );
    expect(r.names()).toEqual(["square", "dot", "polyline"]);
  });

  it("refuses a spec whose entry lacks a capability, naming what it has and who has it", () => {
    expect(r.supports("square:side=3", "area")).toBe(true);
    expect(r.supports("polyline", "area")).toBe(false);
    expect(() => r.requireCapability("square", "area", "for a fill")).not.toThrow();
    // Only the name counts: parameters are not parsed (positional text without a value is fine).
    expect(errorOf(() => r.requireCapability("polyline", "area", "for a fill"), "UNSUPPORTED").message).toBe(
      "shape polyline does not support area (for a fill); it supports perimeter; area is supported by square",
    );
    expect(errorOf(() => r.requireCapability("dot", "perimeter", "to draw"), "UNSUPPORTED").message).toBe(
      "shape dot does not support perimeter (to draw); it supports nothing declared; perimeter is supported by square, polyline",
    );
    expect(errorOf(() => r.requireCapability("square", "volume", "3-D"), "UNSUPPORTED").message).toBe(
      "shape square does not support volume (3-D); it supports area, perimeter; volume is supported by no registered shape",
    );
    errorOf(() => r.requireCapability("circle", "area", "x"), "UNKNOWN_NAME");
  });

  it("describes every entry: capabilities, each parameter with type, range and default, examples", () => {
    expect(r.describe()).toBe(
      [
        "square [area, perimeter]: a square of side `side`",
        "    side (int [1, 100], default 2): side length",
        "    filled (bool, default false): whether it is filled",
        "    colour (enum {red|blue}, default red): colour",
        "",
        "dot: a single point",
        "    (no parameters)",
        "",
        "polyline [perimeter]: points joined in order, given as positional lengths",
        "    e.g. polyline:1,2,3",
      ].join("\n"),
    );
    expect(r.describe("area").split("\n\n").length).toBe(1);
  });
});

/** The seven registries, with a spec per entry to round-trip (examples where parameters are positional). */
const REGISTRIES: [string, Registry<never, unknown>][] = [
  ["index kinds", indexKinds as never],
  ["model families", modelFamilies as never],
  ["cache policies", cachePolicies as never],
  ["admission policies", admissionPolicies as never],
  ["combination rules", combinationRules as never],
  ["trace generators", traceGenerators as never],
  ["approximation costs", approximationCosts as never],
];

function specsOf(e: AnyEntry<never, unknown>): readonly string[] {
  return e.examples?.length ? e.examples : [e.name];
}

describe.each(REGISTRIES)("the registry of %s", (_what, registry) => {
  it("round-trips every entry's canonical spec", () => {
    expect(registry.names().length).toBeGreaterThan(0);
    for (const e of registry.list())
      for (const spec of specsOf(e)) {
        const { entry, canonical } = registry.parse(spec);
        expect(entry.name).toBe(e.name);
        expect(registry.parse(canonical).canonical, spec).toBe(canonical);
      }
  });

  it("describes every entry with its parameters", () => {
    const text = registry.describe();
    const blocks = text.split("\n\n");
    expect(blocks.length).toBe(registry.names().length);
    registry.list().forEach((e, i) => {
      expect(blocks[i].startsWith(`${e.name}`), e.name).toBe(true);
      for (const line of describeSchema(e.params)) expect(blocks[i]).toContain(line);
    });
  });
});

describe("declared capabilities", () => {
  it("only cache policies and index kinds declare any, from their fixed vocabularies", () => {
    for (const [what, registry] of REGISTRIES) {
      const declared = new Set(registry.list().flatMap((e) => e.capabilities ?? []));
      const allowed =
        what === "cache policies"
          ? ["single-answer", "knn"]
          : what === "index kinds"
            ? ["exact", "approximate"]
            : [];
      expect(
        [...declared].filter((c) => !allowed.includes(c)),
        what,
      ).toEqual([]);
    }
  });

  it("every cache policy declares at least one setting; duel is single-answer only", () => {
    for (const e of cachePolicies.list()) expect(e.capabilities?.length, e.name).toBeGreaterThan(0);
    expect(cachePolicies.names("single-answer")).toEqual(cachePolicies.names());
    expect(cachePolicies.names().filter((n) => !cachePolicies.supports(n, "knn"))).toEqual(["duel"]);
  });

  it("every index kind is exactly one of exact / approximate, and every exact kind equals brute force", () => {
    for (const e of indexKinds.list())
      expect(
        ["exact", "approximate"].filter((c) => e.capabilities?.includes(c)),
        e.name,
      ).toHaveLength(1);
    expect(indexKinds.names("exact")).toEqual(["flat"]);
    expect(indexKinds.names("approximate")).toEqual(["flat-i8", "hnsw-ts", "hnsw"]);
    const dim = 5;
    const n = 200;
    for (const kind of indexKinds.names("exact"))
      for (const metric of ["l2", "ip", "cos"] as const) {
        const rng = new Rng(11);
        const rows = rowsOf(randomRows(rng, n, dim), dim);
        const index = indexKinds.create(kind, { dim, metric });
        const store: Store = new Map();
        rows.forEach((x, id) => {
          index.add([id], x);
          store.set(id, x);
        });
        for (const q of rowsOf(randomRows(rng, 20, dim), dim))
          expect(index.search(q, 7), `${kind} ${metric}`).toEqual(bruteForce(store, q, 7, metric));
      }
  });
});
