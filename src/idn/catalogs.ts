/**
 * The built-in model catalogs, registered by spec: `published` (ImageNet classifiers from the Keras
 * Applications table) and `measured` (this project's own model families, trained and timed by
 * scripts/idn-measure-catalog.ts, stored in catalogs/measured.json). Catalog files are read by
 * catalog-file.node.ts; this module runs in browsers too.
 */
import { Registry } from "../core/registry.js";
import { type Catalog, catalogFromJson, replicateTasks, scaleCapacity, validateCatalog } from "./catalog.js";
import { KERAS_APPLICATIONS_SOURCE, publishedModels } from "./catalog-published.js";
import measuredJson from "./catalogs/measured.json" with { type: "json" };

export const catalogRegistry = new Registry<undefined, Catalog>(
  "model catalog",
  () => "; or a JSON catalog file (see docs/idn.md)",
);

const COMMON = {
  tasks: {
    type: "int",
    default: 1,
    min: 1,
    max: 64,
    description: "independent copies of every task (task t becomes t-1..t-k), to scale the number of models",
  },
  capacity: {
    type: "number",
    default: 1,
    min: 0,
    description: "multiplier of every model's per-slot capacity",
  },
} as const;

catalogRegistry.register({
  name: "published",
  summary:
    "26 ImageNet classifiers (MobileNet, EfficientNet B0-B7, ResNet, DenseNet, VGG, ...) with published size, top-1 and latency",
  params: COMMON,
  create: (p) =>
    scaleCapacity(
      replicateTasks(
        validateCatalog({
          name: "published",
          provenance: KERAS_APPLICATIONS_SOURCE,
          models: publishedModels(),
          tasks: [],
        }),
        p.tasks,
      ),
      p.capacity,
    ),
});

catalogRegistry.register({
  name: "measured",
  summary:
    "this project's model families (logreg, mlp, int8) trained and timed here on MNIST and Fashion-MNIST",
  params: COMMON,
  create: (p) =>
    scaleCapacity(
      replicateTasks(
        catalogFromJson(measuredJson, "catalog measured (src/idn/catalogs/measured.json)"),
        p.tasks,
      ),
      p.capacity,
    ),
});

/** Creates a built-in catalog from its spec; its name becomes the canonical spec. */
export function createCatalog(spec: string): Catalog {
  const parsed = catalogRegistry.parse(spec);
  const catalog = parsed.entry.create(parsed.params as never, undefined);
  return { ...catalog, name: parsed.canonical };
}
