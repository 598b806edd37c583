/**
 * Opening a service from its typed options (what `mammals serve` parses its flags into): the
 * model file, then either an edge node (a memory of `capacity` entries forwarding to `upstream`,
 * restored from `dataDir` when given) or a plain model server (optionally with an emulated delay).
 */
import { fail } from "../core/errors.js";
import { HttpUpstream } from "../edge/http-upstream.js";
import "../index/factory.node.js";
import { readModelFile } from "../models/io/files.node.js";
import { buildEdgeService, buildModelService } from "./build.js";
import type { RecoveryReport } from "./durability.js";
import type { BatchingOptions, ServiceLimits, ServingService } from "./service.js";
import { SqliteStore } from "./sqlite-store.node.js";

export interface ServeOptions {
  /** Model file (mammals format). */
  model: string;
  /** Memory capacity in entries: an edge node. Absent: a plain model server. */
  capacity?: number;
  index?: string;
  admission?: string;
  rule?: string;
  /** URL of the node to forward to (required for an edge node). */
  upstream?: string;
  /** Key sent to the upstream, when it requires one. */
  upstreamKey?: string;
  upstreamTimeoutMs?: number;
  upstreamRetries?: number;
  latencyWeight?: number;
  /** Learn P(local error) from feedback (default true). */
  calibrate?: boolean;
  /** Persist under this directory (edge node). */
  dataDir?: string;
  sync?: "full" | "normal";
  checkpointMs?: number;
  /** Emulated round trip of a model server, e.g. "lognormal:median=20,sigma=0.5". */
  delay?: string;
  seed?: number;
  batching?: BatchingOptions;
  limits?: Partial<ServiceLimits>;
}

export interface OpenedService {
  service: ServingService;
  recovery: RecoveryReport | null;
}

export async function openService(o: ServeOptions): Promise<OpenedService> {
  const model = readModelFile(o.model);
  const seed = o.seed ?? 1;
  if (o.capacity === undefined) {
    for (const [flag, v] of [
      ["--upstream", o.upstream],
      ["--data-dir", o.dataDir],
      ["--admission", o.admission],
      ["--index", o.index],
    ] as const)
      if (v !== undefined)
        fail(
          "INVALID_ARGUMENT",
          `${flag} needs a memory: add --capacity N (without it this is a plain model server)`,
        );
    return {
      service: buildModelService({ model, delay: o.delay, seed, batching: o.batching, limits: o.limits }),
      recovery: null,
    };
  }
  if (o.delay !== undefined)
    fail(
      "INVALID_ARGUMENT",
      "--delay emulates a wide-area round trip on a plain model server; drop --capacity or --delay",
    );
  if (o.upstream === undefined)
    fail(
      "INVALID_ARGUMENT",
      "an edge node (--capacity) forwards to an upstream: add --upstream URL of a `mammals serve`",
    );
  const upstream = await HttpUpstream.connect(o.upstream, {
    apiKey: o.upstreamKey,
    timeoutMs: o.upstreamTimeoutMs,
    retries: o.upstreamRetries,
    seed,
  });
  if (upstream.inputDim !== model.inputDim || upstream.numClasses !== model.numClasses)
    fail(
      "INVALID_ARGUMENT",
      `upstream ${o.upstream} serves inputs of ${upstream.inputDim} values and ${upstream.numClasses} classes; ` +
        `the model ${o.model} expects ${model.inputDim} and ${model.numClasses}`,
    );
  const store = o.dataDir ? new SqliteStore(o.dataDir, { synchronous: o.sync, background: true }) : undefined;
  try {
    return buildEdgeService({
      model,
      upstream,
      capacity: o.capacity,
      index: o.index,
      admission: o.admission,
      rule: o.rule,
      latencyWeight: o.latencyWeight,
      calibrate: o.calibrate,
      seed,
      store,
      checkpointMs: o.checkpointMs,
      batching: o.batching,
      limits: o.limits,
    });
  } catch (e) {
    store?.close();
    throw e;
  }
}
