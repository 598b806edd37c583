/**
 * `mammals finetune`: on-device adaptation under a memory budget. Loads a trained model (optionally
 * in its int8 form, as deployed), shifts a dataset (thicker strokes, rotation, contrast), and for
 * each update scheme: checks the peak memory of one training step against --budget-kb (refusing the
 * scheme and saying by how much when it does not fit), fine-tunes a fresh copy of the model on a
 * sample of shifted training rows, and reports accuracy on the shifted test split before and after
 * (and on the original test split, to show forgetting) with the step's peak bytes by category.
 */
import { writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { fail, isMammalsError } from "../../core/errors.js";
import { loadDataset } from "../../data/datasets.node.js";
import type { TuneOptimizer } from "../../models/finetune/finetuner.js";
import {
  type FinetuneResult,
  finetuneModel,
  modelAccuracy,
  quantizeForDevice,
  sampleRows,
} from "../../models/finetune/run.js";
import { SCHEME_HELP } from "../../models/finetune/scheme.js";
import { shiftSplit } from "../../models/finetune/shift.js";
import { readModelFile } from "../../models/io/files.node.js";
import { isStorable, saveModel } from "../../models/registry.js";
import type { Model } from "../../models/types.js";
import { bytesHuman, table } from "../format.js";
import { progress } from "../progress.js";

export interface FinetuneRow extends Partial<FinetuneResult> {
  scheme: string;
  status: "ok" | "refused";
  /** Set when refused: what the step would need and the overshoot. */
  overBytes?: number;
  message?: string;
  shiftedAfter?: number;
  originalAfter?: number;
}

export interface FinetuneCommandResult {
  model: string;
  int8: boolean;
  dataset: string;
  shift: string;
  budgetBytes: number;
  adaptRows: number;
  epochs: number;
  batch: number;
  lr: number;
  before: { shifted: number; original: number };
  results: FinetuneRow[];
}

function num(s: string, flag: string, min: number, max: number, integer = false): number {
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
    fail(
      "INVALID_ARGUMENT",
      `${flag}: expected ${integer ? "an integer" : "a number"} in [${min}, ${max}], got "${s}"`,
    );
  return n;
}

export interface FinetuneCommandOptions {
  input: string;
  dataset: string;
  dataDir?: string;
  shift: string;
  schemes: string[];
  budgetBytes: number;
  int8: boolean;
  calib: number;
  adapt: number;
  epochs: number;
  batch: number;
  lr: number;
  optimizer: TuneOptimizer | "auto";
  qas: boolean;
  seed: number;
  out?: string;
  showProgress?: boolean;
}

/** The command's work, callable from scripts and tests. */
export function runFinetune(o: FinetuneCommandOptions): FinetuneCommandResult {
  if (o.schemes.length === 0) fail("INVALID_ARGUMENT", "--update: expected at least one scheme");
  if (o.out && o.schemes.length !== 1) fail("INVALID_ARGUMENT", "--out: give exactly one --update scheme");
  const ds = loadDataset(o.dataset, { dataDir: o.dataDir });
  if (!ds.shape)
    fail("INVALID_ARGUMENT", `${ds.name}: shifts need image data; the rows are not square images`);
  const shape = ds.shape;
  const shiftedTest = shiftSplit(ds.test, shape, o.shift);
  const adapt = shiftSplit(sampleRows(ds.train, o.adapt, o.seed), shape, o.shift);
  const fresh = (): Model => {
    const m = readModelFile(o.input);
    if (m.inputDim !== ds.train.dim)
      fail(
        "DIMENSION_MISMATCH",
        `${o.input}: the model takes ${m.inputDim} features, ${ds.name} has ${ds.train.dim}`,
      );
    return o.int8 ? quantizeForDevice(m, ds.train, o.calib) : m;
  };
  const base = fresh();
  if (o.out && !isStorable(base))
    fail("UNSUPPORTED", `--out: a ${base.kind} model cannot be saved in the mammals format; drop --out`);
  const before = { shifted: modelAccuracy(base, shiftedTest), original: modelAccuracy(base, ds.test) };
  const show = o.showProgress ?? process.stderr.isTTY === true;
  const results: FinetuneRow[] = [];
  for (const scheme of o.schemes) {
    const model = fresh();
    const batches = o.epochs * Math.ceil(adapt.n / o.batch);
    const bar = progress(batches, `finetune ${scheme}`, show);
    let r: FinetuneResult;
    try {
      r = finetuneModel(model, adapt, {
        ...o,
        scheme,
        budgetBytes: o.budgetBytes,
        onBatch: () => bar.tick(),
      });
    } catch (e) {
      bar.stop();
      // One scheme over budget is the user's error; in a comparison it is a row of the table.
      if (!isMammalsError(e, "CAPACITY") || o.schemes.length === 1) throw e;
      const x = e as unknown as { peakBytes: number; overBytes: number };
      results.push({
        scheme,
        status: "refused",
        peakBytes: x.peakBytes,
        overBytes: x.overBytes,
        message: e.message,
      });
      continue;
    }
    bar.stop();
    results.push({
      ...r,
      status: "ok",
      shiftedAfter: modelAccuracy(model, shiftedTest),
      originalAfter: modelAccuracy(model, ds.test),
    });
    if (o.out) writeFileSync(o.out, saveModel(model));
  }
  return {
    model: base.spec,
    int8: o.int8,
    dataset: ds.name,
    shift: o.shift,
    budgetBytes: o.budgetBytes,
    adaptRows: adapt.n,
    epochs: o.epochs,
    batch: o.batch,
    lr: o.lr,
    before,
    results,
  };
}

const pct = (v: number | undefined) => (v === undefined ? undefined : Number((100 * v).toFixed(2)));

export function register(program: Command): void {
  program
    .command("finetune")
    .description(
      "adapt a trained model to a shifted dataset within a memory budget: per update scheme, the peak\n" +
        "bytes of one training step and the accuracy before and after",
    )
    .requiredOption("--in <file>", "trained model file (mlp / logreg, float or int8)")
    .option("--dataset <name>", "mnist (embedded), fashion-mnist, or a directory of IDX files", "mnist")
    .option("--data <dir>", "directory searched first for dataset files")
    .option(
      "--shift <spec>",
      "distribution shift: thicken:r=1, rotate:deg=30, contrast:gain=0.5,offset=0.3",
      "thicken:r=1",
    )
    .option(
      "--update <scheme>",
      "update scheme, required (repeat the flag to compare several)",
      (v: string, a: string[]) => [...a, v],
      [],
    )
    .option("--budget-kb <n>", "memory budget of one training step, in KB (1024 bytes)", "256")
    .option("--int8", "fine-tune the model's int8 form (quantized here, QAS gradient scaling)")
    .option("--calib <n>", "original training rows used to calibrate int8 activation scales", "1000")
    .option("--no-qas", "int8: turn quantization-aware gradient scaling off (to see what it buys)")
    .option("--adapt <n>", "shifted training rows available on the device", "2000")
    .option("--epochs <n>", "passes over the adaptation rows", "5")
    .option("--batch <n>", "minibatch size (examples go one at a time; gradients accumulate)", "16")
    .option(
      "--lr <x>",
      "learning rate (QAS makes int8 steps equal to float steps, so one lr fits both)",
      "0.1",
    )
    .addOption(
      new Option("--optimizer <name>", "auto = SGD with momentum if it fits the budget, else plain SGD")
        .choices(["auto", "sgd", "momentum"])
        .default("auto"),
    )
    .option("--seed <n>", "seed for the adaptation sample and shuffles", "1")
    .option("--out <file>", "write the fine-tuned model (one scheme only; float models)")
    .option("--json", "print one JSON object on the last line")
    .addHelpText(
      "after",
      `\nUpdate schemes:\n  ${SCHEME_HELP.join("\n  ")}\n\n` +
        "Peak bytes = every buffer one training step uses, all allocated before training: parameters\n" +
        "(int8 weights 1 byte each, plus float32 masters of updated int8 entries), activations kept for\n" +
        "the backward pass (ReLU masks are bits), gradients, optimizer state and column indices.\n" +
        "A single --update over budget is refused with an error saying by how much; with several, the\n" +
        "refused ones are rows of the table.\n\n" +
        "Examples:\n" +
        "  mammals finetune --in mlp128.mammals --int8 --update sparse:bias=2,channels=0.125,weights=all --budget-kb 256\n" +
        "  mammals finetune --in mlp128.mammals --int8 --budget-kb 4096 --update full --update bias \\\n" +
        "      --update last:1 --update sparse:bias=2,channels=0.125,weights=all --json\n" +
        "  mammals finetune --in fm.mammals --dataset fashion-mnist --shift rotate:deg=20 --update bias --budget-kb 512",
    )
    .action((opts) => {
      const result = runFinetune({
        input: opts.in,
        dataset: opts.dataset,
        dataDir: opts.data,
        shift: opts.shift,
        schemes: opts.update,
        budgetBytes: Math.floor(num(opts.budgetKb, "--budget-kb", 0, 1e9) * 1024),
        int8: opts.int8 === true,
        calib: num(opts.calib, "--calib", 1, 1e7, true),
        adapt: num(opts.adapt, "--adapt", 1, 1e7, true),
        epochs: num(opts.epochs, "--epochs", 0, 10_000, true),
        batch: num(opts.batch, "--batch", 1, 1 << 20, true),
        lr: num(opts.lr, "--lr", Number.MIN_VALUE, 100),
        optimizer: opts.optimizer,
        qas: opts.qas !== false,
        seed: num(opts.seed, "--seed", -(2 ** 31), 2 ** 32, true),
        out: opts.out,
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const kb = (v: number | undefined) => (v === undefined ? undefined : Number((v / 1024).toFixed(1)));
      const rows = result.results.map((r) => [
        r.scheme,
        r.status === "ok" ? r.optimizer : `refused: over by ${bytesHuman(r.overBytes ?? 0)}`,
        r.updatedParams,
        kb(r.peakBytes),
        kb(r.memory?.parameters),
        kb(r.memory?.activations),
        kb(r.memory?.gradients),
        kb(r.memory?.optimizer),
        kb(r.memory?.indices),
        pct(result.before.shifted),
        pct(r.shiftedAfter),
        pct(r.originalAfter),
        r.trainS === undefined ? undefined : Number(r.trainS.toFixed(1)),
      ]);
      process.stdout.write(
        `${result.model}${result.int8 ? " (int8)" : ""} on ${result.dataset}, shift ${result.shift}, ` +
          `${result.adaptRows} adaptation rows, budget ${bytesHuman(result.budgetBytes)}; ` +
          `original test accuracy before: ${pct(result.before.original)}%\n\n` +
          `${table(
            [
              "scheme",
              "optimizer",
              "updated",
              "peak KB",
              "params",
              "acts",
              "grads",
              "opt",
              "idx",
              "before %",
              "after %",
              "orig after %",
              "s",
            ],
            rows,
          )}\n`,
      );
    });
}
