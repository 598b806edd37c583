/**
 * `mammals export-onnx`: writes a logreg / MLP model file as an ONNX model (opset 13, dynamic batch)
 * with outputs "probabilities" and "embedding", so models trained here run wherever ONNX runs, and
 * come back through `OnnxModel`.
 */
import { statSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { fail } from "../../core/errors.js";
import { readModelFile } from "../../models/io/files.node.js";
import { denseLayersOf, exportMlpOnnx, ONNX_OPSET } from "../../models/io/onnx-export.js";
import { bytesHuman, table } from "../format.js";

/** Kept here for callers of the command module; the function lives with the ONNX writer. */
export { denseLayersOf };

export interface ExportOnnxResult {
  model: string;
  out: string;
  bytes: number;
  layers: number;
  inputDim: number;
  embedDim: number;
  numClasses: number;
  opset: number;
}

export function runExportOnnx(input: string, out: string): ExportOnnxResult {
  const model = readModelFile(input);
  const layers = denseLayersOf(model);
  const bytes = exportMlpOnnx(layers, {
    graphName: model.spec.replace(/[^A-Za-z0-9_]/g, "_"),
    metadata: { spec: model.spec },
  });
  try {
    if (statSync(out, { throwIfNoEntry: false })?.isDirectory()) fail("BAD_FILE", `${out}: is a directory`);
    writeFileSync(out, bytes);
  } catch (e) {
    if ((e as { code?: string }).code === undefined) throw e;
    fail("BAD_FILE", `${out}: cannot write the ONNX file (${(e as Error).message})`);
  }
  return {
    model: model.spec,
    out,
    bytes: bytes.length,
    layers: layers.length,
    inputDim: model.inputDim,
    embedDim: model.embedDim,
    numClasses: model.numClasses,
    opset: ONNX_OPSET,
  };
}

export function register(program: Command): void {
  program
    .command("export-onnx")
    .description("write a logreg / MLP model file (float or int8, dequantized) as an ONNX model")
    .requiredOption("--in <file>", "model file written by `mammals train` (families logreg, mlp)")
    .requiredOption("--out <file>", "ONNX file to write, e.g. model.onnx")
    .option("--json", "print one JSON object on the last line")
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
      const r = runExportOnnx(opts.in, opts.out);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write(
        `${table(
          ["model", "layers", "input", "embedding", "classes", "opset", "file"],
          [[r.model, r.layers, r.inputDim, r.embedDim, r.numClasses, r.opset, bytesHuman(r.bytes)]],
        )}\n\nwrote ${r.out}\n`,
      );
    });
}
