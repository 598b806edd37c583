/**
 * The browser-safe IDN library (everything in src/idn/ but the *.node.ts file adapter), exported
 * from the package's browser entry as the `idn` namespace: its names (Catalog, generateTrace, ...)
 * would otherwise collide with the similarity-caching simulator's.
 */
export * from "./catalog.js";
export * from "./catalog-published.js";
export * from "./catalogs.js";
export * from "./instance.js";
export * from "./objective.js";
export { preferredPairs } from "./policies/caches.js";
export { aggregateDemand, type GreedyMode, lazyGreedy, marginalGain } from "./policies/greedy.js";
export { Infida, type InfidaOptions } from "./policies/infida.js";
export {
  type ApproxOptions,
  approximateOptimum,
  exactOptimum,
  type OfflineResult,
  offlineOptimum,
} from "./policies/offline-opt.js";
export * from "./policies.js";
export * from "./report.js";
export * from "./serving.js";
export * from "./simulator.js";
export * from "./topologies.js";
export * from "./topology.js";
export * from "./topology-svg.js";
export * from "./trace-format.js";
export * from "./traces.js";
