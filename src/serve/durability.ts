/**
 * Durable acknowledgements with group commit, and recovery at start.
 *
 * A request that changed what the node must not forget (a feedback, an offer to the memory) waits
 * for {@link Durability.whenDurable} before its answer goes out. The first waiter of an event-loop
 * turn schedules one commit after the turn's I/O; every request that changed something in that
 * turn rides on the same transaction (group commit), so the cost of the disk flush is shared.
 * With a store that writes on a worker thread (Store.inBackground), the turn's changes are captured
 * at that moment and written there while the event loop goes on serving; the worker writes the
 * commits in the order sent, and an answer waits until every commit sent before it is durable.
 *
 * Recovery: a clean shutdown leaves a checkpoint matching the last commit, restored exactly.
 * After a crash the last checkpoint is restored, then the durable rows win: entries admitted
 * since are put back under their ids, entries removed since are removed, the learned scalars
 * (counters, calibration, rule weights) are the last committed ones. What a crash can lose is what
 * was never acknowledged, plus usage statistics (LRU recency, policy records of entries admitted
 * since the checkpoint start afresh) and requests still awaiting feedback since the checkpoint.
 */
import { MammalsError } from "../core/errors.js";
import { decodeState, encodeState, type StateTree } from "../core/state-tree.js";
import type { EdgeNode } from "../edge/edge-node.js";
import {
  captureEdgeNode,
  captureLearnedScalars,
  type EdgeNodeSnapshot,
  restoreEdgeNode,
  restoreLearnedScalars,
} from "../edge/snapshot.js";
import { reinsertEntry, setEntryTrust } from "../memory/snapshot.js";
import { afterIo } from "./batcher.js";
import type { MemoryJournal } from "./journal.js";
import type { CommitBatch, FeedbackRecord, Store, StoredState } from "./store.js";

export interface DurabilityOptions {
  /** Checkpoint the whole state at most this often while commits happen (ms). Default 5000. */
  checkpointMs?: number;
}

