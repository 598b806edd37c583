/**
 * `mammals train`: flags -> src/jobs/train.node.ts `runTrain` (train a model from a spec with a
 * seeded validation split and early stopping, measure test accuracy and single-example latency,
 * write the model file) -> a table or JSON.
 */
import { type Command, Option } from "commander";
import { bytesHuman, table } from "../../core/format.js";
import { parseInteger, parseNumber, parseSeed } from "../../jobs/parse.js";
import { runTrain } from "../../jobs/train.node.js";
import { DEFAULT_TRAIN_OPTIONS, type LrSchedule } from "../../models/engine/trainer.js";
import { describeModelFamilies } from "../../models/registry.js";
import { dataFlag, datasetFlag, jsonFlag, seedFlag } from "../flags.js";
import { print, printJson } from "../output.js";
import { withProgress } from "../progress.js";

export function register(program: Command): void {
  const d = DEFAULT_TRAIN_OPTIONS;
  program
    .command("train")
    .description(
      "train a model (seeded validation split, early stopping keeping the best weights), report test " +
        "accuracy, bytes and single-example latency, and save the model file",
    )
    .requiredOption("--model <spec>", "model spec: logreg, mlp:256,128, mlp:32, ... (families listed below)")
    .addOption(datasetFlag())
    .addOption(dataFlag())
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
    .addOption(seedFlag("seed for initialisation, validation split and shuffles", String(d.seed)))
    .addOption(jsonFlag())
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
    .action(async (opts) => {
      const train = {
        epochs: parseInteger(opts.epochs, "--epochs", 1, 10_000),
        batchSize: parseInteger(opts.batch, "--batch", 1, 1 << 20),
        lr: parseNumber(opts.lr, "--lr", { min: Number.MIN_VALUE, max: 10 }),
        optimizer: opts.optimizer,
        momentum: parseNumber(opts.momentum, "--momentum", { min: 0, max: 0.999999 }),
        weightDecay: parseNumber(opts.weightDecay, "--weight-decay", { min: 0, max: 10 }),
        schedule: opts.schedule as LrSchedule,
        valFraction: parseNumber(opts.val, "--val", { min: 0, max: 0.9 }),
        patience: parseInteger(opts.patience, "--patience", 0, 10_000),
        maxSeconds: parseNumber(opts.maxSeconds, "--max-seconds", { min: 0, max: 1e9 }),
        seed: parseSeed(opts.seed),
      };
      const r = await withProgress((onProgress) =>
        runTrain(
          { model: opts.model, dataset: opts.dataset, dataDir: opts.data, out: opts.out, train },
          onProgress,
        ),
      );
      if (opts.json) return printJson(r);
      print(
        `${table(
          ["model", "dataset", "test acc", "bytes", "µs/example", "train s", "epochs", "best", "val acc"],
          [
            [
              r.model,
              r.dataset,
              Number(r.testAccuracy.toFixed(4)),
              bytesHuman(r.bytes),
              Number(r.usPerExample.toFixed(2)),
              Number(r.trainS.toFixed(1)),
              r.epochsRun,
              r.bestEpoch,
              Number(r.valAccuracy.toFixed(4)),
            ],
          ],
        )}\n\nwrote ${r.out} (${bytesHuman(r.fileBytes)})`,
      );
    });
}
