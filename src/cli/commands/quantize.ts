/**
 * `mammals quantize`: flags -> src/jobs/quantize.node.ts `runQuantize` (int8 post-training
 * quantization of a saved float model: size, test accuracy and single-example latency before and
 * after; the int8 model file written) -> a table or JSON.
 */
import { type Command, Option } from "commander";
import { bytesHuman, table } from "../../core/format.js";
import { parseInteger, parseNumber, parseSeed } from "../../jobs/parse.js";
import { runQuantize } from "../../jobs/quantize.node.js";
import { DEFAULT_CALIBRATION_ROWS } from "../../models/int8/family.js";
import { dataFlag, datasetFlag, jsonFlag, seedFlag } from "../flags.js";
import { print, printJson } from "../output.js";
import { withProgress } from "../progress.js";

export function register(program: Command): void {
  program
    .command("quantize")
    .description(
      "int8 post-training quantization of a float model file (logreg, mlp, projection): size, test accuracy and latency before and after",
    )
    .requiredOption("--in <file>", "float model file written by `mammals train`")
    .requiredOption("--out <file>", "where to write the int8 model file")
    .addOption(
      datasetFlag(
        "dataset for calibration (train split) and accuracy (test split): mnist, fashion-mnist or a directory",
      ),
    )
    .addOption(dataFlag())
    .option(
      "--calib-rows <n>",
      "training rows sampled (seeded) to calibrate the activation scales",
      String(DEFAULT_CALIBRATION_ROWS),
    )
    .addOption(
      new Option("--calibration <method>", "activation range: max |activation|, or a percentile of it")
        .choices(["max", "percentile"])
        .default("max"),
    )
    .option(
      "--percentile <p>",
      "percentile of |activation| mapped to 127 with --calibration percentile",
      "99.99",
    )
    .addOption(seedFlag("seed of the calibration sample"))
    .addOption(jsonFlag())
    .addHelpText(
      "after",
      "\n--json prints {model, quantized, floatBytes, int8Bytes, compression, floatAccuracy, int8Accuracy,\n" +
        "accuracyDropPoints, floatUsPerExample, int8UsPerExample, ...}; bytes = parameters as stored (int8 weights\n" +
        "1 byte each, plus float32 scales and int32 biases); µs = single-example predictProba, single thread.\n\n" +
        "Examples:\n" +
        "  mammals train --model mlp:256,128 --dataset fashion-mnist --out mlp.mammals\n" +
        "  mammals quantize --in mlp.mammals --out mlp-int8.mammals --dataset fashion-mnist\n" +
        "  mammals quantize --in proj.mammals --out proj-int8.mammals --calibration percentile --percentile 99.9 --json",
    )
    .action(async (opts) => {
      const options = {
        input: opts.in,
        output: opts.out,
        dataset: opts.dataset,
        dataDir: opts.data,
        calibRows: parseInteger(opts.calibRows, "--calib-rows", 1),
        calibration: opts.calibration,
        percentile: parseNumber(opts.percentile, "--percentile", { min: Number.MIN_VALUE, max: 100 }),
        seed: parseSeed(opts.seed),
      };
      const r = await withProgress((onProgress) => runQuantize(options, onProgress));
      if (opts.json) return printJson(r);
      const row = (name: string, spec: string, bytes: number, acc: number, us: number) => [
        name,
        spec,
        bytesHuman(bytes),
        Number((100 * acc).toFixed(2)),
        Number(us.toFixed(2)),
      ];
      print(
        `${table(
          ["", "model", "bytes", "test acc %", "µs/example"],
          [
            row("float", r.model, r.floatBytes, r.floatAccuracy, r.floatUsPerExample),
            row("int8", r.quantized, r.int8Bytes, r.int8Accuracy, r.int8UsPerExample),
          ],
        )}\n\n${r.dataset}: ${r.compression.toFixed(2)}x smaller, accuracy ${r.accuracyDropPoints >= 0 ? "-" : "+"}${Math.abs(r.accuracyDropPoints).toFixed(2)} points; calibration ${r.calibration} on ${r.calibRows} training rows\nwrote ${r.out} (${bytesHuman(r.fileBytes)})`,
      );
    });
}
