/**
 * The main job over HTTP (`mammals demo --http`): the demo's streams played through real
 * processes instead of objects. One cloud model server (`mammals serve --model <cloud>` with
 * `--delay` = the demo's latency spec, so the wide-area round trip is really waited for) and, per
 * scenario, a fresh edge node (`mammals serve --model <small> --capacity ...` with the demo's main
 * policy, capacity and rule) forwarding to it. Requests go one at a time, binary float32 bodies,
 * with the true labels sent back as feedback on the stream's schedule; latency is what the client
 * measures. The rows have the shape of the in-process demo's, for the same table.
 */
import { fail } from "../core/errors.js";
import type { Dataset } from "../data/types.js";
import { HttpUpstream } from "../edge/http-upstream.js";
import { type DemoOptions, type DemoRun, demoClasses, demoStream, demoSystems } from "./demo.js";
import { type RemoteNode, runStream } from "./experiment.js";
import type { OnProgress } from "./progress.js";
import type { ServeLauncher } from "./serve-launcher.node.js";

export interface DemoHttpOptions
  extends Pick<
    DemoOptions,
    | "requests"
    | "seed"
    | "upstreamLatency"
    | "capacities"
    | "policies"
    | "rule"
    | "latencyWeight"
    | "scenarios"
    | "calibrate"
  > {
  dataset: Dataset;
  /** Model files (the demo's cache) of the small and the cloud model. */
  smallFile: string;
  cloudFile: string;
  launch: ServeLauncher;
  onProgress?: OnProgress;
}

/** An edge node behind HTTP, as the stream runner sees it. */
export function httpNode(url: string, inputDim: number): RemoteNode {
  const predictionIds = new Map<number, number>();
  const post = async (path: string, body: BodyInit, type: string, extra: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": type, ...extra },
      body,
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) fail("STATE", `${url}${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return {
    async request(x, id) {
      const body = new Uint8Array(x.byteLength);
      body.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
      const t0 = performance.now();
      const json = await post("/v1/predict", body, "application/octet-stream", {
        "x-batch-shape": `1,${inputDim}`,
      });
      const latencyMs = performance.now() - t0;
      const p = (json.predictions as { id: number; label: number; servedBy: string }[])[0];
      predictionIds.set(id, p.id);
      return { label: p.label, servedLocally: p.servedBy === "local", latencyMs };
    },
    async feedback(id, label) {
      const pid = predictionIds.get(id);
      if (pid === undefined) fail("UNKNOWN_ID", `stream request ${id} was never answered`);
      predictionIds.delete(id);
      await post("/v1/feedback", JSON.stringify({ id: pid, label }), "application/json");
    },
    async memory() {
      const res = await fetch(`${url}/v1/memory`);
      const m = (await res.json()) as { size: number; bytes: number };
      return { bytes: m.bytes, items: m.size };
    },
  };
}

export async function runDemoOverHttp(o: DemoHttpOptions): Promise<DemoRun[]> {
  const { unseen } = demoClasses(o.dataset);
  // The demo's main edge configuration (first policy, main capacity, embedding key): the one `mammals serve` runs.
  const edge = demoSystems(o).find((s) => s.system === "edge" && s.key === "embedding")!;
  const cloud = await o.launch([
    "--model",
    o.cloudFile,
    "--delay",
    o.upstreamLatency,
    "--seed",
    String(o.seed),
  ]);
  const runs: DemoRun[] = [];
  const total = 2 * o.scenarios.length * o.requests;
  let done = 0;
  try {
    const upstream = await HttpUpstream.connect(cloud.url, { seed: o.seed });
    for (const name of o.scenarios) {
      const stream = demoStream(name, o.dataset, o.requests, o.seed);
      const node = await o.launch([
        "--model",
        o.smallFile,
        "--capacity",
        String(edge.capacity),
        "--admission",
        edge.policy,
        "--rule",
        edge.rule,
        "--latency-weight",
        String(o.latencyWeight),
        ...(o.calibrate === false ? ["--no-calibrate"] : []),
        "--upstream",
        cloud.url,
        "--seed",
        String(o.seed),
      ]);
      try {
        for (const [system, sys] of [
          ["cloud over HTTP", { kind: "upstream" as const, upstream }],
          ["edge over HTTP", { kind: "remote" as const, node: httpNode(node.url, o.dataset.train.dim) }],
        ] as const) {
          const base = done;
          const result = await runStream(sys, stream, {
            watchClass: unseen,
            onRequest: (t) => o.onProgress?.(base + t, total, "demo over HTTP"),
          });
          done += o.requests;
          const isEdge = sys.kind === "remote";
          runs.push({
            row: {
              scenario: name,
              system,
              policy: isEdge ? edge.policy : "-",
              capacity: isEdge ? edge.capacity : 0,
              key: isEdge ? "embedding" : "-",
              accuracy: result.accuracy,
              localFraction: result.localFraction,
              meanMs: result.meanMs,
              p99Ms: result.p99Ms,
              memoryBytes: result.memoryBytes,
              memoryItems: result.memoryItems,
              unseenRecognizedAfter: isEdge ? (result.watch?.recognizedAfterFeedback ?? null) : null,
              unseenAccuracy: result.watch?.accuracy ?? Number.NaN,
            },
            result,
          });
        }
      } finally {
        await node.stop();
      }
    }
  } finally {
    await cloud.stop();
  }
  return runs;
}
