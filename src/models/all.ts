/**
 * The models layer: the Model contract (types.ts), the training engine, the model families,
 * int8 quantization, on-device fine-tuning, and model files / ONNX export.
 *
 * How the pieces fit (for anyone adding a family, quantizing, fine-tuning or exporting):
 *
 * One type per concept.
 * - DenseLayer (engine/dense-layer.ts): THE float dense layer, {inDim, outDim, W out×in row-major,
 *   b, relu}. Everything float reads it: a Sequential's Dense params are views of one
 *   (`Sequential.denseLayers()` hands them out without copying), ProjectionNet's layers above the
 *   bits are DenseLayers, int8 quantization takes DenseLayers, fine-tuning updates them in place,
 *   ONNX export writes them (Gemm with transB = 1 is exactly out×in).
 * - Dense (engine/layers.ts) is not a second representation: it is the engine Layer that trains a
 *   DenseLayer's arrays (params with gradients, batched forward/backward; `Dense.over(layer)`
 *   trains an existing DenseLayer in place, `asDenseLayer()` gives its view back).
 * - QuantizedLayer (int8/quantize.ts): the int8 form, {int8 weights input-major, per-channel
 *   weight scales, input scale, int32 bias, relu}. Made only by `quantizeLayer(DenseLayer, s_in)`
 *   (or read back from a file); `dequantizeLayer` gives the DenseLayer it stands for. The int8
 *   stacks run it, and fine-tuning's int8 path updates the same objects in place
 *   (finetune's TunableLayer = DenseLayer | QuantizedLayer).
 * - One softmax (engine/softmax.ts): `softmaxRows` (row-wise, in place allowed) and its one-row
 *   form `softmaxInPlace`, used by every model (float, ProjectionNet, int8, ONNX) and the
 *   fine-tuner; the training losses (softmaxCrossEntropy, softCrossEntropy) live beside it.
 *
 * engine/     the training engine. matmul.ts: gemmABt / gemmAB / gemmAtB on row-major Float32Array
 *             (a WebAssembly SIMD kernel in wasm-gemm.ts for large products, JS fallback).
 *             dense-layer.ts: DenseLayer, its checks, its single-row kernels (double accumulation
 *             for float networks, float32 accumulation for ProjectionNet and int8 calibration).
 *             layers.ts: Param, Layer, Dense, ReLU. softmax.ts: the softmax and its losses.
 *             network.ts: Sequential implements Model (single-row calls allocate nothing),
 *             lossAndGrad, evaluate, denseLayers, toModelFile. optim.ts: Sgd, Adam.
 *             trainer.ts: runTraining(task, split, options) for any TrainingTask (seeded
 *             validation split, early stopping restoring the best weights, lr schedules).
 * families/   mlp.ts: the logreg and mlp families (Sequential of Dense + ReLU).
 *             projection-net.ts: LshProjection (seeded sign bits) and the ProjectionNet model.
 *             projection.ts: the `projection` family, its joint trainer and its files.
 * int8/       kernels.ts: int8 × int8 → int32 products, (re)quantization, per-channel scales.
 *             quantize.ts: QuantizedLayer, calibration, quantizeLayer / dequantizeLayer.
 *             stack.ts: QuantizedStack (runs the layers) and its file tensors. network.ts:
 *             QuantizedStackModel, QuantizedNetwork. projection-net.ts: QuantizedProjectionNet.
 *             family.ts: quantizeModel and the `int8:SPEC` family.
 * finetune/   scheme.ts: update schemes and their plans. finetuner.ts: FineTuner (memory
 *             ledger, QAS for int8). run.ts: the fine-tuning scenario under a budget.
 *             shift.ts: the distribution shifts it adapts to.
 * wasm/       the WebAssembly SIMD kernels of single-example forward passes (dense.wat, compiled
 *             by scripts/build-wasm-models.ts into dense.wasm.ts): kernels.ts loads them, holds
 *             the path switch (setModelKernelPath / modelKernelPath) and the weights revision
 *             (markWeightsChanged: in-place weight updates refresh the kernels' copies);
 *             dense-stack.ts: float and int8 layer stacks resident in a model's own memory;
 *             projection-kernel.ts: ProjectionNet's projection; optim-kernel.ts: Adam, bit-identical.
 * io/         format.ts: encodeModelFile / decodeModelFile (magic, JSON header, aligned tensors,
 *             CRC). onnx-export.ts: exportMlpOnnx(DenseLayer[]), denseLayersOf(model).
 *             files.node.ts, onnx.node.ts: Node only (files, onnxruntime), not exported here.
 * registry.ts registerModelFamily, parseModelSpec, createModel, trainModel, saveModel,
 *             loadModel (dispatch on the file's `family`). evaluate.ts: accuracy, latency.
 */

export * from "./engine/dense-layer.js";
export * from "./engine/layers.js";
export * from "./engine/matmul.js";
export * from "./engine/network.js";
export * from "./engine/optim.js";
export * from "./engine/softmax.js";
export * from "./engine/trainer.js";
export { type WasmGemm, wasmGemm, wasmKernelUnavailable } from "./engine/wasm-gemm.js";
export * from "./evaluate.js";
export * from "./families/mlp.js";
export * from "./families/projection.js";
export * from "./families/projection-net.js";
export * from "./finetune/finetuner.js";
export * from "./finetune/run.js";
export * from "./finetune/scheme.js";
export * from "./finetune/shift.js";
export * from "./int8/family.js";
export * from "./int8/kernels.js";
export * from "./int8/network.js";
export * from "./int8/projection-net.js";
export * from "./int8/quantize.js";
export * from "./int8/stack.js";
export * from "./io/format.js";
export * from "./io/onnx-export.js";
export * from "./registry.js";
export type * from "./types.js";
export {
  type ModelKernelPath,
  markWeightsChanged,
  modelKernelPath,
  setModelKernelPath,
} from "./wasm/kernels.js";