export interface RecoveryReport {
  /** "new" store, "exact" (clean shutdown) or "rows" (crash: checkpoint + durable rows). */
  mode: "new" | "exact" | "rows";
  entries: number;
  feedbackCount: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class Durability {
  feedbackCount = 0;
  commits = 0;
  /** Feedback records and waiters in the last commit (for metrics). */
  lastGroup = 0;
  private waiters: Waiter[] = [];
  private pendingFeedback: FeedbackRecord[] = [];
  private scheduled = false;
  private commitsSinceCheckpoint = 0;
  private failure: Error | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Commits sent to a background store and not yet durable, and the last one sent. */
  private inFlight = 0;
  private lastSent: Promise<void> = Promise.resolve();
  /** Waiters arrived while a background commit was being written: flush once it is durable. */
  private flushWhenDone = false;

  constructor(
    private readonly node: EdgeNode,
    private readonly journal: MemoryJournal,
    private readonly store: Store | null,
    o: DurabilityOptions = {},
  ) {
    const every = o.checkpointMs ?? 5000;
    if (store && every > 0) {
      this.timer = setInterval(() => this.checkpointIfDue(), every);
      this.timer.unref?.();
    }
  }

  /** The store's error message once a commit failed, else null. */
  get failed(): string | null {
    return this.failure?.message ?? null;
  }

  get persistent(): boolean {
    return this.store !== null;
  }

  /** Restores the node from the store's content (call once, before serving). */
  recover(state: StoredState): RecoveryReport {
    const memory = this.node.local.memory;
    let mode: RecoveryReport["mode"] = state.seq === 0 ? "new" : "exact";
    if (state.checkpoint) {
      const snap = decodeState(state.checkpoint.text, "checkpoint") as unknown as EdgeNodeSnapshot;
      restoreEdgeNode(this.node, snap, state.keyOf);
    }
    if (state.seq > 0 && state.checkpoint?.seq !== state.seq) {
      mode = "rows";
      // The checkpoint's requests awaiting feedback include some whose feedback came (durably) after it.
      this.node.forgetRequests(state.labeledAfter(state.checkpoint?.seq ?? 0));
      const present = new Map(state.items.map((r) => [r.id, r]));
      for (const id of memory.ids()) if (!present.has(id)) memory.remove(id);
      for (const r of state.items) {
        if (!memory.has(r.id)) reinsertEntry(memory, r);
        else setEntryTrust(memory, r.id, r.source, r.weight);
      }
      if (state.learned)
        restoreLearnedScalars(this.node, decodeState(state.learned, "learned state") as StateTree);
    }
    this.journal.reset(state.items.map((r) => [r.id, r.key]));
    memory.checkInvariants();
    this.feedbackCount = state.feedbackCount;
    this.commits = 0;
    return { mode, entries: memory.size, feedbackCount: state.feedbackCount };
  }

  recordFeedback(r: FeedbackRecord): void {
    this.pendingFeedback.push(r);
    if (!this.store) this.feedbackCount++;
  }

  /** Resolves once every change made so far is committed (at once without a store). */
  whenDurable(): Promise<void> {
    if (!this.store) return Promise.resolve();
    if (this.failure) return Promise.reject(this.broken());
    if (!this.journal.dirty && this.pendingFeedback.length === 0) {
      if (this.inFlight === 0) return Promise.resolve();
      // Nothing new, but changes already sent to a background store are not durable yet: no answer
      // goes out before every change made before it is (as with commits on this thread).
      return this.lastSent.then(() => {
        if (this.failure) throw this.broken();
      });
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        afterIo(() => this.flush());
      }
    });
  }

  /** Commits now, with a checkpoint (shutdown, tests); done when the promise resolves. */
  checkpoint(): Promise<void> {
    if (!this.store || this.failure) return Promise.resolve();
    if (this.store.inBackground) return this.commitInBackground(true);
    this.commit(true);
    return Promise.resolve();
  }

  /** Final checkpoint and close; the node must not change afterwards. */
  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const store = this.store;
    if (!store) return Promise.resolve();
    if (!store.inBackground) {
      if (!this.failure) this.commit(true);
      store.close();
      return Promise.resolve();
    }
    return (async () => {
      // A failed final checkpoint leaves the last commit as the state: recovery replays it.
      if (!this.failure) await this.commitInBackground(true).catch(() => {});
      await store.closeInBackground!();
    })();
  }

  private checkpointIfDue(): void {
    if (this.commitsSinceCheckpoint > 0 && !this.failure) {
      if (this.store!.inBackground) {
        // A failure is recorded; the next request learns of it.
        this.commitInBackground(true).catch(() => {});
        return;
      }
      try {
        this.commit(true);
      } catch {
        // commit() recorded the failure; the next request learns of it.
      }
    }
  }

  private flush(): void {
    this.scheduled = false;
    const background = this.store!.inBackground === true;
    if (background && this.inFlight > 0) {
      // One commit at a time: what arrives while one is written goes into the next, sent as soon as
      // it is durable (the group grows with the disk's latency, as when the flush blocked this thread).
      this.flushWhenDone = true;
      return;
    }
    const waiters = this.waiters;
    this.waiters = [];
    if (background) {
      if (this.failure) {
        for (const w of waiters) w.reject(this.broken());
        return;
      }
      this.commitInBackground(false).then(
        () => {
          for (const w of waiters) w.resolve();
        },
        () => {
          for (const w of waiters) w.reject(this.broken());
        },
      );
      return;
    }
    try {
      this.commit(false);
      for (const w of waiters) w.resolve();
    } catch {
      for (const w of waiters) w.reject(this.broken());
    }
  }

  /** The changes since the last commit as one batch (clears the journal and the pending feedback). */
  private capture(checkpoint: boolean): CommitBatch {
    const changes = this.journal.take();
    const feedback = this.pendingFeedback;
    this.pendingFeedback = [];
    return {
      ...changes,
      feedback,
      learned: encodeState(captureLearnedScalars(this.node)),
      checkpoint: checkpoint
        ? encodeState(captureEdgeNode(this.node, { withIndex: false }) as unknown as StateTree)
        : undefined,
    };
  }

  private commit(checkpoint: boolean): void {
    const batch = this.capture(checkpoint);
    try {
      this.store!.commit(batch);
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      throw e;
    }
    this.committed(batch, checkpoint);
  }

  /**
   * Captures the changes now and sends them to the background store, which writes its commits in
   * the order sent; resolves once this one is durable.
   */
  private commitInBackground(checkpoint: boolean): Promise<void> {
    const batch = this.capture(checkpoint);
    this.inFlight++;
    const settled = () => {
      this.inFlight--;
      if (this.flushWhenDone && this.inFlight === 0) {
        this.flushWhenDone = false;
        this.flush();
      }
    };
    const sent = this.store!.commitInBackground!(batch).then(
      () => {
        this.committed(batch, checkpoint);
        settled();
      },
      (e: unknown) => {
        this.failure ??= e instanceof Error ? e : new Error(String(e));
        settled();
        throw e;
      },
    );
    this.lastSent = sent.catch(() => {});
    return sent;
  }

  private committed(batch: CommitBatch, checkpoint: boolean): void {
    this.commits++;
    this.lastGroup = batch.feedback.length;
    this.feedbackCount += batch.feedback.length;
    this.commitsSinceCheckpoint = checkpoint ? 0 : this.commitsSinceCheckpoint + 1;
  }

  private broken(): Error {
    return new MammalsError(
      "IO",
      `the durable store failed (${this.failure?.message}); the node no longer accepts changes`,
    );
  }
}
