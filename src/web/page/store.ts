/**
 * What the page keeps on the device, in IndexedDB through `idb`: the memory's examples (raw images
 * and labels, see core/memory-file.ts for why not keys), the model the user chose or fine-tuned
 * (its bytes in the mammals model format), the similarity radius measured for each model, and the
 * upstream URL. One object store of a few keyed
 * records: each write replaces one record in one transaction, so a reload sees either the old or
 * the new state, never half of one.
 */
import { type IDBPDatabase, openDB } from "idb";
import type { StoredExample } from "../core/memory-file.js";

const DB_NAME = "mammals-web";
const STORE = "state";

export interface SavedModel {
  /** Where it came from, for the page ("shipped model fine-tuned", "my-model.mammals"). */
  name: string;
  bytes: Uint8Array;
}

export interface DeviceStore {
  loadExamples(): Promise<StoredExample[]>;
  saveExamples(examples: StoredExample[]): Promise<void>;
  loadModel(): Promise<SavedModel | undefined>;
  saveModel(m: SavedModel): Promise<void>;
  /** Radii measured per model (keyed by the model file's length and checksum), see core/proximity-rule.ts. */
  loadRadii(): Promise<Record<string, number>>;
  saveRadii(r: Record<string, number>): Promise<void>;
  loadUpstream(): Promise<string>;
  saveUpstream(url: string): Promise<void>;
  /** Forgets everything (the page's "reset"). */
  clear(): Promise<void>;
}

export async function openDeviceStore(): Promise<DeviceStore> {
  const db: IDBPDatabase = await openDB(DB_NAME, 1, {
    upgrade(d) {
      d.createObjectStore(STORE);
    },
  });
  return {
    loadExamples: async () => ((await db.get(STORE, "examples")) as StoredExample[] | undefined) ?? [],
    saveExamples: async (examples) => {
      await db.put(STORE, examples, "examples");
    },
    loadModel: async () => (await db.get(STORE, "model")) as SavedModel | undefined,
    saveModel: async (m) => {
      await db.put(STORE, m, "model");
    },
    loadRadii: async () => ((await db.get(STORE, "radii")) as Record<string, number> | undefined) ?? {},
    saveRadii: async (r) => {
      await db.put(STORE, r, "radii");
    },
    loadUpstream: async () => ((await db.get(STORE, "upstream")) as string | undefined) ?? "",
    saveUpstream: async (url) => {
      await db.put(STORE, url, "upstream");
    },
    clear: () => db.clear(STORE),
  };
}
