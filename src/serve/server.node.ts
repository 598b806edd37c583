/**
 * Node adapter: the fetch-handler app on a Node HTTP server (@hono/node-server), with structured
 * JSON logs (pino) and Prometheus metrics (prom-client), the dashboard's uPlot assets read from
 * the installed package, and a graceful stop: stop accepting connections, answer what is in
 * flight, checkpoint and close the store.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { serve } from "@hono/node-server";
import pino from "pino";
import { createApp } from "./app.js";
import { createMetrics } from "./metrics.node.js";
import type { ServingService } from "./service.js";

export type Logger = pino.Logger;

export function createLogger(level = "info", destination?: pino.DestinationStream): Logger {
  // Asynchronous writes keep logging off the hot path; flush() before exiting.
  const dest = destination ?? pino.destination({ dest: 1, sync: false });
  return pino({ level, base: { service: "mammals" }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

export function readDashboardAssets(): { uplotJs: string; uplotCss: string } {
  const dir = dirname(createRequire(import.meta.url).resolve("uplot/package.json"));
  return {
    uplotJs: readFileSync(join(dir, "dist", "uPlot.iife.min.js"), "utf8"),
    uplotCss: readFileSync(join(dir, "dist", "uPlot.min.css"), "utf8"),
  };
}

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  apiKey?: string;
  log: Logger;
  /** Give in-flight requests this long to finish when stopping (ms). Default 10000. */
  drainMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Graceful stop (idempotent): drain, checkpoint, close the store. */
  stop(reason: string): Promise<void>;
}

export async function startServer(service: ServingService, o: ServerOptions): Promise<RunningServer> {
  const metrics = createMetrics(service);
  service.observers.push(metrics);
  const app = createApp(service, { apiKey: o.apiKey, log: o.log, metrics, assets: readDashboardAssets() });
  const host = o.host ?? "127.0.0.1";
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: o.port ?? 8080 }, () => resolve(s));
    s.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let stopping: Promise<void> | null = null;
  const drainMs = o.drainMs ?? 10_000;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      o.log.info({ reason, inFlight: service.inFlight }, "stopping: draining in-flight requests");
      // New connections are refused; idle keep-alive ones close; active ones finish their request.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await service.close(drainMs);
      const timer = setTimeout(
        () => (server as { closeAllConnections?: () => void }).closeAllConnections?.(),
        1000,
      );
      await closed;
      clearTimeout(timer);
      o.log.info({}, "stopped: store closed");
      o.log.flush();
    })();
    return stopping;
  };
  o.log.info({ url, kind: service.info.kind, model: service.info.model }, "listening");
  return { url, port, stop };
}
