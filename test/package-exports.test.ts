/** The package root and the browser entry export what the README's example uses. */
import { describe, expect, it } from "vitest";
import * as browser from "../src/browser.js";
import * as root from "../src/node.js";

const README_NAMES = [
  "createIndex",
  "loadDataset",
  "trainModel",
  "LabeledMemory",
  "MemoryAugmentedModel",
  "EdgeNode",
  "InProcessUpstream",
];

describe("package entries", () => {
  it("the root exports the README example's names, and hnsw is registered", () => {
    for (const n of README_NAMES) expect(typeof (root as Record<string, unknown>)[n], n).toBe("function");
    const index = root.createIndex("hnsw:M=8", 4);
    expect(index.kind).toBe("hnsw");
  });

  it("the browser entry has the browser-safe part and no native index", () => {
    for (const n of README_NAMES.filter((x) => x !== "loadDataset"))
      expect(typeof (browser as Record<string, unknown>)[n], n).toBe("function");
    expect((browser as Record<string, unknown>).loadDataset).toBeUndefined();
    expect((browser as Record<string, unknown>).HnswIndex).toBeUndefined();
  });
});
