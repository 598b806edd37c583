/**
 * The real models behind a live IDN node: a catalog model id "TASK/SPEC" (the `measured`
 * catalog's form: "mnist/mlp:32", "fashion-mnist/int8(mlp:128)") names a dataset and a model spec;
 * the model is trained deterministically from a seed (the catalog's recipe: `epochs` epochs, Adam,
 * seed 1, int8 variants quantized from their float model) and kept in DIR/models/ as a model file,
 * so a node loads it from its own data directory (nothing is shared between nodes; a node on
 * another machine trains the same model from the same seed). Files are written atomically.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fail } from "../core/errors.js";
import { loadDataset, loadTestSplit } from "../data/datasets.node.js";
import type { Dataset, LabeledSplit } from "../data/types.js";
import type { Catalog } from "../idn/catalog.js";
import type { ModelHost } from "../idn/live/node.js";
import { quantizeModel } from "../models/int8/family.js";
import { readModelFile, writeModelFile } from "../models/io/files.node.js";
import "../models/all.js";
import { parseModelSpec, trainModel } from "../models/registry.js";
import type { Model } from "../models/types.js";

/** Datasets a catalog task may name. */
export const IDN_TASK_DATASETS = ["mnist", "fashion-mnist"] as const;

export interface CatalogModelRecipe {
  task: string;
  /** Float model spec ("mlp:32"). */
  spec: string;
  int8: boolean;
}

/** "mnist/int8(mlp:32)" -> {task: "mnist", spec: "mlp:32", int8: true}; a clear error otherwise. */
export function parseCatalogModelId(id: string): CatalogModelRecipe {
  const slash = id.indexOf("/");
  const task = slash > 0 ? id.slice(0, slash) : "";
  if (!(IDN_TASK_DATASETS as readonly string[]).includes(task))
    fail(
      "INVALID_ARGUMENT",
      `live IDN model "${id}": expected an id "TASK/SPEC" with TASK one of ${IDN_TASK_DATASETS.join(", ")} ` +
        "(the measured catalog's ids, e.g. mnist/mlp:32 or fashion-mnist/int8(mlp:128))",
    );
  let spec = id.slice(slash + 1);
  const int8 = /^int8\(.*\)$/.test(spec);
  if (int8) spec = spec.slice(5, -1);
  parseModelSpec(spec); // unknown families fail here, naming the spec
  return { task, spec, int8 };
}

export interface IdnModelStoreOptions {
  dataDir: string;
  /** Training epochs (default 8, the measured catalog's). */
  epochs?: number;
  seed?: number;
  log?: (line: string) => void;
}

export class IdnModelStore {
  readonly epochs: number;
  readonly seed: number;
  private readonly datasets = new Map<string, Dataset>();
  private readonly tests = new Map<string, LabeledSplit>();

  constructor(private readonly o: IdnModelStoreOptions) {
    this.epochs = o.epochs ?? 8;
    this.seed = o.seed ?? 1;
  }

  dataset(task: string): Dataset {
    let ds = this.datasets.get(task);
    if (!ds) this.datasets.set(task, (ds = loadDataset(task)));
    return ds;
  }

  /** The test split of a task (loaded alone when the training rows are not needed). */
  testSplit(task: string): LabeledSplit {
    const full = this.datasets.get(task);
    if (full) return full.test;
    let t = this.tests.get(task);
    if (!t) this.tests.set(task, (t = loadTestSplit(task).test));
    return t;
  }

  private path(r: CatalogModelRecipe): string {
    const name = `${r.int8 ? "int8_" : ""}${r.spec.replace(/[^A-Za-z0-9=.,_-]/g, "_").replace(/[:,]/g, "_")}`;
    return join(this.o.dataDir, "models", `${r.task}__${name}__e${this.epochs}__seed${this.seed}.mmdl`);
  }

  /** The model of a catalog id: from DIR/models/ when there, else trained (and stored). */
  obtain(id: string): Model {
    const r = parseCatalogModelId(id);
    const path = this.path(r);
    if (existsSync(path)) return readModelFile(path);
    const ds = this.dataset(r.task);
    let model: Model;
    if (r.int8) {
      const base = this.obtain(`${r.task}/${r.spec}`);
      model = quantizeModel(base, ds.train, { seed: this.seed });
    } else {
      const t0 = performance.now();
      model = trainModel(r.spec, ds.train, ds.numClasses, { epochs: this.epochs, seed: this.seed }).model;
      this.o.log?.(`trained ${id} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    mkdirSync(join(this.o.dataDir, "models"), { recursive: true });
    writeModelFile(path, model, { label: "--data-dir" });
    return model;
  }

  /** Trains every model of the catalog that is not stored yet. */
  prepare(catalog: Catalog): void {
    for (const m of catalog.models) this.obtain(m.id);
  }
}

/** A ModelHost over the store: loading reads the model file; memory is the model's bytes. */
export function createModelHost(catalog: Catalog, store: IdnModelStore): ModelHost {
  const loaded = new Map<number, Model>();
  for (const m of catalog.models) parseCatalogModelId(m.id); // bad ids fail before serving
  for (const task of catalog.tasks) store.testSplit(task); // before the first request, not during it
  return {
    async load(m) {
      const model = store.obtain(catalog.models[m].id);
      loaded.set(m, model);
      return model.bytes;
    },
    unload(m) {
      loaded.delete(m);
    },
    predict(m, example) {
      const model = loaded.get(m);
      if (!model) return fail("STATE", `model ${catalog.models[m].id} is not loaded here`);
      const test = store.testSplit(catalog.models[m].task);
      const i = example % test.n;
      const d = test.dim;
      const p = model.predictProba(test.x.subarray(i * d, (i + 1) * d));
      let best = 0;
      for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
      return { predicted: best, label: test.y[i] };
    },
  };
}
