/**
 * Trained models kept between runs: `obtainModel` loads a model from the cache directory when one
 * trained with the same spec, dataset, excluded classes and seed is there, and otherwise trains it
 * (reporting progress) and stores it. Files are written atomically (data/atomic-write.node.ts), so an
 * interrupted run or a full disk never leaves a half-written model behind to be loaded later, nor
 * a temporary file, and the previously cached model stays intact.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AtomicWriteOptions } from "../data/atomic-write.node.js";
import type { Dataset } from "../data/types.js";
import { takeRows } from "../data/types.js";
import { accuracy } from "../models/evaluate.js";
import { readModelFile, writeModelFile } from "../models/io/files.node.js";
import "../models/all.js";
import { parseModelSpec, trainModel } from "../models/registry.js";
import type { Model } from "../models/types.js";
import type { OnProgress } from "./progress.js";

export interface ObtainModelOptions {
  spec: string;
  dataset: Dataset;
  /** Classes removed from the training split (the model never sees them). */
  excludeClasses: number[];
  seed: number;
  cacheDir: string;
  retrain?: boolean;
  log?: (line: string) => void;
  /** Training rows done in the current epoch (phase "train SPEC", note "epoch N"). */
  onProgress?: OnProgress;
  /** System calls of the cache write, replaced by fault-injection tests (a full disk). */
  io?: AtomicWriteOptions["io"];
}

export interface ObtainedModel {
  model: Model;
  /** Accuracy on the whole test split (excluded classes included). */
  testAccuracy: number;
  /** "cache" or "trained in N s". */
  from: string;
  path: string;
}

export async function obtainModel(o: ObtainModelOptions): Promise<ObtainedModel> {
  const spec = parseModelSpec(o.spec).spec;
  const excluded = [...o.excludeClasses].sort((a, b) => a - b);
  const name = [
    o.dataset.name,
    `${o.dataset.train.n}x${o.dataset.train.dim}`,
    spec.replace(/[^A-Za-z0-9=.,_-]/g, "_").replace(/[:,]/g, "_"),
    excluded.length ? `without-${excluded.join("-")}` : "all",
    `seed${o.seed}`,
  ].join("__");
  const path = join(o.cacheDir, `${name}.mmdl`);
  if (!o.retrain && existsSync(path)) {
    const model = readModelFile(path);
    return { model, testAccuracy: accuracy(model, o.dataset.test), from: "cache", path };
  }
  const train = o.dataset.train;
  const keep: number[] = [];
  for (let i = 0; i < train.n; i++) if (!excluded.includes(train.y[i])) keep.push(i);
  const split = excluded.length ? takeRows(train, keep) : train;
  o.log?.(
    `training ${spec} on ${split.n} rows of ${o.dataset.name}${excluded.length ? ` (without class ${excluded.join(", ")})` : ""}...`,
  );
  const t0 = performance.now();
  const { model } = trainModel(spec, split, o.dataset.numClasses, {
    seed: o.seed,
    onBatch: (epoch, done, total) => o.onProgress?.(done, total, `train ${spec}`, `epoch ${epoch}`),
  });
  const seconds = (performance.now() - t0) / 1000;
  mkdirSync(o.cacheDir, { recursive: true });
  writeModelFile(path, model, { label: "--cache", io: o.io });
  return {
    model,
    testAccuracy: accuracy(model, o.dataset.test),
    from: `trained in ${seconds.toFixed(1)} s`,
    path,
  };
}
