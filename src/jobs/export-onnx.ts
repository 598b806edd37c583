/**
 * The ONNX export use case, browser-safe part: a logreg / MLP model (float, or int8 dequantized)
 * as ONNX bytes (opset 13, dynamic batch) with outputs "probabilities" and "embedding", so models
 * trained here run wherever ONNX runs and come back through `OnnxModel`. export-onnx.node.ts adds
 * model and ONNX files.
 *
 * `denseLayersOf` (the dense layers of a float or int8 model, as the exporter takes them) lives
 * with the ONNX writer in models/io; it is re-exported here for callers of this job.
 */
import { denseLayersOf, exportMlpOnnx } from "../models/io/onnx-export.js";
import type { Model } from "../models/types.js";

export { denseLayersOf };

/** The model as an ONNX file's bytes, the graph named after its spec, with the number of layers. */
export function onnxBytesOf(model: Model): { bytes: Uint8Array; layers: number } {
  const layers = denseLayersOf(model);
  const bytes = exportMlpOnnx(layers, {
    graphName: model.spec.replace(/[^A-Za-z0-9_]/g, "_"),
    metadata: { spec: model.spec },
  });
  return { bytes, layers: layers.length };
}
