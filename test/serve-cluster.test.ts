/**
 * Real processes on loopback: an edge node forwarding to a cloud model server over HTTP, a clean
 * stop and restart (same memory digest), and a SIGKILL in the middle of a feedback load (every
 * acknowledged feedback is in the store exactly once, the database is intact, and the restarted
 * node holds exactly the entries the store holds).
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../src/core/rng.js";
import "../src/models/all.js";
import { readModelFile, writeModelFile } from "../src/models/io/files.node.js";
import { createModel } from "../src/models/registry.js";
import { DATABASE_FILE } from "../src/serve/sqlite-store.node.js";
import { get, post, type ServeProcess, startServe, stopServe } from "./serve-process.js";

const DIM = 16;
const C = 4;
const dir = mkdtempSync(join(tmpdir(), "mammals-serve-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const small = join(dir, "small.bin");
const cloud = join(dir, "cloud.bin");
const keyFile = join(dir, "key.txt");
const KEY = "test-key-0123";
const auth = { authorization: `Bearer ${KEY}` };

beforeAll(() => {
  writeModelFile(small, createModel("mlp:8", { inputDim: DIM, numClasses: C }, 1));
  writeModelFile(cloud, createModel("mlp:32", { inputDim: DIM, numClasses: C }, 2));
  writeFileSync(keyFile, `${KEY}\n`);
});

const rng = new Rng(7);
const input = () => Array.from({ length: DIM }, () => rng.uniform(0, 1));
const argmax = (p: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[b]) b = i;
  return b;
};

function edgeArgs(upstream: string, data: string, capacity = 40): string[] {
  return [
    "--model",
    small,
    "--capacity",
    String(capacity),
    "--upstream",
    upstream,
    "--data-dir",
    data,
    "--api-key-file",
    keyFile,
    "--admission",
    "all",
  ];
}

describe("edge -> cloud over HTTP", () => {
  let cloudNode: ServeProcess;
  const data = join(dir, "edge-a");

  beforeAll(async () => {
    cloudNode = await startServe(["--model", cloud, "--delay", "constant:ms=5", "--log-level", "info"]);
  });
  afterAll(async () => {
    await stopServe(cloudNode);
  });

  it("forwards what it cannot answer, learns from feedback, stops cleanly and restarts with the same memory", async () => {
    const edge = await startServe(edgeArgs(cloudNode.url, data));
    const cloudModel = readModelFile(cloud);
    let forwarded = 0;
    const answered: { id: number; label: number; x: number[] }[] = [];
    for (let i = 0; i < 30; i++) {
      const x = input();
      const r = await post(`${edge.url}/v1/predict`, { input: x }, auth);
      expect(r.status).toBe(200);
      if (r.body.servedBy === "upstream") {
        forwarded++;
        // The cloud process's answer, computed here from the same model file.
        expect(r.body.label).toBe(argmax(cloudModel.predictProba(Float32Array.from(x))));
        expect(r.body.latencyMs as number).toBeGreaterThanOrEqual(5);
        expect(r.body.upstream).toEqual({ status: "ok" });
      }
      answered.push({ id: r.body.id as number, label: r.body.label as number, x });
    }
    expect(forwarded).toBeGreaterThan(0);
    for (const a of answered.slice(0, 10)) {
      const truth = argmax(cloudModel.predictProba(Float32Array.from(a.x)));
      const fb = await post(`${edge.url}/v1/feedback`, { id: a.id, label: truth }, auth);
      expect(fb.status).toBe(200);
      expect(fb.body.correct).toBe(a.label === truth);
    }
    const metrics = await (await fetch(`${edge.url}/metrics`)).text();
    expect(metrics).toMatch(/mammals_predictions_total\{outcome="upstream",kind="edge"\} \d+/);
    expect(metrics).toMatch(/http_request_duration_seconds_bucket\{.*route="\/v1\/predict"/);
    expect(metrics).toMatch(/mammals_upstream_circuit_state\{kind="edge"\} 0/);
    expect(metrics).toMatch(/mammals_feedback_durable_total\{kind="edge"\} 10/);
    const before = (await get(`${edge.url}/v1/memory`)).body;
    expect(before.feedbackCount).toBe(10);
    expect(before.size as number).toBeGreaterThan(0);

    expect(await stopServe(edge)).toEqual({ code: 0, signal: null });
    expect(edge.logs.some((l) => l.msg === "stopped: store closed")).toBe(true);

    const again = await startServe(edgeArgs(cloudNode.url, data));
    expect((await get(`${again.url}/v1/memory`)).body).toEqual(before);
    // Prediction ids of the new run cannot collide with the old run's.
    const r = await post(`${again.url}/v1/predict`, { input: input() }, auth);
    expect(answered.map((a) => a.id)).not.toContain(r.body.id);
    expect(await stopServe(again)).toEqual({ code: 0, signal: null });
  });
});

describe("SIGKILL in the middle of a feedback load", () => {
  it("keeps every acknowledged feedback exactly once, and restarts with the store's memory", async () => {
    const cloudNode = await startServe(["--model", cloud, "--log-level", "info"]);
    const data = join(dir, "edge-kill");
    const edge = await startServe(edgeArgs(cloudNode.url, data, 60));
    const acked: { requestId: number | null; label: number }[] = [];
    let stop = false;
    // Eight clients: predict, then feedback by id (half the time) or a labeled new input.
    const client = async (c: number) => {
      const r = new Rng(100 + c);
      while (!stop) {
        try {
          const x = Array.from({ length: DIM }, () => r.uniform(0, 1));
          const label = r.int(C);
          if (r.next() < 0.5) {
            const p = await post(`${edge.url}/v1/predict`, { input: x }, auth);
            if (p.status !== 200) continue;
            const fb = await post(`${edge.url}/v1/feedback`, { id: p.body.id, label }, auth);
            if (fb.status === 200) acked.push({ requestId: p.body.id as number, label });
          } else {
            const fb = await post(`${edge.url}/v1/feedback`, { input: x, label }, auth);
            if (fb.status === 200) acked.push({ requestId: null, label });
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    while (acked.length < 300) await new Promise((res) => setTimeout(res, 20));
    edge.proc.kill("SIGKILL");
    expect(await edge.exited).toEqual({ code: null, signal: "SIGKILL" });
    stop = true;
    await Promise.all(clients);

    const db = new Database(join(data, DATABASE_FILE), { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const rows = db.prepare("SELECT request_id AS requestId, label FROM feedback").all() as {
      requestId: number | null;
      label: number;
    }[];
    const byId = new Map<number, number[]>();
    for (const row of rows)
      if (row.requestId !== null) byId.set(row.requestId, [...(byId.get(row.requestId) ?? []), row.label]);
    for (const a of acked) if (a.requestId !== null) expect(byId.get(a.requestId)).toEqual([a.label]);
    const examples = (labels: { requestId: number | null; label: number }[]) =>
      labels.filter((a) => a.requestId === null).map((a) => a.label);
    expect(examples(rows).length).toBeGreaterThanOrEqual(examples(acked).length);
    expect(rows.length).toBeGreaterThanOrEqual(acked.length);
    const items = db
      .prepare("SELECT id, label, source, weight, key FROM items WHERE removed_seq IS NULL ORDER BY id")
      .all() as { id: number; label: number; source: number; weight: number; key: Buffer }[];
    db.close();

    const restarted = await startServe(edgeArgs(cloudNode.url, data, 60));
    const mem = (await get(`${restarted.url}/v1/memory`)).body;
    expect(restarted.logs.find((l) => l.msg === "restored")).toMatchObject({ feedbackCount: rows.length });
    expect(mem.feedbackCount).toBe(rows.length);
    expect(mem.size).toBe(items.length);
    expect(mem.digest).toBe(digestOf(items));
    expect(await stopServe(restarted)).toEqual({ code: 0, signal: null });
    const third = await startServe(edgeArgs(cloudNode.url, data, 60));
    expect(third.logs.find((l) => l.msg === "restored")).toMatchObject({ mode: "exact" });
    expect((await get(`${third.url}/v1/memory`)).body).toEqual(mem);
    await stopServe(third);
    await stopServe(cloudNode);
  });
});

/** The memory digest (serve/journal.ts) recomputed from the store's rows. */
function digestOf(
  items: { id: number; label: number; source: number; weight: number; key: Buffer }[],
): string {
  const h = createHash("sha256");
  for (const it of items) {
    const b = Buffer.alloc(17);
    b.writeDoubleLE(it.id, 0);
    b.writeInt32LE(it.label, 8);
    b.writeUInt8(it.source, 12);
    b.writeFloatLE(it.weight, 13);
    h.update(b);
    h.update(it.key);
  }
  return h.digest("hex");
}
