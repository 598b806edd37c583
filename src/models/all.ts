/**
 * The models layer: the Model contract, the training engine, model families and the file format.
 *
 * How the pieces fit (for anyone adding a family, quantizing or fine-tuning):
 * - matmul.ts     gemmABt (C = A·Bᵀ [+bias]), gemmAB, gemmAtB on row-major Float32Array; large
 *                 products run on a WebAssembly SIMD kernel (wasm-gemm.ts), JS fallback.
 * - layers.ts     Param {name, shape, value, grad (lazily allocated), trainable, decay}; Layer with
 *                 forward(x, y, n) / backward(x, y, dy, dx | null, n); Dense (W stored out×in,
 *                 He init), ReLU; softmaxCrossEntropy / softCrossEntropy (scale + accumulate, for
 *                 weighted sums of losses such as ProjectionNet's).
 * - optim.ts      Sgd (momentum optional: none = no state), Adam (AdamW decay); stateBuffers().
 * - network.ts    Sequential implements Model: predictProba/embed/embedAndPredict (single, no
 *                 allocation with `out`), batch variants, lossAndGrad, evaluate, workspace(n)
 *                 (the activation buffers of a minibatch), toModelFile().
 * - trainer.ts    runTraining(task, split, options): any TrainingTask {params, lossAndGrad,
 *                 evaluate}; seeded validation split, early stopping restoring the best weights,
 *                 lr schedules, callbacks; pass `optimizerInstance` to use your own optimizer.
 * - format.ts     encodeModelFile / decodeModelFile: magic + JSON header + 8-byte aligned
 *                 tensors of any dtype (f32, f64, i8, u8, i16, i32, u32) + `meta`, CRC-checked.
 * - spec.ts       registerModelFamily({name, parse, create, load, train?, format?, ...});
 *                 parseModelSpec, createModel, trainModel, saveModel, loadModel (dispatch on the
 *                 file's `family`).
 * - mlp.ts        the logreg and mlp families.
 * - evaluate.ts   accuracy(model, split), latencyUsPerExample(model, split).
 * - files.node.ts readModelFile / writeModelFile (Node only; not exported here).
 */

export * from "./engine/layers.js";
export * from "./engine/matmul.js";
export * from "./engine/network.js";
export * from "./engine/optim.js";
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
export * from "./int8/projection.js";
export * from "./int8/quantize.js";
export * from "./io/format.js";
export * from "./io/onnx-export.js";
export * from "./registry.js";
export type * from "./types.js";
