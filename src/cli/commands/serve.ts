/**
 * `mammals serve`: flags -> src/serve/open.node.ts `openService` -> an HTTP server
 * (src/serve/server.node.ts) until SIGTERM or SIGINT, which drain in-flight requests, checkpoint
 * and close the store. An edge node with --capacity (forwarding to --upstream), else a plain model
 * server (the cloud tier, optionally with an emulated --delay).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { fail } from "../../core/errors.js";
import { parseChoice, parseInteger, parseNumber, parseSeed } from "../../jobs/parse.js";
import { startIdnNode } from "../../serve/idn-node.node.js";
import { openService, type ServeOptions } from "../../serve/open.node.js";
import { createLogger, startServer } from "../../serve/server.node.js";
import { seedFlag } from "../flags.js";

function readKey(path: string, flag: string): string {
  let key: string;
  try {
    key = readFileSync(path, "utf8").trim();
  } catch (e) {
    return fail("BAD_FILE", `${flag} ${path}: cannot read the key (${(e as Error).message})`);
  }
  if (key === "") fail("INVALID_ARGUMENT", `${flag} ${path}: expected a key, got an empty file`);
  return key;
}

/** Micro-batching pays where a batch is one matrix product (a model server); measured in docs/benchmarks/serve.md. */
function batchingOn(mode: "auto" | "on" | "off", capacity: string | undefined): boolean {
  return mode === "on" || (mode === "auto" && capacity === undefined);
}

export function register(program: Command): void {
  program
    .command("serve")
    .description(
      "serve a model over HTTP: an edge node (model + k-NN memory + forward decision, with --capacity) " +
        "or a plain model server (the cloud tier, without it)",
    )
    .option(
      "--model <file>",
      "model file in the mammals format (mammals train --out); required unless --idn-node",
    )
    .option(
      "--idn-node <name>",
      "run node NAME of a live inference delivery network instead (with --topology; see `mammals idn up`)",
    )
    .option(
      "--topology <spec|file.json>",
      "--idn-node: the network (abilene, tree:..., or a JSON file whose nodes may give a url)",
    )
    .option(
      "--catalog <spec|file.json>",
      "--idn-node: the model catalog (measured, or a JSON file of TASK/SPEC models)",
      "measured",
    )
    .option("--alpha <a>", "--idn-node: cost of inaccuracy in ms per unit of (1 - accuracy)", "100")
    .option(
      "--base-port <p>",
      "--idn-node: node i of the topology listens on 127.0.0.1:P+i (nodes without a url)",
    )
    .option(
      "--policy <spec>",
      "--idn-node: the placement policy (INFIDA keeping budgets)",
      "infida:overshoot=repair",
    )
    .option("--epochs <n>", "--idn-node: training epochs of models missing from --data-dir/models", "8")
    .option(
      "--exit-with-stdin",
      "--idn-node: stop when stdin closes (set by idn up, so nodes never outlive it)",
    )
    .option(
      "--slot-seconds <s>",
      "--idn-node: seconds per slot when the network clocks itself (idn up --slot), 0 when idn load advances the slots",
      "0",
    )
    .option("--capacity <n>", "memory capacity in entries: makes this an edge node (needs --upstream)")
    .option("--index <spec>", "memory index: flat, flat-i8:rerank=40, hnsw:M=16,efSearch=64", "flat")
    .option(
      "--admission <spec>",
      "admission policy of the memory: utility, ib3, ib2, all (see `mammals policies`)",
      "utility",
    )
    .option(
      "--rule <spec>",
      "combination rule: adaptive, interpolate:lambda=0.25, model-only, knn-only",
      "adaptive",
    )
    .option(
      "--upstream <url>",
      "the node to forward to, e.g. http://127.0.0.1:8081 (another `mammals serve`)",
    )
    .option("--upstream-key-file <file>", "API key to send to the upstream, read from a file")
    .option("--upstream-timeout <ms>", "per-attempt timeout of a forward", "2000")
    .option("--upstream-retries <n>", "attempts after the first one (jittered exponential backoff)", "2")
    .option("--latency-weight <w>", "cost of 1 ms of upstream latency in units of a wrong answer", "0.01")
    .option("--no-calibrate", "trust 1 - confidence as P(error) instead of learning it from feedback")
    .option(
      "--delay <spec>",
      "plain model server only: emulated round trip, e.g. lognormal:median=20,sigma=0.5 (ms)",
    )
    .option(
      "--host <host>",
      "address to bind (127.0.0.1: this machine only; 0.0.0.0: every interface)",
      "127.0.0.1",
    )
    .option("--port <n>", "port to listen on (0: any free port, printed in the `listening` log line)", "8080")
    .option(
      "--data-dir <dir>",
      "edge node: keep the memory, policy and calibration state, counters in SQLite here; --idn-node: model files (DIR/models, trained when missing; default ./idn-data)",
    )
    .option(
      "--sync <mode>",
      "full: an acknowledged change survives power loss; normal: process crashes only",
      "full",
    )
    .option(
      "--checkpoint-ms <ms>",
      "with --data-dir: write the whole state (policy records, usage, recent requests) at most this often while changes flow",
      "5000",
    )
    .option(
      "--api-key-file <file>",
      "require this key (Authorization: Bearer or X-API-Key) on POST endpoints",
    )
    .option(
      "--batching <mode>",
      "adaptive micro-batching of predictions: on, off, or auto (on for a plain model server, whose batches are one matrix product; off for an edge node, which answers each input on its own)",
      "auto",
    )
    .option("--objective-ms <ms>", "latency objective of a micro-batch's oldest request", "2")
    .option("--max-batch <n>", "inputs accepted in one predict request", "256")
    .option("--max-body <bytes>", "largest request body", String(4 << 20))
    .option("--max-queue <n>", "inputs queued or in flight before requests get 503 + Retry-After", "1024")
    .option("--log-level <level>", "pino log level: debug, info (every POST), warn, error, silent", "info")
    .addOption(seedFlag("seed of the policies, the rule's initial jitter, retry jitter and --delay draws"))
    .addHelpText(
      "after",
      `
Endpoints: POST /v1/predict, POST /v1/feedback, GET /v1/memory, /v1/info, /v1/stats, /healthz,
/readyz, /metrics (Prometheus), /openapi.json, / (live dashboard). Logs: one JSON line per event.

Examples:
  mammals serve --idn-node chicago --topology net.json --catalog measured --data-dir ./idn  # one IDN node
  mammals serve --model cloud.mammals --port 8081 --delay lognormal:median=20,sigma=0.5   # the cloud tier
  mammals serve --model small.mammals --capacity 2000 --upstream http://127.0.0.1:8081 --port 8080 \\
                --data-dir ./edge-data --api-key-file ./key.txt                           # an edge node
  curl -s localhost:8080/v1/predict -H 'content-type: application/json' \\
       -H "authorization: Bearer $(cat key.txt)" -d '{"input": [0, 0.1, ...]}'          # 784 values`,
    )
    .action(async (f) => {
      if (f.idnNode !== undefined) return serveIdnNode(f);
      if (f.model === undefined)
        fail(
          "INVALID_ARGUMENT",
          "serve: expected --model FILE (or --idn-node NAME --topology SPEC for a live IDN node)",
        );
      const options: ServeOptions = {
        model: f.model,
        capacity: f.capacity === undefined ? undefined : parseInteger(f.capacity, "--capacity", 1),
        index: f.capacity === undefined && f.index === "flat" ? undefined : f.index,
        admission: f.capacity === undefined && f.admission === "utility" ? undefined : f.admission,
        rule: f.rule,
        upstream: f.upstream,
        upstreamKey: f.upstreamKeyFile ? readKey(f.upstreamKeyFile, "--upstream-key-file") : undefined,
        upstreamTimeoutMs: parseNumber(f.upstreamTimeout, "--upstream-timeout", { min: 1 }),
        upstreamRetries: parseInteger(f.upstreamRetries, "--upstream-retries", 0, 10),
        latencyWeight: parseNumber(f.latencyWeight, "--latency-weight", { min: 0 }),
        calibrate: f.calibrate !== false,
        delay: f.delay,
        dataDir: f.dataDir,
        sync: parseChoice(f.sync, "--sync", ["full", "normal"] as const),
        checkpointMs: parseInteger(f.checkpointMs, "--checkpoint-ms", 100),
        seed: parseSeed(f.seed),
        batching: {
          enabled: batchingOn(
            parseChoice(f.batching, "--batching", ["auto", "on", "off"] as const),
            f.capacity,
          ),
          objectiveMs: parseNumber(f.objectiveMs, "--objective-ms", { min: 0.01 }),
        },
        limits: {
          maxBatch: parseInteger(f.maxBatch, "--max-batch", 1, 65536),
          maxBodyBytes: parseInteger(f.maxBody, "--max-body", 64),
          maxQueue: parseInteger(f.maxQueue, "--max-queue", 1),
        },
      };
      const level = parseChoice(f.logLevel, "--log-level", [
        "debug",
        "info",
        "warn",
        "error",
        "silent",
      ] as const);
      const apiKey = f.apiKeyFile ? readKey(f.apiKeyFile, "--api-key-file") : undefined;
      const port = parseInteger(f.port, "--port", 0, 65535);
      const log = createLogger(level);
      const { service, recovery } = await openService(options);
      if (recovery) log.info({ ...recovery, dataDir: options.dataDir }, "restored");
      const server = await startServer(service, { host: f.host, port, apiKey, log });
      // Runs until a signal: drain, checkpoint, close, then exit (idle upstream sockets must not keep us up).
      await new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          server.stop(signal).then(resolve, (e) => {
            log.error({ err: e }, "stop failed");
            log.flush();
            process.exit(1);
          });
        };
        process.once("SIGTERM", onSignal);
        process.once("SIGINT", onSignal);
      });
      process.exit(0);
    });
}

