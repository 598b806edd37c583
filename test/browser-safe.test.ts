/**
 * The browser-safe layers stay browser-safe: bundling the kernels, the exact indexes, the factory
 * and the byte-level data parsers for the browser must not pull in any Node builtin or `node:`
 * module (a Node-only import would either fail to resolve or show up as an import in the bundle).
 */
import { existsSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const CORE = readdirSync(join(ROOT, "src/core"))
  .filter((f) => f.endsWith(".ts") && !f.endsWith(".node.ts"))
  .map((f) => `src/core/${f}`);
const INDEX = [
  "src/index/flat.ts",
  "src/index/flat-i8.ts",
  "src/index/factory.ts",
  "src/index/types.ts",
  "src/index/evaluate.ts",
];
const DATA = ["src/data/idx.ts", "src/data/vecs.ts", "src/data/npy.ts", "src/data/csv.ts"].filter((f) =>
  existsSync(join(ROOT, f)),
);
const NODE_BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Bundles `entries` for the browser; returns every import the bundle leaves unresolved or external. */
async function browserImports(entries: string[]): Promise<string[]> {
  const seen: string[] = [];
  const result = await build({
    stdin: {
      contents: entries.map((f, i) => `export * as m${i} from "./${f}";`).join("\n"),
      resolveDir: ROOT,
      sourcefile: "browser-entry.ts",
      loader: "ts",
    },
    bundle: true,
    write: false,
    platform: "browser",
    format: "esm",
    logLevel: "silent",
    metafile: true,
    plugins: [
      {
        name: "record-node-imports",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (args.path.startsWith("node:") || NODE_BUILTINS.has(args.path)) {
              seen.push(`${args.path} (from ${args.importer.replace(`${ROOT}/`, "")})`);
              return { path: args.path, external: true };
            }
            return undefined;
          });
        },
      },
    ],
  });
  expect(result.errors).toEqual([]);
  for (const out of result.outputFiles ?? []) {
    const m = out.text.match(/from\s+["'](node:[^"']+)["']/g);
    if (m) seen.push(...m);
  }
  return seen;
}

describe("browser-safe bundle", () => {
  it("core, flat, flat-i8, factory and the data parsers import no Node builtin", async () => {
    expect(CORE.length).toBeGreaterThan(0);
    expect(await browserImports([...CORE, ...INDEX, ...DATA])).toEqual([]);
  });

  it("the whole browser entry (src/browser.ts: models, memory, policies, edge node, simulator) imports no Node builtin", async () => {
    expect(await browserImports(["src/browser.ts"])).toEqual([]);
  });

  it("the check can fail: the Node-only hnsw adapter is caught", async () => {
    const imports = await browserImports(["src/index/hnsw.node.ts"]);
    expect(imports.some((s) => s.startsWith("node:fs"))).toBe(true);
  });
});
