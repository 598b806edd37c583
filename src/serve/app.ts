/**
 * The HTTP face of a service, as a web-standard fetch handler (Hono): `createApp(service).fetch`
 * runs under Node (server.node.ts), Deno, Bun, workers, or in-process in tests (`app.request`).
 * Nothing here touches Node: logging and metrics come in through small interfaces.
 *
 *   POST /v1/predict    one input or a batch; JSON arrays or raw little-endian float32
 *   POST /v1/feedback   {id, label} or {input, label}; answered once durable
 *   GET  /v1/memory     size, capacity, index, admission, feedbackCount, digest
 *   GET  /v1/info       what the node serves (used by nodes that forward to it)
 *   GET  /v1/stats      the dashboard's time series
 *   GET  /healthz  /readyz  /metrics  /openapi.json  /  (dashboard)
 *
 * Errors: every failure is a MammalsError (or a bug) and becomes `{code, message}` with the
 * status of http-errors.ts, in the one onError handler below.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { validator } from "hono/validator";
import { fail } from "../core/errors.js";
import { dashboardPage } from "./dashboard.js";
import { errorAnswer } from "./http-errors.js";
import { openApiDocument } from "./openapi.js";
import {
  ApiKeyCheck,
  BINARY_TYPE,
  feedbackFromJson,
  JSON_TYPE,
  type PredictInput,
  parseJson,
  predictFromBinary,
  predictFromJson,
  readBody,
  requireMediaType,
  SHAPE_HEADER,
} from "./request-input.js";
import { type FeedbackBody, parseWith, serviceSchemas } from "./schemas.js";
import type { ServingService } from "./service.js";

/** The structured logger the app writes to (pino's Logger fits). */
export interface AppLogger {
  /** Whether `level` is logged at all (pino's); lets the hot path skip building log records. */
  isLevelEnabled?(level: string): boolean;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface HttpMetrics {
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  render(): Promise<{ contentType: string; body: string }>;
}

export interface AppOptions {
  /** Mutating endpoints (every POST) require this key when set. */
  apiKey?: string;
  log?: AppLogger;
  metrics?: HttpMetrics;
  /** uPlot's script and style sheet for the dashboard (the Node adapter reads them from the package). */
  assets?: { uplotJs: string; uplotCss: string };
}

const REQUEST_ID_HEADER = "X-Request-Id";
const CORS_METHODS = "GET,POST,OPTIONS";
const CORS_HEADERS = "content-type,authorization,x-api-key,x-batch-shape,x-request-id";
const CORS_MAX_AGE = "600";

/** The client's X-Request-Id when it is a sane token (word characters, - and =, at most 255), else a new UUID. */
function requestIdOf(given: string | undefined): string {
  return given !== undefined && given.length > 0 && given.length <= 255 && !/[^\w\-=]/.test(given)
    ? given
    : crypto.randomUUID();
}

type Env = {
  Variables: {
    requestId: string;
    predictInput: PredictInput;
    feedbackBody: FeedbackBody;
    /** The answer carries the request id and CORS headers already (answerJson). */
    headersDone: boolean;
  };
};

/** The headers every answer carries: the request id, and CORS for pages on any origin. */
function commonHeaders(id: string): Record<string, string> {
  return { "x-request-id": id, "access-control-allow-origin": "*" };
}

/** A 200 JSON answer with every header in one plain object (the hot routes). */
function answerJson(c: Context<Env>, value: unknown): Response {
  c.set("headersDone", true);
  return new Response(JSON.stringify(value), {
    status: 200,
    headers: { "content-type": "application/json", ...commonHeaders(c.get("requestId")) },
  });
}

export function createApp(service: ServingService, o: AppOptions = {}): Hono<Env> {
  const schemas = serviceSchemas({ ...service.info, maxBatch: service.limits.maxBatch });
  const openapi = openApiDocument(schemas, service.info, service.limits);
  const keyCheck = o.apiKey ? new ApiKeyCheck(o.apiKey) : null;
  const dim = service.info.inputDim;
  const bodyLimits = {
    inputDim: dim,
    numClasses: service.info.numClasses,
    maxBatch: service.limits.maxBatch,
  };
  const app = new Hono<Env>();
  const logRequests = o.log !== undefined && (o.log.isLevelEnabled?.("info") ?? true);

  // One middleware for what every request needs: its id, CORS, metrics and the log line. The two
  // hot routes answer with their headers in a plain object (answerJson), which the Node adapter
  // writes as they are; other answers get the id and CORS headers added here afterwards. (Headers
  // set on `c.res` *before* the route answers, as hono/cors does, make Hono rebuild every answer
  // as a web-standard Response with a streamed body that the Node adapter then reads back.)
  app.use(async (c, next) => {
    const t0 = performance.now();
    const id = requestIdOf(c.req.header(REQUEST_ID_HEADER));
    c.set("requestId", id);
    if (c.req.method === "OPTIONS")
      c.res = new Response(null, {
        status: 204,
        headers: {
          ...commonHeaders(id),
          "access-control-allow-methods": CORS_METHODS,
          "access-control-allow-headers": CORS_HEADERS,
          "access-control-max-age": CORS_MAX_AGE,
        },
      });
    else {
      await next();
      if (!c.get("headersDone")) {
        const h = c.res.headers;
        h.set(REQUEST_ID_HEADER, id);
        // Browser pages on other origins (the on-device page of `mammals web`) use a node as their upstream.
        h.set("access-control-allow-origin", "*");
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const route = c.req.routePath;
    o.metrics?.observeRequest(route, c.req.method, c.res.status, seconds);
    if (logRequests && (c.res.status >= 400 || c.req.method !== "GET"))
      o.log!.info(
        {
          requestId: id,
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Math.round(seconds * 1e5) / 100,
        },
        "request",
      );
  });

  app.onError((e, c) => {
    const a = errorAnswer(e);
    if (a.status >= 500 && a.body.code === "INTERNAL")
      o.log?.error({ requestId: c.get("requestId"), err: e }, "unexpected failure");
    // The id and CORS headers too: an error thrown past the middleware (no such endpoint) skips its second half.
    const id = c.get("requestId");
    return c.json(a.body, a.status as 500, { ...a.headers, ...(id ? commonHeaders(id) : {}) });
  });
  app.notFound((c) =>
    fail("NOT_FOUND", `${c.req.method} ${c.req.path}: no such endpoint; see /openapi.json`),
  );

  const requireKey: MiddlewareHandler<Env> = async (c, next) => {
    if (keyCheck) await keyCheck.verify(c.req.raw);
    await next();
  };

  // The query goes through Hono's validator with the endpoint's zod schema.
  // (Most requests have no query: nothing to check, the schema's answer for {} is {}.)
  const predictQuery = validator("query", (v) =>
    Object.keys(v).length === 0 ? {} : parseWith(schemas.predictQuery, v, "query"),
  );

  const predictBody: MiddlewareHandler<Env> = async (c, next) => {
    const type = requireMediaType(c.req.raw, [JSON_TYPE, BINARY_TYPE]);
    const bytes = await readBody(c.req.raw, service.limits.maxBodyBytes);
    c.set(
      "predictInput",
      type === BINARY_TYPE
        ? predictFromBinary(bytes, c.req.header(SHAPE_HEADER) ?? null, dim, service.limits.maxBatch)
        : predictFromJson(parseJson(bytes), schemas, bodyLimits),
    );
    await next();
  };

  const feedbackBody: MiddlewareHandler<Env> = async (c, next) => {
    requireMediaType(c.req.raw, [JSON_TYPE]);
    const bytes = await readBody(c.req.raw, service.limits.maxBodyBytes);
    c.set("feedbackBody", feedbackFromJson(parseJson(bytes), schemas, bodyLimits));
    await next();
  };

  app.post("/v1/predict", requireKey, predictQuery, predictBody, async (c) => {
    const q = c.req.valid("query");
    const input = c.get("predictInput");
    const probabilities = q.probabilities === "true" || q.probabilities === "1";
    const out = await service.predict(input.rows, input.n, { probabilities });
    return answerJson(c, input.single ? out[0] : { predictions: out });
  });

  app.post("/v1/feedback", requireKey, feedbackBody, async (c) => {
    return answerJson(c, await service.feedback(c.get("feedbackBody")));
  });

  app.get("/v1/memory", async (c) => c.json(await service.memoryInfo()));
  app.get("/v1/info", (c) => c.json(service.info));
  app.get("/v1/stats", (c) =>
    c.json({ info: service.info, gauges: service.gauges(), series: service.timeline.series() }),
  );
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const r = service.readiness();
    return c.json(r, r.ready ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    if (!o.metrics) fail("NOT_FOUND", "GET /metrics: this app was created without metrics");
    const m = await o.metrics.render();
    return c.body(m.body, 200, { "content-type": m.contentType });
  });
  app.get("/openapi.json", (c) => c.json(openapi));
  app.get("/", (c) => c.html(dashboardPage(service.info, o.assets !== undefined)));
  if (o.assets) {
    const { uplotJs, uplotCss } = o.assets;
    app.get("/assets/uplot.js", (c) => c.body(uplotJs, 200, { "content-type": "text/javascript" }));
    app.get("/assets/uplot.css", (c) => c.body(uplotCss, 200, { "content-type": "text/css" }));
  }
  return app;
}

export type MammalsApp = ReturnType<typeof createApp>;
export type { Context };
