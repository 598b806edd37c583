/**
 * A store that commits on a worker thread (`SqliteStore` with `background: true`, what
 * `mammals serve --data-dir` uses): every acknowledged feedback is already in the database when
 * its answer arrives (read through a second connection), the same requests leave the same rows
 * and memory as commits on the calling thread, and a clean restart restores the node exactly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../src/serve/app.js";
import { DATABASE_FILE, SqliteStore } from "../src/serve/sqlite-store.node.js";
import { draws, edgeService, getJson, postJson } from "./serve-fixtures.js";

const Sqlite = createRequire(import.meta.url)("better-sqlite3") as typeof Database;
const root = mkdtempSync(join(tmpdir(), "mammals-background-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);

function open(dir: string, background: boolean) {
  const store = new SqliteStore(dir, { background });
  const { service, recovery } = edgeService({ store, capacity: 12, checkpointMs: 0 });
  return { store, service, recovery, app: createApp(service) };
}

const examples = draws(40);

/**
 * The same requests, `group` at a time (concurrent ones share commits; one at a time the order of
 * every change is fixed, so two runs can be compared row by row).
 */
async function load(app: ReturnType<typeof open>["app"], group: number, onAck?: (n: number) => void) {
  let acked = 0;
  const ids: number[] = [];
  for (let g = 0; g < examples.length; g += group)
    await Promise.all(
      examples.slice(g, g + group).map(async ({ x, y }, i) => {
        const p = await postJson(app, "/v1/predict", { input: x });
        ids.push(p.body.id as number);
        const r = await postJson(
          app,
          "/v1/feedback",
          (g + i) % 2 === 0 ? { input: x, label: y } : { id: p.body.id, label: y },
        );
        expect(r.status).toBe(200);
        onAck?.(++acked);
      }),
    );
  return acked;
}

function rows(dir: string) {
  const db = new Sqlite(join(dir, DATABASE_FILE), { readonly: true });
  try {
    return {
      feedback: db.prepare("SELECT label, correct, admitted FROM feedback ORDER BY seq").all(),
      items: db.prepare("SELECT id, label, source, weight, key FROM items ORDER BY id").all(),
    };
  } finally {
    db.close();
  }
}

describe("a store committing on a worker thread", () => {
  it("has every acknowledged feedback in the database when the answer arrives", async () => {
    const dir = freshDir();
    const a = open(dir, true);
    const reader = new Sqlite(join(dir, DATABASE_FILE), { readonly: true });
    const count = reader.prepare("SELECT COUNT(*) AS n FROM feedback");
    let lagging = 0;
    const acked = await load(a.app, 8, (n) => {
      if ((count.get() as { n: number }).n < n) lagging++;
    });
    reader.close();
    expect(acked).toBe(examples.length);
    expect(lagging).toBe(0);
    expect(a.service.durability.commits).toBeGreaterThan(1);
    expect(a.service.durability.commits).toBeLessThan(examples.length);
    await a.service.close();
  });

  it("leaves the same rows and memory as commits on the calling thread, and restarts exactly", async () => {
    const dirs = { sync: freshDir(), background: freshDir() };
    const memory: Record<string, unknown> = {};
    for (const [mode, dir] of Object.entries(dirs)) {
      const a = open(dir, mode === "background");
      await load(a.app, 1);
      memory[mode] = (await getJson(a.app, "/v1/memory")).body;
      await a.service.close();
      const b = open(dir, mode === "background");
      expect(b.recovery).toMatchObject({ mode: "exact", feedbackCount: examples.length });
      expect((await getJson(b.app, "/v1/memory")).body).toEqual(memory[mode]);
      await b.service.close();
    }
    expect(memory.background).toEqual(memory.sync);
    expect(rows(dirs.background)).toEqual(rows(dirs.sync));
  });
});
