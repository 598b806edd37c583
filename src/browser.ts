/**
 * The browser-safe library: everything that runs in browsers and edge runtimes (no `node:` imports,
 * no native addons). Node programs import the package root (src/node.ts), which adds the native
 * hnsw index, files on disk and ONNX models.
 */

export * from "./augment/calibration.js";
export * from "./augment/combine.js";
export * from "./augment/forward-cost.js";
export * from "./augment/keys.js";
export * from "./augment/memory-augmented-model.js";
export * from "./caching/catalog.js";
export * from "./caching/cost.js";
export * from "./caching/cta.js";
export * from "./caching/geometry.js";
export * from "./caching/registry.js";
export * from "./caching/simulator.js";
export * from "./caching/trace-format.js";
export * from "./caching/traces.js";
export type * from "./caching/types.js";
export * from "./core/checksum.js";
export * from "./core/errors.js";
export * from "./core/memory-budget.js";
export * from "./core/plot.js";
export * from "./core/registry.js";
export * from "./core/rng.js";
export * from "./core/spec.js";
export * from "./core/state-tree.js";
export * from "./core/topk.js";
export * from "./core/vectors.js";
export * from "./core/warnings.js";
export * from "./data/csv.js";
export * from "./data/idx.js";
export * from "./data/npy.js";
export * from "./data/transforms.js";
export * from "./data/types.js";
export * from "./data/vecs.js";
export * from "./data/vector-formats.js";
export * from "./edge/circuit-breaker.js";
export * from "./edge/edge-node.js";
export * from "./edge/histogram.js";
export * from "./edge/http-upstream.js";
export * from "./edge/snapshot.js";
export * from "./edge/upstream.js";
// Inference delivery networks, as a namespace (idn.simulateIdn, idn.createTopology, ...).
export * as idn from "./idn/all.js";
export * from "./index/factory.js";
export * from "./index/flat.js";
export * from "./index/flat-i8.js";
export * from "./index/hnsw-ts.js";
export type * from "./index/types.js";
export { type KernelPath, kernelPath, setKernelPath } from "./index/wasm/simd.js";
export * from "./jobs/demo.js";
export * from "./jobs/experiment.js";
export * from "./jobs/workloads.js";
export * from "./memory/admission/index.js";
export * from "./memory/labeled-memory.js";
export * from "./memory/snapshot.js";
export * from "./models/all.js";
