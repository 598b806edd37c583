/**
 * The edge node in a Workers runtime: the fetch handler (src/web/worker/edge-app.ts) bundled for
 * workerd (the `workerd` npm package, run locally on 127.0.0.1 and a free port), sent predictions
 * and feedback over HTTP; its answers must equal those of the same handler running in Node
 * in-process on the same inputs (labels, decisions and costs exactly; probabilities to float
 * rounding). The process is stopped at the end.
 *
 * workerd refuses to compile WebAssembly at run time, so its model runs the TypeScript forward
 * pass; the Node handler is put on the same path (`setModelKernelPath("typescript")`), since the
 * SIMD path sums in float32 and its costs differ in the last bits (test/models-wasm.test.ts
 * compares the two paths).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEmbeddedMnist } from "../src/data/datasets.node.js";
import {
  buildWorkerdBundle,
  SHIPPED_WEB_MODEL,
  startWorkerd,
  type WorkerdProcess,
} from "../src/jobs/web.node.js";
import { setModelKernelPath } from "../src/models/wasm/kernels.js";
import { createEdgeApp } from "../src/web/worker/edge-app.js";

/** A JSON answer of the handler: predictions, feedback, stats or an error, read field by field. */
type Answer = Record<string, unknown> & {
  id?: number;
  servedLocally?: boolean;
  requests?: number;
  feedback?: number;
  forwarded?: number;
  memory?: unknown;
  error?: { code: string; message: string };
};

describe("the edge node in workerd", () => {
  let dir: string;
  let wd: WorkerdProcess;

  beforeAll(async () => {
    setModelKernelPath("typescript");
    dir = mkdtempSync(join(tmpdir(), "mammals-workerd-"));
    await buildWorkerdBundle({ outDir: dir });
    wd = await startWorkerd({ dir, timeoutMs: 30_000 });
  }, 60_000);

  afterAll(async () => {
    setModelKernelPath("auto");
    await wd?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers predictions and feedback like the same handler in Node", async () => {
    const node = createEdgeApp({ modelBytes: new Uint8Array(readFileSync(SHIPPED_WEB_MODEL)) });
    const ds = loadEmbeddedMnist();
    const call = async (base: "node" | "workerd", path: string, body?: unknown) => {
      const init =
        body === undefined
          ? {}
          : { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } };
      const res =
        base === "node"
          ? await node.fetch(new Request(`http://local${path}`, init))
          : await fetch(`${wd.url}${path}`, init);
      return { status: res.status, body: (await res.json()) as Answer };
    };
    // Timings differ between runtimes by nature; everything else must not.
    const comparable = (b: Answer) => {
      const { latencyMs: _l, localMs: _m, proba, ...rest } = b;
      return { ...rest, proba: (proba as number[] | undefined)?.map((p) => Number(p.toFixed(6))) };
    };
    let forwarded = 0;
    for (let i = 0; i < 40; i++) {
      const x = Array.from(ds.test.x.subarray(i * 784, (i + 1) * 784));
      const [a, b] = [await call("node", "/predict", { x }), await call("workerd", "/predict", { x })];
      expect(b.status).toBe(200);
      expect(comparable(b.body)).toEqual(comparable(a.body));
      if (!b.body.servedLocally) forwarded++;
      // Feedback on every other request, so the memory and the calibration move in both.
      if (i % 2 === 0) {
        const fb = { id: b.body.id, label: ds.test.y[i] };
        const [fa, fw] = [await call("node", "/feedback", fb), await call("workerd", "/feedback", fb)];
        expect(fw).toEqual(fa);
      }
    }
    const [sa, sw] = [await call("node", "/stats"), await call("workerd", "/stats")];
    expect(sw.body.requests).toBe(40);
    expect(sw.body.feedback).toBe(20);
    expect(sw.body.memory).toEqual(sa.body.memory);
    expect(sw.body.forwarded).toBe(forwarded);
    expect(forwarded).toBeGreaterThan(0); // both paths of the decision were compared
    // Bad input gets a typed error, not a crash.
    const bad = await call("workerd", "/predict", { x: [1, 2, 3] });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/784/);
    expect((await call("workerd", "/feedback", { id: 999, label: 1 })).status).toBe(404);
  });
});
