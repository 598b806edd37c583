/**
 * The page's optional cloud node, end to end in Chromium: a `mammals serve` model server (the
 * src/serve fetch-handler app) on 127.0.0.1 behind a few lines of node:http, set as the page's
 * upstream URL; an input the device is unsure of is forwarded to it
 * across origins (CORS) and its answer shown. Skipped, saying why, where Chromium is not installed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWebApp, SHIPPED_WEB_MODEL, serveWebApp, type WebServer } from "../src/jobs/web.node.js";
import { loadModel } from "../src/models/registry.js";
import { createApp } from "../src/serve/app.js";
import { buildModelService } from "../src/serve/build.js";
import type { PageWindow } from "../src/web/page/hooks.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`web-upstream test skipped: no Chromium at ${CHROMIUM}`);

describe.skipIf(!HAVE_CHROMIUM)("the page with a cloud node", () => {
  let dir: string;
  let page: WebServer;
  let cloud: Server;
  let cloudUrl: string;
  let browser: Browser;
  let cloudRequests = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mammals-web-up-"));
    await buildWebApp({ outDir: dir });
    page = await serveWebApp({ dir, port: 0 });
    // The cloud node is a real `mammals serve` model server (the fetch-handler app of src/serve),
    // serving the page's own model file: it answers /v1/predict with CORS for the page's origin.
    const service = buildModelService({
      model: loadModel(new Uint8Array(readFileSync(SHIPPED_WEB_MODEL)), "cloud model"),
    });
    const app = createApp(service);
    cloud = createServer(async (req, res) => {
      cloudRequests++;
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = req.method === "POST" ? Buffer.concat(chunks) : undefined;
      const r = await app.fetch(
        new Request(`http://cloud${req.url}`, {
          method: req.method,
          body,
          headers: req.headers as Record<string, string>,
        }),
      );
      const headers: Record<string, string> = {};
      r.headers.forEach((v, k) => {
        headers[k] = v;
      });
      res.writeHead(r.status, headers);
      res.end(Buffer.from(await r.arrayBuffer()));
    });
    await new Promise<void>((ok) => cloud.listen(0, "127.0.0.1", ok));
    cloudUrl = `http://127.0.0.1:${(cloud.address() as { port: number }).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu"],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await page?.close();
    cloud?.closeAllConnections();
    await new Promise<void>((ok) => (cloud ? cloud.close(() => ok()) : ok()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("forwards an input it is unsure of to the cloud node and shows the cloud's answer", async () => {
    const p = await browser.newPage();
    p.setDefaultTimeout(10_000);
    await p.goto(page.url);
    await p.waitForSelector('body[data-ready="1"]');
    await p.fill("#upstream-url", cloudUrl);
    await p.click("#upstream-form button");
    await p.waitForFunction(() => /forwarding/.test(document.querySelector("#status")?.textContent ?? ""));
    // A faint uniform grey: no digit the small model is sure of (its confidence is about one half).
    const a = await p.evaluate(() =>
      (window as unknown as PageWindow).mammals.answer(new Array(784).fill(0.1)),
    );
    expect(a.servedLocally).toBe(false);
    expect(a.decidedBy).toBe("upstream");
    await p.waitForFunction(
      () => (document.querySelector("#answer") as HTMLElement).dataset.decided === "upstream",
    );
    expect(cloudRequests).toBeGreaterThan(0);
    expect(await p.textContent("#answer-decider")).toMatch(/cloud node/);
    expect(await p.textContent("#error")).toBe("");
    await p.locator("#answer-h").scrollIntoViewIfNeeded();
    await p.screenshot({
      path: join(process.env.MAMMALS_SCREENSHOTS ?? tmpdir(), "mammals-web-5-cloud.png"),
    });
    await p.close();
  });
});
