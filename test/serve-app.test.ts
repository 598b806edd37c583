/**
 * The HTTP app in process (no socket): every endpoint, the bad-request table row by row (status,
 * code, message, and the memory digest unchanged), the API key, overload.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/serve/app.js";
import { createMetrics } from "../src/serve/metrics.node.js";
import { serviceSchemas } from "../src/serve/schemas.js";
import {
  binaryBody,
  C,
  cloudModel,
  DIM,
  draws,
  edgeApp,
  edgeService,
  getJson,
  modelApp,
  postJson,
  smallModel,
} from "./serve-fixtures.js";

const schemas = serviceSchemas({ inputDim: DIM, numClasses: C, maxBatch: 8 });

describe("edge node endpoints", () => {
  const { app, service } = edgeApp({ limits: { maxBatch: 8, maxBodyBytes: 4096 } });

  it("GET /healthz, /readyz and /v1/info", async () => {
    expect(await getJson(app, "/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await getJson(app, "/readyz")).toEqual({ status: 200, body: { ready: true } });
    const info = (await getJson(app, "/v1/info")).body;
    expect(info).toMatchObject({ kind: "edge", inputDim: DIM, numClasses: C, memory: { capacity: 64 } });
  });

  it("POST /v1/predict answers one JSON input like the node's model would, locally or forwarded", async () => {
    for (const { x } of draws(12)) {
      const r = await postJson(app, "/v1/predict?probabilities=true", { input: x });
      expect(r.status).toBe(200);
      const p = schemas.prediction.parse(r.body);
      expect(p.probabilities).toHaveLength(C);
      expect(p.label).toBe(p.probabilities!.indexOf(Math.max(...p.probabilities!)));
      if (p.servedBy === "upstream") {
        expect(p.upstream).toEqual({ status: "ok" });
        // The cloud knows every class: its label is the nearest centroid's.
        expect(p.label).toBe(argmax(cloudModel().predictProba(Float32Array.from(x))));
      } else expect(p.upstream).toBeUndefined();
    }
  });

  it("answers a JSON batch and the same batch as binary float32 identically (labels, order)", async () => {
    const batch = draws(5, 1).map((d) => d.x);
    const j = await postJson(app, "/v1/predict", { inputs: batch });
    expect(j.status).toBe(200);
    const rows = Float32Array.from(batch.flat());
    const res = await app.request("/v1/predict", {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "x-batch-shape": `5,${DIM}` },
      body: binaryBody(rows),
    });
    expect(res.status).toBe(200);
    const b = schemas.predictResponse.parse(await res.json()) as {
      predictions: { label: number; id: number }[];
    };
    const jl = (j.body.predictions as { label: number }[]).map((p) => p.label);
    expect(b.predictions.map((p) => p.label)).toEqual(jl);
    expect(jl).toEqual(batch.map((x) => argmax(smallModel().predictProba(Float32Array.from(x)))));
    expect(new Set(b.predictions.map((p) => p.id)).size).toBe(5);
  });

  it("POST /v1/feedback by id says whether the answer was right and stores the example", async () => {
    const [{ x, y }] = draws(1, 3);
    const p = await postJson(app, "/v1/predict", { input: x });
    const before = (await getJson(app, "/v1/memory")).body;
    const wrongLabel = (y + 1) % C;
    const fb = await postJson(app, "/v1/feedback", { id: p.body.id, label: wrongLabel });
    expect(fb.status).toBe(200);
    expect(schemas.feedbackResponse.parse(fb.body)).toEqual({
      correct: p.body.label === wrongLabel,
      admitted: true,
      feedbackCount: (before.feedbackCount as number) + 1,
    });
    const after = (await getJson(app, "/v1/memory")).body;
    expect(after.digest).not.toBe(before.digest);
  });

  it("POST /v1/feedback with an input teaches a new example", async () => {
    const before = (await getJson(app, "/v1/memory")).body;
    const [{ x, y }] = draws(1, 3);
    const fb = await postJson(app, "/v1/feedback", { input: x, label: y });
    expect(fb.body).toEqual({
      correct: null,
      admitted: true,
      feedbackCount: (before.feedbackCount as number) + 1,
    });
    expect((await getJson(app, "/v1/memory")).body.size).toBe((before.size as number) + 1);
  });

  it("GET /v1/memory reports the memory and a digest of its entries", async () => {
    const m = schemas.memoryInfo.parse((await getJson(app, "/v1/memory")).body);
    const mem = service.node.local.memory;
    expect(m).toMatchObject({ size: mem.size, capacity: 64, index: "flat", admission: mem.policy.spec });
    expect(m.digest).toMatch(/^[0-9a-f]{64}$/);
    expect((await getJson(app, "/v1/memory")).body.digest).toBe(m.digest);
  });

  it("GET /v1/stats, /openapi.json and the dashboard page", async () => {
    const s = (await getJson(app, "/v1/stats")).body as { series: { rps: number[] }; gauges: object };
    expect(s.series.rps.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const api = (await getJson(app, "/openapi.json")).body as {
      openapi: string;
      paths: Record<
        string,
        { post?: { requestBody: { content: Record<string, { schema: Record<string, unknown> }> } } }
      >;
    };
    expect(api.openapi).toBe("3.1.0");
    const ref = api.paths["/v1/predict"].post!.requestBody.content["application/json"].schema.$ref as string;
    expect(ref).toBe("#/components/schemas/PredictRequest");
    const predict = (api as unknown as { components: { schemas: Record<string, unknown> } }).components
      .schemas.PredictRequest as {
      properties: { input: { minItems: number; maxItems: number }; inputs: { maxItems: number } };
      additionalProperties: boolean;
    };
    expect(predict.properties.input).toMatchObject({ minItems: DIM, maxItems: DIM });
    expect(predict.properties.inputs.maxItems).toBe(8);
    expect(predict.additionalProperties).toBe(false);
    expect(Object.keys(api.paths)).toEqual(
      expect.arrayContaining([
        "/v1/predict",
        "/v1/feedback",
        "/v1/memory",
        "/healthz",
        "/readyz",
        "/metrics",
      ]),
    );
    const page = await (await app.request("/")).text();
    for (const title of [
      "Requests per second",
      "Answered locally",
      "Accuracy on feedback",
      "Latency percentiles",
      "Memory occupancy",
    ])
      expect(page).toContain(title);
  });
});

/** One row of the bad-request table: what is sent, and the status and code it must get. */
interface BadRequest {
  name: string;
  send: (ctx: { id: number }) => Request;
  status: number;
  code: string;
  message: RegExp;
}

