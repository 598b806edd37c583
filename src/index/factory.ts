/**
 * One factory for every index: `createIndex("hnsw:M=16,efSearch=64", dim, "l2")`. The spec string
 * doubles as configuration and CLI syntax (as in Faiss). `flat` and `flat-i8` are built in and
 * browser-safe; native kinds (hnsw over usearch) register themselves from Node-only modules
 * (src/index/factory.node.ts), so a browser bundle of this file never sees a native dependency.
 */
import { fail } from "../core/errors.js";
import { describeSchema, type ParamSchema, parseParams, splitSpec } from "../core/spec.js";
import { type Metric, parseMetric } from "../core/vectors.js";
import { FlatIndex } from "./flat.js";
import { FlatI8Index } from "./flat-i8.js";
import { decodeIndex } from "./serial.js";
import type { Index } from "./types.js";

export interface IndexKind {
  name: string;
  description: string;
  schema: ParamSchema;
  /** True for approximate indexes (results may differ from the exact reference). */
  approximate: boolean;
  /** Builds an empty index from parsed-but-unchecked parameter text. */
  create(params: string, dim: number, metric: Metric): Index;
  /** Restores an index from a snapshot whose header names this kind. */
  deserialize(bytes: Uint8Array): Index;
}

const KINDS = new Map<string, IndexKind>();

/** Adds (or replaces) an index kind; Node-only adapters call this when imported. */
export function registerIndexKind(kind: IndexKind): void {
  KINDS.set(kind.name, kind);
}

export function indexKinds(): IndexKind[] {
  return [...KINDS.values()];
}

/** `name: description` and one line per parameter, for --help texts. */
export function describeIndexKinds(): string[] {
  const lines: string[] = [];
  for (const k of KINDS.values()) {
    lines.push(`${k.name}: ${k.description}`);
    for (const p of describeSchema(k.schema)) lines.push(`    ${p}`);
  }
  return lines;
}

function kindOf(name: string): IndexKind {
  const kind = KINDS.get(name);
  if (kind) return kind;
  const hint =
    name === "hnsw"
      ? ' (hnsw is Node-only: import "mammals" from Node, or src/index/factory.node.ts, to register it)'
      : "";
  return fail(
    "UNKNOWN_NAME",
    `unknown index kind "${name}"; expected one of ${[...KINDS.keys()].join(", ")}${hint}`,
  );
}

/** Creates an empty index from a spec string such as "flat", "flat-i8:rerank=40", "hnsw:M=16". */
export function createIndex(spec: string, dim: number, metric: Metric = "l2"): Index {
  if (!Number.isSafeInteger(dim) || dim <= 0)
    fail("INVALID_ARGUMENT", `createIndex: dim must be a positive integer, got ${dim}`);
  parseMetric(metric);
  const { name, rest } = splitSpec(spec);
  return kindOf(name).create(rest, dim, metric);
}

/** Restores any serialized index (the snapshot header names its kind). */
export function deserializeIndex(bytes: Uint8Array): Index {
  const { header } = decodeIndex(bytes);
  return kindOf(header.kind).deserialize(bytes);
}

const FLAT_SCHEMA: ParamSchema = {};

const FLAT_I8_SCHEMA = {
  rerank: {
    type: "int",
    default: 0,
    min: 0,
    description: "int8 candidates re-ranked by exact f32 distance (0 = none; > 0 keeps f32 copies)",
  },
  lo: { type: "number", default: undefined, description: "quantization range low end (default: learned)" },
  hi: { type: "number", default: undefined, description: "quantization range high end (default: learned)" },
} satisfies ParamSchema;

registerIndexKind({
  name: "flat",
  description: "exact scan over f32 vectors (pure TypeScript)",
  schema: FLAT_SCHEMA,
  approximate: false,
  create(params, dim, metric) {
    parseParams(params, FLAT_SCHEMA, "flat");
    return new FlatIndex(dim, metric);
  },
  deserialize: (bytes) => FlatIndex.fromSnapshot(bytes),
});

registerIndexKind({
  name: "flat-i8",
  description: "exact scan over int8-quantized vectors, optional f32 re-ranking (pure TypeScript)",
  schema: FLAT_I8_SCHEMA,
  approximate: true,
  create(params, dim, metric) {
    const p = parseParams(params, FLAT_I8_SCHEMA, "flat-i8");
    return new FlatI8Index(dim, metric, p);
  },
  deserialize: (bytes) => FlatI8Index.fromSnapshot(bytes),
});
