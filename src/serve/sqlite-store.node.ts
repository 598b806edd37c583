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
  private readonly stmt: ReturnType<SqliteStore["prepare"]>;
  private readonly commitTx: (b: CommitBatch) => void;

  constructor(dir: string, o: SqliteStoreOptions = {}) {
    const Sqlite = sqlite();
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, DATABASE_FILE);
    try {
      this.db = new Sqlite(this.path);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${o.synchronous === "normal" ? "NORMAL" : "FULL"}`);
      this.db.exec(SCHEMA);
    } catch (e) {
      fail("BAD_FILE", `${this.path}: cannot open the node's database (${(e as Error).message})`);
    }
    const version = this.meta("schema_version");
    if (version !== null && version !== SCHEMA_VERSION)
      fail("BAD_FILE", `${this.path}: schema version ${version}; expected ${SCHEMA_VERSION}`);
    this.stmt = this.prepare();
    this.commitTx = this.db.transaction((b: CommitBatch) => this.write(b));
  }

  private prepare() {
    const db = this.db;
    return {
      setMeta: db.prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      ),
      insertItem: db.prepare(
        "INSERT INTO items (id, label, source, weight, added_at, key) VALUES (@id, @label, @source, @weight, @addedAt, @key)",
      ),
      updateItem: db.prepare("UPDATE items SET source = ?, weight = ? WHERE id = ?"),
      removeItem: db.prepare("UPDATE items SET removed_seq = ? WHERE id = ? AND removed_seq IS NULL"),
      purge: db.prepare("DELETE FROM items WHERE removed_seq IS NOT NULL"),
      feedback: db.prepare(
        "INSERT INTO feedback (request_id, label, correct, admitted, at, commit_seq) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      setState: db.prepare(
        "INSERT INTO state (name, seq, value) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq, value = excluded.value",
      ),
      keyOf: db.prepare("SELECT key FROM items WHERE id = ?"),
    };
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
    const epoch = Number(this.meta("epoch") ?? 0) + 1;
    this.db.transaction(() => {
      this.stmt.setMeta.run("schema_version", SCHEMA_VERSION);
      if (stored === null) this.stmt.setMeta.run("config", config);
      this.stmt.setMeta.run("epoch", String(epoch));
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

  commit(batch: CommitBatch): number {
    this.commitTx(batch);
    // Only a committed transaction moves the sequence number.
    this.seq++;
    return this.seq;
  }

  private write(b: CommitBatch): void {
    const seq = this.seq + 1;
    const s = this.stmt;
    for (const id of b.removes) s.removeItem.run(seq, id);
    for (const r of b.inserts)
      s.insertItem.run({
        id: r.id,
        label: r.label,
        source: r.source,
        weight: r.weight,
        addedAt: r.addedAt,
        key: Buffer.from(r.key.buffer, r.key.byteOffset, r.key.byteLength),
      });
    for (const u of b.updates) s.updateItem.run(u.source, u.weight, u.id);
    for (const f of b.feedback)
      s.feedback.run(
        f.requestId,
        f.label,
        f.correct === null ? null : f.correct ? 1 : 0,
        f.admitted ? 1 : 0,
        f.at,
        seq,
      );
    s.setState.run("learned", seq, b.learned);
    if (b.checkpoint !== undefined) {
      s.setState.run("checkpoint", seq, b.checkpoint);
      // The checkpoint no longer names removed entries: their keys can go.
      s.purge.run();
    }
    s.setMeta.run("seq", String(seq));
  }

  close(): void {
    if (!this.db.open) return;
    // A clean close checkpoints the WAL into the main file and removes it.
    this.db.close();
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
