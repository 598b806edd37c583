/** The ONNX export use case with files: a mammals model file in, an ONNX file out (export-onnx.ts). */
import { statSync, writeFileSync } from "node:fs";
import { fail, MammalsError } from "../core/errors.js";
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
  const model = readModelFile(o.input);
  const { bytes, layers } = onnxBytesOf(model);
  try {
    if (statSync(o.out, { throwIfNoEntry: false })?.isDirectory())
      fail("BAD_FILE", `${o.out}: is a directory`);
    writeFileSync(o.out, bytes);
  } catch (e) {
    // Node's file errors (ENOENT, EACCES...) become BAD_FILE naming the path; ours pass through.
    if (e instanceof MammalsError || (e as { code?: string }).code === undefined) throw e;
    fail("BAD_FILE", `${o.out}: cannot write the ONNX file (${(e as Error).message})`);
  }
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
