/**
 * The main job (`mammals demo`) with its files: the dataset by name, the small and cloud models
 * from the trained-model cache (trained on first use), the streams played through every system
 * (demo.ts `runDemo`) and the HTML report written (demo-report.ts).
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkOutputDir, cleanStaleTempFiles, writeFileAtomic } from "../data/atomic-write.node.js";
import { loadDataset } from "../data/datasets.node.js";
import type { Dataset } from "../data/types.js";
import { type DemoOptions, type DemoRow, type DemoRun, demoClasses, runDemo } from "./demo.js";
import { demoReportHtml } from "./demo-report.js";
import { type ObtainedModel, obtainModel } from "./model-cache.node.js";
import type { OnProgress } from "./progress.js";

export type DemoJobOptions = Omit<DemoOptions, "dataset" | "small" | "cloud" | "onProgress"> & {
  /** mnist (embedded), fashion-mnist, or a directory of IDX files. */
  dataset: string;
  /** Directory searched first for dataset files. */
  dataDir?: string;
  /** Spec of the small model (trained without the unseen class). */
  small: string;
  /** Spec of the cloud model (trained on every class). */
  cloud: string;
  /** Where trained models are kept between runs. */
  cacheDir: string;
  /** Train the models even if the cache has them. */
  retrain?: boolean;
  /** Directory the HTML report (index.html) is written to. */
  outDir: string;
};

export interface DemoJobHooks {
  /** Training and playing progress (phases "train SPEC" and "demo"). */
  onProgress?: OnProgress;
  /** What the job is doing, one line at a time (the dataset, models being trained). */
  log?: (line: string) => void;
}

export interface DemoJobResult {
  dataset: Dataset;
  /** Classes of the local mix, and the one the small model never saw. */
  mix: number[];
  unseen: number;
  small: ObtainedModel;
  cloud: ObtainedModel;
  runs: DemoRun[];
  rows: DemoRow[];
  /** Wall time of the whole job, model loading or training included. */
  seconds: number;
  /** Absolute path of the HTML report. */
  reportPath: string;
}

export async function runDemoJob(o: DemoJobOptions, hooks: DemoJobHooks = {}): Promise<DemoJobResult> {
  const { onProgress, log } = hooks;
  // Both directories checked before the dataset is loaded and models trained: a file in the way
  // fails in milliseconds, not as an EEXIST after the whole run.
  checkOutputDir(o.outDir, { label: "--out" });
  checkOutputDir(o.cacheDir, { label: "--cache" });
  // Temporary model files of killed runs (their process gone) are removed before new ones are made.
  cleanStaleTempFiles(o.cacheDir);
  const dataset = loadDataset(o.dataset, { dataDir: o.dataDir });
  const { mix, unseen } = demoClasses(dataset);
  log?.(
    `demo on ${dataset.name} (${dataset.source}): mix ${mix.join(",")}; the small model never sees class ${unseen}`,
  );
  const t0 = performance.now();
  const cached = {
    dataset,
    seed: o.seed,
    cacheDir: o.cacheDir,
    retrain: o.retrain === true,
    log,
    onProgress,
  };
  const small = await obtainModel({ ...cached, spec: o.small, excludeClasses: [unseen] });
  const cloud = await obtainModel({ ...cached, spec: o.cloud, excludeClasses: [] });
  const runs = await runDemo({ ...o, dataset, small: small.model, cloud: cloud.model, onProgress });
  const seconds = (performance.now() - t0) / 1000;
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true });
  const reportPath = join(outDir, "index.html");
  writeFileAtomic(
    reportPath,
    demoReportHtml(runs, { dataset: dataset.name, small: small.model.spec, cloud: cloud.model.spec, unseen }),
    { label: "--out" },
  );
  return { dataset, mix, unseen, small, cloud, runs, rows: runs.map((r) => r.row), seconds, reportPath };
}
