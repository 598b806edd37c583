/**
 * `mammals train`: trains a model from a spec on a dataset's training split (a seeded validation
 * split held out for early stopping), evaluates it on the test split, measures single-example
 * latency and writes the model file.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type Command, Option } from "commander";
import { fail } from "../../core/errors.js";
import { loadDataset } from "../../data/datasets.node.js";
import { DEFAULT_TRAIN_OPTIONS, type LrSchedule, type TrainOptions } from "../../models/engine/trainer.js";
import { accuracy, latencyUsPerExample } from "../../models/evaluate.js";
import { writeModelFile } from "../../models/io/files.node.js";
import { describeModelFamilies, parseModelSpec, trainModel } from "../../models/registry.js";
import { bytesHuman, table } from "../format.js";
import { progress } from "../progress.js";

export interface TrainCommandResult {
  model: string;
  testAccuracy: number;
  bytes: number;
  usPerExample: number;
  trainS: number;
  dataset: string;
  out: string;
  fileBytes: number;
  epochsRun: number;
  bestEpoch: number;
  valAccuracy: number;
  stoppedEarly: boolean;
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

export function register(program: Command): void {
  const d = DEFAULT_TRAIN_OPTIONS;
  program
    .command("train")
    .description(
      "train a model (seeded validation split, early stopping keeping the best weights), report test " +
        "accuracy, bytes and single-example latency, and save the model file",
    )
    .requiredOption("--model <spec>", "model spec: logreg, mlp:256,128, mlp:32, ... (families listed below)")
    .option("--dataset <name>", "mnist (embedded), fashion-mnist, or a directory of IDX files", "mnist")
    .option("--data <dir>", "directory searched first for dataset files")
    .requiredOption("--out <file>", "where to write the model file (mammals binary model format)")
    .option("--epochs <n>", "maximum number of epochs", String(d.epochs))
    .option("--batch <n>", "minibatch size", String(d.batchSize))
    .option("--lr <x>", "initial learning rate", String(d.lr))
    .addOption(new Option("--optimizer <name>", "optimizer").choices(["adam", "sgd"]).default(d.optimizer))
    .option("--momentum <x>", "SGD momentum (ignored by adam)", String(d.momentum))
    .option(
      "--weight-decay <x>",
      "weight decay on weights (decoupled for adam, L2 for sgd)",
      String(d.weightDecay),
    )
    .addOption(
      new Option("--schedule <name>", "learning-rate schedule")
        .choices(["constant", "cosine", "step"])
        .default(d.schedule),
    )
    .option(
      "--val <fraction>",
      "fraction of the training split held out for early stopping (0 = none)",
      String(d.valFraction),
    )
    .option(
      "--patience <n>",
      "stop after this many epochs without a better validation accuracy (0 = never)",
      String(d.patience),
    )
    .option("--max-seconds <s>", "stop after the epoch that passes this training time (0 = no limit)", "0")
    .option("--seed <n>", "seed for initialisation, validation split and shuffles", String(d.seed))
    .option("--json", "print one JSON object on the last line")
    .addHelpText(
      "after",
      `\nModel families:\n  ${describeModelFamilies().join("\n  ")}\n\n` +
        "--json prints {model, testAccuracy, bytes, usPerExample, trainS, ...}: bytes = parameters as stored,\n" +
        "usPerExample = mean single-threaded predictProba latency over 2000 test rows, timed in chunks of 100,\n" +
        "each chunk's fastest of 5 timings (discounts preemption on a shared machine).\n\n" +
        "Examples:\n" +
        "  mammals train --model mlp:256,128 --dataset fashion-mnist --out fmnist-mlp.mammals\n" +
        "  mammals train --model mlp:32 --dataset mnist --out mlp32.mammals --epochs 10 --json\n" +
        "  mammals train --model logreg --dataset /data/idx --out lr.mammals --optimizer sgd --lr 0.05 --seed 7",
    )
    .action((opts) => {
      const spec = parseModelSpec(opts.model).spec;
      const options: Partial<TrainOptions> = {
        epochs: num(opts.epochs, "--epochs", 1, 10_000, true),
        batchSize: num(opts.batch, "--batch", 1, 1 << 20, true),
        lr: num(opts.lr, "--lr", Number.MIN_VALUE, 10),
        optimizer: opts.optimizer,
        momentum: num(opts.momentum, "--momentum", 0, 0.999999),
        weightDecay: num(opts.weightDecay, "--weight-decay", 0, 10),
        schedule: opts.schedule as LrSchedule,
        valFraction: num(opts.val, "--val", 0, 0.9),
        patience: num(opts.patience, "--patience", 0, 10_000, true),
        maxSeconds: num(opts.maxSeconds, "--max-seconds", 0, 1e9),
        seed: num(opts.seed, "--seed", -(2 ** 31), 2 ** 32, true),
      };
      const result = runTrain(spec, opts.dataset, opts.data, opts.out, options);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      process.stdout.write(
        `${table(
          ["model", "dataset", "test acc", "bytes", "µs/example", "train s", "epochs", "best", "val acc"],
          [
            [
              result.model,
              result.dataset,
              Number(result.testAccuracy.toFixed(4)),
              bytesHuman(result.bytes),
              Number(result.usPerExample.toFixed(2)),
              Number(result.trainS.toFixed(1)),
              result.epochsRun,
              result.bestEpoch,
              Number(result.valAccuracy.toFixed(4)),
            ],
          ],
        )}\n\nwrote ${result.out} (${bytesHuman(result.fileBytes)})\n`,
      );
    });
}

/** The command's work, callable from scripts and tests. */
export function runTrain(
  spec: string,
  datasetName: string,
  dataDir: string | undefined,
  out: string,
  options: Partial<TrainOptions>,
  showProgress = process.stderr.isTTY === true,
): TrainCommandResult {
  // Fail before the (long) training, not after it.
  const outDir = dirname(resolve(out));
  if (!existsSync(outDir) || !statSync(outDir).isDirectory())
    fail("BAD_FILE", `--out ${out}: directory ${outDir} does not exist`);
  const ds = loadDataset(datasetName, { dataDir });
  const o = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const nVal = o.valFraction > 0 ? Math.max(1, Math.round(ds.train.n * o.valFraction)) : 0;
  const rowsPerEpoch = ds.train.n - nVal;
  const bar = progress(o.epochs * rowsPerEpoch, `train ${spec}`, showProgress);
  let lastLabel = "";
  let lastRows = 0;
  const { model, report } = trainModel(spec, ds.train, ds.numClasses, {
    ...options,
    onBatch: (_epoch, rowsDone) => {
      bar.tick(rowsDone - lastRows, lastLabel);
      lastRows = rowsDone === rowsPerEpoch ? 0 : rowsDone;
    },
    onEpoch: (e) => {
      lastLabel = `epoch ${e.epoch} loss ${e.loss.toFixed(4)} val ${(e.valAccuracy * 100).toFixed(2)}%`;
    },
  });
  bar.stop();
  const testAccuracy = accuracy(model, ds.test);
  const usPerExample = latencyUsPerExample(model, ds.test);
  const fileBytes = writeModelFile(out, model);
  return {
    model: spec,
    testAccuracy,
    bytes: model.bytes,
    usPerExample,
    trainS: report.trainS,
    dataset: ds.name,
    out,
    fileBytes,
    epochsRun: report.epochs.length,
    bestEpoch: report.bestEpoch,
    valAccuracy: report.bestValAccuracy,
    stoppedEarly: report.stoppedEarly,
  };
}
