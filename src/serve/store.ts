/**
 * The durable store of an edge node, as the service sees it (the SQLite implementation is
 * sqlite-store.node.ts). One `commit` is one transaction: it is on disk when the call returns.
 *
 * What is kept, and why in that shape:
 *   - items: one row per memory entry (key, label, source, vote weight), written when the entry
 *     is admitted, updated when its source or weight changes, tombstoned when it leaves (the row
 *     stays until a checkpoint no longer needs its key);
 *   - feedback: one row per acknowledged feedback;
 *   - learned: the node's small learned state (counters, calibration, rule weights), rewritten
 *     with every commit;
 *   - checkpoint: the whole node state minus the keys (policy records, usage statistics, recent
 *     requests, histograms), written every few seconds and at shutdown, with the commit sequence
 *     number it matches.
 */
import type { ItemRow, ItemUpdate } from "./journal.js";

export interface FeedbackRecord {
  /** The prediction's id, or null for a labeled example sent with its input. */
  requestId: number | null;
  label: number;
  /** Whether the earlier answer was right (null for a new input). */
  correct: boolean | null;
  admitted: boolean;
  /** Unix ms. */
  at: number;
}

export interface CommitBatch {
  inserts: ItemRow[];
  updates: ItemUpdate[];
  removes: number[];
  feedback: FeedbackRecord[];
  /** Encoded learned scalars (edge/snapshot.ts captureLearnedScalars). */
  learned: string;
  /** Encoded full snapshot without keys, when a checkpoint is due. */
  checkpoint?: string;
}

export interface StoredState {
  /** Sequence number of the last commit (0 for a new store). */
  seq: number;
  /** Incremented at every open: prediction ids of different runs never collide. */
  epoch: number;
  /** The configuration the store was created with (null for a new store). */
  config: string | null;
  /** Present entries, in id order. */
  items: ItemRow[];
  /** The key of any entry a checkpoint may name (present or tombstoned). */
  keyOf(id: number): Float32Array;
  learned: string | null;
  checkpoint: { seq: number; text: string } | null;
  feedbackCount: number;
  /** Prediction ids whose feedback was committed after commit `seq` (they must not take feedback again). */
  labeledAfter(seq: number): number[];
}

export interface Store {
  /** Reads what the store holds, records the configuration if it is new, starts a new epoch. */
  open(config: string): StoredState;
  /** Writes one batch in one transaction; returns the new sequence number. */
  commit(batch: CommitBatch): number;
  close(): void;
  /**
   * A store that writes on another thread says so: Durability then sends every commit through
   * commitInBackground (resolved once durable, in the order sent) and stops it with
   * closeInBackground, and the event loop keeps serving while a commit is written.
   */
  readonly inBackground?: boolean;
  commitInBackground?(batch: CommitBatch): Promise<number>;
  closeInBackground?(): Promise<void>;
}
