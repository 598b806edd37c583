/**
 * The package root for Node: the browser-safe library (src/browser.ts) plus the Node adapters:
 * the native hnsw index (usearch), dataset and vector files on disk, model files, ONNX models.
 */
export * from "./browser.js";
export * from "./data/datasets.js";
export * from "./data/vectors-file.node.js";
export * from "./index/node.js";
export * from "./models/files.node.js";
export * from "./models/onnx.node.js";
export * from "./sim/catalog.node.js";
export * from "./sim/trace-file.node.js";
