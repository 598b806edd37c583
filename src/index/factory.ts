/**
 * One factory for every index: `createIndex("hnsw:M=16,efSearch=64", dim, "l2")`. The spec string
 * doubles as configuration and CLI syntax (as in Faiss). `flat` and `flat-i8` are built in and
 * browser-safe; native kinds (hnsw over usearch) register themselves from Node-only modules
 * (src/index/factory.node.ts), so a browser bundle of this file never sees a native dependency.
 *
 * Every kind declares one capability: `exact` (results equal the brute-force reference, ties by
 * smaller id) or `approximate` (results may differ; scored by recall). Tests hold every exact kind
 * to the reference.
 */
import { fail } from "../core/errors.js";
import { Registry } from "../core/registry.js";
import type { ParamSchema } from "../core/spec.js";
import { type Metric, parseMetric } from "../core/vectors.js";
import { FlatIndex } from "./flat.js";
import { FlatI8Index } from "./flat-i8.js";
import { HNSW_TS_SCHEMA, HnswTsIndex } from "./hnsw-ts.js";
import { decodeIndex } from "./serial.js";
import type { Index } from "./types.js";

export type IndexCapability = "exact" | "approximate";

/** What `create` gets besides the parsed parameters (already checked by {@link createIndex}). */
export interface IndexContext {
  dim: number;
  metric: Metric;
}

/** What an index kind adds to a registry entry. */
export interface IndexKindExtra {
  /** Restores an index from a snapshot whose header names this kind. */
  deserialize(bytes: Uint8Array): Index;
}

export const indexKinds = new Registry<IndexContext, Index, IndexKindExtra>("index kind", (name) =>
  name === "hnsw"
    ? ' (hnsw is Node-only: import "mammals" from Node, or src/index/factory.node.ts, to register it)'
    : "",
);

/** The registry's description as lines (`name [capability]: summary`, then its parameters), for --help. */
export function describeIndexKinds(): string[] {
  return indexKinds
    .describe()
    .split("\n")
    .filter((line) => line !== "");
}

/** Creates an empty index from a spec string such as "flat", "flat-i8:rerank=40", "hnsw:M=16". */
export function createIndex(spec: string, dim: number, metric: Metric = "l2"): Index {
  if (!Number.isSafeInteger(dim) || dim <= 0)
    fail("INVALID_ARGUMENT", `createIndex: dim must be a positive integer, got ${dim}`);
  parseMetric(metric);
  return indexKinds.create(spec, { dim, metric });
}

/** Restores any serialized index (the snapshot header names its kind). */
export function deserializeIndex(bytes: Uint8Array): Index {
  const { header } = decodeIndex(bytes);
  return indexKinds.get(header.kind).deserialize(bytes);
}

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

indexKinds.register({
  name: "flat",
  summary: "exact scan over f32 vectors (WebAssembly SIMD, TypeScript fallback)",
  params: {},
  capabilities: ["exact"],
  create: (_p, { dim, metric }) => new FlatIndex(dim, metric),
  deserialize: (bytes) => FlatIndex.fromSnapshot(bytes),
});

indexKinds.register({
  name: "flat-i8",
  summary:
    "exhaustive scan over int8-quantized vectors, optional f32 re-ranking (WebAssembly SIMD, TypeScript fallback)",
  params: FLAT_I8_SCHEMA,
  // Quantization reorders near ties unless every candidate is re-ranked.
  capabilities: ["approximate"],
  create: (p, { dim, metric }) => new FlatI8Index(dim, metric, p),
  deserialize: (bytes) => FlatI8Index.fromSnapshot(bytes),
});

indexKinds.register({
  name: "hnsw-ts",
  summary: "approximate HNSW graph for browsers and edge runtimes (TypeScript + WebAssembly SIMD distances)",
  params: HNSW_TS_SCHEMA,
  capabilities: ["approximate"],
  create: (p, { dim, metric }) => new HnswTsIndex(dim, metric, p),
  deserialize: (bytes) => HnswTsIndex.fromSnapshot(bytes),
});
