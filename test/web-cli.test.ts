/**
 * `mammals web` in-process: it builds the page into an empty --dir, serves it on 127.0.0.1 and a
 * free port (index.html, the bundle, the model), serves a --model file in place of the shipped one,
 * runs the edge node in workerd beside it (--workerd), refuses a file that is not a model with a
 * message naming it, and stops both on SIGINT.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { SHIPPED_WEB_MODEL } from "../src/jobs/web.node.js";
import { captureOutput, tempDir } from "./cli-harness.js";

const out = captureOutput();
const dir = tempDir("mammals-web-cli-");

async function waitFor(f: () => string | undefined, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = f();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out; output so far: ${out.stdout}${out.stderr}`);
}

describe("mammals web", () => {
  it("builds and serves the page, with a --model file as model.mammals, until SIGINT", async () => {
    const model = join(dir, "mine.mammals");
    writeFileSync(model, readFileSync(SHIPPED_WEB_MODEL));
    const run = main(["web", "--port", "0", "--dir", join(dir, "page"), "--model", model, "--workerd"]);
    const url = await waitFor(() => out.stdout.match(/serving .* at (http:\/\/127\.0\.0\.1:\d+\/)/)?.[1]);
    const edge = out.stdout.match(/workerd at (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
    expect((await (await fetch(`${edge}/stats`)).json()).requests).toBe(0);
    expect(out.stdout).toMatch(/JavaScript [\d.]+ KB gzipped \(budget 150 KB\)/);
    const html = await (await fetch(url)).text();
    expect(html).toContain('<script type="module" src="app.js">');
    expect((await fetch(`${url}app.js`)).headers.get("content-type")).toMatch(/javascript/);
    const served = new Uint8Array(await (await fetch(`${url}model.mammals`)).arrayBuffer());
    expect(served).toEqual(new Uint8Array(readFileSync(model)));
    expect((await fetch(`${url}../../etc/passwd`)).status).toBe(404);
    process.emit("SIGINT");
    expect(await run).toBe(0);
    // Ctrl-C stopped the workerd process too.
    await expect(fetch(`${edge}/stats`)).rejects.toThrow();
  }, 60_000);

  it("refuses a --model file that is not a model, naming it", async () => {
    const bad = join(dir, "bad.mammals");
    writeFileSync(bad, "not a model");
    expect(await main(["web", "--port", "0", "--dir", join(dir, "page"), "--model", bad])).toBe(2);
    expect(out.stderr).toMatch(/bad\.mammals: not a mammals model file/);
  });
});
