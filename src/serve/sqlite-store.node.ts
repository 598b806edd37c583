/**
 * The durable store of an edge node in SQLite (better-sqlite3), one file under --data-dir.
 * WAL journal with synchronous=FULL: a commit returns once its WAL frames are fsynced, so an
 * acknowledged change survives a crash of the process and of the machine. Tables and why they
 * look the way they do: store.ts. The schema is created on first open; `schema_version` in `meta`
 * guards against reading a file written by an incompatible version.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import { fail } from "../core/errors.js";
import type { ItemRow } from "./journal.js";
import type { CommitBatch, Store, StoredState } from "./store.js";

const SCHEMA_VERSION = "1";
export const DATABASE_FILE = "mammals.db";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY,
  label INTEGER NOT NULL,
  source INTEGER NOT NULL,
  weight REAL NOT NULL,
  added_at REAL NOT NULL,
  key BLOB NOT NULL,
  removed_seq INTEGER
);
CREATE TABLE IF NOT EXISTS feedback (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id INTEGER,
  label INTEGER NOT NULL,
  correct INTEGER,
  admitted INTEGER NOT NULL,
  at INTEGER NOT NULL,
  commit_seq INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS feedback_request ON feedback(request_id) WHERE request_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, seq INTEGER NOT NULL, value TEXT NOT NULL);
`;

export interface SqliteStoreOptions {
  /** "full" (default): durable across power loss; "normal": across process crashes only, faster. */
  synchronous?: "full" | "normal";
  /**
   * Commit on a worker thread (commitInBackground): the event loop keeps serving while a
   * transaction is written and fsynced (about 5 ms on this machine's disk), instead of stopping for
   * each group commit. Reading the store (open) stays on the calling thread. Default false.
   */
  background?: boolean;
}

/**
 * The statements a commit runs, by name. A commit is planned on the calling thread (planCommit)
 * and run by whichever thread holds the writing connection: the store's own, or its worker.
 */
const STATEMENTS = {
  setMeta:
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  insertItem: "INSERT INTO items (id, label, source, weight, added_at, key) VALUES (?, ?, ?, ?, ?, ?)",
  updateItem: "UPDATE items SET source = ?, weight = ? WHERE id = ?",
  removeItem: "UPDATE items SET removed_seq = ? WHERE id = ? AND removed_seq IS NULL",
  purge: "DELETE FROM items WHERE removed_seq IS NOT NULL",
  feedback:
    "INSERT INTO feedback (request_id, label, correct, admitted, at, commit_seq) VALUES (?, ?, ?, ?, ?, ?)",
  setState:
    "INSERT INTO state (name, seq, value) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq, value = excluded.value",
} as const;

type StatementName = keyof typeof STATEMENTS;
type SqlValue = number | string | null | Uint8Array;
/** One commit as statement runs, in order, for one transaction. */
type CommitPlan = [StatementName, SqlValue[]][];

function planCommit(b: CommitBatch, seq: number): CommitPlan {
  const plan: CommitPlan = [];
  for (const id of b.removes) plan.push(["removeItem", [seq, id]]);
  for (const r of b.inserts)
    plan.push([
      "insertItem",
      [
        r.id,
        r.label,
        r.source,
        r.weight,
        r.addedAt,
        new Uint8Array(r.key.buffer, r.key.byteOffset, r.key.byteLength),
      ],
    ]);
  for (const u of b.updates) plan.push(["updateItem", [u.source, u.weight, u.id]]);
  for (const f of b.feedback)
    plan.push([
      "feedback",
      [f.requestId, f.label, f.correct === null ? null : f.correct ? 1 : 0, f.admitted ? 1 : 0, f.at, seq],
    ]);
  plan.push(["setState", ["learned", seq, b.learned]]);
  if (b.checkpoint !== undefined) {
    plan.push(["setState", ["checkpoint", seq, b.checkpoint]]);
    // The checkpoint no longer names removed entries: their keys can go.
    plan.push(["purge", []]);
  }
  plan.push(["setMeta", ["seq", String(seq)]]);
  return plan;
}

