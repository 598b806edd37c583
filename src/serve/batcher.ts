/**
 * Admission control and adaptive micro-batching of predictions.
 *
 * {@link AdmissionGate}: a bounded number of inputs may be admitted and not yet answered (queued,
 * computing, waiting for the upstream or for a durable commit). Past the bound a request is turned
 * away at once with OVERLOADED (503 + Retry-After) instead of joining an ever longer queue: the
 * latency of admitted requests stays bounded and memory use too.
 *
 * {@link MicroBatcher}: requests that arrive while the event loop is busy wait in a queue and are
 * run together in the next turn, up to `limit` inputs per batch (one matrix-matrix forward pass
 * for a plain model server; one group commit for an edge node). The limit adapts to a latency
 * objective, additive increase / multiplicative decrease as in TCP: after a batch whose oldest
 * request waited and ran within the objective, and that was full, the limit grows by one; after
 * one that missed it, the limit halves. Switched off, every request runs as soon as it arrives.
 */
import { fail } from "../core/errors.js";

/**
 * Runs `f` after the I/O of the current event-loop turn (setImmediate where the runtime has it,
 * Node, Bun, Deno; a zero timeout elsewhere, e.g. workers), so that the requests parsed in one turn
 * share a batch or a commit.
 */
export const afterIo: (f: () => void) => void =
  typeof setImmediate === "function" ? (f) => setImmediate(f) : (f) => setTimeout(f, 0);

export class AdmissionGate {
  private inFlight = 0;
  constructor(readonly capacity: number) {}

  get pending(): number {
    return this.inFlight;
  }

  /** Admits `n` inputs or throws OVERLOADED; the caller must `release(n)` once they are answered. */
  admit(n: number): void {
    if (this.inFlight + n > this.capacity)
      fail(
        "OVERLOADED",
        `${this.inFlight} inputs are already queued or in flight (limit ${this.capacity}); retry after a moment`,
      );
    this.inFlight += n;
  }

  release(n: number): void {
    this.inFlight = Math.max(0, this.inFlight - n);
  }
}

export interface MicroBatcherOptions {
  /** Adapt the batch limit (true) or run every request on arrival (false). */
  enabled: boolean;
  /** Latency objective (ms) for the oldest request of a batch: queue wait plus compute. */
  objectiveMs: number;
  /** Largest batch, in inputs. */
  maxBatch: number;
  now?: () => number;
}

interface Queued<J> {
  job: J;
  rows: number;
  at: number;
}

export class MicroBatcher<J> {
  /** Current batch limit, in inputs. */
  limit = 1;
  /** Batches run and inputs in them (for the mean batch size). */
  batches = 0;
  inputs = 0;
  private readonly queue: Queued<J>[] = [];
  private head = 0;
  private scheduled = false;
  private readonly now: () => number;

  constructor(
    private readonly run: (jobs: J[]) => void,
    readonly o: MicroBatcherOptions,
  ) {
    this.now = o.now ?? (() => performance.now());
    if (!o.enabled) this.limit = 1;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  submit(job: J, rows: number): void {
    if (!this.o.enabled) {
      this.runBatch([job], rows, this.now());
      return;
    }
    this.queue.push({ job, rows, at: this.now() });
    if (!this.scheduled) {
      this.scheduled = true;
      // Every request parsed in this turn joins the batch.
      afterIo(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const jobs: J[] = [];
    let rows = 0;
    const oldest = this.queue[this.head].at;
    // Always take one job, even if it alone exceeds the limit (a client batch is never split).
    while (
      this.head < this.queue.length &&
      (jobs.length === 0 || rows + this.queue[this.head].rows <= this.limit)
    ) {
      const q = this.queue[this.head++];
      jobs.push(q.job);
      rows += q.rows;
    }
    const backlog = this.head < this.queue.length;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.runBatch(jobs, rows, oldest, backlog);
    if (this.head < this.queue.length && !this.scheduled) {
      this.scheduled = true;
      afterIo(() => this.flush());
    }
  }

  private runBatch(jobs: J[], rows: number, oldest: number, backlog = false): void {
    try {
      this.run(jobs);
    } finally {
      this.batches++;
      this.inputs += rows;
      if (this.o.enabled) this.adapt(this.now() - oldest, rows, backlog);
    }
  }

  private adapt(latencyMs: number, rows: number, backlog: boolean): void {
    if (latencyMs > this.o.objectiveMs) this.limit = Math.max(1, Math.floor(this.limit / 2));
    else if (backlog || rows >= this.limit) this.limit = Math.min(this.o.maxBatch, this.limit + 1);
  }
}
