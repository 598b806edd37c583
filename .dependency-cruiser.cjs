/**
 * The house rules of src/, checked in CI (`npm run deps`). docs/ARCHITECTURE.md explains them.
 *
 * 1. Layers: a folder of src/ imports only the folders below it in LAYERS (lowest first).
 * 2. Browser-safe code: everything outside cli/, serve/ and jobs/ runs in browsers and edge runtimes,
 *    so Node-only modules (node:*, native addons, SQLite) are imported only from `*.node.ts` files,
 *    and a browser-safe file never imports a `*.node.ts` file.
 * 3. The browser entry (src/browser.ts) reaches no Node-only module, however indirectly.
 * 4. No import cycles between modules.
 */
const LAYERS = [
  "core",
  "data",
  "index",
  "models",
  "online",
  "caching",
  "memory",
  "augment",
  "edge",
  "idn",
  "jobs",
  "serve",
  "web",
  "cli",
];

// Layers whose code must stay runnable outside Node (except in `*.node.ts` adapter files).
const BROWSER_SAFE = [
  "core",
  "data",
  "index",
  "models",
  "online",
  "caching",
  "memory",
  "augment",
  "edge",
  "idn",
  "jobs",
  "web",
];

const NODE_ONLY = [
  "^node:",
  "^(fs|path|os|zlib|crypto|child_process|worker_threads|url|stream|util|http|https|net)$",
];
const NATIVE_PACKAGES =
  "^(usearch|onnxruntime-node|better-sqlite3|@hono/node-server|pino|prom-client|piscina)($|/)";

const layerRules = LAYERS.map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only the layers below it: ${LAYERS.slice(0, i).join(", ") || "(none)"}`,
  severity: "error",
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join("|")})/` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "browser-safe-no-node-modules",
      comment: "browser-safe layers import Node built-ins only from *.node.ts adapter files",
      severity: "error",
      from: { path: `^src/(${BROWSER_SAFE.join("|")})/`, pathNot: "\\.node\\.ts$" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "browser-safe-no-native-packages",
      comment: "browser-safe layers import native packages only from *.node.ts adapter files",
      severity: "error",
      from: { path: `^src/(${BROWSER_SAFE.join("|")})/`, pathNot: "\\.node\\.ts$" },
      to: { path: NATIVE_PACKAGES },
    },
    {
      name: "browser-safe-no-node-adapters",
      comment: "a browser-safe file never imports a *.node.ts adapter",
      severity: "error",
      from: { path: `^src/(${BROWSER_SAFE.join("|")})/`, pathNot: "\\.node\\.ts$" },
      to: { path: "\\.node\\.ts$" },
    },
    {
      name: "browser-entry-reaches-no-node-module",
      comment: "src/browser.ts (mammals/browser) must reach no Node-only module, however indirectly",
      severity: "error",
      from: { path: "^src/browser\\.ts$" },
      to: { reachable: true, path: [...NODE_ONLY, NATIVE_PACKAGES, "\\.node\\.ts$"] },
    },
    {
      name: "no-circular",
      comment: "modules import each other in a cycle: move the shared part down",
      severity: "error",
      from: { path: "^src/" },
      // Type-only imports vanish at run time; a cycle through them is a naming question, not a load-order one.
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "not-to-unresolvable",
      comment: "an import that resolves to nothing",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
