/**
 * `mammals web`: flags -> src/jobs/web.node.ts (build the page if needed, serve it) -> print the URL.
 * The page runs the edge node in the browser tab: draw a digit, correct it, and the memory learns.
 */

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { parseInteger } from "../../jobs/parse.js";
import {
  buildWebApp,
  buildWorkerdBundle,
  DEFAULT_WEB_DIR,
  serveWebApp,
  startWorkerd,
  type WorkerdProcess,
} from "../../jobs/web.node.js";
import { print } from "../output.js";

export function register(program: Command): void {
  program
    .command("web")
    .description(
      "serve the on-device page: draw a digit, the small model + memory answer in the tab, a correction " +
        "is learned at once and kept in IndexedDB; optional fine-tuning in a Web Worker and a cloud node",
    )
    .option("--port <n>", "port to listen on (0 = any free port)", "8090")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--model <file>", "serve this model file (mammals format, 784 inputs) instead of the shipped one")
    .option("--dir <dir>", "folder of built page files", DEFAULT_WEB_DIR)
    .option("--build", "(re)build the page into --dir first (needs a checkout with esbuild)")
    .option(
      "--workerd",
      "also run the edge node as a fetch handler in workerd (Workers runtime) on a free loopback port; its URL works as the page's cloud node",
    )
    .addHelpText(
      "after",
      "\nThe page's files are built by `npm run build:web` (or --build, or automatically when --dir is empty);\n" +
        "any static host can serve that folder. Press Ctrl-C to stop.\n\n" +
        "Examples:\n" +
        "  mammals web\n" +
        "  mammals web --port 0 --model my-digits.mammals\n" +
        "  mammals web --workerd\n" +
        "  mammals web --build --dir /tmp/page --host 0.0.0.0",
    )
    .action(async (opts) => {
      const port = parseInteger(opts.port, "--port", 0, 65535);
      if (opts.build || !existsSync(join(opts.dir, "index.html"))) {
        const b = await buildWebApp({ outDir: opts.dir });
        print(
          `built ${b.outDir}: JavaScript ${(b.jsGzipBytes / 1024).toFixed(1)} KB gzipped (budget ${(b.budgetBytes / 1024).toFixed(0)} KB)`,
        );
      }
      let wd: WorkerdProcess | undefined;
      if (opts.workerd) {
        // Beside the page's folder, not in it: the page's server should not hand out the worker's files.
        const b = await buildWorkerdBundle({ outDir: `${resolve(opts.dir)}-workerd`, modelFile: opts.model });
        wd = await startWorkerd({ dir: b.dir });
        print(
          `mammals web: the edge node answers from workerd at ${wd.url} (POST /predict, POST /feedback, GET /stats)`,
        );
      }
      const s = await serveWebApp({ dir: opts.dir, port, host: opts.host, modelFile: opts.model });
      print(`mammals web: serving ${opts.dir} at ${s.url}${opts.model ? ` with model ${opts.model}` : ""}`);
      await new Promise<void>((done) => {
        const stop = () => {
          void Promise.all([s.close(), wd?.close()]).then(() => done());
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
