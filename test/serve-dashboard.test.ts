/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (no browser
 * download). The page loads, predictions and feedback are sent, the five charts fill and keep
 * updating, and a screenshot is saved to out/serve/dashboard.png. Skipped, with a message saying
 * why, only where no Chromium binary is installed.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { InProcessUpstream } from "../src/edge/upstream.js";
import { CHARTS } from "../src/serve/dashboard.js";
import { createLogger, type RunningServer, startServer } from "../src/serve/server.node.js";
import { cloudModel, draws, edgeService } from "./serve-fixtures.js";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(
  (p): p is string => typeof p === "string" && p !== "",
);
const executablePath = CANDIDATES.find((p) => existsSync(p));
if (!executablePath)
  console.warn(
    `serve-dashboard: skipped, no Chromium at ${CANDIDATES.join(", ")} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );

const SCREENSHOT = join(import.meta.dirname, "..", "out", "serve", "dashboard.png");
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.stop("test over");
});

describe.skipIf(!executablePath)("dashboard in Chromium", () => {
  it("loads, fills its charts from live traffic, keeps updating, and is screenshotted", async () => {
    const { service } = edgeService({
      // A real round trip, so that forwarded answers have a latency worth plotting.
      upstream: new InProcessUpstream(cloudModel(), {
        latency: "lognormal:median=3,sigma=0.3",
        realWait: true,
        seed: 2,
      }),
    });
    server = await startServer(service, { port: 0, log: createLogger("silent") });
    const url = server.url;
    const send = async (n: number) => {
      for (const { x, y } of draws(n)) {
        const p = await fetch(`${url}/v1/predict`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ input: x }),
        });
        const { id } = (await p.json()) as { id: number };
        await fetch(`${url}/v1/feedback`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ id, label: y }),
        });
      }
    };
    const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 950 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(url);
      for (const c of CHARTS)
        await expect(page.locator(`#chart-${c.id} h2`).textContent()).resolves.toBe(c.title);
      await send(40);
      // Every chart gets a uPlot canvas and points; then more traffic adds points.
      await page.waitForFunction(
        () => Number(document.getElementById("updates")?.dataset.count) >= 2,
        undefined,
        {
          timeout: 10_000,
        },
      );
      await page.waitForFunction(
        () =>
          Array.from(document.querySelectorAll<HTMLElement>(".chart")).every(
            (el) => Number(el.dataset.points) >= 1 && el.querySelector("canvas") !== null,
          ),
        undefined,
        { timeout: 10_000 },
      );
      const rpsPoints = Number(await page.locator("#chart-rps").getAttribute("data-points"));
      await send(40);
      await page.waitForFunction(
        (before) => Number(document.getElementById("chart-rps")?.dataset.points) > before,
        rpsPoints,
        { timeout: 10_000 },
      );
      const memoryText = await page.locator("#chart-memory .latest").textContent();
      expect(memoryText).toMatch(/entries: \d+/);
      expect(memoryText).not.toMatch(/entries: 0\.00/);
      mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
