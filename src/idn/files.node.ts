/**
 * Node adapter: IDN topology, catalog and trace files on disk. Parsing is in the browser-safe
 * modules (topologies.ts, catalog.ts, trace-format.ts); this file only reads text, and errors name
 * the file.
 */
import { readBytes } from "../data/files.node.js";
import { type Catalog, parseCatalogJson } from "./catalog.js";
import type { IdnInstance } from "./instance.js";
import { parseTopologyJson } from "./topologies.js";
import type { Topology } from "./topology.js";
import { parseTraceCsv } from "./trace-format.js";
import type { IdnTrace } from "./traces.js";

function readText(path: string): string {
  return new TextDecoder().decode(readBytes(path));
}

export function readTopologyFile(path: string): Topology {
  return parseTopologyJson(readText(path), `topology file ${path}`);
}

export function readCatalogFile(path: string): Catalog {
  return parseCatalogJson(readText(path), `catalog file ${path}`);
}

export function readTraceFile(path: string, instance: IdnInstance): IdnTrace {
  return parseTraceCsv(readText(path), instance, `trace file ${path}`);
}
