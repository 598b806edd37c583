/** The ONNX export use case with files: a mammals model file in, an ONNX file out (export-onnx.ts). */
import { checkOutputPath, writeFileAtomic } from "../data/atomic-write.node.js";
import { readModelFile } from "../models/io/files.node.js";
import { ONNX_OPSET } from "../models/io/onnx-export.js";
import { onnxBytesOf } from "./export-onnx.js";

export interface ExportOnnxOptions {
  /** Model file written by `mammals train` (families logreg, mlp; float or int8). */
  input: string;
  /** ONNX file to write. */
  out: string;
}

/** What `mammals export-onnx --json` prints. */
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

export function runExportOnnx(o: ExportOnnxOptions): ExportOnnxResult {
  checkOutputPath(o.out, { label: "--out" });
  const model = readModelFile(o.input);
  const { bytes, layers } = onnxBytesOf(model);
  // Atomic: a full disk or a crash keeps the previous ONNX file instead of a truncated one.
  writeFileAtomic(o.out, bytes, { label: "--out" });
  return {
    model: model.spec,
    out: o.out,
    bytes: bytes.length,
    layers,
    inputDim: model.inputDim,
    embedDim: model.embedDim,
    numClasses: model.numClasses,
    opset: ONNX_OPSET,
  };
}
