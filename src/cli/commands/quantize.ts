/**
 * `mammals quantize`: int8 post-training quantization of a saved float model (logreg, mlp,
 * projection): per-output-channel int8 weights, int8 activations with scales calibrated on a
 * seeded sample of the training split, int32 accumulation. Reports size, test accuracy and
 * single-example latency before and after, and writes the int8 model file.
 */
import { type Command, Option } from "commander";
import { fail } from "../../core/errors.js";
import { loadDataset } from "../../data/datasets.node.js";
import { accuracy, latencyUsPerExample } from "../../models/evaluate.js";
import { DEFAULT_CALIBRATION_ROWS, quantizeModel } from "../../models/int8/family.js";
import { readModelFile, writeModelFile } from "../../models/io/files.node.js";
import { parseInteger, parseNumber } from "../args.js";
import { bytesHuman, table } from "../format.js";
import { progress } from "../progress.js";

export interface QuantizeCommandOptions {
  input: string;
  output: string;
  dataset: string;
  dataDir?: string;
  calibRows: number;
  calibration: "max" | "percentile";
  percentile: number;
  seed: number;
  showProgress?: boolean;
}

export interface QuantizeResult {
  in: string;
  out: string;
  dataset: string;
  model: string;
  quantized: string;
  floatBytes: number;
  int8Bytes: number;
  compression: number;
  floatAccuracy: number;
  int8Accuracy: number;
  /** floatAccuracy - int8Accuracy, in accuracy points (percent). */
  accuracyDropPoints: number;
  floatUsPerExample: number;
  int8UsPerExample: number;
  calibration: string;
  calibRows: number;
  fileBytes: number;
}

/** The command's work, callable from scripts and tests. */
export function runQuantize(o: QuantizeCommandOptions): QuantizeResult {
  const model = readModelFile(o.input);
  const ds = loadDataset(o.dataset, { dataDir: o.dataDir });
  if (ds.train.dim !== model.inputDim)
    fail(
      "DIMENSION_MISMATCH",
      `${o.input}: the model expects ${model.inputDim} inputs, ${ds.name} has ${ds.train.dim}`,
    );
  const bar = progress(5, "quantize", o.showProgress ?? process.stderr.isTTY === true);
  const q = quantizeModel(model, ds.train, {
    rows: o.calibRows,
    seed: o.seed,
    method: o.calibration,
    percentile: o.percentile,
  });
  bar.tick(1, "float accuracy");
  const floatAccuracy = accuracy(model, ds.test);
  bar.tick(1, "int8 accuracy");
  const int8Accuracy = accuracy(q, ds.test);
  bar.tick(1, "float latency");
  const floatUs = latencyUsPerExample(model, ds.test);
  bar.tick(1, "int8 latency");
  const int8Us = latencyUsPerExample(q, ds.test);
  bar.tick(1);
  bar.stop();
  const fileBytes = writeModelFile(o.output, q);
  return {
    in: o.input,
    out: o.output,
    dataset: ds.name,
    model: model.spec,
    quantized: q.spec,
    floatBytes: model.bytes,
    int8Bytes: q.bytes,
    compression: model.bytes / q.bytes,
    floatAccuracy,
    int8Accuracy,
    accuracyDropPoints: 100 * (floatAccuracy - int8Accuracy),
    floatUsPerExample: floatUs,
    int8UsPerExample: int8Us,
    calibration: o.calibration === "max" ? "max" : `percentile:${o.percentile}`,
    calibRows: Math.min(o.calibRows, ds.train.n),
    fileBytes,
  };
}

export function register(program: Command): void {
  program
    .command("quantize")
    .description(
      "int8 post-training quantization of a float model file (logreg, mlp, projection): size, test accuracy and latency before and after",
    )
    .requiredOption("--in <file>", "float model file written by `mammals train`")
    .requiredOption("--out <file>", "where to write the int8 model file")
    .option(
      "--dataset <name>",
      "dataset for calibration (train split) and accuracy (test split): mnist, fashion-mnist or a directory",
      "mnist",
    )
    .option("--data <dir>", "directory searched first for dataset files")
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
    .option("--seed <n>", "seed of the calibration sample", "1")
    .option("--json", "print one JSON object on the last line")
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
    .action((opts) => {
      const result = runQuantize({
        input: opts.in,
        output: opts.out,
        dataset: opts.dataset,
        dataDir: opts.data,
        calibRows: parseInteger(opts.calibRows, "--calib-rows", 1),
        calibration: opts.calibration,
        percentile: parseNumber(opts.percentile, "--percentile", Number.MIN_VALUE, 100),
        seed: parseInteger(opts.seed, "--seed", -(2 ** 31), 2 ** 32),
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const row = (name: string, spec: string, bytes: number, acc: number, us: number) => [
        name,
        spec,
        bytesHuman(bytes),
        Number((100 * acc).toFixed(2)),
        Number(us.toFixed(2)),
      ];
      process.stdout.write(
        `${table(
          ["", "model", "bytes", "test acc %", "µs/example"],
          [
            row("float", result.model, result.floatBytes, result.floatAccuracy, result.floatUsPerExample),
            row("int8", result.quantized, result.int8Bytes, result.int8Accuracy, result.int8UsPerExample),
          ],
        )}\n\n${result.dataset}: ${result.compression.toFixed(2)}x smaller, accuracy ${result.accuracyDropPoints >= 0 ? "-" : "+"}${Math.abs(result.accuracyDropPoints).toFixed(2)} points; calibration ${result.calibration} on ${result.calibRows} training rows\nwrote ${result.out} (${bytesHuman(result.fileBytes)})\n`,
      );
    });
}
