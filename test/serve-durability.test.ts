/**
 * Durability in process (a SQLite store in a temporary directory): a clean restart restores the
 * node exactly; a crash after a checkpoint restores the committed entries, counters and feedback,
 * and never takes feedback twice; a data directory refuses another configuration; a store that
 * fails turns the node unready instead of acknowledging what it could not keep.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../src/serve/app.js";
import { SqliteStore } from "../src/serve/sqlite-store.node.js";
import { draws, edgeService, getJson, postJson } from "./serve-fixtures.js";

const root = mkdtempSync(join(tmpdir(), "mammals-durability-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);

/** An edge node on a store in `dir`; no timed checkpoints, so the test decides when they happen. */
function open(dir: string, capacity = 12) {
  const store = new SqliteStore(dir);
  const { service, recovery } = edgeService({ store, capacity, checkpointMs: 0 });
  return { store, service, recovery, app: createApp(service) };
}

async function teach(app: ReturnType<typeof open>["app"], n: number) {
  for (const { x, y } of draws(n))
    expect((await postJson(app, "/v1/feedback", { input: x, label: y })).status).toBe(200);
}

describe("durability", () => {
  it("restores a cleanly stopped node exactly, requests awaiting feedback included", async () => {
    const dir = freshDir();
    const a = open(dir);
    await teach(a.app, 30);
    const pending = (await postJson(a.app, "/v1/predict", { input: draws(1)[0].x })).body.id as number;
    const memory = (await getJson(a.app, "/v1/memory")).body;
    const stats = a.service.node.stats();
    await a.service.close();

    const b = open(dir);
    expect(b.recovery).toMatchObject({ mode: "exact", entries: memory.size, feedbackCount: 30 });
    expect((await getJson(b.app, "/v1/memory")).body).toEqual(memory);
    expect(b.service.node.stats()).toEqual(stats);
    expect((await postJson(b.app, "/v1/feedback", { id: pending, label: 1 })).status).toBe(200);
    await b.service.close();
  });

  it("after a crash, keeps what was committed and takes no feedback twice", async () => {
    const dir = freshDir();
    const a = open(dir);
    await teach(a.app, 10);
    const [x1, x2, x3] = draws(3);
    const given = (await postJson(a.app, "/v1/predict", { input: x1.x })).body.id as number;
    const open_ = (await postJson(a.app, "/v1/predict", { input: x2.x })).body.id as number;
    a.service.durability.checkpoint();
    const late = (await postJson(a.app, "/v1/predict", { input: x3.x })).body.id as number;
    expect((await postJson(a.app, "/v1/feedback", { id: given, label: x1.y })).status).toBe(200);
    await teach(a.app, 10); // past capacity: evictions after the checkpoint too
    const memory = (await getJson(a.app, "/v1/memory")).body;
    const stats = a.service.node.stats();
    // The crash: nothing more is written, the process is gone (its connection closes without a commit).
    a.store.close();

    const b = open(dir);
    expect(b.recovery).toMatchObject({ mode: "rows", entries: memory.size, feedbackCount: 21 });
    expect((await getJson(b.app, "/v1/memory")).body).toEqual(memory);
    const s = b.service.node.stats();
    expect([s.feedback, s.feedbackAccuracy, s.memory]).toEqual([
      stats.feedback,
      stats.feedbackAccuracy,
      stats.memory,
    ]);
    const again = await postJson(b.app, "/v1/feedback", { id: given, label: x1.y });
    expect([again.status, again.body.code]).toEqual([404, "UNKNOWN_ID"]);
    expect((await postJson(b.app, "/v1/feedback", { id: open_, label: x2.y })).status).toBe(200);
    // What a crash loses: requests made after the last checkpoint can no longer take feedback.
    expect((await postJson(b.app, "/v1/feedback", { id: late, label: x3.y })).status).toBe(404);
    expect(b.service.durability.failed).toBeNull();
    b.service.node.local.memory.checkInvariants();
    await b.service.close();
  });

  it("refuses a data directory written by a differently configured node", async () => {
    const dir = freshDir();
    const a = open(dir, 12);
    await teach(a.app, 3);
    await a.service.close();
    const store = new SqliteStore(dir);
    expect(() => edgeService({ store, capacity: 13, checkpointMs: 0 })).toThrow(
      /the data directory holds a node configured as .*"capacity":12.*this one is .*"capacity":13/,
    );
    store.close();
  });

  it("stops acknowledging and turns unready when the store fails", async () => {
    const a = open(freshDir());
    await teach(a.app, 2);
    a.store.close(); // every later commit fails
    const r = await postJson(a.app, "/v1/feedback", { input: draws(1)[0].x, label: 0 });
    expect([r.status, r.body.code]).toEqual([500, "IO"]);
    expect(r.body.message).toMatch(/the durable store failed/);
    const ready = await a.app.request("/readyz");
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/durable store failed/);
  });
});
