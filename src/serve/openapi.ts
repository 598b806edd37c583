/**
 * /openapi.json, generated from the very zod schemas that validate the requests (schemas.ts), so
 * the document states the served model's input length, class count and batch limit as enforced.
 */
import { z } from "zod";
import type { ServiceSchemas } from "./schemas.js";
import type { ServiceInfo, ServiceLimits } from "./service.js";

export function openApiDocument(s: ServiceSchemas, info: ServiceInfo, limits: ServiceLimits) {
  // Schemas with an id (.meta({id})) become components; references to them point there.
  const components: Record<string, unknown> = {};
  const jsonSchema = (schema: z.ZodType): Record<string, unknown> => {
    const text = JSON.stringify(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }));
    const out = JSON.parse(text.replaceAll('"#/$defs/', '"#/components/schemas/')) as Record<string, unknown>;
    Object.assign(components, out.$defs);
    delete out.$defs;
    delete out.$schema;
    return out;
  };
  const error = (description: string) => ({
    description,
    content: { "application/json": { schema: jsonSchema(s.errorBody) } },
  });
  const errors = {
    "400": error(
      "malformed or invalid request (code says which: MALFORMED_BODY, INVALID_ARGUMENT, DIMENSION_MISMATCH)",
    ),
    "401": error("missing or wrong API key (when the service has one)"),
    "413": error(`body over ${limits.maxBodyBytes} bytes or batch over ${limits.maxBatch} inputs`),
    "415": error("unsupported Content-Type"),
    "503": error("queue full (Retry-After says when to retry) or shutting down"),
  };
  const security = [{ bearer: [] }, { apiKey: [] }];
  const query = jsonSchema(s.predictQuery) as { properties?: Record<string, unknown> };
  const json = (schema: z.ZodType) => ({ "application/json": { schema: jsonSchema(schema) } });
  return {
    openapi: "3.1.0",
    info: {
      title: `mammals ${info.kind === "edge" ? "edge node" : "model server"} (${info.model})`,
      version: "1",
      description:
        "Memory-augmented inference at the edge. Inputs have " +
        `${info.inputDim} values; labels are classes in [0, ${info.numClasses}).`,
    },
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
    },
    paths: {
      "/v1/predict": {
        post: {
          summary: "predict one input or a batch",
          security,
          parameters: [
            {
              name: "probabilities",
              in: "query",
              required: false,
              schema: query.properties?.probabilities ?? {},
            },
            {
              name: "X-Batch-Shape",
              in: "header",
              required: false,
              description: `with a binary body: "n,${info.inputDim}" (n inputs of ${info.inputDim} float32 values)`,
              schema: { type: "string", pattern: "^\\d+,\\d+$" },
            },
          ],
          requestBody: {
            required: true,
            content: {
              ...json(s.predictBody),
              "application/octet-stream": {
                schema: { type: "string", format: "binary" },
                description: "n x inputDim little-endian float32 values, row-major; shape in X-Batch-Shape",
              },
            },
          },
          responses: { "200": { description: "predictions", content: json(s.predictResponse) }, ...errors },
        },
      },
      "/v1/feedback": {
        post: {
          summary: "the true label of an earlier prediction (by id) or of a new input; answered once durable",
          security,
          requestBody: { required: true, content: json(s.feedbackBody) },
          responses: {
            "200": { description: "recorded", content: json(s.feedbackResponse) },
            "404": error("unknown prediction id (never issued, already labeled, or too old)"),
            "501": error("a plain model server has no memory"),
            ...errors,
          },
        },
      },
      "/v1/memory": {
        get: {
          summary: "the memory's size, configuration, durable feedback count and digest",
          responses: { "200": { description: "memory", content: json(s.memoryInfo) } },
        },
      },
      "/v1/info": {
        get: { summary: "what this node serves", responses: { "200": { description: "info" } } },
      },
      "/v1/stats": {
        get: {
          summary: "per-second series for the dashboard",
          responses: { "200": { description: "series" } },
        },
      },
      "/healthz": { get: { summary: "the process is up", responses: { "200": { description: "ok" } } } },
      "/readyz": {
        get: {
          summary: "model and memory loaded, store healthy, not shutting down",
          responses: { "200": { description: "ready" }, "503": { description: "not ready" } },
        },
      },
      "/metrics": {
        get: { summary: "Prometheus metrics", responses: { "200": { description: "text format" } } },
      },
      "/": { get: { summary: "live dashboard", responses: { "200": { description: "HTML" } } } },
    },
  };
}
