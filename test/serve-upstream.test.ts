/**
 * The HTTP upstream: a real cloud server on loopback, taken down and brought back. While it is
 * down the edge node answers locally and says why; the circuit opens after the failure threshold
 * (answers then come at once) and closes again on the first successful trial after the cooldown.
 */
import { afterAll, describe, expect, it } from "vitest";
import { CircuitBreaker } from "../src/edge/circuit-breaker.js";
import { HttpUpstream } from "../src/edge/http-upstream.js";
import { createApp } from "../src/serve/app.js";
import { buildEdgeService, buildModelService } from "../src/serve/build.js";
import { createLogger, type RunningServer, startServer } from "../src/serve/server.node.js";
import { CentroidModel } from "./edge-fixtures.js";
import { C, cloudModel, DIM, draws, postJson, world } from "./serve-fixtures.js";

const silent = createLogger("silent");
const running: RunningServer[] = [];
afterAll(async () => {
  for (const r of running) await r.stop("test over");
});

async function startCloud(port = 0, delay?: string): Promise<RunningServer> {
  const r = await startServer(buildModelService({ model: cloudModel(), delay }), { port, log: silent });
  running.push(r);
  return r;
}

/** An edge node whose model is never sure (uniform probabilities) and which stores no upstream answer: it forwards everything. */
async function unsureEdge(url: string, o: { timeoutMs?: number } = {}) {
  const upstream = await HttpUpstream.connect(url, {
    timeoutMs: o.timeoutMs ?? 500,
    retries: 1,
    backoffMs: 5,
    breaker: { failureThreshold: 3, cooldownMs: 300 },
  });
  const { service } = buildEdgeService({
    model: new CentroidModel(world.centroids, C, Array(C).fill(true), 0),
    upstream,
    capacity: 16,
    admission: "all:upstreamTrust=0",
    // Latency costs nothing: even a slow upstream is worth asking.
    latencyWeight: 0,
  });
  return { service, upstream, app: createApp(service) };
}

describe("upstream down, then back", () => {
  it("answers locally and says so, opens the circuit, and recovers", async () => {
    const cloud = await startCloud();
    const { app, service, upstream } = await unsureEdge(cloud.url);
    const x = () => draws(1)[0].x;

    const ok = await postJson(app, "/v1/predict", { input: x() });
    expect(ok.body).toMatchObject({ servedBy: "upstream", upstream: { status: "ok" } });

    await cloud.stop("taken down by the test");
    const judgedBefore = service.node.local.upstreamEstimate!.observed.judged;
    const failed: Record<string, unknown>[] = [];
    for (let i = 0; i < 3; i++) failed.push((await postJson(app, "/v1/predict", { input: x() })).body);
    for (const f of failed) {
      expect(f).toMatchObject({ servedBy: "local", upstream: { status: "error" } });
      expect((f.upstream as { error: string }).error).toMatch(/no answer after 2 attempt\(s\)/);
    }
    expect(upstream.breaker.state).toBe("open");
    expect(service.gauges().circuitState).toBe(2);

    const calls = upstream.calls;
    const open = await postJson(app, "/v1/predict", { input: x() });
    expect(upstream.calls).toBe(calls); // the open circuit answered without asking the upstream
    expect(open.body).toMatchObject({ servedBy: "local", upstream: { status: "circuit-open" } });
    expect((open.body.upstream as { error: string }).error).toMatch(
      /circuit open after 3 consecutive failures/,
    );
    expect((await app.request("/readyz")).status).toBe(200);

    // Feedback on a fallback answer teaches the local side without judging the upstream.
    const fb = await postJson(app, "/v1/feedback", { id: open.body.id, label: 2 });
    expect(fb.body).toMatchObject({ correct: open.body.label === 2 });
    expect(service.node.local.upstreamEstimate!.observed.judged).toBe(judgedBefore);

    await startCloud(new URL(cloud.url).port ? Number(new URL(cloud.url).port) : 0);
    await new Promise((r) => setTimeout(r, 350));
    const back = await postJson(app, "/v1/predict", { input: x() });
    expect(back.body).toMatchObject({ servedBy: "upstream", upstream: { status: "ok" } });
    expect(upstream.breaker.state).toBe("closed");
    expect(upstream.breaker.opened).toBe(1);
  });

  it("times out a slow upstream and answers locally", async () => {
    const slow = await startCloud(0, "constant:ms=2000");
    const { app, upstream } = await unsureEdge(slow.url, { timeoutMs: 80 });
    const t0 = performance.now();
    const r = await postJson(app, "/v1/predict", { input: draws(1)[0].x });
    expect(r.body).toMatchObject({ servedBy: "local", upstream: { status: "error" } });
    expect((r.body.upstream as { error: string }).error).toMatch(/timeout|aborted/i);
    // Two attempts of 80 ms plus a backoff of at most 5 ms, far less than the upstream's 2 s.
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(upstream.errors).toBe(2);
  });
});

describe("CircuitBreaker", () => {
  it("opens after the threshold, lets one trial through after the cooldown, closes on success", () => {
    let now = 0;
    const states: string[] = [];
    const b = new CircuitBreaker({
      failureThreshold: 2,
      cooldownMs: 100,
      now: () => now,
      onChange: (s) => states.push(s),
    });
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe("closed");
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe("open");
    expect(b.allow()).toBe(false);
    expect(b.retryInMs()).toBe(100);
    now = 99;
    expect(b.allow()).toBe(false);
    now = 100;
    expect(b.allow()).toBe(true);
    expect(b.state).toBe("half-open");
    expect(b.allow()).toBe(false); // one trial at a time
    b.failure();
    expect(b.state).toBe("open");
    now = 200;
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe("closed");
    expect(states).toEqual(["open", "half-open", "open", "half-open", "closed"]);
    expect(b.opened).toBe(2);
  });
});

describe("HttpUpstream", () => {
  it("retries a failing attempt with jitter, then answers", async () => {
    let calls = 0;
    const failsOnceThenAnswers: typeof fetch = async () => {
      calls++;
      if (calls === 1) return new Response("down", { status: 503 });
      return Response.json({ predictions: [{ label: 1, probabilities: [0.1, 0.7, 0.1, 0.1] }] });
    };
    const up = new HttpUpstream(
      "http://cloud.test",
      { inputDim: DIM, numClasses: C },
      { fetch: failsOnceThenAnswers, backoffMs: 1 },
    );
    const a = await up.predict(new Float32Array(DIM));
    expect([a.label, Array.from(a.proba).map((p) => +p.toFixed(1)), calls, up.errors]).toEqual([
      1,
      [0.1, 0.7, 0.1, 0.1],
      2,
      1,
    ]);
  });

  it("does not retry what retrying cannot fix (a 4xx, a malformed answer)", async () => {
    let calls = 0;
    const reject: typeof fetch = async () => {
      calls++;
      return Response.json({ code: "UNAUTHORIZED", message: "expected an API key" }, { status: 401 });
    };
    const up = new HttpUpstream(
      "http://cloud.test",
      { inputDim: DIM, numClasses: C },
      { fetch: reject, retries: 3 },
    );
    await expect(up.predict(new Float32Array(DIM))).rejects.toThrow(/1 attempt\(s\): HTTP 401/);
    expect(calls).toBe(1);
    const bad: typeof fetch = async () => Response.json({ predictions: [{ label: 9, probabilities: [1] }] });
    const up2 = new HttpUpstream("http://cloud.test", { inputDim: DIM, numClasses: C }, { fetch: bad });
    await expect(up2.predict(new Float32Array(DIM))).rejects.toThrow(/malformed answer/);
  });
});
