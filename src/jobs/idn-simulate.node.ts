/**
 * Node adapter of the `idn simulate` use case: reads topology, catalog and trace files, and writes
 * the --out directory (results.json, series.csv, report.html, one topology-<policy>.svg per policy).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readCatalogFile, readTopologyFile, readTraceFile } from "../idn/files.node.js";
import { idnHtml, idnSeriesCsv } from "../idn/report.js";
import { topologySvg } from "../idn/topology-svg.js";
import { type IdnSimulateOptions, type IdnSimulation, runIdnSimulation } from "./idn-simulate.js";

export function runIdnSimulationNode(o: IdnSimulateOptions): IdnSimulation {
  return runIdnSimulation(o, {
    topologyFile: readTopologyFile,
    catalogFile: readCatalogFile,
    traceFile: readTraceFile,
  });
}

/** File-safe form of a policy spec. */
function slug(s: string): string {
  return s.replace(/[^a-zA-Z0-9=.-]+/g, "_");
}

/** Writes the report files; returns their names. */
export function writeIdnOutputs(dir: string, sim: IdnSimulation, command: string): string[] {
  mkdirSync(dir, { recursive: true });
  const { result, instance } = sim;
  const summary = {
    ...result,
    command,
    results: result.results.map(({ series: _s, finalAllocation: _a, ...p }) => p),
  };
  const files: Array<[string, string]> = [
    ["results.json", `${JSON.stringify(summary, null, 1)}\n`],
    ["series.csv", idnSeriesCsv(result)],
    ["report.html", idnHtml(result, instance, command)],
  ];
  for (const p of result.results)
    files.push([
      `topology-${slug(p.policy)}.svg`,
      topologySvg(instance, p.finalAllocation, `${p.policy}: allocation in the last slot`),
    ]);
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return files.map(([name]) => name);
}
