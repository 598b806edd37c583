/**
 * The ONNX export use case, browser-safe part: a logreg / MLP model (float, or int8 dequantized)
 * as ONNX bytes (opset 13, dynamic batch) with outputs "probabilities" and "embedding", so models
 * trained here run wherever ONNX runs and come back through `OnnxModel`. export-onnx.node.ts adds
 * model and ONNX files.
 *
 * `denseLayersOf` reads the dense layers of a model for the exporter; it belongs with the models
 * (models/io) and moves there once models/ has one dense-layer representation.
 */
import { fail } from "../core/errors.js";
import { tunableLayers } from "../models/finetune/run.js";
import { dequantizeStack, QuantizedNetwork } from "../models/int8/quantize.js";
import { type DenseLayerSpec, exportMlpOnnx } from "../models/io/onnx-export.js";
import type { Model } from "../models/types.js";

/** The dense layers of a float or int8 (dequantized) MLP, W out x in. */
export function denseLayersOf(model: Model): DenseLayerSpec[] {
  if (model instanceof QuantizedNetwork) {
    return dequantizeStack(model.stack).map((l) => {
      const W = new Float32Array(l.inDim * l.outDim);
      for (let j = 0; j < l.inDim; j++)
        for (let o = 0; o < l.outDim; o++) W[o * l.inDim + j] = l.wt[j * l.outDim + o];
      return { W, b: l.b, inDim: l.inDim, outDim: l.outDim, relu: l.relu };
    });
  }
  return tunableLayers(model).map((l) => {
    if (l.kind !== "float") return fail("UNSUPPORTED", `export-onnx: unexpected int8 layer in ${model.spec}`);
    return { W: l.W, b: l.b, inDim: l.inDim, outDim: l.outDim, relu: l.relu };
  });
}

/** The model as an ONNX file's bytes, the graph named after its spec, with the number of layers. */
export function onnxBytesOf(model: Model): { bytes: Uint8Array; layers: number } {
  const layers = denseLayersOf(model);
  const bytes = exportMlpOnnx(layers, {
    graphName: model.spec.replace(/[^A-Za-z0-9_]/g, "_"),
    metadata: { spec: model.spec },
  });
  return { bytes, layers: layers.length };
}
