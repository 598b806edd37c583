/**
 * The `published` catalog: ImageNet classifiers with their published size, top-1 accuracy and
 * inference time, every row from one table: Keras Applications, https://keras.io/api/applications/
 * (source file keras-team/keras-io templates/api/applications/index.md): "Size (MB)", "Top-1
 * Accuracy", "Time (ms) per inference step (CPU)" and "(GPU)", where a step is a batch of 32
 * images averaged over 30 batches and 10 repetitions on an AMD EPYC (92 cores) CPU and a Tesla A100
 * GPU. The same page is the source of every row (its links name each architecture's paper).
 *
 * How the two measured times become a latency per tier is our choice ([D], docs/idn.md): a request
 * is one inference step; regional data centres and the cloud run it on the GPU; an edge server on
 * the CPU; an access node at half that speed; a device at a quarter.
 */
import type { CatalogModel, PerTier } from "./catalog.js";
import { deriveCapacity } from "./catalog.js";

export const KERAS_APPLICATIONS_SOURCE =
  "Keras Applications table, https://keras.io/api/applications/ (keras-team/keras-io templates/api/applications/index.md)";

/** [name, size MB, top-1 %, CPU ms per step, GPU ms per step], in the table's order. */
export const KERAS_APPLICATIONS: ReadonlyArray<readonly [string, number, number, number, number]> = [
  ["Xception", 88, 79.0, 109.4, 8.1],
  ["VGG16", 528, 71.3, 69.5, 4.2],
  ["VGG19", 549, 71.3, 84.8, 4.4],
  ["ResNet50", 98, 74.9, 58.2, 4.6],
  ["ResNet50V2", 98, 76.0, 45.6, 4.4],
  ["ResNet101", 171, 76.4, 89.6, 5.2],
  ["ResNet101V2", 171, 77.2, 72.7, 5.4],
  ["ResNet152", 232, 76.6, 127.4, 6.5],
  ["ResNet152V2", 232, 78.0, 107.5, 6.6],
  ["InceptionV3", 92, 77.9, 42.2, 6.9],
  ["InceptionResNetV2", 215, 80.3, 130.2, 10.0],
  ["MobileNet", 16, 70.4, 22.6, 3.4],
  ["MobileNetV2", 14, 71.3, 25.9, 3.8],
  ["DenseNet121", 33, 75.0, 77.1, 5.4],
  ["DenseNet169", 57, 76.2, 96.4, 6.3],
  ["DenseNet201", 80, 77.3, 127.2, 6.7],
  ["NASNetMobile", 23, 74.4, 27.0, 6.7],
  ["NASNetLarge", 343, 82.5, 344.5, 20.0],
  ["EfficientNetB0", 29, 77.1, 46.0, 4.9],
  ["EfficientNetB1", 31, 79.1, 60.2, 5.6],
  ["EfficientNetB2", 36, 80.1, 80.8, 6.5],
  ["EfficientNetB3", 48, 81.6, 140.0, 8.8],
  ["EfficientNetB4", 75, 82.9, 308.3, 15.1],
  ["EfficientNetB5", 118, 83.6, 579.2, 25.3],
  ["EfficientNetB6", 166, 84.0, 958.1, 40.4],
  ["EfficientNetB7", 256, 84.3, 1578.9, 61.6],
];

/** Slow-down of a tier's CPU against the table's server CPU ([D]). */
const CPU_SLOWDOWN = { device: 4, access: 2, edge: 1 } as const;

export function publishedModels(): CatalogModel[] {
  return KERAS_APPLICATIONS.map(([name, sizeMB, top1, cpuMs, gpuMs]) => {
    const latencyMs: PerTier = {
      device: cpuMs * CPU_SLOWDOWN.device,
      access: cpuMs * CPU_SLOWDOWN.access,
      edge: cpuMs * CPU_SLOWDOWN.edge,
      regional: gpuMs,
      cloud: gpuMs,
    };
    return {
      id: name,
      task: "imagenet",
      sizeMB,
      accuracy: top1 / 100,
      latencyMs,
      capacity: deriveCapacity(latencyMs),
      source: KERAS_APPLICATIONS_SOURCE,
    };
  });
}
