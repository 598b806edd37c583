/**
 * `mammals finetune`: flags -> src/jobs/finetune.node.ts `runFinetune` (on-device adaptation of a
 * trained model to a shifted dataset under a memory budget, one row per update scheme) -> a table
 * or JSON.
 */
import { type Command, Option } from "commander";
import { bytesHuman, table } from "../../core/format.js";
import { runFinetune } from "../../jobs/finetune.node.js";
import { parseInteger, parseNumber, parseSeed, parseSpecList } from "../../jobs/parse.js";
import { SCHEME_HELP } from "../../models/finetune/scheme.js";
import { dataFlag, datasetFlag, jsonFlag, seedFlag } from "../flags.js";
import { print, printJson } from "../output.js";
import { withProgress } from "../progress.js";

const pct = (v: number | undefined) => (v === undefined ? undefined : Number((100 * v).toFixed(2)));

export function register(program: Command): void {
  program
    .command("finetune")
    .description(
      "adapt a trained model to a shifted dataset within a memory budget: per update scheme, the peak\n" +
        "bytes of one training step and the accuracy before and after",
    )
    .requiredOption("--in <file>", "trained model file (mlp / logreg, float or int8)")
    .addOption(datasetFlag())
    .addOption(dataFlag())
    .option(
      "--shift <spec>",
      "distribution shift: thicken:r=1, rotate:deg=30, contrast:gain=0.5,offset=0.3",
      "thicken:r=1",
    )
    .option(
      "--update <schemes>",
      "update schemes, required: comma-separated specs, or repeat the flag (several are compared)",
      (v: string, a: string[]) => [...a, ...parseSpecList(v, "--update")],
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
    .addOption(seedFlag("seed for the adaptation sample and shuffles"))
    .option("--out <file>", "write the fine-tuned model (one scheme only; float models)")
    .addOption(jsonFlag())
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
        "  mammals finetune --in mlp128.mammals --int8 --budget-kb 4096 \\\n" +
        "      --update full,bias,last:1,sparse:bias=2,channels=0.125,weights=all --json\n" +
        "  mammals finetune --in fm.mammals --dataset fashion-mnist --shift rotate:deg=20 --update bias --budget-kb 512",
    )
    .action(async (opts) => {
      const options = {
        input: opts.in,
        dataset: opts.dataset,
        dataDir: opts.data,
        shift: opts.shift,
        schemes: opts.update,
        budgetBytes: Math.floor(parseNumber(opts.budgetKb, "--budget-kb", { min: 0, max: 1e9 }) * 1024),
        int8: opts.int8 === true,
        calib: parseInteger(opts.calib, "--calib", 1, 1e7),
        adapt: parseInteger(opts.adapt, "--adapt", 1, 1e7),
        epochs: parseInteger(opts.epochs, "--epochs", 0, 10_000),
        batch: parseInteger(opts.batch, "--batch", 1, 1 << 20),
        lr: parseNumber(opts.lr, "--lr", { min: Number.MIN_VALUE, max: 100 }),
        optimizer: opts.optimizer,
        qas: opts.qas !== false,
        seed: parseSeed(opts.seed),
        out: opts.out,
      };
      const result = await withProgress((onProgress) => runFinetune(options, onProgress));
      if (opts.json) return printJson(result);
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
      print(
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
