/**
 * An upstream reached over HTTP with fetch (browsers, workers, Node 18+): the page's optional cloud
 * node. It POSTs the input as JSON to `<base>/predict` and expects the class probabilities back:
 *   request  { "x": [784 numbers] }
 *   response { "label": 3, "proba": [10 numbers] }
 * The latency it reports is the measured round trip. A wrong answer (status, shape) is a typed
 * error naming the URL, so the page can say what went wrong.
 */
import { fail } from "../../core/errors.js";
import type { Upstream, UpstreamAnswer } from "../../edge/upstream.js";

export class HttpUpstream implements Upstream {
  readonly url: string;
  readonly numClasses: number;
  readonly inputDim: number;
  readonly expectedLatencyMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(
    base: string,
    shape: { inputDim: number; numClasses: number },
    o: { expectedLatencyMs?: number; fetch?: typeof fetch } = {},
  ) {
    const u = URL.canParse(base)
      ? new URL(base)
      : fail("INVALID_ARGUMENT", `upstream URL: expected an http(s) URL, got "${base}"`);
    if (u.protocol !== "http:" && u.protocol !== "https:")
      fail("INVALID_ARGUMENT", `upstream URL: expected http: or https:, got ${u.protocol}`);
    this.url = `${u.href.replace(/\/$/, "")}/predict`;
    this.numClasses = shape.numClasses;
    this.inputDim = shape.inputDim;
    this.expectedLatencyMs = o.expectedLatencyMs ?? 50;
    this.fetchImpl = o.fetch ?? ((...a) => fetch(...a));
  }

  async predict(x: Float32Array): Promise<UpstreamAnswer> {
    const t0 = performance.now();
    const res = await this.fetchImpl(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ x: Array.from(x) }),
    });
    if (!res.ok) fail("STATE", `upstream ${this.url} answered HTTP ${res.status}`);
    const body = (await res.json()) as { label?: unknown; proba?: unknown };
    const latencyMs = performance.now() - t0;
    const proba = body.proba;
    if (!Array.isArray(proba) || proba.length !== this.numClasses)
      fail("BAD_FILE", `upstream ${this.url}: expected "proba" with ${this.numClasses} numbers`);
    const label = Number(body.label);
    if (!(Number.isInteger(label) && label >= 0 && label < this.numClasses))
      fail(
        "BAD_FILE",
        `upstream ${this.url}: expected "label" in [0, ${this.numClasses}), got ${body.label}`,
      );
    return { proba: Float32Array.from(proba as number[]), label, latencyMs };
  }
}
