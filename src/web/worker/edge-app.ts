/**
 * The edge node as a web-standard fetch handler (Request -> Response), for Workers runtimes such as
 * workerd and for any host that speaks fetch (Node's test calls it in-process, without a socket).
 * The serving issue's Hono app had not landed when this was written; this is the minimal handler
 * the Workers part needs, built on the same EdgeNode, so that it can be swapped for that app.
 *
 *   POST /predict  {"x": [784 numbers], "id"?: n}  -> {id, label, proba, servedLocally, expectedCost,
 *                                                      forwardCost, latencyMs, localMs}
 *   POST /feedback {"id": n, "label": n}            -> {correct, admitted}
 *   GET  /stats                                     -> EdgeNode.stats()
 * With UPSTREAM_URL it forwards to a `mammals serve` node (edge/http-upstream.ts speaks its
 * /v1/predict); every answer carries CORS headers, so a page on another origin can call it.
 *
 * What persists where: the node (model, memory, calibration, recent requests) lives in the
 * isolate's memory, built on the first request. It survives across requests served by the same
 * isolate and is lost when the runtime restarts or evicts the isolate; nothing is written to
 * storage (a KV or Durable Object binding would be where a durable memory goes).
 *
 * Errors: a MammalsError maps to 400 (bad input), 404 (unknown id), 409 (duplicate id), 500 else,
 * as {"error": {"code", "message"}}.
 */

import { MemoryAugmentedModel } from "../../augment/memory-augmented-model.js";
import { type ErrorCode, isMammalsError } from "../../core/errors.js";
import { EdgeNode } from "../../edge/edge-node.js";
import { HttpUpstream } from "../../edge/http-upstream.js";
import { InProcessUpstream, type Upstream } from "../../edge/upstream.js";
import { createIndex } from "../../index/factory.js";
import { LabeledMemory } from "../../memory/labeled-memory.js";
import { loadModel } from "../../models/registry.js";

export interface EdgeAppOptions {
  /** The small model, in the mammals model format. */
  modelBytes: Uint8Array;
  /** A `mammals serve` node to forward to; without one, a stand-in (see below). */
  upstreamUrl?: string;
  /** Memory capacity in entries. Default 1024. */
  capacity?: number;
  seed?: number;
  /** Clock (default performance.now); tests pass a fixed one to compare answers exactly. */
  now?: () => number;
}

export interface EdgeApp {
  fetch(req: Request): Promise<Response>;
}

const STATUS: Partial<Record<ErrorCode, number>> = { UNKNOWN_ID: 404, DUPLICATE_ID: 409, UNSUPPORTED: 501 };

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "content-type",
};

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...CORS },
  });
}

function build(o: EdgeAppOptions): EdgeNode {
  const model = loadModel(o.modelBytes, "edge model");
  // Without a cloud node, the stand-in upstream is the same model behind a simulated 20 ms round trip
  // (seeded, not slept): the decision, the forward and the feedback loop all run, deterministically.
  const upstream: Upstream = o.upstreamUrl
    ? new HttpUpstream(o.upstreamUrl, model)
    : new InProcessUpstream(model, { latency: "constant:ms=20", seed: o.seed ?? 1, now: o.now });
  const memory = new LabeledMemory({
    index: createIndex("flat", model.embedDim),
    numClasses: model.numClasses,
    capacityItems: o.capacity ?? 1024,
    admission: "all:evict=lru",
    seed: o.seed ?? 1,
  });
  const local = new MemoryAugmentedModel({
    model,
    memory,
    seed: o.seed ?? 1,
    forward: { latencyWeight: 0.002, upstreamLatencyMs: upstream.expectedLatencyMs ?? 20 },
  });
  return new EdgeNode({ local, upstream, now: o.now });
}

async function body(req: Request): Promise<Record<string, unknown>> {
  try {
    const b = await req.json();
    if (typeof b === "object" && b !== null) return b as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw Object.assign(new Error("expected a JSON object body"), { status: 400 });
}

export function createEdgeApp(o: EdgeAppOptions): EdgeApp {
  let node: EdgeNode | null = null;
  const edge = () => (node ??= build(o));
  return {
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
      try {
        if (req.method === "POST" && path === "/predict") {
          const b = await body(req);
          if (!Array.isArray(b.x))
            return json(
              { error: { code: "INVALID_ARGUMENT", message: 'expected "x": an array of numbers' } },
              400,
            );
          const r = await edge().request(
            Float32Array.from(b.x as number[]),
            b.id === undefined ? undefined : Number(b.id),
          );
          return json({ ...r, proba: Array.from(r.proba) });
        }
        if (req.method === "POST" && path === "/feedback") {
          const b = await body(req);
          return json(edge().feedback(Number(b.id), Number(b.label)));
        }
        if (req.method === "GET" && path === "/stats") return json(edge().stats());
        return json({ error: { code: "NOT_FOUND", message: `no route ${req.method} ${path}` } }, 404);
      } catch (e) {
        if (isMammalsError(e))
          return json({ error: { code: e.code, message: e.message } }, STATUS[e.code] ?? 400);
        const status = (e as { status?: number }).status ?? 500;
        return json(
          {
            error: { code: status === 400 ? "INVALID_ARGUMENT" : "INTERNAL", message: (e as Error).message },
          },
          status,
        );
      }
    },
  };
}
