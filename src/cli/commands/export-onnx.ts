/**
 * `mammals export-onnx`: flags -> src/jobs/export-onnx.node.ts `runExportOnnx` (a logreg / MLP
 * model file written as an ONNX model, opset 13, dynamic batch) -> a table or JSON.
 */
import type { Command } from "commander";
import { bytesHuman, table } from "../../core/format.js";
import { runExportOnnx } from "../../jobs/export-onnx.node.js";
import { jsonFlag } from "../flags.js";
import { print, printJson } from "../output.js";

export function register(program: Command): void {
  program
    .command("export-onnx")
    .description("write a logreg / MLP model file (float or int8, dequantized) as an ONNX model")
    .requiredOption("--in <file>", "model file written by `mammals train` (families logreg, mlp)")
    .requiredOption("--out <file>", "ONNX file to write, e.g. model.onnx")
    .addOption(jsonFlag())
    .addHelpText(
      "after",
      '\nThe graph: input "input" [batch, inputDim] -> Gemm (+ Relu) per layer -> Softmax "probabilities"\n' +
        '[batch, numClasses]; "embedding" [batch, embedDim] is the input of the last layer (the model\'s embed).\n' +
        "Opset 13, IR version 7, the batch dimension is symbolic. Load it back with OnnxModel.load(path).\n\n" +
        "Examples:\n" +
        "  mammals export-onnx --in mlp32.mammals --out mlp32.onnx\n" +
        "  mammals export-onnx --in fmnist-mlp.mammals --out fmnist-mlp.onnx --json",
    )
    .action((opts) => {
      const r = runExportOnnx({ input: opts.in, out: opts.out });
      if (opts.json) return printJson(r);
      print(
        `${table(
          ["model", "layers", "input", "embedding", "classes", "opset", "file"],
          [[r.model, r.layers, r.inputDim, r.embedDim, r.numClasses, r.opset, bytesHuman(r.bytes)]],
        )}\n\nwrote ${r.out}`,
      );
    });
}
