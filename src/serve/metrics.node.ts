/**
 * Prometheus metrics (prom-client) of one service, in a registry of its own: HTTP requests by
 * route and status with a latency histogram, predictions by outcome with their latency, feedback,
 * and at scrape time the memory's occupancy, admissions and evictions, the queue, the batch limit,
 * durable commits, upstream errors and the circuit's state. Process metrics (CPU, heap, event
 * loop lag) come from prom-client's defaults.
 */
import client from "prom-client";
import type { HttpMetrics } from "./app.js";
import type { ServiceGauges, ServiceObserver, ServingService } from "./service.js";
import type { ServedBy } from "./timeline.js";

// Sub-millisecond resolution where edge answers live, up to the seconds of a dead upstream.
const LATENCY_BUCKETS = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics(service: ServingService): HttpMetrics & ServiceObserver {
  const registry = new client.Registry();
  registry.setDefaultLabels({ kind: service.info.kind });
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({
    name: "http_requests_total",
    help: "HTTP requests by route, method and status",
    labelNames: ["route", "method", "status"],
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: "http_request_duration_seconds",
    help: "time from the request reaching the app to its answer",
    labelNames: ["route", "method"],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const predictions = new client.Counter({
    name: "mammals_predictions_total",
    help: "predictions by outcome: local, upstream, fallback (upstream down, answered locally), model",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const predictionLatency = new client.Histogram({
    name: "mammals_prediction_latency_seconds",
    help: "time one input spent in the service (local compute, plus the upstream when forwarded)",
    labelNames: ["outcome"],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const feedback = new client.Counter({
    name: "mammals_feedback_total",
    help: "feedback by result: correct or wrong earlier answer, or example (a labeled new input)",
    labelNames: ["result", "admitted"],
    registers: [registry],
  });
  const upstreamFailures = new client.Counter({
    name: "mammals_upstream_failures_total",
    help: "forwards that got no answer: error (after retries) or circuit-open",
    labelNames: ["reason"],
    registers: [registry],
  });
  const batches = new client.Histogram({
    name: "mammals_batch_inputs",
    help: "inputs per micro-batch",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });

  let gauges: ServiceGauges = service.gauges();
  const refresh = () => {
    gauges = service.gauges();
  };
  const gauge = (name: string, help: string, read: (g: ServiceGauges) => number | undefined) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const v = read(gauges);
        if (v !== undefined && Number.isFinite(v)) this.set(v);
      },
    });
  // Counters the service keeps itself: exported by their increase since the last scrape.
  const counter = (name: string, help: string, read: (g: ServiceGauges) => number | undefined) => {
    let last = 0;
    return new client.Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const v = read(gauges);
        if (v !== undefined && v > last) {
          this.inc(v - last);
          last = v;
        }
      },
    });
  };
  gauge("mammals_queue_inputs", "inputs admitted and not yet answered", (g) => g.queue);
  gauge("mammals_batch_limit", "current micro-batch limit (inputs)", (g) => g.batchLimit);
  gauge("mammals_memory_entries", "labeled examples in the memory", (g) => g.memorySize);
  gauge("mammals_memory_capacity", "memory capacity (entries)", (g) => g.memoryCapacity);
  gauge(
    "mammals_upstream_circuit_state",
    "upstream circuit: 0 closed, 1 half-open, 2 open",
    (g) => g.circuitState,
  );
  counter("mammals_memory_admissions_total", "examples admitted into the memory", (g) => g.admissions);
  counter(
    "mammals_memory_evictions_total",
    "entries evicted or dropped by the admission policy",
    (g) => g.evictions,
  );
  counter(
    "mammals_feedback_durable_total",
    "feedback records committed to the durable store",
    (g) => g.feedbackCount,
  );
  counter(
    "mammals_upstream_errors_total",
    "failed upstream attempts (each retry counts)",
    (g) => g.upstreamErrors,
  );
  counter("mammals_store_commits_total", "durable commits (each may carry many changes)", (g) => g.commits);

  return {
    observeRequest(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      duration.observe({ route, method }, seconds);
    },
    async render() {
      refresh();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    prediction(servedBy: ServedBy, ms: number) {
      predictions.inc({ outcome: servedBy });
      predictionLatency.observe({ outcome: servedBy }, ms / 1000);
    },
    feedback(correct, admitted) {
      feedback.inc({
        result: correct === null ? "example" : correct ? "correct" : "wrong",
        admitted: String(admitted),
      });
    },
    upstreamFailure(reason) {
      upstreamFailures.inc({ reason });
    },
    batch(inputs) {
      batches.observe(inputs);
    },
  };
}
