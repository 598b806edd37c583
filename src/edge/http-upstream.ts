/**
 * An {@link Upstream} over HTTP: the edge node forwards to another `mammals serve` (a plain model
 * server or another edge node) with `POST /v1/predict` and a binary float32 body. Web-standard
 * `fetch` only, so it runs wherever the edge layer runs.
 *
 * Each call has a timeout; a failed attempt (network error, timeout, 5xx) is retried a bounded
 * number of times after a jittered exponential backoff (full jitter: uniform in [0, base * 2^n],
 * seeded) so that many nodes do not retry in lockstep. A circuit breaker (circuit-breaker.ts)
 * stops calls to an upstream that keeps failing. Every way of not getting an answer throws an
 * {@link UpstreamUnavailable} (code UPSTREAM_UNAVAILABLE) saying why, so the caller can answer
 * locally and tell its client.
 */
import { fail, MammalsError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { CircuitBreaker, type CircuitBreakerOptions } from "./circuit-breaker.js";
import type { Upstream, UpstreamAnswer } from "./upstream.js";

export class UpstreamUnavailable extends MammalsError {
  constructor(
    readonly reason: "error" | "circuit-open",
    message: string,
  ) {
    super("UPSTREAM_UNAVAILABLE", message);
  }
}

export interface UpstreamInfo {
  inputDim: number;
  numClasses: number;
  /** Mean latency the upstream advertises (its emulated delay), if any. */
  expectedLatencyMs?: number;
}

export interface HttpUpstreamOptions {
  /** Per-attempt timeout (ms). Default 2000. */
  timeoutMs?: number;
  /** Attempts after the first. Default 2. */
  retries?: number;
  /** Backoff base (ms). Default 25. */
  backoffMs?: number;
  seed?: number;
  breaker?: CircuitBreakerOptions;
  /** Sent as `Authorization: Bearer <key>` when the upstream requires one. */
  apiKey?: string;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  now?: () => number;
}

export class HttpUpstream implements Upstream {
  readonly url: string;
  readonly inputDim: number;
  readonly numClasses: number;
  readonly expectedLatencyMs?: number;
  readonly breaker: CircuitBreaker;
  /** Attempts that failed (each retry counts). */
  errors = 0;
  calls = 0;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly rng: Rng;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly headers: Record<string, string>;

  constructor(url: string, info: UpstreamInfo, o: HttpUpstreamOptions = {}) {
    this.url = url.replace(/\/+$/, "");
    this.inputDim = info.inputDim;
    this.numClasses = info.numClasses;
    this.expectedLatencyMs = info.expectedLatencyMs;
    this.timeoutMs = o.timeoutMs ?? 2000;
    this.retries = o.retries ?? 2;
    this.backoffMs = o.backoffMs ?? 25;
    this.rng = new Rng(o.seed ?? 1);
    this.fetch = o.fetch ?? globalThis.fetch.bind(globalThis);
    this.now = o.now ?? (() => performance.now());
    this.breaker = new CircuitBreaker({ now: this.now, ...o.breaker });
    this.headers = {
      "content-type": "application/octet-stream",
      "x-batch-shape": `1,${info.inputDim}`,
      ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
    };
  }

  /** Asks the upstream what it serves (GET /v1/info) and connects to it. */
  static async connect(url: string, o: HttpUpstreamOptions = {}): Promise<HttpUpstream> {
    const f = o.fetch ?? globalThis.fetch.bind(globalThis);
    const base = url.replace(/\/+$/, "");
    let info: UpstreamInfo;
    try {
      const res = await f(`${base}/v1/info`, { signal: AbortSignal.timeout(o.timeoutMs ?? 2000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      info = (await res.json()) as UpstreamInfo;
    } catch (e) {
      return fail("UPSTREAM_UNAVAILABLE", `upstream ${base}: GET /v1/info failed (${(e as Error).message})`);
    }
    if (!(Number.isInteger(info.inputDim) && Number.isInteger(info.numClasses)))
      fail("UPSTREAM_UNAVAILABLE", `upstream ${base}: /v1/info did not say inputDim and numClasses`);
    return new HttpUpstream(base, info, o);
  }

  async predict(x: Float32Array): Promise<UpstreamAnswer> {
    if (!this.breaker.allow())
      throw new UpstreamUnavailable(
        "circuit-open",
        `upstream ${this.url}: circuit open after ${this.breaker.failureThreshold} consecutive failures; next trial in ${Math.ceil(this.breaker.retryInMs())} ms`,
      );
    this.calls++;
    const body = new Uint8Array(x.byteLength);
    body.set(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    // In half-open state only the one trial attempt goes out.
    const attempts = this.breaker.state === "half-open" ? 1 : 1 + this.retries;
    let last = "";
    let tried = 0;
    for (let a = 0; a < attempts; a++) {
      tried++;
      if (a > 0) await sleep(this.rng.uniform(0, this.backoffMs * 2 ** (a - 1)));
      const t0 = this.now();
      try {
        const answer = await this.attempt(body);
        this.breaker.success();
        return { ...answer, latencyMs: this.now() - t0 };
      } catch (e) {
        this.errors++;
        last = (e as Error).message;
        if (e instanceof PermanentError) break;
      }
    }
    this.breaker.failure();
    throw new UpstreamUnavailable(
      "error",
      `upstream ${this.url}: no answer after ${tried} attempt(s): ${last}`,
    );
  }

  private async attempt(body: Uint8Array<ArrayBuffer>): Promise<{ proba: Float32Array; label: number }> {
    const res = await this.fetch(`${this.url}/v1/predict?probabilities=true`, {
      method: "POST",
      headers: this.headers,
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (res.status >= 500 || res.status === 429) throw new Error(`HTTP ${res.status} ${text.slice(0, 200)}`);
    if (!res.ok) throw new PermanentError(`HTTP ${res.status} ${text.slice(0, 200)}`);
    const json = JSON.parse(text) as { predictions?: { label: number; probabilities?: number[] }[] };
    const p = json.predictions?.[0];
    if (
      !p ||
      !Number.isInteger(p.label) ||
      p.label < 0 ||
      p.label >= this.numClasses ||
      p.probabilities?.length !== this.numClasses
    )
      throw new PermanentError(`malformed answer ${text.slice(0, 200)}`);
    return { proba: Float32Array.from(p.probabilities), label: p.label };
  }
}

/** A failure that retrying cannot fix (the upstream rejected the request or answered nonsense). */
class PermanentError extends Error {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
