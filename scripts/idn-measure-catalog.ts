/**
 * Writes the `measured` IDN model catalog (src/idn/catalogs/measured.json) from this project's own
 * model families: each family is trained on the embedded MNIST digits (task "mnist") and, when
 * Debian's dataset-fashion-mnist package is installed, on Fashion-MNIST (task "fashion-mnist"); its
 * test accuracy, stored bytes and single-example latency (models/evaluate.ts: fastest of 5 timed
 * chunks, single thread) are measured here, and int8 post-training quantizations are added as
 * smaller, slightly less accurate variants.
 *
 *   npx tsx scripts/idn-measure-catalog.ts [--epochs 8] [--seed 1] [--out src/idn/catalogs/measured.json]
 *
 * The measured latency is the "edge" tier (a server CPU like this machine's); the other tiers are
 * scaled by fixed factors ([D], docs/idn.md): device x4, access x2, regional and cloud x0.5. The
 * file records the command, the machine and the date.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, platform, totalmem } from "node:os";
import { dirname } from "node:path";
import { DEBIAN_FASHION_DIR, loadDataset } from "../src/data/datasets.node.js";
import type { Dataset } from "../src/data/types.js";
import {
  type Catalog,
  type CatalogModel,
  catalogToJson,
  deriveCapacity,
  type PerTier,
  validateCatalog,
} from "../src/idn/catalog.js";
import { accuracy, latencyUsPerExample } from "../src/models/evaluate.js";
import { quantizeModel } from "../src/models/int8/family.js";
import { trainModel } from "../src/models/registry.js";
import type { Model } from "../src/models/types.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const epochs = Number(arg("epochs", "8"));
const seed = Number(arg("seed", "1"));
const out = arg("out", "src/idn/catalogs/measured.json");
/** Families trained per task; int8 variants are added for the ones marked. */
const FAMILIES: Array<{ spec: string; int8: boolean }> = [
  { spec: "logreg", int8: false },
  { spec: "mlp:32", int8: true },
  { spec: "mlp:128", int8: true },
  { spec: "mlp:256,128", int8: true },
  { spec: "mlp:512,256", int8: true },
];
const TIER_FACTOR: PerTier = { device: 4, access: 2, edge: 1, regional: 0.5, cloud: 0.5 };

/**
 * The same architecture does the same arithmetic on MNIST and Fashion-MNIST (784 inputs, 10
 * classes), so its latency is measured on every task and the fastest figure kept: on a shared
 * machine the slower figures measure the other tenants, not the model.
 */
const fastestUs = new Map<string, number>();

function measureLatency(id: string, model: Model, ds: Dataset): void {
  const us = latencyUsPerExample(model, ds.test, { examples: 1000, repeats: 9 });
  fastestUs.set(id, Math.min(us, fastestUs.get(id) ?? Number.POSITIVE_INFINITY));
}

function entry(task: string, id: string, model: Model, ds: Dataset, note: string): CatalogModel {
  const acc = accuracy(model, ds.test);
  const us = fastestUs.get(id) as number;
  const latencyMs = {} as PerTier;
  for (const [t, f] of Object.entries(TIER_FACTOR))
    latencyMs[t as keyof PerTier] = Number(((us * f) / 1000).toPrecision(4));
  const m: CatalogModel = {
    id: `${task}/${id}`,
    task,
    sizeMB: Number((model.bytes / 1e6).toPrecision(4)),
    accuracy: Number(acc.toFixed(4)),
    latencyMs,
    capacity: deriveCapacity(latencyMs),
    source: `${note}; measured: test accuracy on ${ds.test.n} rows, ${us.toFixed(1)} us/example single-threaded (fastest over the tasks)`,
  };
  process.stderr.write(`${m.id}: ${(m.accuracy * 100).toFixed(2)}% ${m.sizeMB} MB ${us.toFixed(1)} us\n`);
  return m;
}

const tasks: Array<{ task: string; ds: Dataset }> = [{ task: "mnist", ds: loadDataset("mnist") }];
if (existsSync(DEBIAN_FASHION_DIR)) tasks.push({ task: "fashion-mnist", ds: loadDataset("fashion-mnist") });

const started = Date.now();
const trained: Array<{ task: string; ds: Dataset; id: string; model: Model; note: string }> = [];
for (const { task, ds } of tasks) {
  for (const { spec, int8 } of FAMILIES) {
    const { model } = trainModel(spec, ds.train, ds.numClasses, { epochs, seed });
    trained.push({
      task,
      ds,
      id: spec,
      model,
      note: `${spec} trained ${epochs} epochs (Adam, seed ${seed}) on ${ds.name} train (${ds.train.n} rows)`,
    });
    if (int8)
      trained.push({
        task,
        ds,
        id: `int8(${spec})`,
        model: quantizeModel(model, ds.train, { seed }),
        note: `int8 post-training quantization of ${spec}`,
      });
  }
}
for (const t of trained) measureLatency(t.id, t.model, t.ds);
const models = trained.map((t) => entry(t.task, t.id, t.model, t.ds, t.note));

const catalog: Catalog = validateCatalog({
  name: "measured",
  provenance:
    "this project's model families trained and timed by scripts/idn-measure-catalog.ts; edge tier = measured single-example latency, " +
    "other tiers scaled (device x4, access x2, regional/cloud x0.5); capacity = concurrency x 1000 ms / latency",
  command: `npx tsx scripts/idn-measure-catalog.ts ${process.argv.slice(2).join(" ")}`.trim(),
  machine: `${cpus()[0]?.model ?? "unknown CPU"} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()}, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  models,
  tasks: [],
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, catalogToJson(catalog));
process.stderr.write(`wrote ${out}: ${models.length} models, ${catalog.tasks.length} tasks\n`);
