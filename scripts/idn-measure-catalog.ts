/**
 * Writes the `measured` IDN model catalog (src/idn/catalogs/measured.json) from this project's own
 * model families: each family is trained on the embedded MNIST digits (task "mnist") and, when
 * Debian's dataset-fashion-mnist package is installed, on Fashion-MNIST (task "fashion-mnist"); its
 * test accuracy, stored bytes and single-example CPU time (fastest of 5 passes, single thread) are
 * measured here, and int8 post-training quantizations are added as
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
import { type CatalogModel, catalogFromJson, type PerTier } from "../src/idn/catalog.js";
import { accuracy } from "../src/models/evaluate.js";
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
 * Process CPU time (user + system) of one single-example predictProba, fastest of 5 passes over
 * 1000 test rows after a warm-up: on a shared machine wall time also counts the time spent waiting
 * for a core, CPU time does not (scripts/bench-int8-projection.ts does the same).
 */
function cpuUsPerExample(model: Model, ds: Dataset): number {
  const n = Math.min(1000, ds.test.n);
  const d = ds.test.dim;
  const out = new Float32Array(model.numClasses);
  let sink = 0;
  const pass = () => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) sink += model.predictProba(ds.test.x.subarray(i * d, (i + 1) * d), out)[0];
    const c = process.cpuUsage(c0);
    return c.user + c.system;
  };
  pass();
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 5; k++) best = Math.min(best, pass());
  if (Number.isNaN(sink)) throw new Error(`${model.spec}: NaN probabilities`);
  return best / n;
}

/**
 * The same architecture does the same arithmetic on MNIST and Fashion-MNIST (784 inputs, 10
 * classes), so its time is measured on every task and the fastest figure kept.
 */
const fastestUs = new Map<string, number>();

function measureLatency(id: string, model: Model, ds: Dataset): void {
  const us = cpuUsPerExample(model, ds);
  fastestUs.set(id, Math.min(us, fastestUs.get(id) ?? Number.POSITIVE_INFINITY));
}

/** A catalog entry without capacities: the loader derives them (catalog.ts deriveCapacity). */
type MeasuredModel = Omit<CatalogModel, "capacity">;

function entry(task: string, id: string, model: Model, ds: Dataset, note: string): MeasuredModel {
  const acc = accuracy(model, ds.test);
  const us = fastestUs.get(id) as number;
  const latencyMs = {} as PerTier;
  for (const [t, f] of Object.entries(TIER_FACTOR))
    latencyMs[t as keyof PerTier] = Number(((us * f) / 1000).toPrecision(4));
  const m: MeasuredModel = {
    id: `${task}/${id}`,
    task,
    sizeMB: Number((model.bytes / 1e6).toPrecision(4)),
    accuracy: Number(acc.toFixed(4)),
    latencyMs,
    source: `${note}; measured: test accuracy on ${ds.test.n} rows, ${us.toFixed(1)} us CPU time per example, single-threaded (fastest over the tasks)`,
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

const file = {
  name: "measured",
  provenance:
    "this project's model families trained and timed by scripts/idn-measure-catalog.ts; edge tier = measured single-example CPU time, " +
    "other tiers scaled (device x4, access x2, regional/cloud x0.5); capacities derived by the loader (concurrency x slot / latency)",
  command: `npx tsx scripts/idn-measure-catalog.ts ${process.argv.slice(2).join(" ")}`.trim(),
  machine: `${cpus()[0]?.model ?? "unknown CPU"} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()}, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  models,
};
const catalog = catalogFromJson(file, "measured catalog"); // validates what is about to be written
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(file, null, 1)}\n`);
process.stderr.write(`wrote ${out}: ${models.length} models, ${catalog.tasks.length} tasks\n`);