// CommonJS, evaluated in the worker: one connection that runs each plan it is sent in one
// transaction, in the order sent, and answers {id} once committed or {id, error}.
const WRITER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.sqlitePath);
const db = new Database(workerData.path);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = " + workerData.synchronous);
const stmt = {};
for (const [name, sql] of Object.entries(workerData.statements)) stmt[name] = db.prepare(sql);
const bind = (v) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v);
const run = db.transaction((plan) => {
  for (const [name, args] of plan) stmt[name].run(...args.map(bind));
});
parentPort.on("message", (m) => {
  if (m.close) {
    db.close();
    parentPort.postMessage({ id: m.id });
    return;
  }
  try {
    run(m.plan);
    parentPort.postMessage({ id: m.id });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: (e && e.message) || String(e) });
  }
});
`;

interface WriterReply {
  id: number;
  error?: string;
}

/** The worker thread of a background store, with the commits it has not answered yet. */
class BackgroundWriter {
  private readonly worker: Worker;
  private next = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private broken: Error | null = null;

  constructor(sqlitePath: string, path: string, synchronous: string) {
    this.worker = new Worker(WRITER_SOURCE, {
      eval: true,
      workerData: { sqlitePath, path, synchronous, statements: STATEMENTS },
    });
    this.worker.on("message", (m: WriterReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error === undefined) p.resolve();
      else p.reject(new Error(m.error));
    });
    const die = (e: Error) => {
      this.broken = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on("error", die);
    this.worker.on("exit", (code) => die(new Error(`the store's writer thread exited (code ${code})`)));
  }

  send(message: { plan: CommitPlan } | { close: true }): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.next++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...message });
    });
  }

  private closing: Promise<void> | null = null;

  /** Lets the commits sent so far finish, closes the worker's connection and stops it (idempotent). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (!this.broken) await this.send({ close: true });
      } finally {
        this.broken ??= new Error("the store is closed");
        await this.worker.terminate();
      }
    })();
    return this.closing;
  }
}

interface ItemRecord {
  id: number;
  label: number;
  source: number;
  weight: number;
  added_at: number;
  key: Buffer;
}

/**
 * better-sqlite3 is an optional peer dependency (a native addon that builds on install): only a
 * node with --data-dir needs it, so it is loaded when the first store opens, with a message that
 * says how to get it instead of a failed import of the whole package.
 */
function sqlite(): typeof Database {
  try {
    return createRequire(import.meta.url)("better-sqlite3") as typeof Database;
  } catch (e) {
    return fail(
      "UNSUPPORTED",
      `a durable node (--data-dir) needs the package better-sqlite3 12.x, which could not be loaded ` +
        `(${String((e as Error).message).split("\n")[0]}); install it with: npm install better-sqlite3@12`,
    );
  }
}

export class SqliteStore implements Store {
  readonly path: string;
  private readonly db: Database.Database;
  private seq = 0;
  /** Sequence number of the last commit sent to the writer thread. */
  private planned = 0;
  private readonly stmt: ReturnType<SqliteStore["prepare"]>;
  private readonly commitTx: (plan: CommitPlan) => void;
  private readonly synchronous: "FULL" | "NORMAL";
  private readonly background: boolean;
  private writer: BackgroundWriter | null = null;

