/**
 * Node entry of the index layer: importing it registers the native `hnsw` kind (usearch) into
 * the browser-safe factory. Node code (CLI, server, the package root) imports this module;
 * browser bundles import factory.ts only.
 */
import "./hnsw.node.js";

export * from "./factory.js";
export { HnswIndex } from "./hnsw.node.js";
