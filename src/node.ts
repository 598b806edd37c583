/**
 * The package root for Node: the browser-safe library (src/browser.ts) plus the Node adapters:
 * the native hnsw index (usearch), dataset and vector files on disk, model files, ONNX models,
 * memory and edge node snapshot files, and the HTTP service (serve/: the fetch-handler app, which
 * mounts in any runtime, and its Node server with SQLite persistence).
 */
export * from "./browser.js";
export * from "./caching/catalog.node.js";
export * from "./caching/trace-file.node.js";
export * from "./data/atomic-write.node.js";
export * from "./data/datasets.node.js";
export * from "./data/files.node.js";
export * from "./data/vectors-file.node.js";
export * from "./edge/snapshot-file.node.js";
export {
  readCatalogFile as readIdnCatalogFile,
  readTopologyFile as readIdnTopologyFile,
  readTraceFile as readIdnTraceFile,
} from "./idn/files.node.js";
export * from "./index/factory.node.js";
export { runIdnSimulationNode, writeIdnOutputs } from "./jobs/idn-simulate.node.js";
export * from "./memory/snapshot-file.node.js";
export * from "./models/io/files.node.js";
export * from "./models/io/onnx.node.js";
export * from "./serve/app.js";
export * from "./serve/build.js";
export * from "./serve/open.node.js";
export * from "./serve/server.node.js";
export * from "./serve/sqlite-store.node.js";