  constructor(dir: string, o: SqliteStoreOptions = {}) {
    const Sqlite = sqlite();
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, DATABASE_FILE);
    this.synchronous = o.synchronous === "normal" ? "NORMAL" : "FULL";
    this.background = o.background ?? false;
    try {
      this.db = new Sqlite(this.path);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${this.synchronous}`);
      this.db.exec(SCHEMA);
    } catch (e) {
      fail("BAD_FILE", `${this.path}: cannot open the node's database (${(e as Error).message})`);
    }
    const version = this.meta("schema_version");
    if (version !== null && version !== SCHEMA_VERSION)
      fail("BAD_FILE", `${this.path}: schema version ${version}; expected ${SCHEMA_VERSION}`);
    this.stmt = this.prepare();
    this.commitTx = this.db.transaction((plan: CommitPlan) => {
      for (const [name, args] of plan)
        this.stmt.run[name].run(
          ...args.map((v) =>
            v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v,
          ),
        );
    });
  }

  private prepare() {
    const db = this.db;
    const run = Object.fromEntries(
      Object.entries(STATEMENTS).map(([name, sql]) => [name, db.prepare(sql)]),
    ) as Record<StatementName, Database.Statement>;
    return { run, keyOf: db.prepare("SELECT key FROM items WHERE id = ?") };
  }

  private meta(key: string): string | null {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row ? row.value : null;
  }

  open(config: string): StoredState {
    const stored = this.meta("config");
    this.seq = Number(this.meta("seq") ?? 0);
    this.planned = this.seq;
    const epoch = Number(this.meta("epoch") ?? 0) + 1;
    this.db.transaction(() => {
      this.stmt.run.setMeta.run("schema_version", SCHEMA_VERSION);
      if (stored === null) this.stmt.run.setMeta.run("config", config);
      this.stmt.run.setMeta.run("epoch", String(epoch));
    })();
    const rows = this.db
      .prepare(
        "SELECT id, label, source, weight, added_at, key FROM items WHERE removed_seq IS NULL ORDER BY id",
      )
      .all() as ItemRecord[];
    const state = (name: string) =>
      this.db.prepare("SELECT seq, value FROM state WHERE name = ?").get(name) as
        | { seq: number; value: string }
        | undefined;
    const learned = state("learned");
    const checkpoint = state("checkpoint");
    const count = this.db.prepare("SELECT COUNT(*) AS n FROM feedback").get() as { n: number };
    return {
      seq: this.seq,
      epoch,
      config: stored,
      items: rows.map(toItemRow),
      keyOf: (id) => {
        const r = this.stmt.keyOf.get(id) as { key: Buffer } | undefined;
        if (!r)
          return fail("BAD_FILE", `${this.path}: the checkpoint names entry ${id}, which has no stored key`);
        return toFloat32(r.key);
      },
      learned: learned ? learned.value : null,
      checkpoint: checkpoint ? { seq: checkpoint.seq, text: checkpoint.value } : null,
      feedbackCount: count.n,
      labeledAfter: (seq) =>
        (
          this.db
            .prepare("SELECT request_id AS id FROM feedback WHERE commit_seq > ? AND request_id IS NOT NULL")
            .all(seq) as { id: number }[]
        ).map((r) => r.id),
    };
  }

  get inBackground(): boolean {
    return this.background;
  }

  commit(batch: CommitBatch): number {
    if (this.writer)
      fail("STATE", `${this.path}: this store commits on its writer thread; use commitInBackground`);
    this.commitTx(planCommit(batch, this.seq + 1));
    // Only a committed transaction moves the sequence number.
    this.seq++;
    return this.seq;
  }

  /**
   * The commit on the store's writer thread (started at the first call; a store opened with
   * `background: false` has none and refuses). Commits are written in the order of the calls;
   * each promise resolves once its transaction is durable.
   */
  async commitInBackground(batch: CommitBatch): Promise<number> {
    if (!this.background) fail("STATE", `${this.path}: this store commits on the calling thread; use commit`);
    if (!this.writer) {
      // The writer takes over writing: this thread's connection closes (open() has read what it needed).
      this.db.close();
      this.writer = new BackgroundWriter(
        createRequire(import.meta.url).resolve("better-sqlite3"),
        this.path,
        this.synchronous,
      );
    }
    const seq = ++this.planned;
    await this.writer.send({ plan: planCommit(batch, seq) });
    this.seq = Math.max(this.seq, seq);
    return seq;
  }

  close(): void {
    if (this.db.open) this.db.close();
    // A writer thread finishes what it was sent, then stops (closeInBackground waits for that).
    this.writer?.close().catch(() => {});
  }

  /** Waits for the writer thread's commits, then closes its connection (a clean close removes the WAL). */
  async closeInBackground(): Promise<void> {
    this.close();
    if (this.writer) await this.writer.close();
  }
}

function toFloat32(b: Buffer): Float32Array {
  // A copy: the Buffer's offset in its pool need not be 4-byte aligned.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function toItemRow(r: ItemRecord): ItemRow {
  return {
    id: r.id,
    label: r.label,
    source: r.source,
    weight: r.weight,
    addedAt: r.added_at,
    key: toFloat32(r.key),
  };
}