/** `serve --idn-node`: one node of a live IDN until SIGTERM or SIGINT. */
async function serveIdnNode(f: Record<string, string | undefined>): Promise<void> {
  if (f.topology === undefined)
    fail(
      "INVALID_ARGUMENT",
      `serve --idn-node ${f.idnNode}: expected --topology SPEC or FILE naming the network`,
    );
  const level = parseChoice(f.logLevel as string, "--log-level", [
    "debug",
    "info",
    "warn",
    "error",
    "silent",
  ] as const);
  const log = createLogger(level);
  const running = await startIdnNode({
    topology: f.topology,
    catalog: f.catalog as string,
    alpha: parseNumber(f.alpha as string, "--alpha", { min: 0 }),
    node: f.idnNode as string,
    basePort: f.basePort === undefined ? undefined : parseInteger(f.basePort, "--base-port", 1, 65535),
    policy: f.policy as string,
    seed: parseSeed(f.seed as string),
    dataDir: f.dataDir ?? "./idn-data",
    epochs: parseInteger(f.epochs as string, "--epochs", 1, 1000),
    slotSeconds: parseNumber(f.slotSeconds as string, "--slot-seconds", { min: 0 }),
    host: f.host,
    log,
  });
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => void running.stop(signal).then(resolve);
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
    if (f.exitWithStdin) {
      process.stdin.on("end", () => onSignal("SIGTERM"));
      process.stdin.on("close", () => onSignal("SIGTERM"));
      process.stdin.resume();
    }
  });
  process.exit(0);
}