const url = (p: string) => `http://local${p}`;
const jsonReq = (path: string, body: string, headers: Record<string, string> = {}) =>
  new Request(url(path), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
const binReq = (rows: Float32Array | Uint8Array, shape: string | null) =>
  new Request(url("/v1/predict"), {
    method: "POST",
    headers: {
      "content-type": "application/octet-stream",
      ...(shape === null ? {} : { "x-batch-shape": shape }),
    },
    body: rows instanceof Float32Array ? binaryBody(rows) : new Uint8Array(rows),
  });
const good = () => draws(1, 0)[0].x;
const vec = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => i / n));

const BAD: BadRequest[] = [
  {
    name: "invalid JSON",
    send: () => jsonReq("/v1/predict", '{"input": [1, 2,'),
    status: 400,
    code: "MALFORMED_BODY",
    message: /expected JSON, got a syntax error/,
  },
  {
    name: "empty body",
    send: () => jsonReq("/v1/predict", ""),
    status: 400,
    code: "MALFORMED_BODY",
    message: /empty body/,
  },
  {
    name: "not UTF-8",
    send: () =>
      new Request(url("/v1/predict"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      }),
    status: 400,
    code: "MALFORMED_BODY",
    message: /not UTF-8/,
  },
  {
    name: "top-level array",
    send: () => jsonReq("/v1/predict", vec(DIM)),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /body: expected object, got an array/,
  },
  {
    name: "vector too short",
    send: () => jsonReq("/v1/predict", `{"input": ${vec(DIM - 1)}}`),
    status: 400,
    code: "DIMENSION_MISMATCH",
    message: new RegExp(`body.input: expected exactly ${DIM} values, got ${DIM - 1}`),
  },
  {
    name: "vector too long in a batch",
    send: () => jsonReq("/v1/predict", `{"inputs": [${vec(DIM)}, ${vec(DIM + 1)}]}`),
    status: 400,
    code: "DIMENSION_MISMATCH",
    message: /body.inputs\[1\]: expected exactly 8 values, got 9/,
  },
  {
    name: "infinite value (1e999)",
    send: () => jsonReq("/v1/predict", `{"input": [1e999${",0".repeat(DIM - 1)}]}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /body.input\[0\]: expected number, got a non-finite number/,
  },
  {
    name: "string in a vector",
    send: () => jsonReq("/v1/predict", `{"input": ["0.5"${",0".repeat(DIM - 1)}]}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /body.input\[0\]: expected number, got the string "0.5"/,
  },
  {
    name: "null in a vector",
    send: () => jsonReq("/v1/predict", `{"input": [null${",0".repeat(DIM - 1)}]}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /expected number, got null/,
  },
  {
    name: "input is an object",
    send: () => jsonReq("/v1/predict", '{"input": {"a": 1}}'),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /body.input: expected array, got an object/,
  },
  {
    name: "unknown field",
    send: () => jsonReq("/v1/predict", `{"input": ${vec(DIM)}, "foo": 1}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /unknown field "foo"/,
  },
  {
    name: "both input and inputs",
    send: () => jsonReq("/v1/predict", `{"input": ${vec(DIM)}, "inputs": [${vec(DIM)}]}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /exactly one of `input`/,
  },
  {
    name: "neither input nor inputs",
    send: () => jsonReq("/v1/predict", "{}"),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /exactly one of `input`/,
  },
  {
    name: "empty batch",
    send: () => jsonReq("/v1/predict", '{"inputs": []}'),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /expected at least 1 inputs, got 0/,
  },
  {
    name: "unknown query parameter",
    send: () => jsonReq("/v1/predict?verbose=1", `{"input": ${vec(DIM)}}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /query: unknown field "verbose"/,
  },
  {
    name: "bad query value",
    send: () => jsonReq("/v1/predict?probabilities=yes", `{"input": ${vec(DIM)}}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /query.probabilities: expected one of "0", "1", "true", "false", got the string "yes"/,
  },
  {
    name: "batch over the count limit (JSON)",
    send: () => jsonReq("/v1/predict", `{"inputs": [${Array(9).fill(vec(DIM)).join(",")}]}`),
    status: 413,
    code: "TOO_LARGE",
    message: /expected at most 8 inputs, got 9/,
  },
  {
    name: "batch over the count limit (binary)",
    send: () => binReq(new Float32Array(9 * DIM), `9,${DIM}`),
    status: 413,
    code: "TOO_LARGE",
    message: /expected at most 8 inputs, got 9/,
  },
  {
    name: "body over the size limit (Content-Length)",
    send: () => jsonReq("/v1/predict", `{"input": ${vec(DIM)}, "pad": "${"x".repeat(5000)}"}`),
    status: 413,
    code: "TOO_LARGE",
    message: /expected at most 4096 bytes/,
  },
  {
    name: "body over the size limit (streamed, no Content-Length)",
    send: () =>
      new Request(url("/v1/predict"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: new ReadableStream({
          start(ctl) {
            for (let i = 0; i < 10; i++) ctl.enqueue(new TextEncoder().encode(" ".repeat(1000)));
            ctl.close();
          },
        }),
        duplex: "half",
      } as RequestInit),
    status: 413,
    code: "TOO_LARGE",
    message: /expected at most 4096 bytes, got more/,
  },
  {
    name: "NaN in a binary body",
    send: () =>
      binReq(
        Float32Array.from({ length: DIM }, (_, i) => (i === 3 ? Number.NaN : 0.1)),
        `1,${DIM}`,
      ),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /input: value 3 is NaN; expected a finite number/,
  },
  {
    name: "Infinity in a binary batch",
    send: () =>
      binReq(
        Float32Array.from({ length: 2 * DIM }, (_, i) => (i === DIM + 1 ? Number.POSITIVE_INFINITY : 0.1)),
        `2,${DIM}`,
      ),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /inputs\[1\]: value 1 is Infinity/,
  },
  {
    name: "binary body of the wrong size",
    send: () => binReq(new Float32Array(DIM + 1), `1,${DIM}`),
    status: 400,
    code: "MALFORMED_BODY",
    message: /expected 1 x 8 float32 = 32 bytes for X-Batch-Shape 1,8, got 36/,
  },
  {
    name: "binary body without a shape",
    send: () => binReq(new Float32Array(DIM), null),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /X-Batch-Shape: expected "n,8"/,
  },
  {
    name: "binary shape with the wrong dimension",
    send: () => binReq(new Float32Array(DIM), "2,4"),
    status: 400,
    code: "DIMENSION_MISMATCH",
    message: /expected 8 values per input, got 4/,
  },
  {
    name: "garbled binary shape",
    send: () => binReq(new Float32Array(DIM), "one,8"),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /X-Batch-Shape: expected "n,8", got "one,8"/,
  },
  {
    name: "text/plain body",
    send: () =>
      new Request(url("/v1/predict"), {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: `{"input": ${vec(DIM)}}`,
      }),
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
    message: /expected application\/json or application\/octet-stream, got "text\/plain"/,
  },
  {
    name: "no Content-Type",
    send: () => new Request(url("/v1/predict"), { method: "POST", body: new Uint8Array([1, 2]) }),
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
    message: /got none/,
  },
  {
    name: "feedback in binary",
    send: () =>
      new Request(url("/v1/feedback"), {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: new Uint8Array(4),
      }),
    status: 415,
    code: "UNSUPPORTED_MEDIA_TYPE",
    message: /expected application\/json, got "application\/octet-stream"/,
  },
  {
    name: "feedback for an unknown id",
    send: () => jsonReq("/v1/feedback", '{"id": 987654321, "label": 1}'),
    status: 404,
    code: "UNKNOWN_ID",
    message: /request 987654321: no such request awaiting feedback/,
  },
  {
    name: "feedback label out of range",
    send: ({ id }) => jsonReq("/v1/feedback", `{"id": ${id}, "label": ${C}}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /body.label: expected a number <= 3, got number 4/,
  },
  {
    name: "feedback label negative",
    send: ({ id }) => jsonReq("/v1/feedback", `{"id": ${id}, "label": -1}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /body.label: expected a number >= 0, got number -1/,
  },
  {
    name: "feedback label not an integer",
    send: ({ id }) => jsonReq("/v1/feedback", `{"id": ${id}, "label": 1.5}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /body.label: expected an integer, got number 1.5/,
  },
  {
    name: "feedback label as a string",
    send: ({ id }) => jsonReq("/v1/feedback", `{"id": ${id}, "label": "1"}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /body.label: expected number, got the string "1"/,
  },
  {
    name: "feedback id negative",
    send: () => jsonReq("/v1/feedback", '{"id": -3, "label": 1}'),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /body.id: expected a number >= 0/,
  },
  {
    name: "feedback without a label",
    send: ({ id }) => jsonReq("/v1/feedback", `{"id": ${id}}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /body.label: expected number, got nothing/,
  },
  {
    name: "feedback with id and input",
    send: ({ id }) => jsonReq("/v1/feedback", `{"id": ${id}, "input": ${vec(DIM)}, "label": 1}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /exactly one of `id`/,
  },
  {
    name: "feedback input of the wrong length",
    send: () => jsonReq("/v1/feedback", `{"input": ${vec(3)}, "label": 1}`),
    status: 400,
    code: "DIMENSION_MISMATCH",
    message: /body.input: expected exactly 8 values, got 3/,
  },
  {
    name: "feedback with an unknown field",
    send: ({ id }) => jsonReq("/v1/feedback", `{"id": ${id}, "label": 1, "weight": 2}`),
    status: 400,
    code: "INVALID_ARGUMENT",
    message: /unknown field "weight"/,
  },
  {
    name: "unknown endpoint",
    send: () => jsonReq("/v1/train", "{}"),
    status: 404,
    code: "NOT_FOUND",
    message: /POST \/v1\/train: no such endpoint/,
  },
];

describe("bad requests: 4xx with {code, message}, nothing in the memory changes", () => {
  const { app, service } = edgeApp({ limits: { maxBatch: 8, maxBodyBytes: 4096 } });
  let pendingId = -1;

  beforeAll(async () => {
    // A memory with content, and one prediction still awaiting feedback.
    for (const { x, y } of draws(20)) await postJson(app, "/v1/feedback", { input: x, label: y });
    pendingId = (await postJson(app, "/v1/predict", { input: good() })).body.id as number;
  });

  for (const row of BAD) {
    it(row.name, async () => {
      const before = (await getJson(app, "/v1/memory")).body;
      const stats = service.node.stats();
      const res = await app.request(row.send({ id: pendingId }));
      const body = (await res.json()) as { code: string; message: string };
      expect({ status: res.status, code: body.code }).toEqual({ status: row.status, code: row.code });
      expect(body.message).toMatch(row.message);
      expect(Object.keys(body).sort()).toEqual(["code", "message"]);
      expect((await getJson(app, "/v1/memory")).body).toEqual(before);
      const after = service.node.stats();
      expect([after.requests, after.feedback, after.memory]).toEqual([
        stats.requests,
        stats.feedback,
        stats.memory,
      ]);
    });
  }

  it("the pending prediction still takes its feedback, once", async () => {
    expect((await postJson(app, "/v1/feedback", { id: pendingId, label: 0 })).status).toBe(200);
    const again = await postJson(app, "/v1/feedback", { id: pendingId, label: 0 });
    expect([again.status, again.body.code]).toEqual([404, "UNKNOWN_ID"]);
  });
});

describe("GET /metrics", () => {
  it("exports requests, predictions, feedback and the memory in Prometheus text format", async () => {
    const { service } = edgeService();
    const metrics = createMetrics(service);
    service.observers.push(metrics);
    const app = createApp(service, { metrics });
    for (const { x, y } of draws(6)) {
      const p = await postJson(app, "/v1/predict", { input: x });
      await postJson(app, "/v1/feedback", { id: p.body.id, label: y });
    }
    await postJson(app, "/v1/predict", { input: [1] });
    const res = await app.request("/metrics");
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0.0.4/);
    const text = await res.text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
    const local = value(/mammals_predictions_total\{outcome="local",kind="edge"\} (\d+)/) || 0;
    const forwarded = value(/mammals_predictions_total\{outcome="upstream",kind="edge"\} (\d+)/) || 0;
    expect(local + forwarded).toBe(6);
    expect(
      value(/http_requests_total\{route="\/v1\/predict",method="POST",status="400",kind="edge"\} (\d+)/),
    ).toBe(1);
    expect(value(/mammals_memory_entries\{kind="edge"\} (\d+)/)).toBe(service.node.local.memory.size);
    expect(value(/mammals_memory_admissions_total\{kind="edge"\} (\d+)/)).toBe(
      service.node.local.memory.stats.admissions,
    );
    expect(text).toMatch(
      /mammals_feedback_total\{result="(correct|wrong)",admitted="true",kind="edge"\} \d+/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0.001",kind="edge",route="\/v1\/predict",method="POST"\} \d+/,
    );
    expect(text).toMatch(/nodejs_eventloop_lag_seconds/);
  });
});

describe("API key", () => {
  const { app } = edgeApp({}, { apiKey: "s3cret-key" });
  const body = () => ({ input: good() });

  it("mutating endpoints answer 401 without the key or with a wrong one, and work with it", async () => {
    const none = await postJson(app, "/v1/predict", body());
    expect([none.status, none.body.code]).toEqual([401, "UNAUTHORIZED"]);
    expect(none.body.message).toMatch(/got none/);
    expect(none.headers.get("www-authenticate")).toMatch(/Bearer/);
    const wrong = await postJson(app, "/v1/predict", body(), { authorization: "Bearer s3cret-kez" });
    expect([wrong.status, wrong.body.message]).toEqual([
      401,
      "expected the configured API key, got a different one",
    ]);
    const fb = await postJson(app, "/v1/feedback", { input: good(), label: 0 }, { "x-api-key": "s3cret" });
    expect(fb.status).toBe(401);
    expect((await postJson(app, "/v1/predict", body(), { authorization: "Bearer s3cret-key" })).status).toBe(
      200,
    );
    expect((await postJson(app, "/v1/predict", body(), { "x-api-key": "s3cret-key" })).status).toBe(200);
  });

  it("reading endpoints stay open", async () => {
    for (const p of ["/healthz", "/readyz", "/v1/memory", "/v1/info", "/v1/stats", "/openapi.json"])
      expect((await app.request(p)).status).toBe(200);
  });
});

describe("plain model server", () => {
  it("answers batches like the model, and has no feedback", async () => {
    const { app } = modelApp();
    const batch = draws(6).map((d) => d.x);
    const r = await postJson(app, "/v1/predict", { inputs: batch });
    const labels = (r.body.predictions as { label: number; servedBy: string }[]).map((p) => [
      p.label,
      p.servedBy,
    ]);
    expect(labels).toEqual(
      batch.map((x) => [argmax(cloudModel().predictProba(Float32Array.from(x))), "model"]),
    );
    const fb = await postJson(app, "/v1/feedback", { id: 0, label: 1 });
    expect([fb.status, fb.body.code]).toEqual([501, "UNSUPPORTED"]);
  });

  it("turns overload into 503 with Retry-After and keeps serving what it admitted", async () => {
    const { app, service } = modelApp({ delay: "constant:ms=150", limits: { maxQueue: 3 } });
    const sends = Array.from({ length: 6 }, () => postJson(app, "/v1/predict", { input: good() }));
    const results = await Promise.all(sends);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 503, 503, 503]);
    const rejected = results.find((r) => r.status === 503)!;
    expect(rejected.body.code).toBe("OVERLOADED");
    expect(rejected.headers.get("retry-after")).toBe("1");
    expect(service.inFlight).toBe(0);
    expect((await postJson(app, "/v1/predict", { input: good() })).status).toBe(200);
  });
});

function argmax(p: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[b]) b = i;
  return b;
}

describe("CORS for pages on other origins", () => {
  it("answers a preflight and marks answers readable by any origin (the on-device page's cloud node)", async () => {
    const { app } = modelApp();
    const pre = await app.request("/v1/predict", {
      method: "OPTIONS",
      headers: {
        origin: "http://127.0.0.1:9999",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-batch-shape",
      },
    });
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    expect(pre.headers.get("access-control-allow-headers")).toMatch(/x-batch-shape/);
    const r = await app.request("/healthz", { headers: { origin: "http://127.0.0.1:9999" } });
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("every answer, hot route, other route or error, carries CORS and the request id (the client's when sane)", async () => {
    const { app } = edgeApp();
    const answers = [
      await postJson(app, "/v1/predict", { input: good() }, { "x-request-id": "client-7" }),
      await postJson(app, "/v1/feedback", { input: good(), label: 0 }, { "x-request-id": "client-8" }),
      await postJson(app, "/v1/predict", { input: [1] }, { "x-request-id": "client-9" }),
      await postJson(app, "/v1/nowhere", {}, { "x-request-id": "client-10" }),
    ];
    expect(answers.map((a) => [a.status, a.headers.get("x-request-id")])).toEqual([
      [200, "client-7"],
      [200, "client-8"],
      [400, "client-9"],
      [404, "client-10"],
    ]);
    for (const a of answers) expect(a.headers.get("access-control-allow-origin")).toBe("*");
    expect(answers[0].headers.get("content-type")).toMatch(/^application\/json/);
    const made = (await getJson(app, "/healthz")).status;
    expect(made).toBe(200);
    const r = await app.request("/v1/info", { headers: { "x-request-id": "no spaces allowed" } });
    expect(r.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
